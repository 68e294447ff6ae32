import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { openConnection } from '../../../src/connectors/sdk/connector';
import type { CanonicalOrder, CanonicalStockLevel } from '../../../src/connectors/sdk/canonical';
import { magentoConnector, searchCriteria } from '../../../src/connectors/magento/magento.connector';
import { type MagentoSandbox, startMagentoSandbox } from '../../../src/connectors/sandbox';
import { contract, contractErrors, def } from '../magento/magento-fixtures';

const T0 = Date.parse('2026-03-02T12:00:00Z');

async function setup(extra: Partial<Parameters<typeof startMagentoSandbox>[0]> = {}, config: object = {}) {
  const clock = new VirtualClock(T0);
  const sandbox = await startMagentoSandbox({ seed: 3, clock, backlog: 250, backlogHours: 48, ordersPerHour: 60, ...extra });
  const conn = openConnection(magentoConnector, { config: { ...sandbox.connection.config, pageSize: 20, ...config }, credentials: sandbox.connection.credentials, clock, random: () => 0.5 });
  return { clock, sandbox, conn };
}

describe('Magento sandbox with the real Magento connector', () => {
  let sb: MagentoSandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  test('admin token, every order exactly once across pages, zone-less timestamps; orders match the 2.4.9 contract', async () => {
    const { clock, sandbox, conn } = await setup();
    sb = sandbox;
    const first = await conn.readAll<CanonicalOrder>('orders');
    expect(first.records).toHaveLength(250);
    expect(new Set(first.records.map((o) => o.externalId)).size).toBe(250);
    const raw = await fetch(`${sandbox.baseUrl}/rest/default/V1/orders/${sandbox.orderId(1)}`, { headers: { authorization: `Bearer ${await token(sandbox)}` } });
    const body = (await raw.json()) as { updated_at: string };
    expect(body.updated_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(contractErrors(body, def('sales-data-order-interface'))).toEqual([]);
    expect(first.records.find((o) => o.externalId === sandbox.orderId(1))!.updatedAt).toBe(new Date(sandbox.orders()[0].updatedAt).toISOString());

    clock.advance(2 * 3_600_000);
    const next = await conn.readAll<CanonicalOrder>('orders', first.state);
    const ids = [...first.records, ...next.records].map((o) => o.externalId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(sandbox.orders().length);
  });

  test('asking past the last page returns the last page again; total_count says where to stop', async () => {
    const { sandbox } = await setup({ backlog: 45 });
    sb = sandbox;
    const t = await token(sandbox);
    const page = async (n: number) => {
      const q = new URLSearchParams(searchCriteria([], { field: 'entity_id', direction: 'ASC' }, 20, n)).toString();
      return (await (await fetch(`${sandbox.baseUrl}/rest/default/V1/orders?${q}`, { headers: { authorization: `Bearer ${t}` } })).json()) as { items: Array<{ entity_id: number }>; total_count: number };
    };
    const p3 = await page(3);
    const p9 = await page(9);
    expect(p3.total_count).toBe(45);
    expect(p3.items).toHaveLength(5);
    expect(p9.items.map((i) => i.entity_id)).toEqual(p3.items.map((i) => i.entity_id));
    expect(contract.paths['/V1/orders'].get).toBeDefined();
  });

  test('MSI stock read and write, ship with tracks and source_code, cancel', async () => {
    const { clock, sandbox, conn } = await setup({ backlog: 30 });
    sb = sandbox;
    const levels = await conn.readAll<CanonicalStockLevel>('inventory');
    expect(levels.records.length).toBeGreaterThan(100);
    const l = levels.records[0];
    expect(l.onHand).toBe(sandbox.quantity(l.sku!, l.externalLocationId));
    await conn.push('setStockBatch', [{ sku: l.sku!, externalLocationId: l.externalLocationId, quantity: 3, idempotencyKey: 'a' }, { sku: 'SKU-000150', externalLocationId: sandbox.sources[1], quantity: 0, idempotencyKey: 'b' }]);
    expect(sandbox.quantity(l.sku!, l.externalLocationId)).toBe(3);
    expect(sandbox.pushes.stock.map((p) => p.accepted)).toEqual([true, true]);
    await expect(conn.push('setStock', { sku: l.sku!, externalLocationId: 'NO-SUCH-SOURCE', quantity: 1, idempotencyKey: 'c' })).rejects.toThrow(/400/);

    const { records } = await conn.readAll<CanonicalOrder>('orders');
    const [a, b] = records;
    const r = await conn.push('createShipment', {
      orderExternalId: a.externalId, externalLocationId: sandbox.sources[0], carrier: 'FedEx', trackingNumber: '794698812345', shippedAt: new Date(T0).toISOString(),
      lines: a.lines.map((x) => ({ orderLineExternalId: x.externalId, quantity: x.quantity })), idempotencyKey: 's',
    });
    expect(r.externalId).toBe('1');
    expect(sandbox.pushes.shipments[0]).toMatchObject({ orderId: a.externalId, trackingNumber: '794698812345', location: sandbox.sources[0], carrier: 'FedEx (fedex)' });
    await expect(conn.push('cancelOrder', { orderExternalId: a.externalId, idempotencyKey: 'x' })).rejects.toThrow(/refused to cancel/);
    await conn.push('cancelOrder', { orderExternalId: b.externalId, idempotencyKey: 'y' });
    clock.advance(60_000);
    const after = await conn.readAll<CanonicalOrder>('orders');
    const byId = new Map(after.records.map((o) => [o.externalId, o]));
    expect(byId.get(a.externalId)!.status).toBe('FULFILLED');
    expect(byId.get(b.externalId)!.status).toBe('CANCELLED');
  });

  test('a new shipping address is saved on the order (valid against the contract) and read back; a completed order refuses it', async () => {
    const { clock, sandbox, conn } = await setup({ backlog: 5 });
    sb = sandbox;
    const { records, state } = await conn.readAll<CanonicalOrder>('orders');
    const [a, b] = records;
    const shipTo = { name: 'Ava Garcia', line1: '9 Beale St', city: 'Memphis', region: 'TN', postalCode: '38104', country: 'US' };
    await conn.push('updateShipTo', { orderExternalId: a.externalId, reference: 'o-a', shipTo, idempotencyKey: 'a' });
    clock.advance(60_000);
    const after = await conn.readAll<CanonicalOrder>('orders', state);
    expect(after.records.find((o) => o.externalId === a.externalId)!.shipTo).toMatchObject(shipTo);
    await conn.push('createShipment', { orderExternalId: b.externalId, carrier: 'FedEx', trackingNumber: '7946', shippedAt: new Date(T0).toISOString(),
      lines: b.lines.map((x) => ({ orderLineExternalId: x.externalId, quantity: x.quantity })), idempotencyKey: 's' });
    await expect(conn.push('updateShipTo', { orderExternalId: b.externalId, reference: 'o-b', shipTo, idempotencyKey: 'b' })).rejects.toMatchObject({ code: 'VENDOR', retryable: false });
  });

  test('the request window answers 429 with Retry-After and the connector paces itself within it', async () => {
    const { clock, sandbox, conn } = await setup({ backlog: 400, requestsPerMinute: 10 }, { pageSize: 10, requestsPerMinute: 10 });
    sb = sandbox;
    const { records } = await conn.readAll<CanonicalOrder>('orders');
    expect(records).toHaveLength(400);
    expect(sandbox.stats().throttled).toBe(0);
    expect(clock.slept).toBeGreaterThanOrEqual(3 * 60_000);
    // A second client sharing the window is refused with Retry-After.
    const t = await token(sandbox);
    let last: Response | undefined;
    for (let i = 0; i < 11; i++) last = await fetch(`${sandbox.baseUrl}/rest/default/V1/inventory/sources?searchCriteria[pageSize]=1`, { headers: { authorization: `Bearer ${t}` } });
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('OAuth 1.0a integration signatures are verified', async () => {
    const integration = { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'ats' };
    const clock = new VirtualClock(T0);
    sb = await startMagentoSandbox({ seed: 3, clock, backlog: 5, integration });
    const good = openConnection(magentoConnector, { config: { storeUrl: sb.baseUrl }, credentials: { type: 'oauth1', ...integration }, clock });
    expect((await good.readAll('orders')).records).toHaveLength(5);
    const bad = openConnection(magentoConnector, { config: { storeUrl: sb.baseUrl }, credentials: { type: 'oauth1', ...integration, consumerSecret: 'wrong' }, clock });
    await expect(bad.readAll('orders')).rejects.toThrow(/401/);
  });
});

async function token(sandbox: MagentoSandbox): Promise<string> {
  const r = await fetch(`${sandbox.baseUrl}/rest/V1/integration/admin/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: sandbox.connection.credentials.username, password: sandbox.connection.credentials.password }) });
  return (await r.json()) as string;
}
