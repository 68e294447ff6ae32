import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { openConnection } from '../../../src/connectors/sdk/connector';
import type { CanonicalOrder } from '../../../src/connectors/sdk/canonical';
import { amazonConnector, getOrder } from '../../../src/connectors/amazon/amazon.connector';
import { type AmazonSandbox, startAmazonSandbox, SP_API_PUBLISHED_LIMITS } from '../../../src/connectors/sandbox';
import { fixtureJson } from '../fixtures';

const T0 = Date.parse('2026-03-02T12:00:00Z');

async function setup(extra: Partial<Parameters<typeof startAmazonSandbox>[0]> = {}) {
  const clock = new VirtualClock(T0);
  const sandbox = await startAmazonSandbox({ seed: 5, clock, backlog: 450, backlogHours: 48, ordersPerHour: 30, ...extra });
  const conn = openConnection(amazonConnector, { ...sandbox.connection, clock, random: () => 0.5 });
  return { clock, sandbox, conn };
}

describe('Amazon SP-API sandbox with the real Amazon connector', () => {
  let sb: AmazonSandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  test('the usage plans are the ones the models publish (../shared/fixtures/amazon)', () => {
    const models = ['orders_2026-01-01.json', 'ordersV0.json', 'listingsItems_2021-08-01.json'].map((f) => fixtureJson(`amazon/${f}`));
    for (const [op, plan] of Object.entries(SP_API_PUBLISHED_LIMITS)) {
      const found = models.flatMap((m) => Object.values<Record<string, { operationId?: string; description?: string }>>(m.paths).flatMap((ops) => Object.values(ops))).find((o) => o.operationId === op && /\| [\d.]+ \| \d+ \|/.test(o.description ?? ''));
      const m = /\| ([\d.]+) \| (\d+) \|/.exec(found!.description!)!;
      expect([op, Number(m[1]), Number(m[2])]).toEqual([op, plan.rate, plan.burst]);
    }
  });

  test('LWA token, then every order exactly once across paginationToken pages, within the searchOrders usage plan', async () => {
    const { clock, sandbox, conn } = await setup();
    sb = sandbox;
    const first = await conn.readAll<CanonicalOrder>('orders');
    // SP-API only serves orders last updated at least two minutes ago.
    const visible = sandbox.orders().filter((o) => o.updatedAt <= T0 - 125_000).length;
    expect(first.records).toHaveLength(visible);
    expect(visible).toBeGreaterThan(400);
    expect(new Set(first.records.map((o) => o.externalId)).size).toBe(visible);
    const st = sandbox.stats();
    expect(st.byOperation.searchOrders.requests).toBeGreaterThanOrEqual(5);
    expect(st.throttled).toBe(0);
    const o = first.records[0];
    const g = sandbox.orders().find((x) => sandbox.orderId(x.gen.seq) === o.externalId)!.gen;
    expect(o).toMatchObject({ status: 'OPEN', currency: 'USD', totalPrice: g.total, shipTo: { country: 'US', city: g.shipTo.city, region: g.shipTo.region } });

    clock.advance(6 * 3_600_000);
    const next = await conn.readAll<CanonicalOrder>('orders', first.state);
    const ids = [...first.records, ...next.records].map((x) => x.externalId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(sandbox.orders().filter((x) => x.updatedAt <= clock.now() - 125_000).length);
  });

  test('a burst beyond the searchOrders bucket is answered 429 without Retry-After; the connector waits and never fails', async () => {
    const { clock, sandbox } = await setup({ backlog: 3000 });
    sb = sandbox;
    // A client that believes the old v0 rate (0.0167/s) until the header corrects it.
    const conn = openConnection(amazonConnector, { ...sandbox.connection, clock, random: () => 0.5 });
    const { records } = await conn.readAll<CanonicalOrder>('orders');
    expect(records.length).toBeGreaterThan(2900);
    const st = sandbox.stats();
    expect(st.byOperation.searchOrders.requests).toBeGreaterThan(SP_API_PUBLISHED_LIMITS.searchOrders.burst);
    expect(st.throttled / st.requests).toBeLessThan(0.05);
    // The wait is what the published plan imposes: (pages − burst) / rate.
    const pages = st.byOperation.searchOrders.requests - st.throttled;
    expect(clock.slept / 1000).toBeGreaterThanOrEqual(((pages - 20) / 0.0056) * 0.99);

    const raw = await fetch(`${sandbox.baseUrl}/orders/2026-01-01/orders?lastUpdatedAfter=2026-03-01T00:00:00Z&marketplaceIds=ATVPDKIKX0DER`, { headers: { 'x-amz-access-token': 'Atza|wrong' } });
    expect(raw.status).toBe(403);
  });

  test('429 carries x-amzn-RateLimit-Limit and no Retry-After', async () => {
    const clock = new VirtualClock(T0);
    sb = await startAmazonSandbox({ seed: 1, clock, backlog: 5 });
    const tok = (await (await fetch(`${sb.baseUrl}/auth/o2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', ...{ refresh_token: sb.connection.credentials.refreshToken, client_id: sb.connection.credentials.clientId, client_secret: sb.connection.credentials.clientSecret } }).toString() })).json()) as { access_token: string };
    const get = () => fetch(`${sb!.baseUrl}/orders/2026-01-01/orders?lastUpdatedAfter=2026-03-01T00:00:00Z&marketplaceIds=ATVPDKIKX0DER`, { headers: { 'x-amz-access-token': tok.access_token } });
    for (let i = 0; i < 20; i++) expect((await get()).status).toBe(200);
    const r = await get();
    expect(r.status).toBe(429);
    expect(r.headers.get('x-amzn-ratelimit-limit')).toBe('0.0056');
    expect(r.headers.get('retry-after')).toBeNull();
    const tooRecent = await fetch(`${sb.baseUrl}/orders/2026-01-01/orders?lastUpdatedAfter=2026-03-01T00:00:00Z&lastUpdatedBefore=${new Date(T0 - 60_000).toISOString()}`, { headers: { 'x-amz-access-token': tok.access_token } });
    expect(tooRecent.status).toBe(429); // still throttled: the bucket answers before validation
    clock.advance(200_000);
    expect((await fetch(`${sb.baseUrl}/orders/2026-01-01/orders?lastUpdatedAfter=2026-03-01T00:00:00Z&lastUpdatedBefore=${new Date(clock.now() - 60_000).toISOString()}`, { headers: { 'x-amz-access-token': tok.access_token } })).status).toBe(400);
  });

  test('quantity push (patchListingsItem) and shipment confirmation with tracking are recorded and read back', async () => {
    const { clock, sandbox, conn } = await setup({ backlog: 20 });
    sb = sandbox;
    await conn.push('setStock', { sku: 'SKU-000002', externalLocationId: '', quantity: 17, idempotencyKey: 's-1' });
    expect(sandbox.quantity('SKU-000002')).toBe(17);
    await expect(conn.push('setStock', { sku: 'NOT-A-SKU', externalLocationId: '', quantity: 1, idempotencyKey: 's-2' })).rejects.toThrow(/INVALID/);
    const { records } = await conn.readAll<CanonicalOrder>('orders');
    const order = records[0];
    await conn.push('createShipment', {
      orderExternalId: order.externalId, carrier: 'USPS', trackingNumber: '9400111899223100000000', shippedAt: new Date(T0).toISOString(),
      lines: order.lines.map((l) => ({ orderLineExternalId: l.externalId, quantity: l.quantity })), idempotencyKey: 'ship-a',
    });
    expect(sandbox.pushes.shipments).toEqual([expect.objectContaining({ orderId: order.externalId, carrier: 'USPS', trackingNumber: '9400111899223100000000' })]);
    clock.advance(1000);
    const back = await getOrder(conn.ctx, order.externalId);
    expect(back.status).toBe('FULFILLED');
    await expect(conn.push('createShipment', {
      orderExternalId: order.externalId, carrier: 'USPS', trackingNumber: 'X', shippedAt: new Date(T0).toISOString(),
      lines: [{ orderLineExternalId: order.lines[0].externalId, quantity: 1 }], idempotencyKey: 'ship-b',
    })).rejects.toThrow(/exceeds the unshipped quantity/);
    sandbox.cancelByBuyer(2);
    expect((await getOrder(conn.ctx, sandbox.orderId(2))).status).toBe('CANCELLED');
  });
});
