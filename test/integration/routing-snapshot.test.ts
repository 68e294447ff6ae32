// The routing snapshot's capacity use: today's fulfilment orders and lines per location, in its own time zone.
import { readRoutingSnapshot } from '../../src/orders/routing-snapshot';
import { createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

let t: TestHub;
let n = 0;
const q = (sql: string, params: unknown[] = []) => t.db.dataSource.query(sql, params);
const place = (lines: { sku: string; quantity: number }[]) =>
  t.services.orders.placeOrder({ channel: 'web', externalId: `CAP-${++n}`, lines, shipTo: { country: 'US', latitude: 41.88, longitude: -87.63 } }, 'test');

beforeAll(async () => {
  t = await createTestHub();
  await seedSmallNetwork(t.services);
  for (const sku of ['A', 'B', 'C']) await t.services.inventory.set({ sku, locationCode: 'WH-A', onHand: 100 }, 'test');
});
afterAll(async () => { await t?.close(); });

const usedAt = async (code: string, now: Date, inTransaction = false) => {
  const read = (em: typeof t.db.dataSource.manager) => readRoutingSnapshot(em, t.services.ruleSets, ['A'], now);
  const snap = inTransaction ? await t.db.dataSource.transaction(read) : await read(t.db.dataSource.manager);
  return snap.network.locations.find((l) => l.code === code)!.usedToday;
};

it('counts today\'s live fulfilment orders and their lines, not yesterday\'s or cancelled ones, inside a transaction or not', async () => {
  const orders = [];
  for (const lines of [[{ sku: 'A', quantity: 1 }], [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }], [{ sku: 'C', quantity: 1 }], [{ sku: 'B', quantity: 1 }]]) {
    orders.push((await place(lines)).order);
  }
  const fo = async (orderId: string) => (await q(`SELECT id FROM fulfillment_order WHERE order_id = $1`, [orderId]))[0].id as string;
  expect(await q(`SELECT DISTINCT l.code FROM fulfillment_order fo JOIN location l ON l.id = fo.location_id`)).toEqual([{ code: 'WH-A' }]);
  const now = new Date();
  expect(await usedAt('WH-A', now)).toMatchObject({ orders: 4, lines: 5 });

  // Placed before midnight in Chicago (the location's zone), and one cancelled: neither counts today.
  await q(`UPDATE fulfillment_order SET created_at = date_trunc('day', now() AT TIME ZONE 'America/Chicago') AT TIME ZONE 'America/Chicago' - interval '1 second' WHERE id = $1`, [await fo(orders[1].id)]);
  await t.services.orders.cancel(orders[3].id, 'test', 'customer changed their mind');
  expect(await usedAt('WH-A', now)).toMatchObject({ orders: 2, lines: 2 });
  expect(await usedAt('WH-A', now, true)).toMatchObject({ orders: 2, lines: 2 });
  expect(await usedAt('WH-B', now)).toMatchObject({ orders: 0, lines: 0 });
});
