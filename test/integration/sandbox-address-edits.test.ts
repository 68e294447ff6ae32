// Customers of the sandbox Shopify correct their shipping address before the order ships (`addressEditsPerHundred`,
// as the demo runs it): pulled through the real Shopify connector on the schedule's incremental cursor, each
// correction lands on the hub's order once (its history says from where to where), and an order first seen after
// the correction lands with the corrected address.
import { startShopifySandbox, type ShopifySandbox } from '../../src/connectors/sandbox';
import { VirtualClock } from '../../src/connectors/sdk/clock';
import { loadDemoNetwork } from '../../src/db/seed/load-demo';
import { createTestHub, type TestHub } from '../support/test-hub';

jest.setTimeout(60_000);
let t: TestHub;
let shop: ShopifySandbox;
const clock = new VirtualClock(Date.now());
const q = (sql: string, params: unknown[] = []) => t.db.dataSource.query(sql, params);

beforeAll(async () => {
  t = await createTestHub({ config: { masterKey: `test:${Buffer.alloc(32, 9).toString('base64')}` } });
  await loadDemoNetwork(t.db.dataSource, { locations: 8, skus: 50, seed: 42 });
  shop = await startShopifySandbox({ seed: 42, skus: 50, backlog: 40, backlogHours: 0.25, ordersPerHour: 0, addressEditsPerHundred: 50, costAdmission: 'actual', clock });
  t.services.connections.openOptions = { clock };
  await t.services.connections.create({ name: 'shop-edits', kind: 'shopify', config: shop.connection.config, credentials: shop.connection.credentials, settings: { channel: 'shop-edits' } });
});
afterAll(async () => {
  await shop?.close();
  await t?.close();
});

const pull = () => t.services.sync.runner.run('shop-edits', { stream: 'orders', trigger: 'MANUAL' });
/** Per sandbox order: the street and city Shopify shows now, and what the hub holds. */
async function compare() {
  const hub = new Map<string, { line1: string; city: string; changes: number }>((await q(`SELECT o.external_id, o.ship_to->>'line1' AS line1, o.ship_to->>'city' AS city,
      (SELECT count(*)::int FROM order_transition tr WHERE tr.order_id = o.id AND tr.reason LIKE 'ship-to changed in shop-edits:%') AS changes
      FROM orders o WHERE o.channel = 'shop-edits'`)).map((r: { external_id: string; line1: string; city: string; changes: number }) => [r.external_id, r]));
  return shop.orders().map((o) => ({ id: shop.orderId(o.gen.seq), shop: { line1: (o.shipTo ?? o.gen.shipTo).line1, city: (o.shipTo ?? o.gen.shipTo).city }, edited: !!o.shipTo, hub: hub.get(shop.orderId(o.gen.seq)) }));
}

test('each correction reaches the hub once; an order seen after it lands corrected', async () => {
  expect(await pull()).toMatchObject({ status: 'SUCCEEDED', failed: 0 });
  const first = await compare();
  expect(first.every((o) => o.hub && o.hub.line1 === o.shop.line1 && o.hub.city === o.shop.city && o.hub.changes === 0)).toBe(true);
  const editedBefore = first.filter((o) => o.edited).length;

  clock.advance(21 * 60_000); // every correction due by now
  expect(await pull()).toMatchObject({ status: 'SUCCEEDED', failed: 0 });
  const second = await compare();
  const editedAfter = second.filter((o) => o.edited && !first.find((f) => f.id === o.id)!.edited);
  expect(editedAfter.length).toBeGreaterThan(0);
  for (const o of second) {
    expect(o.hub).toMatchObject(o.shop);
    expect(o.hub!.changes).toBe(editedAfter.some((e) => e.id === o.id) ? 1 : 0);
  }
  expect(editedBefore + editedAfter.length).toBe(second.filter((o) => o.edited).length);

  // Pulling the same window again (a backfill) changes nothing.
  expect(await t.services.sync.runner.run('shop-edits', { stream: 'orders', trigger: 'MANUAL', since: new Date(clock.now() - 3 * 86_400_000) })).toMatchObject({ status: 'SUCCEEDED', failed: 0 });
  expect(await compare()).toEqual(second);
});
