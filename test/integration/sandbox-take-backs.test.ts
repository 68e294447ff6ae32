// Customers of the sandbox Shopify take units back before they ship (`takeBacksPerHundred`, as the demo runs it):
// pulled through the real Shopify connector on the schedule's incremental cursor, each take-back cancels that unit
// in the hub once, frees its stock, and an order whose every unit was taken back before the hub first saw it is not
// placed at all (it stays open in Shopify, with nothing to fulfil).
import { startShopifySandbox, type ShopifySandbox } from '../../src/connectors/sandbox';
import { VirtualClock } from '../../src/connectors/sdk/clock';
import { loadDemoNetwork } from '../../src/db/seed/load-demo';
import { assertStockInvariants, createTestHub, type TestHub } from '../support/test-hub';

jest.setTimeout(60_000);
let t: TestHub;
let shop: ShopifySandbox;
/** The sandbox's and the connector's clock: the test moves it on. */
const clock = new VirtualClock(Date.now());
const q = (sql: string, params: unknown[] = []) => t.db.dataSource.query(sql, params);

beforeAll(async () => {
  t = await createTestHub({ config: { masterKey: `test:${Buffer.alloc(32, 7).toString('base64')}` } });
  await loadDemoNetwork(t.db.dataSource, { locations: 8, skus: 50, seed: 42 });
  shop = await startShopifySandbox({ seed: 42, skus: 50, backlog: 40, backlogHours: 1, ordersPerHour: 0, takeBacksPerHundred: 50, costAdmission: 'actual',
    clock });
  t.services.connections.openOptions = { clock };
  await t.services.connections.create({ name: 'shop-take-backs', kind: 'shopify', config: shop.connection.config, credentials: shop.connection.credentials,
    settings: { channel: 'shop-take-backs' } });
});
afterAll(async () => {
  await shop?.close();
  await t?.close();
});

/** Per sandbox order: what Shopify says is still wanted of each line, and what the hub plans and holds for it. */
async function compare() {
  const hub = new Map<string, { status: string; lines: { planned: number; cancelled: number }[]; reserved: number }>();
  for (const o of await q(`SELECT o.external_id, o.status,
      (SELECT json_agg(json_build_object('planned', l.quantity - l.cancelled_quantity, 'cancelled', l.cancelled_quantity) ORDER BY l.line_no) FROM order_line l WHERE l.order_id = o.id) AS lines,
      (SELECT coalesce(sum(r.quantity), 0)::int FROM reservation r WHERE r.order_id = o.id AND r.status = 'ACTIVE') AS reserved
      FROM orders o WHERE o.channel = 'shop-take-backs'`)) hub.set(o.external_id, { status: o.status, lines: o.lines, reserved: o.reserved });
  return shop.orders().map((o) => ({ id: shop.orderId(o.gen.seq), wanted: o.gen.lines.map((l, i) => l.quantity - o.cancelled[i]), takenBack: o.takenBack.reduce((a, b) => a + b, 0),
    hub: hub.get(shop.orderId(o.gen.seq)) }));
}

const pull = () => t.services.sync.runner.run('shop-take-backs', { stream: 'orders', trigger: 'MANUAL' });

test('units taken back after the hub landed the order are cancelled there once; an order emptied before it was seen is not placed', async () => {
  expect(await pull()).toMatchObject({ status: 'SUCCEEDED', failed: 0 });
  const first = await compare();
  // Take-backs already made when the hub first read the orders: they land net of them.
  const emptiedBefore = first.filter((o) => o.wanted.every((n) => n === 0));
  expect(emptiedBefore.length).toBeGreaterThan(0);
  for (const o of emptiedBefore) expect(o.hub).toBeUndefined();
  for (const o of first.filter((x) => x.hub)) expect(o.hub!.lines.map((l) => l.planned)).toEqual(o.wanted.filter((n) => n > 0));
  expect(await q(`SELECT count(*)::int AS n FROM sync_quarantine`)).toEqual([{ n: 0 }]);
  const pending = first.filter((o) => o.hub).length;

  // Half an hour later every take-back has been made; the next incremental pull carries them.
  clock.advance(31 * 60_000);
  expect(await pull()).toMatchObject({ status: 'SUCCEEDED', failed: 0 });
  const second = await compare();
  const cancelledAfterLanding = second.filter((o) => o.hub?.lines.some((l) => l.cancelled > 0));
  expect(cancelledAfterLanding.length).toBeGreaterThan(0);
  for (const o of second.filter((x) => x.hub)) {
    // Lines that had units when landed: the hub plans what Shopify still wants.
    const landed = o.wanted.map((n, i) => ({ n, i })).filter(({ i }) => first.find((f) => f.id === o.id)!.wanted[i] > 0);
    expect(o.hub!.lines.map((l) => l.planned)).toEqual(landed.map(({ n }) => n));
    if (landed.every(({ n }) => n === 0)) expect(o.hub).toMatchObject({ status: 'CANCELLED', reserved: 0 });
    expect(o.hub!.reserved).toBeLessThanOrEqual(o.hub!.lines.reduce((a, l) => a + l.planned, 0));
  }
  expect(second.filter((x) => x.hub)).toHaveLength(pending);
  await assertStockInvariants(t.db.dataSource);

  // Pulling the same window again (a backfill) changes nothing.
  expect(await t.services.sync.runner.run('shop-take-backs', { stream: 'orders', trigger: 'MANUAL', since: new Date(clock.now() - 3 * 86_400_000) })).toMatchObject({ status: 'SUCCEEDED', failed: 0 });
  expect(await compare()).toEqual(second);
});
