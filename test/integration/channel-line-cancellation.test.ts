// Units a channel takes back before they ship (a Shopify refund or edit of unfulfilled items lowers the line's
// current_quantity; orders/updated carries it): the hub cancels them once, however often the update arrives, releases
// their stock, and replaces the fulfilment order that held them. Payloads: the REST order of
// ../shared/fixtures/shopify/rest-2026-07/order-1.json, signed as Shopify signs its webhooks.
import { hmacSha256 } from '../../src/connectors/sdk/webhooks';
import { FulfillmentOrderStatus as FO } from '../../src/model/enums';
import { TransitionRejected } from '../../src/orders/order.service';
import { restOrders } from '../connectors/shopify/shopify-fixtures';
import { assertStockInvariants, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

const SECRET = 'shopify_webhook_secret_refunds';
const CHANNEL = 'shop-refunds';
const base = restOrders('order-1.json')[0];
/** The order total of `units` units at the fixture line's price, as the hub stores money (numeric(19,4)). */
const priced = (units: number) => (Number(base.line_items[0].price) * units).toFixed(4);

let t: TestHub;
let threePlId: string;
const logs: string[] = [];
beforeAll(async () => {
  t = await createTestHub({ config: { masterKey: 'line-cancel-master-key-0123456789abcdefgh' }, logs });
  await seedSmallNetwork(t.services);
  await t.services.products.upsert({ sku: 'D', name: 'Product D' });
  for (const [sku, onHand] of [['A', 100], ['B', 100], ['C', 3], ['D', 2]] as const) await t.services.inventory.set({ sku, locationCode: 'WH-A', onHand }, 'test');
  await t.services.connections.create({ name: CHANNEL, kind: 'shopify', config: { shop: 'refunds', baseUrl: 'https://refunds.myshopify.test' },
    credentials: { accessToken: 'shpat_unused', webhookSecret: SECRET } });
  threePlId = (await t.services.connections.create({ name: 'shipbob-refunds', kind: 'shipbob', config: { channelId: '1', baseUrl: 'https://shipbob.test' },
    credentials: { accessToken: 'pat' }, settings: { fulfilsLocations: ['WH-A'] } })).id;
});
afterAll(async () => {
  await t.close();
});

/** current: current_quantity (ordered − removed); fulfillable: Shopify's quantity − max(removed, fulfilled), default current. */
type Line = { id: number; sku: string; quantity: number; current?: number; fulfillable?: number };
let events = 0;
/** One orders/* delivery, as Shopify sends it; processed before it returns. */
async function deliver(topic: string, id: number, updatedAt: string, lines: Line[]) {
  const order = { ...base, id, name: `#${id}`, updated_at: updatedAt, cancelled_at: null, closed_at: null, fulfillment_status: null,
    line_items: lines.map((l) => restLine(l)) };
  const body = JSON.stringify(order);
  const r = await t.services.sync.webhooks.receive(CHANNEL, { rawBody: Buffer.from(body),
    headers: { 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': hmacSha256(SECRET, body).toString('base64'), 'x-shopify-event-id': `evt-${++events}` } });
  expect(r.status).toBe('accepted');
  await t.services.sync.queue.drain();
}

/** A REST line item; without `current`, the payload says nothing of removals (no current_quantity, as older API versions). */
function restLine(l: Line) {
  const { current_quantity: _c, fulfillable_quantity: _f, ...item } = base.line_items[0];
  return { ...item, id: l.id, sku: l.sku, quantity: l.quantity, ...(l.current === undefined ? {} : { current_quantity: l.current, fulfillable_quantity: l.fulfillable ?? l.current }) };
}

async function state(externalId: number) {
  const ds = t.db.dataSource;
  const [order] = await ds.query(`SELECT id, status, total_amount AS total FROM orders WHERE channel = $1 AND external_id = $2`, [CHANNEL, String(externalId)]);
  const lines = await ds.query(`SELECT sku, quantity, cancelled_quantity AS cancelled, shipped_quantity AS shipped FROM order_line WHERE order_id = $1 ORDER BY line_no`, [order.id]);
  const fos = await ds.query(`SELECT fo.id, fo.status, fo.status_reason AS reason,
      (SELECT json_object_agg(sku, quantity ORDER BY sku) FROM fulfillment_order_line WHERE fulfillment_order_id = fo.id) AS lines
      FROM fulfillment_order fo WHERE fo.order_id = $1 ORDER BY fo.created_at, fo.id`, [order.id]);
  const reserved = Object.fromEntries((await ds.query(`SELECT p.sku, sum(r.quantity)::int AS n FROM reservation r JOIN product p ON p.id = r.product_id
      WHERE r.order_id = $1 AND r.status = 'ACTIVE' GROUP BY p.sku`, [order.id])).map((r: { sku: string; n: number }) => [r.sku, r.n]));
  const receipts = await ds.query(`SELECT status, count(*)::int AS n FROM webhook_receipt GROUP BY status`);
  return { id: order.id as string, status: order.status as string, total: order.total as string, lines, fos, reserved, receipts };
}

test('units refunded before shipping are cancelled once: their fulfilment order is replaced by one for the rest, the 3PL is told, the stock is freed', async () => {
  const lines = (a: number, b: number): Line[] => [{ id: 101, sku: 'A', quantity: 3, current: a }, { id: 102, sku: 'B', quantity: 1, current: b }];
  await deliver('orders/create', 100, '2026-01-01T10:00:00Z', lines(3, 1));
  const before = await state(100);
  expect(before).toMatchObject({ status: 'ALLOCATED', reserved: { A: 3, B: 1 }, total: priced(4) });
  expect(before.fos).toEqual([expect.objectContaining({ status: 'PENDING', lines: { A: 3, B: 1 } })]);

  // Two of the three A refunded (restock type "cancel"): Shopify's orders/updated shows current_quantity 1.
  await deliver('orders/updated', 100, '2026-01-01T11:00:00Z', lines(1, 1));
  const after = await state(100);
  expect(after).toMatchObject({ status: 'ALLOCATED', total: priced(2) });
  expect(after.lines).toEqual([{ sku: 'A', quantity: 3, cancelled: 2, shipped: 0 }, { sku: 'B', quantity: 1, cancelled: 0, shipped: 0 }]);
  expect(after.fos).toEqual([
    { id: before.fos[0].id, status: 'CANCELLED', reason: `cancelled in ${CHANNEL}: 2 × A`, lines: { A: 3, B: 1 } },
    expect.objectContaining({ status: 'PENDING', lines: { A: 1, B: 1 } }),
  ]);
  expect(after.reserved).toEqual({ A: 1, B: 1 });
  // The 3PL holding the first fulfilment order is asked to cancel it and to fulfil its replacement.
  const outbox = await t.db.dataSource.query(`SELECT topic, aggregate_id FROM outbox_event WHERE connection_id = $1 AND aggregate_id = ANY($2) ORDER BY id`,
    [threePlId, after.fos.map((f: { id: string }) => f.id)]);
  expect(outbox).toEqual([
    { topic: 'fulfillment.create', aggregate_id: after.fos[0].id },
    { topic: 'fulfillment.cancel', aggregate_id: after.fos[0].id },
    { topic: 'fulfillment.create', aggregate_id: after.fos[1].id },
  ]);

  // The same view again (a redelivery under a new event id, a later unrelated edit) and an older one change nothing.
  await deliver('orders/updated', 100, '2026-01-01T11:00:00Z', lines(1, 1));
  await deliver('orders/updated', 100, '2026-01-01T12:00:00Z', lines(1, 1));
  await deliver('orders/updated', 100, '2026-01-01T10:30:00Z', lines(3, 1));
  // A payload that does not say what was removed (no current_quantity) brings nothing back.
  await deliver('orders/updated', 100, '2026-01-01T13:00:00Z', [{ id: 101, sku: 'A', quantity: 3 }, { id: 102, sku: 'B', quantity: 1 }]);
  const again = await state(100);
  expect(again.lines).toEqual(after.lines);
  expect(again.fos).toEqual(after.fos);
  expect(again.reserved).toEqual(after.reserved);
  expect(again.total).toBe(after.total);
  expect(again.receipts).toEqual([{ status: 'PROCESSED', n: events }]); // every delivery so far
  await assertStockInvariants(t.db.dataSource);
});

test('every unit refunded → the order is cancelled, and no cancellation is pushed back to the channel that made it', async () => {
  await deliver('orders/create', 200, '2026-01-01T10:00:00Z', [{ id: 201, sku: 'A', quantity: 2, current: 2 }]);
  await deliver('orders/updated', 200, '2026-01-01T11:00:00Z', [{ id: 201, sku: 'A', quantity: 2, current: 0 }]);
  const s = await state(200);
  expect(s).toMatchObject({ status: 'CANCELLED', reserved: {}, total: priced(0), lines: [{ sku: 'A', quantity: 2, cancelled: 2, shipped: 0 }] });
  expect(s.fos.map((f: { status: string }) => f.status)).toEqual(['CANCELLED']);
  expect(await t.db.dataSource.query(`SELECT topic FROM outbox_event WHERE aggregate_id = $1`, [s.id])).toEqual([]);
  await assertStockInvariants(t.db.dataSource);
});

test('units still waiting for stock are cancelled first; units already shipped are not cancelled', async () => {
  // Five C ordered, three in stock: a fulfilment order for three, two backordered.
  await deliver('orders/create', 300, '2026-01-01T10:00:00Z', [{ id: 301, sku: 'C', quantity: 5, current: 5 }]);
  const backordered = await state(300);
  expect(backordered).toMatchObject({ status: 'BACKORDERED', reserved: { C: 3 } });

  // Two refunded: they were never allocated, so the fulfilment order stays as it is, and the order is complete.
  await deliver('orders/updated', 300, '2026-01-01T11:00:00Z', [{ id: 301, sku: 'C', quantity: 5, current: 3 }]);
  const allocated = await state(300);
  expect(allocated).toMatchObject({ status: 'ALLOCATED', reserved: { C: 3 }, lines: [{ sku: 'C', quantity: 5, cancelled: 2, shipped: 0 }] });
  expect(allocated.fos).toEqual(backordered.fos);

  for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED, FO.SHIPPED]) await t.services.orders.transitionFulfillment(allocated.fos[0].id, to, 'wh');
  // A refund of everything after shipping (Shopify: fulfilled 3, removed 5, fulfillable 0): the goods are gone;
  // that is a return's business, not a cancellation.
  await deliver('orders/updated', 300, '2026-01-01T12:00:00Z', [{ id: 301, sku: 'C', quantity: 5, current: 0, fulfillable: 0 }]);
  const shipped = await state(300);
  expect(shipped).toMatchObject({ status: 'SHIPPED', reserved: {}, lines: [{ sku: 'C', quantity: 5, cancelled: 2, shipped: 3 }] });
  await assertStockInvariants(t.db.dataSource);
});

test('a refund for a unit shipped and sent back does not cancel the unit still owed', async () => {
  // Three D ordered, two in stock: two ship, one waits for stock.
  await deliver('orders/create', 400, '2026-01-01T10:00:00Z', [{ id: 401, sku: 'D', quantity: 3, current: 3 }]);
  const first = await state(400);
  expect(first).toMatchObject({ status: 'BACKORDERED', reserved: { D: 2 } });
  for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED, FO.SHIPPED]) await t.services.orders.transitionFulfillment(first.fos[0].id, to, 'wh');
  // One shipped unit comes back and is refunded: current_quantity 2, but fulfillable 3 − max(1 removed, 2 fulfilled) = 1.
  await deliver('orders/updated', 400, '2026-01-01T12:00:00Z', [{ id: 401, sku: 'D', quantity: 3, current: 2, fulfillable: 1 }]);
  const owed = await state(400);
  expect(owed).toMatchObject({ status: 'PARTIALLY_SHIPPED', lines: [{ sku: 'D', quantity: 3, cancelled: 0, shipped: 2 }] });
  // The unit still owed is refunded too (fulfillable 0): now it is cancelled, and nothing is left to send.
  await deliver('orders/updated', 400, '2026-01-01T13:00:00Z', [{ id: 401, sku: 'D', quantity: 3, current: 1, fulfillable: 0 }]);
  expect(await state(400)).toMatchObject({ status: 'SHIPPED', lines: [{ sku: 'D', quantity: 3, cancelled: 1, shipped: 2 }] });
  await assertStockInvariants(t.db.dataSource);
});

test('units the channel adds by an order edit are routed and reserved once; an order already shipped refuses them', async () => {
  await deliver('orders/create', 500, '2026-01-01T10:00:00Z', [{ id: 501, sku: 'A', quantity: 1, current: 1 }]);
  expect(await state(500)).toMatchObject({ status: 'ALLOCATED', reserved: { A: 1 } });
  // The edit: one more A, and a new line of two B.
  const edited: Line[] = [{ id: 501, sku: 'A', quantity: 2, current: 2 }, { id: 502, sku: 'B', quantity: 2, current: 2 }];
  await deliver('orders/updated', 500, '2026-01-01T11:00:00Z', edited);
  const after = await state(500);
  expect(after).toMatchObject({ status: 'ALLOCATED', reserved: { A: 2, B: 2 }, total: priced(4),
    lines: [{ sku: 'A', quantity: 2, cancelled: 0, shipped: 0 }, { sku: 'B', quantity: 2, cancelled: 0, shipped: 0 }] });
  await deliver('orders/updated', 500, '2026-01-01T11:00:00Z', edited);
  await deliver('orders/updated', 500, '2026-01-01T12:00:00Z', edited);
  expect(await state(500)).toMatchObject({ lines: after.lines, fos: after.fos, reserved: after.reserved, total: after.total });

  // Order 300 has shipped: more units cannot go with it, so the update is quarantined with the reason, not half-applied.
  const shipped = await state(300);
  await deliver('orders/updated', 300, '2026-01-01T14:00:00Z', [{ id: 301, sku: 'C', quantity: 5, current: 0, fulfillable: 0 }, { id: 302, sku: 'A', quantity: 1, current: 1 }]);
  const refused = await state(300);
  expect(refused).toMatchObject({ status: 'SHIPPED', lines: shipped.lines, fos: shipped.fos });
  const [receipt] = await t.db.dataSource.query(`SELECT status, last_error FROM webhook_receipt ORDER BY received_at DESC, id DESC LIMIT 1`);
  expect(receipt).toEqual({ status: 'QUARANTINED', last_error: expect.stringMatching(/added units to order 300, but the hub cannot: units cannot be added to an order in SHIPPED/) });
  await assertStockInvariants(t.db.dataSource);
});

test('an order first seen with every unit taken back is not placed, until an edit brings units back', async () => {
  const placed = () => t.db.dataSource.query(`SELECT id FROM orders WHERE channel = $1 AND external_id = '700'`, [CHANNEL]);
  await deliver('orders/updated', 700, '2026-01-01T11:00:00Z', [{ id: 701, sku: 'A', quantity: 1, current: 0 }]);
  expect(await placed()).toEqual([]);
  // An older version (the create, delivered late) still has the unit: it is stale, and creates nothing.
  await deliver('orders/create', 700, '2026-01-01T10:00:00Z', [{ id: 701, sku: 'A', quantity: 1, current: 1 }]);
  expect(await placed()).toEqual([]);
  // The edit adds a line of two B: now there is something to fulfil.
  await deliver('orders/updated', 700, '2026-01-01T12:00:00Z', [{ id: 701, sku: 'A', quantity: 1, current: 0 }, { id: 702, sku: 'B', quantity: 2, current: 2 }]);
  expect(await state(700)).toMatchObject({ status: 'ALLOCATED', reserved: { B: 2 }, total: priced(2), lines: [{ sku: 'B', quantity: 2, cancelled: 0, shipped: 0 }] });
  await assertStockInvariants(t.db.dataSource);
});

test('refunds racing the shipment of the same orders: each unit ends shipped or cancelled, never both, and the stock adds up', async () => {
  const ids = Array.from({ length: 16 }, (_, i) => 600 + i);
  const lines = (id: number, a: number): Line[] => [{ id: id * 10 + 1, sku: 'A', quantity: 2, current: a, fulfillable: a }, { id: id * 10 + 2, sku: 'B', quantity: 1, current: 1 }];
  for (const id of ids) await deliver('orders/create', id, '2026-01-01T10:00:00Z', lines(id, 2));
  const placed = await Promise.all(ids.map((id) => state(id)));
  // The refunds of both A are queued; the warehouse ships every order at the same time as the queue lands them.
  for (const id of ids) {
    const body = JSON.stringify({ ...base, id, name: `#${id}`, updated_at: '2026-01-01T11:00:00Z', cancelled_at: null, closed_at: null, fulfillment_status: null,
      line_items: lines(id, 0).map((l) => restLine(l)) });
    await t.services.sync.webhooks.receive(CHANNEL, { rawBody: Buffer.from(body),
      headers: { 'x-shopify-topic': 'orders/updated', 'x-shopify-hmac-sha256': hmacSha256(SECRET, body).toString('base64'), 'x-shopify-event-id': `race-${id}` } });
  }
  // Every order packed; each is handed to the carrier at a random moment while the queue lands the refunds.
  for (const p of placed) for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED]) await t.services.orders.transitionFulfillment(p.fos[0].id, to, 'wh');
  const ship = async (foId: string) => {
    await new Promise((r) => setTimeout(r, Math.random() * 400));
    const r = await t.services.orders.transitionFulfillment(foId, FO.SHIPPED, 'wh');
    return r instanceof TransitionRejected ? 'stopped' : 'shipped'; // stopped: cancelled under it by the refund
  };
  const [, ...shipped] = await Promise.all([t.services.sync.queue.drain(), ...placed.map((p) => ship(p.fos[0].id))]);
  for (let i = 0; i < 100 && (await t.db.dataSource.query(`SELECT 1 FROM webhook_receipt WHERE delivery_id LIKE 'race-%' AND status <> 'PROCESSED'`)).length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    await t.services.sync.queue.drain();
  }
  expect(await t.db.dataSource.query(`SELECT delivery_id, status, last_error FROM webhook_receipt WHERE delivery_id LIKE 'race-%' AND status <> 'PROCESSED'`)).toEqual([]);

  const after = await Promise.all(ids.map((id) => state(id)));
  for (const [i, s] of after.entries()) {
    const [a, b] = s.lines;
    if (shipped[i] === 'shipped') {
      // Shipped before the refund landed: nothing left to cancel (the refund is a return's business).
      expect({ a, b, status: s.status }).toEqual({ a: { sku: 'A', quantity: 2, cancelled: 0, shipped: 2 }, b: { sku: 'B', quantity: 1, cancelled: 0, shipped: 1 }, status: 'SHIPPED' });
    } else {
      // The refund landed first: A cancelled, its fulfilment order cancelled, B on a new one still to ship.
      expect({ a, b }).toEqual({ a: { sku: 'A', quantity: 2, cancelled: 2, shipped: 0 }, b: { sku: 'B', quantity: 1, cancelled: 0, shipped: 0 } });
      expect(s.fos.map((f: { status: string; lines: Record<string, number> }) => [f.status, f.lines])).toEqual([['CANCELLED', { A: 2, B: 1 }], ['PENDING', { B: 1 }]]);
      expect(s).toMatchObject({ status: 'ALLOCATED', reserved: { B: 1 } });
    }
  }
  // The refunds landed as one page, not one by one after the page lost a deadlock to a shipment: the page locks its
  // known orders before any stock row, as the shipments do.
  expect(logs.filter((l) => l.includes('webhook batch failed'))).toEqual([]);
  await assertStockInvariants(t.db.dataSource);
});

test('the database refuses a unit both shipped and cancelled', async () => {
  const s = await state(300);
  await expect(t.db.dataSource.query(`UPDATE order_line SET cancelled_quantity = cancelled_quantity + 1 WHERE order_id = $1`, [s.id]))
    .rejects.toThrow(/order_line_cancelled_within_unshipped/);
});
