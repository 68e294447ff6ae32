import { DomainError } from '../../src/errors';
import { createLogger } from '../../src/logger';
import { startReturnRestockJob } from '../../src/returns/restock-job';
import { FulfillmentOrderStatus as FO, LocationCapability as Cap, LocationType, OrderStatus as OS } from '../../src/model/enums';
import { assertStockInvariants, createTestHub, type TestHub } from '../support/test-hub';

let t: TestHub;
let n = 0;
const CHICAGO = { country: 'US', city: 'Chicago', latitude: 41.88, longitude: -87.63 };

beforeAll(async () => {
  t = await createTestHub();
  const s = t.services;
  const loc = (code: string, type: LocationType, latitude: number, longitude: number, capabilities: Cap[], extra = {}) =>
    s.locations.upsert({ code, name: code, type, country: 'US', latitude, longitude, timeZone: 'America/Chicago', capabilities, ...extra });
  await loc('WH-CHI', LocationType.WAREHOUSE, 41.85, -87.65, [Cap.SHIP, Cap.RETURNS], { priority: 1 });
  await loc('WH-DAL', LocationType.WAREHOUSE, 32.78, -96.8, [Cap.SHIP, Cap.RETURNS], { priority: 1 });
  // A store that never ships anything but takes returns: buy online, return anywhere.
  await loc('ST-MALL', LocationType.STORE, 42.05, -87.68, [Cap.PICKUP, Cap.RETURNS]);
  await loc('ST-NORET', LocationType.STORE, 41.9, -87.7, [Cap.PICKUP]);
  for (const sku of ['SHOE', 'HAT', 'BAG', 'SOCK']) await s.products.upsert({ sku, name: sku });
  for (const sku of ['SHOE', 'HAT', 'BAG', 'SOCK']) await s.inventory.set({ sku, locationCode: 'WH-CHI', onHand: 500 }, 'test');
  await s.inventory.set({ sku: 'SHOE', locationCode: 'WH-DAL', onHand: 500 }, 'test');
});
afterAll(async () => { await t?.close(); });

const q = (sql: string, params: unknown[] = []) => t.db.dataSource.query(sql, params);

async function shippedOrder(lines: { sku: string; quantity: number; unitPrice?: string }[], extra: Record<string, unknown> = {}) {
  const { order } = await t.services.orders.placeOrder({ channel: 'web', externalId: `RET-${++n}`, lines, shipTo: CHICAGO, ...extra }, 'test');
  for (const { id } of await q(`SELECT id FROM fulfillment_order WHERE order_id = $1 AND status = 'PENDING'`, [order.id])) {
    for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED, FO.SHIPPED]) await t.services.orders.transitionFulfillment(id, to, 'test');
  }
  return (await t.services.orders.get(order.id))!;
}

async function stock(sku: string, code: string): Promise<{ on_hand: number; available: number }> {
  const [row] = await q(`SELECT s.on_hand, s.on_hand - s.reserved - s.safety_stock AS available FROM stock_level s JOIN product p ON p.id = s.product_id
    JOIN location l ON l.id = s.location_id WHERE p.sku = $1 AND l.code = $2`, [sku, code]);
  return row ?? { on_hand: 0, available: 0 };
}

async function failure(p: Promise<unknown>): Promise<DomainError> {
  try { await p; } catch (err) { return err as DomainError; }
  throw new Error('expected a failure');
}

describe('buy online, return anywhere', () => {
  it('a store that did not ship the order takes it back; only resellable units return to ATP, there', async () => {
    const order = await shippedOrder([{ sku: 'SHOE', quantity: 2, unitPrice: '50.00' }]);
    expect(order.status).toBe(OS.SHIPPED);
    const [{ code: shippedFrom }] = await q(`SELECT l.code FROM fulfillment_order fo JOIN location l ON l.id = fo.location_id WHERE fo.order_id = $1`, [order.id]);
    expect(shippedFrom).toBe('WH-CHI');
    const whBefore = await stock('SHOE', 'WH-CHI');

    const ret = await t.services.returns.create({ orderId: order.id, lines: [{ sku: 'SHOE', quantity: 2, reason: 'too small' }], method: 'IN_STORE', locationCode: 'ST-MALL' }, 'store-clerk');
    expect(ret).toMatchObject({ status: 'REQUESTED', method: 'IN_STORE', locationCode: 'ST-MALL', lines: [expect.objectContaining({ sku: 'SHOE', quantity: 2, receivedQuantity: 0 })] });
    // No label for a return handed over at a store.
    expect(await q(`SELECT topic FROM outbox_event WHERE aggregate_id = $1`, [ret.id])).toEqual([]);

    const done = await t.services.returns.receive({ returnId: ret.id, units: [{ sku: 'SHOE', condition: 'RESELLABLE', quantity: 1 }, { sku: 'SHOE', condition: 'DAMAGED', quantity: 1 }] }, 'store-clerk');
    expect(done.status).toBe('COMPLETED');
    expect(done.refundAmount).toBe('100.00');
    expect(done.units).toEqual([
      expect.objectContaining({ sku: 'SHOE', condition: 'RESELLABLE', quantity: 1, locationCode: 'ST-MALL', restocked: true }),
      expect.objectContaining({ sku: 'SHOE', condition: 'DAMAGED', quantity: 1, locationCode: 'ST-MALL', restocked: false }),
    ]);
    expect(await stock('SHOE', 'ST-MALL')).toEqual({ on_hand: 1, available: 1 });
    expect(await stock('SHOE', 'WH-CHI')).toEqual(whBefore);
    const ledger = await q(`SELECT m.reason, m.on_hand_delta, m.reference FROM stock_movement m JOIN location l ON l.id = m.location_id WHERE l.code = 'ST-MALL'`);
    expect(ledger).toEqual([{ reason: 'RETURN', on_hand_delta: 1, reference: `return:${ret.rma}` }]);
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.RETURNED);
    const [tr] = await q(`SELECT from_status, to_status, actor FROM order_transition WHERE order_id = $1 ORDER BY id DESC LIMIT 1`, [order.id]);
    expect(tr).toEqual({ from_status: 'SHIPPED', to_status: 'RETURNED', actor: 'store-clerk' });
    await assertStockInvariants(t.db.dataSource);
  });

  it('grades every condition; REFURBISH, DAMAGED and DISPOSE stay out of ATP', async () => {
    const order = await shippedOrder([{ sku: 'HAT', quantity: 4, unitPrice: '10' }]);
    const ret = await t.services.returns.create({ orderId: order.id, lines: [{ sku: 'HAT', quantity: 4 }], method: 'IN_STORE', locationCode: 'ST-MALL' }, 'clerk');
    const done = await t.services.returns.receive({ returnId: ret.id, units: (['RESELLABLE', 'REFURBISH', 'DAMAGED', 'DISPOSE'] as const).map((condition) => ({ sku: 'HAT', condition, quantity: 1 })) }, 'clerk');
    expect(done.units.map((u) => u.condition)).toEqual(['RESELLABLE', 'REFURBISH', 'DAMAGED', 'DISPOSE']);
    expect(await stock('HAT', 'ST-MALL')).toEqual({ on_hand: 1, available: 1 });
    const nonSellable = await q(`SELECT condition, sum(quantity)::int AS n FROM return_unit u JOIN location l ON l.id = u.location_id
      WHERE l.code = 'ST-MALL' AND u.return_id = $1 AND condition <> 'RESELLABLE' GROUP BY 1 ORDER BY 1`, [ret.id]);
    expect(nonSellable).toEqual([{ condition: 'DAMAGED', n: 1 }, { condition: 'DISPOSE', n: 1 }, { condition: 'REFURBISH', n: 1 }]);
    await assertStockInvariants(t.db.dataSource);
  });

  it('partial returns move the order to PARTIALLY_RETURNED, then RETURNED; never more than was shipped', async () => {
    const order = await shippedOrder([{ sku: 'BAG', quantity: 3, unitPrice: '20' }, { sku: 'SOCK', quantity: 1, unitPrice: '5' }]);
    const first = await t.services.returns.create({ orderId: order.id, lines: [{ sku: 'BAG', quantity: 1 }], method: 'IN_STORE', locationCode: 'WH-CHI' }, 'ops');
    // Requested, not received: the order has not changed yet.
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.SHIPPED);
    const partly = await t.services.returns.receive({ returnId: first.id, units: [{ sku: 'BAG', condition: 'RESELLABLE', quantity: 1 }] }, 'ops');
    expect(partly).toMatchObject({ status: 'COMPLETED', refundAmount: '20.00' });
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.PARTIALLY_RETURNED);

    const over = await failure(t.services.returns.create({ orderId: order.id, lines: [{ sku: 'BAG', quantity: 3 }], method: 'IN_STORE', locationCode: 'WH-CHI' }, 'ops'));
    expect(over).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.lines[0].quantity' });
    expect(over.message).toMatch(/only 2 of "BAG" can be returned \(shipped 3, already returned 1\)/);

    const rest = await t.services.returns.create({ orderId: order.id, lines: [{ sku: 'BAG', quantity: 2 }, { sku: 'SOCK', quantity: 1 }], method: 'IN_STORE', locationCode: 'WH-CHI' }, 'ops');
    // Received in two visits: the return is RECEIVED in between, and the order stays partly returned.
    const mid = await t.services.returns.receive({ returnId: rest.id, units: [{ sku: 'BAG', condition: 'RESELLABLE', quantity: 2 }] }, 'ops');
    expect(mid.status).toBe('RECEIVED');
    // What arrived is refunded now (2 × 20); the sock is refunded when it comes in.
    expect(mid.refundAmount).toBe('40.00');
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.PARTIALLY_RETURNED);
    const tooMany = await failure(t.services.returns.receive({ returnId: rest.id, units: [{ sku: 'SOCK', condition: 'DISPOSE', quantity: 2 }] }, 'ops'));
    expect(tooMany).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.units[0].quantity' });
    const last = await t.services.returns.receive({ returnId: rest.id, units: [{ sku: 'SOCK', condition: 'DISPOSE', quantity: 1 }] }, 'ops');
    expect(last).toMatchObject({ status: 'COMPLETED', refundAmount: '45.00' });
    // One refund per receipt, each pushed under its own key.
    expect(await q(`SELECT idempotency_key, payload->>'amount' AS amount FROM outbox_event WHERE topic = 'refund.push' AND aggregate_id = $1 ORDER BY id`, [rest.id]))
      .toEqual([{ idempotency_key: `refund:${rest.id}:1`, amount: '40.0000' }, { idempotency_key: `refund:${rest.id}:2`, amount: '5.0000' }]);
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.RETURNED);
    expect(await q(`SELECT sku, shipped_quantity, returned_quantity FROM order_line WHERE order_id = $1 ORDER BY line_no`, [order.id]))
      .toEqual([{ sku: 'BAG', shipped_quantity: 3, returned_quantity: 3 }, { sku: 'SOCK', shipped_quantity: 1, returned_quantity: 1 }]);
    const again = await failure(t.services.returns.receive({ returnId: rest.id, units: [{ sku: 'BAG', condition: 'RESELLABLE', quantity: 1 }] }, 'ops'));
    expect(again.code).toBe('INVALID_TRANSITION');
  });

  it('the database itself refuses returning more than was shipped', async () => {
    const order = await shippedOrder([{ sku: 'SOCK', quantity: 1 }]);
    await expect(q(`UPDATE order_line SET returned_quantity = 2 WHERE order_id = $1`, [order.id])).rejects.toThrow(/order_line_returned_within_shipped/);
  });

  it('concurrent returns of the last unit: exactly one wins', async () => {
    const order = await shippedOrder([{ sku: 'HAT', quantity: 1 }]);
    const attempts = await Promise.allSettled(Array.from({ length: 8 }, () =>
      t.services.returns.create({ orderId: order.id, lines: [{ sku: 'HAT', quantity: 1 }], method: 'IN_STORE', locationCode: 'ST-MALL' }, 'race')));
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    for (const a of attempts.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) expect((a.reason as DomainError).field).toBe('input.lines[0].quantity');
    expect(await q(`SELECT returned_quantity FROM order_line WHERE order_id = $1`, [order.id])).toEqual([{ returned_quantity: 1 }]);
    expect(await q(`SELECT count(*)::int AS n FROM returns WHERE order_id = $1`, [order.id])).toEqual([{ n: 1 }]);
  });

  it('refuses bad input naming the field, and writes nothing', async () => {
    const order = await shippedOrder([{ sku: 'BAG', quantity: 1 }]);
    const cases: [Parameters<typeof t.services.returns.create>[0], string, string][] = [
      [{ orderId: order.id, lines: [], method: 'MAIL' }, 'BAD_USER_INPUT', 'input.lines'],
      [{ orderId: order.id, lines: [{ sku: 'BAG', quantity: 0 }], method: 'MAIL' }, 'BAD_USER_INPUT', 'input.lines[0].quantity'],
      [{ orderId: order.id, lines: [{ sku: 'BAG', quantity: 1 }], method: 'IN_STORE' }, 'BAD_USER_INPUT', 'input.locationCode'],
      [{ orderId: order.id, lines: [{ sku: 'BAG', quantity: 1 }], method: 'IN_STORE', locationCode: 'ST-NORET' }, 'NOT_ORDERABLE', 'input.locationCode'],
      [{ orderId: order.id, lines: [{ sku: 'BAG', quantity: 1 }], method: 'IN_STORE', locationCode: 'NOWHERE' }, 'NOT_FOUND', 'input.locationCode'],
      [{ orderId: order.id, lines: [{ sku: 'BAG', quantity: 1 }, { sku: 'HAT', quantity: 1 }], method: 'MAIL' }, 'BAD_USER_INPUT', 'input.lines[1].sku'],
      [{ orderId: order.id, lines: [{ sku: 'BAG', quantity: 1, exchangeSku: 'NOPE' }], method: 'MAIL' }, 'NOT_FOUND', 'input.lines[0].exchangeSku'],
      [{ orderId: 'not-an-id', lines: [{ sku: 'BAG', quantity: 1 }], method: 'MAIL' }, 'NOT_FOUND', 'input.orderId'],
      [{ orderId: order.id, lines: [{ sku: 'BAG', quantity: 1 }], method: 'POST' as never }, 'BAD_USER_INPUT', 'input.method'],
    ];
    for (const [input, code, field] of cases) expect(await failure(t.services.returns.create(input, 'ops'))).toMatchObject({ code, field });
    expect(await q(`SELECT returned_quantity FROM order_line WHERE order_id = $1`, [order.id])).toEqual([{ returned_quantity: 0 }]);
    expect(await q(`SELECT count(*)::int AS n FROM returns WHERE order_id = $1`, [order.id])).toEqual([{ n: 0 }]);

    const { order: open } = await t.services.orders.placeOrder({ channel: 'web', externalId: `RET-${++n}`, lines: [{ sku: 'BAG', quantity: 1 }], shipTo: CHICAGO }, 'test');
    expect(await failure(t.services.returns.create({ orderId: open.id, lines: [{ sku: 'BAG', quantity: 1 }], method: 'MAIL' }, 'ops'))).toMatchObject({ code: 'INVALID_TRANSITION', field: 'input.orderId' });
  });
});

describe('mailed returns', () => {
  it('are routed by distance, need and capacity, with a label requested through the outbox', async () => {
    const order = await shippedOrder([{ sku: 'SHOE', quantity: 1 }]);
    const ret = await t.services.returns.create({ orderId: order.id, lines: [{ sku: 'SHOE', quantity: 1 }], method: 'MAIL' }, 'customer');
    // Chicago customer: the Chicago warehouse and the mall store are near; the mall store has less SHOE stock (needs it more).
    const scores = Object.fromEntries(ret.routing!.candidates.map((c) => [c.code, c]));
    expect(Object.keys(scores).sort()).toEqual(['ST-MALL', 'WH-CHI', 'WH-DAL']);
    expect(scores['WH-DAL'].score!).toBeLessThan(scores[ret.locationCode!].score!);
    expect(ret.locationCode).toBe(ret.routing!.locationCode);
    const [label] = await q(`SELECT topic, aggregate_type, payload, idempotency_key FROM outbox_event WHERE aggregate_id = $1`, [ret.id]);
    expect(label).toMatchObject({ topic: 'return.label', aggregate_type: 'RETURN', idempotency_key: `return-label:${ret.id}` });
    expect(label.payload).toMatchObject({ rma: ret.rma, destinationLocationCode: ret.locationCode, lines: [{ sku: 'SHOE', quantity: 1 }] });

    // Fill the chosen location's return capacity: the next return goes elsewhere, and the trace says why.
    await q(`UPDATE location SET return_capacity = 0 WHERE code = $1`, [ret.locationCode]);
    const order2 = await shippedOrder([{ sku: 'SHOE', quantity: 1 }]);
    const ret2 = await t.services.returns.create({ orderId: order2.id, lines: [{ sku: 'SHOE', quantity: 1 }], method: 'MAIL' }, 'customer');
    expect(ret2.locationCode).not.toBe(ret.locationCode);
    expect(ret2.routing!.candidates.find((c) => c.code === ret.locationCode)!.excluded).toBe('AT_CAPACITY');
    await q(`UPDATE location SET return_capacity = NULL WHERE code = $1`, [ret.locationCode]);
  });

  it('cancelling a return frees its quantities', async () => {
    const order = await shippedOrder([{ sku: 'SOCK', quantity: 2 }]);
    const ret = await t.services.returns.create({ orderId: order.id, lines: [{ sku: 'SOCK', quantity: 2 }], method: 'MAIL' }, 'customer');
    expect((await t.services.returns.cancel(ret.id, 'ops')).status).toBe('CANCELLED');
    expect(await q(`SELECT returned_quantity FROM order_line WHERE order_id = $1`, [order.id])).toEqual([{ returned_quantity: 0 }]);
    expect((await failure(t.services.returns.receive({ returnId: ret.id, units: [{ sku: 'SOCK', condition: 'RESELLABLE', quantity: 1 }] }, 'ops'))).code).toBe('INVALID_TRANSITION');
  });
});

describe('refunds and exchanges', () => {
  it('the refund goes to the origin channel once, however often receiving is retried', async () => {
    const [{ id: connectionId }] = await q(`INSERT INTO connection (kind, name) VALUES ('shopify', 'returns-shop') RETURNING id`);
    const order = await shippedOrder([{ sku: 'HAT', quantity: 2, unitPrice: '12.50' }], { connectionId });
    const ret = await t.services.returns.create({ orderId: order.id, lines: [{ sku: 'HAT', quantity: 2 }], method: 'IN_STORE', locationCode: 'ST-MALL' }, 'clerk');
    const receive = () => t.services.returns.receive({ returnId: ret.id, units: [{ sku: 'HAT', condition: 'RESELLABLE', quantity: 2 }] }, 'clerk');
    const results = await Promise.allSettled([receive(), receive(), receive()]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refunds = await q(`SELECT connection_id, payload FROM outbox_event WHERE topic = 'refund.push' AND aggregate_id = $1`, [ret.id]);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ connection_id: connectionId, payload: { amount: '25.0000', currency: 'USD', rma: ret.rma, lines: [{ sku: 'HAT', quantity: 2 }] } });
    // Stock came back once too.
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM stock_movement WHERE reason = 'RETURN' AND reference = $1`, [`return:${ret.rma}`]);
    expect(n).toBe(1);
    await assertStockInvariants(t.db.dataSource);
  });

  it('an exchange places a replacement order at no charge and refunds only the rest', async () => {
    const order = await shippedOrder([{ sku: 'SHOE', quantity: 1, unitPrice: '60' }, { sku: 'SOCK', quantity: 1, unitPrice: '4' }]);
    const ret = await t.services.returns.create({ orderId: order.id, method: 'IN_STORE', locationCode: 'ST-MALL',
      lines: [{ sku: 'SHOE', quantity: 1, reason: 'wrong size', exchangeSku: 'BAG' }, { sku: 'SOCK', quantity: 1 }] }, 'clerk');
    expect(ret.exchangeOrderId).toBeTruthy();
    const exchange = (await t.services.orders.get(ret.exchangeOrderId!))!;
    expect(exchange).toMatchObject({ channel: 'web', externalId: `EX-${ret.rma}`, status: OS.ALLOCATED, totalAmount: '0.0000' });
    expect(exchange.lines.map((l) => [l.sku, l.quantity])).toEqual([['BAG', 1]]);
    const done = await t.services.returns.receive({ returnId: ret.id, units: [{ sku: 'SHOE', condition: 'RESELLABLE', quantity: 1 }, { sku: 'SOCK', condition: 'RESELLABLE', quantity: 1 }] }, 'clerk');
    expect(done.refundAmount).toBe('4.00');
  });
});

describe('restocking after commit', () => {
  it('restockPending puts a resellable unit left pending back into stock, once', async () => {
    const order = await shippedOrder([{ sku: 'BAG', quantity: 1 }]);
    const ret = await t.services.returns.create({ orderId: order.id, lines: [{ sku: 'BAG', quantity: 1 }], method: 'IN_STORE', locationCode: 'ST-MALL' }, 'clerk');
    const before = await stock('BAG', 'ST-MALL');
    // Simulate a crash between the receipt's commit and its restock: grade by SQL, as receive would have.
    const [line] = await q(`SELECT id FROM return_line WHERE return_id = $1`, [ret.id]);
    await q(`UPDATE return_line SET received_quantity = 1 WHERE id = $1`, [line.id]);
    await q(`INSERT INTO return_unit (return_id, return_line_id, location_id, condition, quantity, actor, received_at)
             SELECT $1, $2, id, 'RESELLABLE', 1, 'clerk', now() - interval '1 hour' FROM location WHERE code = 'ST-MALL'`, [ret.id, line.id]);
    expect(await t.services.returns.restockPending()).toBe(1);
    expect(await t.services.returns.restockPending()).toBe(0);
    expect((await stock('BAG', 'ST-MALL')).on_hand).toBe(before.on_hand + 1);
    await assertStockInvariants(t.db.dataSource);
  });

  it('the scheduled job runs restockPending on its interval and stops after the round in flight', async () => {
    const order = await shippedOrder([{ sku: 'SOCK', quantity: 1 }]);
    const ret = await t.services.returns.create({ orderId: order.id, lines: [{ sku: 'SOCK', quantity: 1 }], method: 'IN_STORE', locationCode: 'ST-MALL' }, 'clerk');
    const before = await stock('SOCK', 'ST-MALL');
    const [line] = await q(`SELECT id FROM return_line WHERE return_id = $1`, [ret.id]);
    await q(`UPDATE return_line SET received_quantity = 1 WHERE id = $1`, [line.id]);
    await q(`INSERT INTO return_unit (return_id, return_line_id, location_id, condition, quantity, actor, received_at)
             SELECT $1, $2, id, 'RESELLABLE', 1, 'clerk', now() - interval '1 hour' FROM location WHERE code = 'ST-MALL'`, [ret.id, line.id]);
    // Only the job's interval is faked: the database keeps its real timers.
    jest.useFakeTimers({ doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout'] });
    try {
      const job = startReturnRestockJob(t.services.returns, createLogger('silent'), 60_000);
      jest.advanceTimersByTime(59_999);
      expect((await stock('SOCK', 'ST-MALL')).on_hand).toBe(before.on_hand);
      jest.advanceTimersByTime(1);
      await job.stop();
      expect((await stock('SOCK', 'ST-MALL')).on_hand).toBe(before.on_hand + 1);
      jest.advanceTimersByTime(120_000); // stopped: no further rounds
    } finally {
      jest.useRealTimers();
    }
    expect(await q(`SELECT count(*)::int AS n FROM return_unit WHERE return_id = $1 AND restocked_at IS NOT NULL`, [ret.id])).toEqual([{ n: 1 }]);
    await assertStockInvariants(t.db.dataSource);
  });
});
