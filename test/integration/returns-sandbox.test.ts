// A demo return refunded end to end: an order pulled from the sandbox Shopify (as `npm start` wires it), shipped,
// returned at a store and received; the refund.push event goes through the real Shopify connector
// (suggestedRefund, then refundCreate @idempotent) to the sandbox, once, also when the event is delivered again.
import { startShopifySandbox, type ShopifySandbox } from '../../src/connectors/sandbox';
import { loadDemoNetwork } from '../../src/db/seed/load-demo';
import { FulfillmentOrderStatus as FO, LocationCapability as Cap, LocationType } from '../../src/model/enums';
import { createTestHub, type TestHub } from '../support/test-hub';

jest.setTimeout(60_000);
let t: TestHub;
let shop: ShopifySandbox;
const q = (sql: string, params: unknown[] = []) => t.db.dataSource.query(sql, params);

beforeAll(async () => {
  t = await createTestHub({ config: { masterKey: `test:${Buffer.alloc(32, 9).toString('base64')}` } });
  await loadDemoNetwork(t.db.dataSource, { locations: 8, skus: 50, seed: 42 });
  await t.services.locations.upsert({ code: 'ST-RETURNS', name: 'Returns desk', type: LocationType.STORE, country: 'US', latitude: 41.88, longitude: -87.63, timeZone: 'America/Chicago', capabilities: [Cap.RETURNS] });
  // The sandbox's clock a day behind the hub's, so its orders fall in the hub's sync window.
  const start = Date.now() - 24 * 3_600_000;
  const began = Date.now();
  shop = await startShopifySandbox({ seed: 42, skus: 50, backlog: 5, backlogHours: 2, ordersPerHour: 0, costAdmission: 'actual', clock: { now: () => start + (Date.now() - began) } });
  await t.services.connections.create({ name: 'sandbox-shop', kind: 'shopify', config: shop.connection.config, credentials: shop.connection.credentials, settings: { channel: 'sandbox-shop' } });
});
afterAll(async () => {
  await shop?.close();
  await t?.close();
});

test('a return received from a sandbox Shopify order is refunded there once', async () => {
  const run = await t.services.sync.runner.run('sandbox-shop', { stream: 'orders', trigger: 'MANUAL' });
  expect(run).toMatchObject({ status: 'SUCCEEDED', failed: 0 });
  const [order] = await q(`SELECT o.id FROM orders o WHERE o.channel = 'sandbox-shop' AND EXISTS (SELECT 1 FROM fulfillment_order fo WHERE fo.order_id = o.id) ORDER BY o.placed_at, o.id LIMIT 1`);
  expect(order).toBeDefined();
  for (const { id } of await q(`SELECT id FROM fulfillment_order WHERE order_id = $1 AND status = 'PENDING'`, [order.id])) {
    for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED, FO.SHIPPED]) await t.services.orders.transitionFulfillment(id, to, 'test');
  }
  const [line] = await q(`SELECT sku, shipped_quantity, unit_price::text AS price, external_id FROM order_line WHERE order_id = $1 AND shipped_quantity > 0 ORDER BY line_no LIMIT 1`, [order.id]);
  const ret = await t.services.returns.create({ orderId: order.id, lines: [{ sku: line.sku, quantity: 1 }], method: 'IN_STORE', locationCode: 'ST-RETURNS' }, 'clerk');
  await t.services.returns.receive({ returnId: ret.id, units: [{ sku: line.sku, condition: 'RESELLABLE', quantity: 1 }] }, 'clerk');
  await q(`DELETE FROM outbox_event WHERE topic <> 'refund.push'`); // only the refund is under test here

  await t.services.sync.outbox.drain();
  const [ev] = await q(`SELECT id, status, last_error, idempotency_key FROM outbox_event WHERE topic = 'refund.push' AND aggregate_id = $1`, [ret.id]);
  expect(ev).toMatchObject({ status: 'SENT', last_error: null });
  expect(shop.refunds).toEqual([expect.objectContaining({ amount: Number(line.price).toFixed(2), idempotencyKey: `refundCreate:${ev.idempotency_key}`, note: `Return ${ret.rma}`,
    lines: [{ lineId: line.external_id, sku: line.sku, quantity: 1, restockType: 'NO_RESTOCK' }] })]);

  // Delivered again (a worker died before recording SENT): the same key finds the first refund.
  await q(`UPDATE outbox_event SET status = 'PENDING', next_attempt_at = now(), locked_until = NULL WHERE id = $1`, [ev.id]);
  await t.services.sync.outbox.drain();
  expect((await q(`SELECT status FROM outbox_event WHERE id = $1`, [ev.id]))[0].status).toBe('SENT');
  expect(shop.refunds).toHaveLength(1);
});
