// An operator cancels units that will not be fulfilled while the rest of the order goes on: the hub releases their
// stock and replaces the fulfilment order that held them, and the shop is told to take them off the order and refund
// them (Shopify: suggestedRefund, then refundCreate with restockType CANCEL and the event's idempotency key). The shop's
// own update afterwards cancels nothing more. Payloads: the REST order of ../shared/fixtures/shopify/rest-2026-07/
// order-1.json, signed as Shopify signs its webhooks; the GraphQL answers in the shapes the connector's tests check
// against the 2026 schema.
import nock from 'nock';
import { TransitionRejected } from '../../src/orders/order.service';
import { coerceVariables } from '../connectors/shopify/shopify-schema';
import { restOrders } from '../connectors/shopify/shopify-fixtures';
import { deliverShopifyOrder } from '../support/shopify-webhook';
import { assertStockInvariants, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const SECRET = 'shopify_webhook_secret_line_cancel';
const CHANNEL = 'shop-line-cancel';
const SHOP = 'https://line-cancel.myshopify.test';
const base = restOrders('order-1.json')[0];

let t: TestHub;
beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  t = await createTestHub({ config: { masterKey: 'line-cancel-op-master-key-0123456789abcdef' } });
  await seedSmallNetwork(t.services);
  for (const sku of ['B', 'C']) await t.services.inventory.set({ sku, locationCode: 'ST-1', onHand: 10 }, 'test');
  await t.services.connections.create({ name: CHANNEL, kind: 'shopify', config: { shop: 'line-cancel', baseUrl: SHOP },
    credentials: { accessToken: 'shpat_unused', webhookSecret: SECRET } });
});
afterAll(async () => {
  await t.close();
  nock.cleanAll();
  nock.enableNetConnect();
});

async function deliver(topic: string, id: number, updatedAt: string, b: { quantity: number; current: number }) {
  const item = base.line_items[0];
  const order = { ...base, id, name: `#${id}`, updated_at: updatedAt, cancelled_at: null, closed_at: null, fulfillment_status: null,
    line_items: [{ ...item, id: id * 10 + 1, sku: 'B', quantity: b.quantity, current_quantity: b.current, fulfillable_quantity: b.current },
      { ...item, id: id * 10 + 2, sku: 'C', quantity: 1, current_quantity: 1, fulfillable_quantity: 1 }] };
  await deliverShopifyOrder(t, { name: CHANNEL, secret: SECRET }, topic, order);
}

async function state(orderId: string) {
  const ds = t.db.dataSource;
  const [order] = await ds.query(`SELECT status, version FROM orders WHERE id = $1`, [orderId]);
  const lines = await ds.query(`SELECT id, sku, quantity, cancelled_quantity AS cancelled FROM order_line WHERE order_id = $1 ORDER BY line_no`, [orderId]);
  const fos = await ds.query(`SELECT fo.status, (SELECT json_object_agg(sku, quantity ORDER BY sku) FROM fulfillment_order_line WHERE fulfillment_order_id = fo.id) AS lines
      FROM fulfillment_order fo WHERE fo.order_id = $1 ORDER BY fo.created_at, fo.id`, [orderId]);
  const reserved = Object.fromEntries((await ds.query(`SELECT p.sku, sum(r.quantity)::int AS n FROM reservation r JOIN product p ON p.id = r.product_id
      WHERE r.order_id = $1 AND r.status = 'ACTIVE' GROUP BY p.sku`, [orderId])).map((r: { sku: string; n: number }) => [r.sku, r.n]));
  const outbox = await ds.query(`SELECT topic, status, payload, idempotency_key, last_error FROM outbox_event WHERE aggregate_id = $1 ORDER BY id`, [orderId]);
  return { status: order.status as string, version: order.version as number, lines, fos, reserved, outbox };
}

test('two of three units cancelled by an operator: stock freed, the fulfilment order replaced, the shop refunds them once, and its echo cancels nothing more', async () => {
  await deliver('orders/create', 600, '2026-01-01T10:00:00Z', { quantity: 3, current: 3 });
  const order = (await t.services.orders.findByExternalId(CHANNEL, '600'))!;
  const before = await state(order.id);
  expect(before).toMatchObject({ status: 'ALLOCATED', reserved: { B: 3, C: 1 }, fos: [{ status: 'PENDING', lines: { B: 3, C: 1 } }] });
  const lineB = before.lines[0].id;

  const result = await t.services.orders.cancelLines(order.id, [{ lineId: lineB, quantity: 2 }], 'discontinued colour', 'ops');
  expect(result).not.toBeInstanceOf(TransitionRejected);
  const after = await state(order.id);
  expect(after).toMatchObject({ status: 'ALLOCATED', reserved: { B: 1, C: 1 } });
  expect(after.lines.map((l: Json) => [l.sku, l.cancelled])).toEqual([['B', 2], ['C', 0]]);
  expect(after.fos).toEqual([{ status: 'CANCELLED', lines: { B: 3, C: 1 } }, { status: 'PENDING', lines: { B: 1, C: 1 } }]);
  expect(after.outbox).toEqual([expect.objectContaining({ topic: 'order.cancelLines', status: 'PENDING',
    payload: { lines: [{ orderLineExternalId: '6001', quantity: 2, sku: 'B' }], reason: 'cancelled: discontinued colour: 2 × B' } })]);

  const sent: Json[] = [];
  const bag = (amount: string) => ({ shopMoney: { amount, currencyCode: 'USD' }, presentmentMoney: { amount, currencyCode: 'USD' } });
  nock(SHOP).post(/graphql/, (b) => (sent.push(b), !b.query.includes('refundCreate'))).reply(200, (_u, b: Json) => ({ data: { order: { id: b.variables.id,
    suggestedRefund: { amountSet: bag('398.00'), suggestedTransactions: [{ gateway: 'bogus', kind: 'SUGGESTED_REFUND', amountSet: bag('398.00'), parentTransaction: { id: 'gid://shopify/OrderTransaction/389404469' } }] } } } }));
  nock(SHOP).post(/graphql/, (b) => (sent.push(b), b.query.includes('refundCreate'))).reply(200, { data: { refundCreate: { refund: { id: 'gid://shopify/Refund/77', totalRefundedSet: { shopMoney: { amount: '398.00', currencyCode: 'USD' } } }, userErrors: [] } } });
  await t.services.sync.outbox.drain();
  expect(nock.isDone()).toBe(true);
  // Both documents and their variables are valid against the Admin API schema (restockType CANCEL included).
  for (const b of sent) expect(coerceVariables(b.query, b.variables)).toEqual([]);
  const create = sent.find((b) => b.query.includes('refundCreate'));
  expect(create.variables).toEqual({ idempotencyKey: after.outbox[0].idempotency_key, input: {
    orderId: 'gid://shopify/Order/600', note: 'cancelled: discontinued colour: 2 × B', notify: true,
    refundLineItems: [{ lineItemId: 'gid://shopify/LineItem/6001', quantity: 2, restockType: 'CANCEL' }],
    transactions: [{ orderId: 'gid://shopify/Order/600', gateway: 'bogus', kind: 'REFUND', amount: '398.00', parentId: 'gid://shopify/OrderTransaction/389404469' }] } });
  expect((await state(order.id)).outbox.map((e: Json) => e.status)).toEqual(['SENT']);

  // The shop's orders/updated now shows the two units removed: the hub has cancelled them already.
  await deliver('orders/updated', 600, '2026-01-01T11:00:00Z', { quantity: 3, current: 1 });
  const echoed = await state(order.id);
  expect(echoed.lines).toEqual(after.lines);
  expect(echoed.fos).toEqual(after.fos);
  expect(echoed.outbox).toHaveLength(1);
  await assertStockInvariants(t.db.dataSource);
});

test('bad requests are refused by field, and nothing changes', async () => {
  await deliver('orders/create', 610, '2026-01-01T10:00:00Z', { quantity: 2, current: 2 });
  const order = (await t.services.orders.findByExternalId(CHANNEL, '610'))!;
  const before = await state(order.id);
  const [b, c] = before.lines;
  await expect(t.services.orders.cancelLines(order.id, [{ lineId: b.id, quantity: 3 }], null, 'ops')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'lines[0].quantity', message: expect.stringContaining('only 2 unit(s) of B') });
  await expect(t.services.orders.cancelLines(order.id, [{ lineId: b.id, quantity: 0 }], null, 'ops')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'lines[0].quantity' });
  await expect(t.services.orders.cancelLines(order.id, [{ lineId: '6e0f1b9e-0000-4000-8000-000000000000', quantity: 1 }], null, 'ops')).rejects.toMatchObject({ code: 'NOT_FOUND', field: 'lines[0].lineId' });
  await expect(t.services.orders.cancelLines(order.id, [{ lineId: b.id, quantity: 2 }, { lineId: c.id, quantity: 1 }], null, 'ops'))
    .rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'lines', message: expect.stringContaining('cancelOrder') });
  expect(await state(order.id)).toEqual(before);
  // An order that is cancelled refuses as a transition.
  await t.services.orders.cancel(order.id, 'test', 'ops');
  nock(SHOP).post(/graphql/).reply(200, { data: { orderCancel: { job: null, orderCancelUserErrors: [] } } });
  await t.services.sync.outbox.drain();
  expect(await t.services.orders.cancelLines(order.id, [{ lineId: b.id, quantity: 1 }], null, 'ops')).toBeInstanceOf(TransitionRejected);
});

test('a channel that cannot cancel single lines keeps the event as a dead letter that says what to do there', async () => {
  const magento = await t.services.connections.create({ name: 'magento-line-cancel', kind: 'magento', config: { storeUrl: 'https://magento-line-cancel.test' },
    credentials: { type: 'oauth1', consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'ats' } });
  const { order } = await t.services.orders.placeOrder({ channel: 'magento-line-cancel', externalId: '000000777', connectionId: magento.id,
    lines: [{ sku: 'B', quantity: 2, externalId: '7771' }, { sku: 'C', quantity: 1, externalId: '7772' }], shipTo: { country: 'US', city: 'Chicago', latitude: 41.9, longitude: -87.7 } }, 'test');
  await t.services.orders.cancelLines(order.id, [{ lineId: order.lines.find((l) => l.sku === 'B')!.id, quantity: 1 }], null, 'ops');
  await t.services.sync.outbox.drain();
  const [ev] = (await state(order.id)).outbox;
  expect(ev).toMatchObject({ topic: 'order.cancelLines', status: 'DEAD', last_error: 'magento cannot cancel single lines: cancel 1 × B of order 000000777 there, then discard this event' });
});
