// Returns beyond the happy path (issue #7): orders with lines that never shipped, closing a return whose goods do
// not all arrive, and ShipBob return orders by webhook and by polling (GET /2026-01/return). ShipBob payloads: `Returns.PublicReturnDto` from
// ../shared/fixtures/shipbob/openapi-2026-01.json (its GET /2026-01/return/{id} example, ids/statuses made concrete);
// deliveries signed with the Standard Webhooks scheme of ../shared/fixtures/SOURCES.md.
import { randomUUID } from 'node:crypto';
import nock from 'nock';
import { DomainError } from '../../src/errors';
import { standardWebhookSignature } from '../../src/connectors/sdk/webhooks';
import { FulfillmentOrderStatus as FO, LocationCapability as Cap, LocationType, OrderStatus as OS } from '../../src/model/enums';
import { responseExample } from '../connectors/shipbob/shipbob-fixtures';
import { assertStockInvariants, createTestHub, type TestHub } from '../support/test-hub';

const MASTER = 'returns-gaps-master-key-0123456789abcdef';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const CHICAGO = { country: 'US', city: 'Chicago', latitude: 41.88, longitude: -87.63 };
let t: TestHub;
let n = 0;
let shipbobConn: string;
const q = (sql: string, params: unknown[] = []) => t.db.dataSource.query(sql, params);

beforeAll(async () => {
  t = await createTestHub({ config: { masterKey: MASTER } });
  const s = t.services;
  const loc = (code: string, type: LocationType, latitude: number, longitude: number, capabilities: Cap[]) =>
    s.locations.upsert({ code, name: code, type, country: 'US', latitude, longitude, timeZone: 'America/Chicago', capabilities });
  await loc('WH-CHI', LocationType.WAREHOUSE, 41.85, -87.65, [Cap.SHIP, Cap.RETURNS]);
  await loc('ST-MALL', LocationType.STORE, 42.05, -87.68, [Cap.PICKUP, Cap.RETURNS]);
  await loc('3PL-MEM', LocationType.THREE_PL, 35.15, -90.05, [Cap.RETURNS]);
  for (const sku of ['BOOT', 'LACE', 'GLOVE']) await s.products.upsert({ sku, name: sku });
  for (const sku of ['BOOT', 'LACE']) await s.inventory.set({ sku, locationCode: 'WH-CHI', onHand: 100 }, 'test');
  // GLOVE has no stock anywhere: its lines are never fulfilled.
  shipbobConn = (await s.connections.create({ name: 'gaps-3pl', kind: 'shipbob', config: { channelId: '128944', baseUrl: 'https://shipbob-gaps.test', timeoutMs: 5000 },
    credentials: { accessToken: 'pat', webhookSecret: SECRET }, settings: { fulfilsLocations: ['3PL-MEM'], locations: { '15': '3PL-MEM' } } })).id;
});
afterAll(async () => { await t?.close(); });

async function shipAll(orderId: string) {
  for (const { id } of await q(`SELECT id FROM fulfillment_order WHERE order_id = $1 AND status = 'PENDING'`, [orderId])) {
    for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED, FO.SHIPPED]) await t.services.orders.transitionFulfillment(id, to, 'test');
  }
}

async function order(lines: { sku: string; quantity: number; unitPrice: string }[]) {
  const { order: o } = await t.services.orders.placeOrder({ channel: 'web', externalId: `GAP-${++n}`, lines, shipTo: CHICAGO }, 'test');
  await shipAll(o.id);
  return (await t.services.orders.get(o.id))!;
}

async function failure(p: Promise<unknown>): Promise<DomainError> {
  try { await p; } catch (err) { return err as DomainError; }
  throw new Error('expected a failure');
}

const status = async (orderId: string) => (await t.services.orders.get(orderId))!.status;

describe('the order follows what was shipped, not what was ordered', () => {
  it('a line that never shipped is not waited for: the shipped line fully returned makes the order RETURNED', async () => {
    const o = await order([{ sku: 'BOOT', quantity: 2, unitPrice: '30' }, { sku: 'GLOVE', quantity: 1, unitPrice: '9' }]);
    expect(o.status).toBe(OS.PARTIALLY_SHIPPED); // GLOVE never allocated: nothing more will ship
    expect(await q(`SELECT sku, shipped_quantity FROM order_line WHERE order_id = $1 ORDER BY line_no`, [o.id])).toEqual([{ sku: 'BOOT', shipped_quantity: 2 }, { sku: 'GLOVE', shipped_quantity: 0 }]);
    const ret = await t.services.returns.create({ orderId: o.id, lines: [{ sku: 'BOOT', quantity: 2 }], method: 'IN_STORE', locationCode: 'ST-MALL' }, 'clerk');
    await t.services.returns.receive({ returnId: ret.id, units: [{ sku: 'BOOT', condition: 'RESELLABLE', quantity: 1 }] }, 'clerk');
    expect(await status(o.id)).toBe(OS.PARTIALLY_RETURNED);
    await t.services.returns.receive({ returnId: ret.id, units: [{ sku: 'BOOT', condition: 'DAMAGED', quantity: 1 }] }, 'clerk');
    expect(await status(o.id)).toBe(OS.RETURNED);
    expect(await q(`SELECT from_status, to_status FROM order_transition WHERE order_id = $1 AND fulfillment_order_id IS NULL ORDER BY id DESC LIMIT 2`, [o.id]))
      .toEqual([{ from_status: 'PARTIALLY_RETURNED', to_status: 'RETURNED' }, { from_status: 'PARTIALLY_SHIPPED', to_status: 'PARTIALLY_RETURNED' }]);
    await assertStockInvariants(t.db.dataSource);
  });

  it('a cancelled fulfilment of one line: the other line shipped and partly returned leaves the order PARTIALLY_RETURNED', async () => {
    const { order: o } = await t.services.orders.placeOrder({ channel: 'web', externalId: `GAP-${++n}`, shipTo: CHICAGO,
      lines: [{ sku: 'BOOT', quantity: 2, unitPrice: '30' }, { sku: 'LACE', quantity: 1, unitPrice: '2' }] }, 'test');
    // Both lines leave WH-CHI in one fulfilment order. The warehouse cancels it; re-routing finds no other location
    // (WH-CHI is excluded for this order), so the operator allocates BOOT alone there and it ships. LACE never does.
    const [fo] = await q(`SELECT id FROM fulfillment_order WHERE order_id = $1`, [o.id]);
    await t.services.orders.transitionFulfillment(fo.id, FO.CANCELLED, 'ops', { reason: 'warehouse short' });
    expect(await status(o.id)).toBe(OS.BACKORDERED);
    await t.services.orders.allocate(o.id, [{ locationCode: 'WH-CHI', lines: [{ sku: 'BOOT', quantity: 2 }] }], 'ops');
    await shipAll(o.id);
    expect(await status(o.id)).toBe(OS.PARTIALLY_SHIPPED);
    const ret = await t.services.returns.create({ orderId: o.id, lines: [{ sku: 'BOOT', quantity: 1 }], method: 'IN_STORE', locationCode: 'WH-CHI' }, 'clerk');
    await t.services.returns.receive({ returnId: ret.id, units: [{ sku: 'BOOT', condition: 'RESELLABLE', quantity: 1 }] }, 'clerk');
    expect(await status(o.id)).toBe(OS.PARTIALLY_RETURNED);
    await assertStockInvariants(t.db.dataSource);
  });

  it('a partly shipped order still being fulfilled keeps its status while a return comes in', async () => {
    const { order: o } = await t.services.orders.placeOrder({ channel: 'web', externalId: `GAP-${++n}`, shipTo: CHICAGO, lines: [{ sku: 'BOOT', quantity: 1, unitPrice: '30' }] }, 'test');
    const [fo] = await q(`SELECT id FROM fulfillment_order WHERE order_id = $1`, [o.id]);
    await t.services.orders.transitionFulfillment(fo.id, FO.ACCEPTED, 'test');
    const o2 = await order([{ sku: 'BOOT', quantity: 1, unitPrice: '30' }]);
    // An order of its own shipped fully, returned: RETURNED (the SHIPPED case is unchanged).
    const ret = await t.services.returns.create({ orderId: o2.id, lines: [{ sku: 'BOOT', quantity: 1 }], method: 'IN_STORE', locationCode: 'WH-CHI' }, 'clerk');
    await t.services.returns.receive({ returnId: ret.id, units: [{ sku: 'BOOT', condition: 'RESELLABLE', quantity: 1 }] }, 'clerk');
    expect(await status(o2.id)).toBe(OS.RETURNED);
    expect(await status(o.id)).toBe(OS.ALLOCATED);
  });
});

describe('closeReturn', () => {
  it('closes with what was received: the rest marked not received, refunds only for received units, order follows, history kept; idempotent', async () => {
    const o = await order([{ sku: 'BOOT', quantity: 3, unitPrice: '30' }, { sku: 'LACE', quantity: 2, unitPrice: '2' }]);
    expect(o.status).toBe(OS.SHIPPED);
    const ret = await t.services.returns.create({ orderId: o.id, lines: [{ sku: 'BOOT', quantity: 3 }, { sku: 'LACE', quantity: 2 }], method: 'IN_STORE', locationCode: 'ST-MALL', reason: 'changed mind' }, 'clerk');
    const mid = await t.services.returns.receive({ returnId: ret.id, units: [{ sku: 'BOOT', condition: 'RESELLABLE', quantity: 2 }] }, 'clerk');
    expect(mid).toMatchObject({ status: 'RECEIVED', refundAmount: '60.00' });

    const closed = await t.services.returns.close(ret.id, 'parcel lost by the carrier', 'ops-lead');
    expect(closed).toMatchObject({ status: 'COMPLETED', refundAmount: '60.00', closedReason: 'parcel lost by the carrier' });
    expect(closed.lines).toEqual([
      expect.objectContaining({ sku: 'BOOT', quantity: 3, receivedQuantity: 2, notReceivedQuantity: 1, notReceivedReason: 'parcel lost by the carrier' }),
      expect.objectContaining({ sku: 'LACE', quantity: 2, receivedQuantity: 0, notReceivedQuantity: 2, notReceivedReason: 'parcel lost by the carrier' }),
    ]);
    expect(closed.history.map((h) => [h.fromStatus, h.toStatus, h.actor])).toEqual([[null, 'REQUESTED', 'clerk'], ['REQUESTED', 'RECEIVED', 'clerk'], ['RECEIVED', 'COMPLETED', 'ops-lead']]);
    expect(closed.history[2].reason).toBe('closed: parcel lost by the carrier (not received: 1 × BOOT, 2 × LACE)');
    // No refund for what never came: still the one refund of the receipt.
    expect(await q(`SELECT payload->>'amount' AS amount FROM outbox_event WHERE topic = 'refund.push' AND aggregate_id = $1`, [ret.id])).toEqual([{ amount: '60.0000' }]);
    // The unreceived units are the customer's again: returnable on a new return; the order is partly returned.
    expect(await q(`SELECT sku, returned_quantity FROM order_line WHERE order_id = $1 ORDER BY line_no`, [o.id])).toEqual([{ sku: 'BOOT', returned_quantity: 2 }, { sku: 'LACE', returned_quantity: 0 }]);
    expect(await status(o.id)).toBe(OS.PARTIALLY_RETURNED);

    const again = await t.services.returns.close(ret.id, 'another reason', 'ops-lead');
    expect(again).toEqual(closed);
    expect(await q(`SELECT count(*)::int AS n FROM return_event WHERE return_id = $1`, [ret.id])).toEqual([{ n: 3 }]);
    expect((await failure(t.services.returns.receive({ returnId: ret.id, units: [{ sku: 'BOOT', condition: 'RESELLABLE', quantity: 1 }] }, 'clerk'))).code).toBe('INVALID_TRANSITION');

    // The lost boot turns up later: a new return takes it, and the order becomes RETURNED once all shipped units are back.
    const late = await t.services.returns.create({ orderId: o.id, lines: [{ sku: 'BOOT', quantity: 1 }, { sku: 'LACE', quantity: 2 }], method: 'IN_STORE', locationCode: 'ST-MALL' }, 'clerk');
    await t.services.returns.receive({ returnId: late.id, units: [{ sku: 'BOOT', condition: 'RESELLABLE', quantity: 1 }, { sku: 'LACE', condition: 'RESELLABLE', quantity: 2 }] }, 'clerk');
    expect(await status(o.id)).toBe(OS.RETURNED);
    await assertStockInvariants(t.db.dataSource);
  });

  it('refuses a return nothing of which has arrived, a cancelled one, an unknown id and an empty reason, writing nothing', async () => {
    const o = await order([{ sku: 'BOOT', quantity: 1, unitPrice: '30' }]);
    const ret = await t.services.returns.create({ orderId: o.id, lines: [{ sku: 'BOOT', quantity: 1 }], method: 'IN_STORE', locationCode: 'ST-MALL' }, 'clerk');
    const early = await failure(t.services.returns.close(ret.id, 'never came', 'ops'));
    expect(early).toMatchObject({ code: 'INVALID_TRANSITION', field: 'returnId' });
    expect(early.message).toMatch(/is REQUESTED; .*cancelReturn/);
    expect(await failure(t.services.returns.close(ret.id, '  ', 'ops'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect(await failure(t.services.returns.close(randomUUID(), 'x', 'ops'))).toMatchObject({ code: 'NOT_FOUND', field: 'returnId' });
    await t.services.returns.cancel(ret.id, 'ops');
    expect(await failure(t.services.returns.close(ret.id, 'x', 'ops'))).toMatchObject({ code: 'INVALID_TRANSITION' });
    expect(await q(`SELECT to_status FROM return_event WHERE return_id = $1 ORDER BY id`, [ret.id])).toEqual([{ to_status: 'REQUESTED' }, { to_status: 'CANCELLED' }]);
  });
});

describe('in transit', () => {
  it('a carrier scan moves a mailed return to IN_TRANSIT with its tracking, once; a store return never is', async () => {
    const o = await order([{ sku: 'LACE', quantity: 2, unitPrice: '2' }]);
    const mail = await t.services.returns.create({ orderId: o.id, lines: [{ sku: 'LACE', quantity: 1 }], method: 'MAIL', locationCode: 'WH-CHI' }, 'customer');
    const moving = await t.services.returns.markInTransit({ returnId: mail.id, carrier: 'UPS', trackingNumber: '1Z0001' }, 'carrier:ups');
    expect(moving).toMatchObject({ status: 'IN_TRANSIT', carrier: 'UPS', trackingNumber: '1Z0001' });
    expect(moving.history.at(-1)).toMatchObject({ fromStatus: 'REQUESTED', toStatus: 'IN_TRANSIT', actor: 'carrier:ups', reason: 'carrier scan: UPS 1Z0001' });
    const again = await t.services.returns.markInTransit({ returnId: mail.id, carrier: 'UPS', trackingNumber: '1Z0002' }, 'carrier:ups');
    expect(again).toEqual(moving);
    // Received, then a late scan: nothing changes.
    await t.services.returns.receive({ returnId: mail.id, units: [{ sku: 'LACE', condition: 'RESELLABLE', quantity: 1 }] }, 'clerk');
    expect((await t.services.returns.markInTransit({ returnId: mail.id }, 'carrier:ups')).status).toBe('COMPLETED');

    const store = await t.services.returns.create({ orderId: o.id, lines: [{ sku: 'LACE', quantity: 1 }], method: 'IN_STORE', locationCode: 'ST-MALL' }, 'clerk');
    expect(await failure(t.services.returns.markInTransit({ returnId: store.id }, 'x'))).toMatchObject({ code: 'INVALID_TRANSITION', field: 'input.returnId' });
    expect(await failure(t.services.returns.markInTransit({ returnId: store.id, trackingNumber: '' }, 'x'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.trackingNumber' });
  });
});

/** A `Returns.PublicReturnDto` as ShipBob sends it on `return.*` topics and in `GET /return` pages. */
function shipbobReturn(id: number, rma: string, status: string, inventory: { sku: string; quantity: number; actions?: { action: string; quantity_processed: number }[] }[]) {
  const ex = responseExample('/2026-01/return/{id}', 'get');
  const item = ex.inventory[0];
  return {
    ...ex, id, reference_id: rma, status, store_order_id: null, original_shipment_id: null, fulfillment_center: { id: 15, name: 'Memphis (TN)' },
    insert_date: '2026-11-20T10:00:00Z', arrived_date: null, completed_date: null, cancelled_date: null, processing_date: null, awaiting_arrival_date: '2026-11-20T10:00:00Z',
    status_history: [{ status, timestamp: '2026-11-21T10:00:00Z' }], tracking_number: '1Z999AA10123456784',
    inventory: inventory.map((i, k) => ({ ...item, id: 700 + k, sku: i.sku, name: i.sku, quantity: i.quantity, action_taken: i.actions ?? [] })),
  };
}

async function mailedTo3pl(lines: { sku: string; quantity: number }[]) {
  const o = await order(lines.map((l) => ({ ...l, unitPrice: '10' })));
  const ret = await t.services.returns.create({ orderId: o.id, lines, method: 'MAIL', locationCode: '3PL-MEM' }, 'customer');
  return { o, ret };
}

describe('ShipBob return webhooks', () => {
  let delivery = 0;
  async function deliver(topic: string, body: object) {
    const raw = JSON.stringify(body);
    const id = `msg_gaps_${++delivery}`;
    const ts = String(Math.floor(Date.now() / 1000));
    const out = await t.services.sync.webhooks.receive(shipbobConn, { rawBody: Buffer.from(raw), headers: { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': standardWebhookSignature(SECRET, id, ts, raw), 'x-webhook-topic': topic } });
    expect(out.status).toBe('accepted');
    await t.services.sync.queue.drain();
    const [receipt] = await q(`SELECT status, last_error FROM webhook_receipt WHERE delivery_id = $1`, [id]);
    expect(receipt).toEqual({ status: 'PROCESSED', last_error: null });
  }

  it('awaiting arrival → IN_TRANSIT; graded units are received with their grades as ShipBob processes them; completed receives the rest as REFURBISH', async () => {
    const { o, ret } = await mailedTo3pl([{ sku: 'BOOT', quantity: 3 }, { sku: 'LACE', quantity: 1 }]);
    // The return order's id is known from the return.label push; here ShipBob's reference_id (the RMA) finds it.
    await deliver('return.created', shipbobReturn(5001, ret.rma, 'Awaiting Arrival', [{ sku: 'BOOT', quantity: 3 }, { sku: 'LACE', quantity: 1 }]));
    expect(await t.services.returns.get(ret.id)).toMatchObject({ status: 'IN_TRANSIT', trackingNumber: '1Z999AA10123456784' });
    // Redelivered or repeated: nothing changes.
    await deliver('return.updated', shipbobReturn(5001, ret.rma, 'AwaitingArrival', [{ sku: 'BOOT', quantity: 3 }, { sku: 'LACE', quantity: 1 }]));

    await deliver('return.updated', shipbobReturn(5001, ret.rma, 'Arrived', [{ sku: 'BOOT', quantity: 3 }, { sku: 'LACE', quantity: 1 }]));
    const arrived = (await t.services.returns.get(ret.id))!;
    expect(arrived).toMatchObject({ status: 'RECEIVED', units: [], refundAmount: null });
    expect((await failure(t.services.returns.cancel(ret.id, 'ops'))).code).toBe('INVALID_TRANSITION');

    await deliver('return.updated', shipbobReturn(5001, ret.rma, 'Processing', [
      { sku: 'BOOT', quantity: 3, actions: [{ action: 'Restock', quantity_processed: 1 }, { action: 'Dispose', quantity_processed: 1 }] }, { sku: 'LACE', quantity: 1 }]));
    const mid = (await t.services.returns.get(ret.id))!;
    expect(mid.units.map((u) => [u.sku, u.condition, u.quantity, u.locationCode])).toEqual([['BOOT', 'RESELLABLE', 1, '3PL-MEM'], ['BOOT', 'DISPOSE', 1, '3PL-MEM']]);
    expect(mid).toMatchObject({ status: 'RECEIVED', refundAmount: '20.00' });

    const completed = shipbobReturn(5001, ret.rma, 'Completed', [
      { sku: 'BOOT', quantity: 3, actions: [{ action: 'Restock', quantity_processed: 1 }, { action: 'Dispose', quantity_processed: 1 }, { action: 'Quarantine', quantity_processed: 1 }] }, { sku: 'LACE', quantity: 1 }]);
    await deliver('return.completed', completed);
    await deliver('return.completed', completed);
    const done = (await t.services.returns.get(ret.id))!;
    expect(done.units.map((u) => [u.sku, u.condition, u.quantity])).toEqual([['BOOT', 'RESELLABLE', 1], ['BOOT', 'DISPOSE', 1], ['BOOT', 'REFURBISH', 1], ['LACE', 'REFURBISH', 1]]);
    expect(done).toMatchObject({ status: 'COMPLETED', refundAmount: '40.00' });
    // Found by its RMA once, then by ShipBob's id.
    expect(await q(`SELECT external_id FROM external_ref WHERE connection_id = $1 AND entity_type = 'RETURN' AND internal_id = $2`, [shipbobConn, ret.id])).toEqual([{ external_id: '5001' }]);
    expect(done.history.map((h) => h.toStatus)).toEqual(['REQUESTED', 'IN_TRANSIT', 'RECEIVED', 'COMPLETED']);
    expect(await q(`SELECT payload->>'amount' AS amount FROM outbox_event WHERE topic = 'refund.push' AND aggregate_id = $1 ORDER BY id`, [ret.id])).toEqual([{ amount: '20.0000' }, { amount: '20.0000' }]);
    expect(await status(o.id)).toBe(OS.RETURNED);
    await assertStockInvariants(t.db.dataSource);
  });

  it('a return order the hub does not know is recorded and skipped; a cancelled one cancels a return not yet received', async () => {
    await deliver('return.updated', shipbobReturn(5999, 'RMA-NOT-OURS', 'Arrived', [{ sku: 'BOOT', quantity: 1 }]));
    // An RMA of a return going to a location ShipBob does not run is not ShipBob's to change.
    const o = await order([{ sku: 'BOOT', quantity: 1, unitPrice: '30' }]);
    const elsewhere = await t.services.returns.create({ orderId: o.id, lines: [{ sku: 'BOOT', quantity: 1 }], method: 'MAIL', locationCode: 'WH-CHI' }, 'customer');
    await deliver('return.updated', shipbobReturn(5998, elsewhere.rma, 'Completed', [{ sku: 'BOOT', quantity: 1, actions: [{ action: 'Restock', quantity_processed: 1 }] }]));
    expect(await t.services.returns.get(elsewhere.id)).toMatchObject({ status: 'REQUESTED', units: [] });

    const { ret } = await mailedTo3pl([{ sku: 'LACE', quantity: 1 }]);
    await q(`INSERT INTO external_ref (connection_id, entity_type, external_id, internal_id) VALUES ($1, 'RETURN', '5002', $2)`, [shipbobConn, ret.id]);
    await deliver('return.updated', { ...shipbobReturn(5002, ret.rma, 'Cancelled', [{ sku: 'LACE', quantity: 1 }]), reference_id: null, cancelled_date: '2026-11-22T10:00:00Z' });
    expect((await t.services.returns.get(ret.id))!.status).toBe('CANCELLED');
  });
});

describe('ShipBob return orders by polling (the returns stream)', () => {
  const HOST = 'https://shipbob-gaps.test';
  const pull = () => t.services.sync.runner.run(shipbobConn, { stream: 'returns', trigger: 'MANUAL' });
  afterEach(() => nock.cleanAll());

  it('each page is applied like the webhooks: moved, graded units received once, unknown ones skipped, a repeat read changes nothing', async () => {
    const { o, ret } = await mailedTo3pl([{ sku: 'BOOT', quantity: 2 }]);
    const moving = await mailedTo3pl([{ sku: 'LACE', quantity: 1 }]);
    const page1 = [shipbobReturn(6001, ret.rma, 'Completed', [{ sku: 'BOOT', quantity: 2, actions: [{ action: 'Restock', quantity_processed: 2 }] }]),
      shipbobReturn(6002, 'RMA-SOMEONE-ELSES', 'Arrived', [{ sku: 'BOOT', quantity: 1 }])];
    const page2 = [shipbobReturn(6003, moving.ret.rma, 'Awaiting Arrival', [{ sku: 'LACE', quantity: 1 }])];
    const serve = () => {
      nock(HOST).get('/2026-01/return').query({ Limit: '250', SortOrder: 'Ascending' }).reply(200, { items: page1, next: `${HOST}/2026-01/return?Cursor=p2` });
      nock(HOST).get('/2026-01/return').query({ Cursor: 'p2' }).reply(200, { items: page2, next: null });
    };
    const onHand = async () => (await q(`SELECT s.on_hand FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id
      WHERE p.sku = 'BOOT' AND l.code = '3PL-MEM'`))[0]?.on_hand ?? 0;
    const before = await onHand();

    serve();
    const first = await pull();
    expect(first).toMatchObject({ status: 'SUCCEEDED', pages: 2, updated: 2, skipped: 1, failed: 0 });
    const done = (await t.services.returns.get(ret.id))!;
    expect(done).toMatchObject({ status: 'COMPLETED', refundAmount: '20.00' });
    expect(done.units.map((u) => [u.sku, u.condition, u.quantity, u.locationCode])).toEqual([['BOOT', 'RESELLABLE', 2, '3PL-MEM']]);
    expect(await status(o.id)).toBe(OS.RETURNED);
    expect(await t.services.returns.get(moving.ret.id)).toMatchObject({ status: 'IN_TRANSIT', trackingNumber: '1Z999AA10123456784' });
    expect(await onHand()).toBe(before + 2);

    // The next scheduled read sees the same return orders: nothing is received, refunded or restocked twice.
    serve();
    expect(await pull()).toMatchObject({ status: 'SUCCEEDED', pages: 2, updated: 0, skipped: 3, failed: 0 });
    expect((await t.services.returns.get(ret.id))!.units).toHaveLength(1);
    expect(await q(`SELECT count(*)::int AS n FROM outbox_event WHERE topic = 'refund.push' AND aggregate_id = $1`, [ret.id])).toEqual([{ n: 1 }]);
    expect(await onHand()).toBe(before + 2);
    expect(nock.isDone()).toBe(true);
    await assertStockInvariants(t.db.dataSource);
  });

  it('a malformed return order fails the page with the record named; what the page held is not applied and the next read retries it', async () => {
    const { ret } = await mailedTo3pl([{ sku: 'LACE', quantity: 1 }]);
    nock(HOST).get('/2026-01/return').query(true).reply(200, { items: [shipbobReturn(6101, ret.rma, 'Awaiting Arrival', [{ sku: 'LACE', quantity: 1 }]),
      { ...shipbobReturn(6102, 'RMA-X', 'Arrived', []), inventory: 'not a list' }], next: null });
    const bad = await pull();
    expect(bad.status).toBe('FAILED');
    expect(bad.errors.join(' ')).toMatch(/6102/);
    expect((await t.services.returns.get(ret.id))!.status).toBe('REQUESTED');

    nock(HOST).get('/2026-01/return').query(true).reply(200, { items: [shipbobReturn(6101, ret.rma, 'Awaiting Arrival', [{ sku: 'LACE', quantity: 1 }])], next: null });
    expect(await pull()).toMatchObject({ status: 'SUCCEEDED', updated: 1 });
    expect((await t.services.returns.get(ret.id))!.status).toBe('IN_TRANSIT');
  });
});
