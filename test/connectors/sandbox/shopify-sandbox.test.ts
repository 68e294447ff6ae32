import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { openConnection } from '../../../src/connectors/sdk/connector';
import type { CanonicalOrder } from '../../../src/connectors/sdk/canonical';
import { shopifyConnector } from '../../../src/connectors/shopify/shopify.connector';
import { ALL_DOCUMENTS, ORDERS_QUERY, ORDERS_PAGE_SIZE } from '../../../src/connectors/shopify/shopify.queries';
import { startShopifySandbox, type ShopifySandbox } from '../../../src/connectors/sandbox';

const T0 = Date.parse('2026-03-02T12:00:00Z');

async function setup(extra: Partial<Parameters<typeof startShopifySandbox>[0]> = {}) {
  const clock = new VirtualClock(T0);
  // Admission on the requested cost, as real Shopify does.
  const sandbox = await startShopifySandbox({ seed: 7, clock, backlog: 300, backlogHours: 48, ordersPerHour: 60, ...extra });
  const conn = openConnection(shopifyConnector, { ...sandbox.connection, clock, random: () => 0.5 });
  return { clock, sandbox, conn };
}

describe('Shopify sandbox with the real Shopify connector', () => {
  let sb: ShopifySandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  test('pulls every generated order exactly once across pages, then the ones that arrive later', async () => {
    const { clock, sandbox, conn } = await setup();
    sb = sandbox;
    const first = await conn.readAll<CanonicalOrder>('orders');
    expect(first.records.length).toBe(300);
    expect(first.batches).toBeGreaterThanOrEqual(300 / ORDERS_PAGE_SIZE);
    expect(new Set(first.records.map((o) => o.externalId)).size).toBe(300);
    expect(first.records.map((o) => o.externalId).sort()).toEqual(sandbox.orders().map((o) => sandbox.orderId(o.gen.seq)).sort());
    const o1 = first.records.find((o) => o.externalId === sandbox.orderId(1))!;
    const g1 = sandbox.orders()[0].gen;
    expect(o1.lines.map((l) => [l.sku, l.quantity, l.unitPrice])).toEqual(g1.lines.map((l) => [l.sku, l.quantity, l.unitPrice]));
    expect(o1.shipTo).toMatchObject({ country: 'US', city: g1.shipTo.city, region: g1.shipTo.region });
    expect(o1.totalPrice).toBe(g1.total);

    clock.advance(3 * 3_600_000);
    const placed = sandbox.orders().length;
    expect(placed).toBeGreaterThan(300);
    const next = await conn.readAll<CanonicalOrder>('orders', first.state);
    const all = [...first.records, ...next.records].map((o) => o.externalId);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(placed);
  });

  test('the bulk backfill streams grouped JSONL in pages (Range reads) and every generated order lands whole', async () => {
    const { sandbox, conn } = await setup({ backlog: 600, ordersPerHour: 0 });
    sb = sandbox;
    const sizes: number[] = [];
    const backfill: CanonicalOrder[] = [];
    for await (const b of conn.read('ordersBackfill')) {
      sizes.push(b.records.length);
      backfill.push(...(b.records as CanonicalOrder[]));
    }
    expect(sizes).toEqual([250, 250, 100]);
    expect(backfill.map((o) => o.externalId).sort()).toEqual(sandbox.orders().map((o) => sandbox.orderId(o.gen.seq)).sort());
    for (const o of sandbox.orders()) {
      const landed = backfill.find((b) => b.externalId === sandbox.orderId(o.gen.seq))!;
      expect(landed.lines.map((l) => [l.sku, l.quantity, l.unitPrice])).toEqual(o.gen.lines.map((l) => [l.sku, l.quantity, l.unitPrice]));
    }
  });

  test('the same seed generates the same orders; another seed others', async () => {
    const a = await startShopifySandbox({ seed: 11, clock: new VirtualClock(T0), backlog: 20 });
    const b = await startShopifySandbox({ seed: 11, clock: new VirtualClock(T0), backlog: 20 });
    const c = await startShopifySandbox({ seed: 12, clock: new VirtualClock(T0), backlog: 20 });
    try {
      expect(a.orders().map((o) => o.gen)).toEqual(b.orders().map((o) => o.gen));
      expect(a.orders().map((o) => o.gen)).not.toEqual(c.orders().map((o) => o.gen));
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  test('stock: compare-and-set accepted with the current value, refused when stale; idempotent replays apply once', async () => {
    const { sandbox, conn } = await setup();
    sb = sandbox;
    const stock = await conn.readAll<{ sku: string; externalLocationId: string; externalItemId: string; available: number }>('inventory');
    const level = stock.records.find((l) => l.sku === 'SKU-000001')!;
    expect(level.available).toBe(sandbox.available('SKU-000001', level.externalLocationId));
    const cmd = { sku: level.sku, externalLocationId: level.externalLocationId, externalItemId: level.externalItemId, quantity: level.available + 5, expectedQuantity: level.available, idempotencyKey: 'k-1' };
    await conn.push('setStock', cmd);
    expect(sandbox.available(level.sku, level.externalLocationId)).toBe(level.available + 5);
    await conn.push('setStock', cmd); // replay of the same key: same answer, applied once
    expect(sandbox.pushes.stock.filter((p) => p.accepted)).toHaveLength(1);
    await expect(conn.push('setStock', { ...cmd, quantity: 1, idempotencyKey: 'k-2' })).rejects.toThrow(/COMPARE_QUANTITY_STALE/);
    expect(sandbox.available(level.sku, level.externalLocationId)).toBe(level.available + 5);
    expect(sandbox.pushes.stock[sandbox.pushes.stock.length - 1]).toMatchObject({ accepted: false, reason: 'COMPARE_QUANTITY_STALE', previous: level.available + 5, quantity: 1 });
  });

  test('fulfilment with tracking is recorded and shows on the order; cancellation too', async () => {
    const { sandbox, conn } = await setup();
    sb = sandbox;
    const { records } = await conn.readAll<CanonicalOrder>('orders');
    const order = records.find((o) => o.lines.length >= 2)!;
    await conn.push('createShipment', {
      orderExternalId: order.externalId, carrier: 'UPS', trackingNumber: '1Z999AA10123456784', trackingUrl: 'https://www.ups.com/track?tracknum=1Z999AA10123456784',
      shippedAt: new Date(T0).toISOString(), lines: [{ orderLineExternalId: order.lines[0].externalId, quantity: order.lines[0].quantity }], idempotencyKey: 'ship-1',
    });
    expect(sandbox.pushes.shipments).toHaveLength(1);
    expect(sandbox.pushes.shipments[0]).toMatchObject({ orderId: order.externalId, carrier: 'UPS', trackingNumber: '1Z999AA10123456784', lines: [{ sku: order.lines[0].sku, quantity: order.lines[0].quantity }] });
    (conn.ctx.clock as VirtualClock).advance(60_000); // the connector reads up to now − 5 s
    const after = await conn.readAll<CanonicalOrder>('orders');
    expect(after.records.find((o) => o.externalId === order.externalId)!.status).toBe('PARTIALLY_FULFILLED');

    const other = records.find((o) => o.externalId !== order.externalId)!;
    await conn.push('cancelOrder', { orderExternalId: other.externalId, reason: 'customer asked', idempotencyKey: 'c-1' });
    await expect(conn.push('cancelOrder', { orderExternalId: other.externalId, idempotencyKey: 'c-2' })).rejects.toThrow(/already been cancelled/);
    expect(sandbox.pushes.cancellations.map((c) => c.accepted)).toEqual([true, false]);
  });

  test('a new shipping address (orderUpdate) shows on the order from then on; one without a street is refused', async () => {
    const { sandbox, conn } = await setup();
    sb = sandbox;
    const { records, state } = await conn.readAll<CanonicalOrder>('orders');
    const order = records[0];
    const shipTo = { name: 'Ava Garcia', line1: '9 Beale St', city: 'Memphis', region: 'TN', postalCode: '38104', country: 'US' };
    await conn.push('updateShipTo', { orderExternalId: order.externalId, reference: 'o-1', shipTo, idempotencyKey: 'a-1' });
    (conn.ctx.clock as VirtualClock).advance(60_000);
    const after = await conn.readAll<CanonicalOrder>('orders', state);
    expect(after.records.find((o) => o.externalId === order.externalId)!.shipTo).toEqual(shipTo);
    await expect(conn.push('updateShipTo', { orderExternalId: order.externalId, reference: 'o-1', shipTo: { city: 'Memphis', country: 'US' }, idempotencyKey: 'a-2' }))
      .rejects.toThrow(/Address1 and city are required/);
  });

  test('throttling engages on a small bucket and the connector respects it without failing', async () => {
    const { sandbox, conn } = await setup({ bucket: { maximumAvailable: 1200, restoreRate: 50 }, backlog: 600 });
    sb = sandbox;
    const { records } = await conn.readAll<CanonicalOrder>('orders');
    expect(records).toHaveLength(600);
    const st = sandbox.stats();
    expect(conn.ctx.http.requestsSent).toBe(st.requests);
    expect(st.throttled / st.requests).toBeLessThan(0.05);
    expect((conn.ctx.clock as VirtualClock).slept).toBeGreaterThan(0); // it had to wait for the bucket
  });

  test('THROTTLED responses carry throttleStatus; an unknown field fails validation', async () => {
    const clock = new VirtualClock(T0);
    sb = await startShopifySandbox({ seed: 1, clock, backlog: 5, bucket: { maximumAvailable: 20, restoreRate: 1 } });
    const post = (query: string, variables = {}) => fetch(`${sb!.baseUrl}/admin/api/2026-07/graphql.json`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': 'shpat_sandbox' }, body: JSON.stringify({ query, variables }) }).then((r) => r.json() as Promise<any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    const q = '{ orders(first: 5) { nodes { id } } }';
    const ok = await post(q);
    expect(ok.data.orders.nodes).toHaveLength(5);
    expect(ok.extensions.cost).toMatchObject({ requestedQueryCost: 7, actualQueryCost: 7, throttleStatus: { maximumAvailable: 20, currentlyAvailable: 13, restoreRate: 1 } });
    await post(q);
    const t = await post(q);
    expect(t.errors[0].extensions.code).toBe('THROTTLED');
    const bad = await post('{ orders(first: 1) { nodes { notAField } } }');
    expect(bad.errors[0].message).toMatch(/notAField/);
    const unauth = await fetch(`${sb.baseUrl}/admin/api/2026-07/graphql.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
    expect(unauth.status).toBe(401);
  });

  test('every document the connector sends validates against the sandbox schema', async () => {
    const { shopifySandboxSchema } = await import('../../../src/connectors/sandbox/shopify/shopify-sandbox.schema');
    const { parse, validate } = await import('graphql');
    for (const [name, doc] of Object.entries(ALL_DOCUMENTS)) expect([name, validate(shopifySandboxSchema(), parse(doc)).map((e) => e.message)]).toEqual([name, []]);
  });

  // Shopify refuses any query whose requested cost exceeds 1000 and needs the whole requested cost in the bucket
  // before it runs; the sandbox enforces both by default.
  test('the connector\'s orders query fits Shopify\'s single-query cost limit', async () => {
    const clock = new VirtualClock(T0);
    sb = await startShopifySandbox({ seed: 7, clock, backlog: 10 });
    const conn = openConnection(shopifyConnector, { ...sb.connection, clock, random: () => 0.5 });
    expect(ORDERS_QUERY).toContain('lineItems');
    await expect(conn.readAll('orders')).resolves.toBeDefined();
  });
});
