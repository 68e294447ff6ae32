// The routing snapshot's capacity use: today's fulfilment orders and lines per location, in its own time zone.
import { retryingTransaction } from '../../src/db/sql';
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

it('the kept counters equal a count of the fulfilment orders after concurrent placing, sync pages, rejections, cancellations and shipping', async () => {
  for (const sku of ['A', 'B', 'C']) {
    await t.services.inventory.set({ sku, locationCode: 'WH-B', onHand: 500 }, 'test');
    await t.services.inventory.set({ sku, locationCode: 'ST-1', onHand: 500 }, 'test');
  }
  const truth = async () => q(`
    SELECT l.code, count(*)::int AS orders, sum((SELECT count(*) FROM fulfillment_order_line fol WHERE fol.fulfillment_order_id = fo.id))::int AS lines
      FROM fulfillment_order fo JOIN location l ON l.id = fo.location_id
     WHERE fo.status NOT IN ('REJECTED', 'CANCELLED') AND (fo.created_at AT TIME ZONE l.time_zone)::date = (now() AT TIME ZONE l.time_zone)::date
     GROUP BY l.code ORDER BY l.code`);
  const kept = async () => {
    const snap = await readRoutingSnapshot(t.db.dataSource.manager, t.services.ruleSets, ['A'], new Date());
    return snap.network.locations.filter((l) => l.usedToday!.orders || l.usedToday!.lines)
      .map((l) => ({ code: l.code, orders: l.usedToday!.orders, lines: l.usedToday!.lines })).sort((a, b) => a.code.localeCompare(b.code));
  };
  const skus = ['A', 'B', 'C'];
  const lines = (k: number) => skus.slice(0, 1 + (k % 3)).map((sku, i) => ({ sku, quantity: 1 + ((k + i) % 2) }));
  // Eight writers at once, each on its own pooled session: single orders and whole pages through the intake path.
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let k = 0; k < 5; k++) {
      if (w % 2) await place(lines(w + k));
      else {
        // In a transaction that is retried when PostgreSQL breaks a deadlock, as the sync runner's page transaction is.
        await retryingTransaction(t.db.dataSource, (em) => t.services.orders.placeOrdersIn(em, Array.from({ length: 4 }, (_, i) => ({
          channel: 'sync', externalId: `CAP-P-${w}-${k}-${i}`, lines: lines(w + k + i), shipTo: { country: 'US', latitude: 41.88, longitude: -87.63 } })), 'test'));
      }
    }
  }));
  expect(await kept()).toEqual(await truth());

  // Rejections (re-routed elsewhere), cancellations and shipping, also at once.
  const fos: { id: string; order_id: string }[] = await q(`SELECT id, order_id FROM fulfillment_order WHERE status = 'PENDING' ORDER BY id`);
  await Promise.all(fos.slice(0, 24).map(async (fo, i) => {
    if (i % 3 === 0) await t.services.orders.transitionFulfillment(fo.id, 'REJECTED' as never, 'store', { reason: 'no staff' });
    else if (i % 3 === 1) await t.services.orders.cancel(fo.order_id, 'test', 'customer asked');
    else for (const to of ['ACCEPTED', 'PICKED', 'PACKED', 'SHIPPED']) await t.services.orders.transitionFulfillment(fo.id, to as never, 'test');
  }).map((p) => p.catch((err) => { if (!(err instanceof Error) || !/transition|cancel/i.test(err.message)) throw err; })));
  expect(await kept()).toEqual(await truth());
  expect((await truth()).length).toBeGreaterThan(0);
});
