import { DomainError } from '../../src/errors';
import { FulfillmentMethod, FulfillmentOrderStatus as FO, OrderStatus as OS } from '../../src/model/enums';
import { FulfillmentOrder } from '../../src/model/fulfillment-order.entity';
import type { Order } from '../../src/model/order.entity';
import { TransitionRejected } from '../../src/orders/order.service';
import { assertStockInvariants, count, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

let t: TestHub;
let n = 0;
// These tests drive allocation by hand (operator mode); routing's automatic allocation is tested in routing.test.ts.
beforeAll(async () => {
  t = await createTestHub({ autoRoute: false });
  await seedSmallNetwork(t.services);
  for (const [sku, loc, qty] of [['A', 'WH-A', 10], ['B', 'WH-A', 10], ['A', 'WH-B', 10], ['C', 'ST-1', 5]] as const) {
    await t.services.inventory.set({ sku, locationCode: loc, onHand: qty }, 'test');
  }
});
afterAll(async () => { await t?.close(); });

const place = (lines: { sku: string; quantity: number; unitPrice?: string }[], extra: Record<string, unknown> = {}) =>
  t.services.orders.placeOrder({ channel: 'web', externalId: `W-${++n}`, lines, shipTo: { country: 'US', city: 'Chicago' }, ...extra }, 'tester');

async function fulfillmentOrders(orderId: string) {
  return t.db.dataSource.getRepository(FulfillmentOrder).find({ where: { orderId }, relations: { lines: true }, order: { createdAt: 'ASC' } });
}

async function stock(sku: string, loc: string) {
  const [row] = await t.db.dataSource.query(`SELECT on_hand, reserved FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id WHERE p.sku = $1 AND l.code = $2`, [sku, loc]);
  return row;
}

const asOrder = (r: Order | TransitionRejected) => {
  if (r instanceof TransitionRejected) throw new Error(r.message);
  return r;
};

describe('placeOrder', () => {
  it('creates the order with lines, totals in decimal and a recorded transition', async () => {
    const { order, created } = await place([{ sku: 'A', quantity: 2, unitPrice: '19.99' }, { sku: 'B', quantity: 1, unitPrice: '0.10' }]);
    expect(created).toBe(true);
    expect(order).toMatchObject({ status: OS.CREATED, channel: 'web', totalAmount: '40.0800', currency: 'USD' });
    expect(order.lines.map((l) => [l.lineNo, l.sku, l.quantity, l.unitPrice])).toEqual([[1, 'A', 2, '19.9900'], [2, 'B', 1, '0.1000']]);
    const transitions = await t.db.dataSource.query(`SELECT from_status, to_status, actor FROM order_transition WHERE order_id = $1`, [order.id]);
    expect(transitions).toEqual([{ from_status: null, to_status: 'CREATED', actor: 'tester' }]);
  });

  it('is idempotent on (channel, external id), also under concurrency', async () => {
    const input = { channel: 'amazon', externalId: '114-1234567-1234567', lines: [{ sku: 'A', quantity: 1 }], shipTo: { country: 'US' } };
    const results = await Promise.all(Array.from({ length: 10 }, () => t.services.orders.placeOrder(input, 'x')));
    expect(new Set(results.map((r) => r.order.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const [{ n: rows }] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM orders WHERE channel = 'amazon'`);
    expect(rows).toBe(1);
  });

  it('rejects unknown SKUs and pickup stores with a typed error and writes nothing', async () => {
    const before = await count(t.db.dataSource, 'orders');
    const linesBefore = await count(t.db.dataSource, 'order_line');
    const err = await place([{ sku: 'A', quantity: 1 }, { sku: 'GHOST', quantity: 1 }]).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', field: 'input.lines[1].sku' });
    const err2 = await place([{ sku: 'A', quantity: 1 }], { method: FulfillmentMethod.PICKUP, shipTo: null, pickupLocationCode: 'WH-A' }).catch((e) => e);
    expect(err2).toMatchObject({ code: 'NOT_ORDERABLE', field: 'input.pickupLocationCode' });
    expect(await count(t.db.dataSource, 'orders')).toBe(before);
    expect(await count(t.db.dataSource, 'order_line')).toBe(linesBefore);
  });
});

describe('fulfilment lifecycle', () => {
  it('allocation reserves stock; shipping consumes it and records the shipment; delivery completes the order', async () => {
    const { order } = await place([{ sku: 'A', quantity: 3 }, { sku: 'B', quantity: 2 }]);
    const allocated = asOrder(await t.services.orders.allocate(order.id, [
      { locationCode: 'WH-A', lines: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 2 }] },
      { locationCode: 'WH-B', lines: [{ sku: 'A', quantity: 1 }] },
    ], 'router'));
    expect(allocated.status).toBe(OS.ALLOCATED);
    expect(await stock('A', 'WH-A')).toEqual({ on_hand: 10, reserved: 2 });
    const [foA, foB] = await fulfillmentOrders(order.id);
    for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED]) expect(await t.services.orders.transitionFulfillment(foA.id, to, 'store')).toMatchObject({ status: to });
    const shipped = await t.services.orders.transitionFulfillment(foA.id, FO.SHIPPED, 'store', { tracking: { carrier: 'UPS', trackingNumber: '1Z999' } });
    expect(shipped).toMatchObject({ status: FO.SHIPPED, shipments: [{ carrier: 'UPS', trackingNumber: '1Z999' }] });
    expect(await stock('A', 'WH-A')).toEqual({ on_hand: 8, reserved: 0 });
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.PARTIALLY_SHIPPED);
    for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED, FO.SHIPPED]) await t.services.orders.transitionFulfillment(foB.id, to, 'wh');
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.SHIPPED);
    await t.services.orders.transitionFulfillment(foA.id, FO.DELIVERED, 'carrier');
    await t.services.orders.transitionFulfillment(foB.id, FO.DELIVERED, 'carrier');
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.DELIVERED);
    const history = await t.db.dataSource.query(`SELECT to_status FROM order_transition WHERE order_id = $1 AND fulfillment_order_id IS NULL ORDER BY id`, [order.id]);
    expect(history.map((h: { to_status: string }) => h.to_status)).toEqual(['CREATED', 'ALLOCATED', 'PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED']);
    await assertStockInvariants(t.db.dataSource);
  });

  it('an invalid transition is a typed result and changes nothing', async () => {
    const { order } = await place([{ sku: 'A', quantity: 1 }]);
    asOrder(await t.services.orders.allocate(order.id, [{ locationCode: 'WH-A', lines: [{ sku: 'A', quantity: 1 }] }], 'router'));
    const [fo] = await fulfillmentOrders(order.id);
    const before = await count(t.db.dataSource, 'order_transition');
    const shipmentsBefore = await count(t.db.dataSource, 'shipment');
    const result = await t.services.orders.transitionFulfillment(fo.id, FO.SHIPPED, 'store');
    expect(result).toBeInstanceOf(TransitionRejected);
    expect(result).toMatchObject({ currentStatus: FO.PENDING, requestedStatus: FO.SHIPPED });
    expect(await count(t.db.dataSource, 'order_transition')).toBe(before);
    expect(await count(t.db.dataSource, 'shipment')).toBe(shipmentsBefore);
    expect((await fulfillmentOrders(order.id))[0].status).toBe(FO.PENDING);
  });

  it('rejection releases the stock; with nothing to re-route to, the order is backordered', async () => {
    const { order } = await place([{ sku: 'B', quantity: 4 }]);
    asOrder(await t.services.orders.allocate(order.id, [{ locationCode: 'WH-A', lines: [{ sku: 'B', quantity: 4 }] }], 'router'));
    const reservedBefore = (await stock('B', 'WH-A')).reserved;
    const [fo] = await fulfillmentOrders(order.id);
    await t.services.orders.transitionFulfillment(fo.id, FO.REJECTED, 'store', { reason: 'damaged in bin' });
    expect((await stock('B', 'WH-A')).reserved).toBe(reservedBefore - 4);
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.BACKORDERED);
    await assertStockInvariants(t.db.dataSource);
  });

  it('allocation beyond available stock fails whole: no fulfilment order, no reservation', async () => {
    const { order } = await place([{ sku: 'C', quantity: 6 }]);
    const err = await t.services.orders.allocate(order.id, [{ locationCode: 'ST-1', lines: [{ sku: 'C', quantity: 6 }] }], 'router').catch((e) => e);
    expect(err).toMatchObject({ code: 'INSUFFICIENT_STOCK' });
    expect(await fulfillmentOrders(order.id)).toEqual([]);
    expect(await stock('C', 'ST-1')).toEqual({ on_hand: 5, reserved: 0 });
    const err2 = await t.services.orders.allocate(order.id, [{ locationCode: 'ST-1', lines: [{ sku: 'A', quantity: 1 }] }], 'router').catch((e) => e);
    expect(err2).toMatchObject({ code: 'BAD_USER_INPUT', field: 'shipments[0].lines[0].sku' });
  });

  it('pickup: ready for pickup, then picked up consumes the reservation', async () => {
    const { order } = await place([{ sku: 'C', quantity: 2 }], { method: FulfillmentMethod.PICKUP, shipTo: null, pickupLocationCode: 'ST-1' });
    asOrder(await t.services.orders.allocate(order.id, [{ locationCode: 'ST-1', lines: [{ sku: 'C', quantity: 2 }] }], 'router'));
    const [fo] = await fulfillmentOrders(order.id);
    for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED]) await t.services.orders.transitionFulfillment(fo.id, to, 'store');
    expect(await t.services.orders.transitionFulfillment(fo.id, FO.SHIPPED, 'store')).toBeInstanceOf(TransitionRejected);
    await t.services.orders.transitionFulfillment(fo.id, FO.READY_FOR_PICKUP, 'store');
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.READY_FOR_PICKUP);
    await t.services.orders.transitionFulfillment(fo.id, FO.PICKED_UP, 'store');
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.DELIVERED);
    expect(await stock('C', 'ST-1')).toEqual({ on_hand: 3, reserved: 0 });
  });
});

describe('operator actions', () => {
  it('cancel releases every reservation and cancels open fulfilment orders; a shipped order cannot be cancelled', async () => {
    const { order } = await place([{ sku: 'A', quantity: 2 }]);
    asOrder(await t.services.orders.allocate(order.id, [{ locationCode: 'WH-B', lines: [{ sku: 'A', quantity: 2 }] }], 'router'));
    const reserved = (await stock('A', 'WH-B')).reserved;
    const cancelled = asOrder(await t.services.orders.cancel(order.id, 'customer changed mind', 'ops'));
    expect(cancelled.status).toBe(OS.CANCELLED);
    expect((await stock('A', 'WH-B')).reserved).toBe(reserved - 2);
    expect((await fulfillmentOrders(order.id))[0].status).toBe(FO.CANCELLED);
    const again = await t.services.orders.cancel(order.id, null, 'ops');
    expect(again).toBeInstanceOf(TransitionRejected);
    await assertStockInvariants(t.db.dataSource);
  });

  it('hold and release return the order to where it was', async () => {
    const { order } = await place([{ sku: 'A', quantity: 1 }]);
    expect(asOrder(await t.services.orders.hold(order.id, 'fraud review', 'ops')).status).toBe(OS.ON_HOLD);
    expect(asOrder(await t.services.orders.releaseHold(order.id, 'ops')).status).toBe(OS.CREATED);
  });

  it('tags, custom status and attributes', async () => {
    const { order } = await place([{ sku: 'A', quantity: 1 }]);
    expect((await t.services.orders.tag(order.id, ['vip', 'gift', 'vip'], true, 'ops')).tags).toEqual(['gift', 'vip']);
    expect((await t.services.orders.tag(order.id, ['gift'], false, 'ops')).tags).toEqual(['vip']);
    expect((await t.services.orders.setCustomStatus(order.id, 'Awaiting engraving', 'ops')).customStatus).toBe('Awaiting engraving');
    const withAttrs = await t.services.orders.setAttributes(order.id, { giftNote: 'Happy birthday', x: 1 }, 'ops');
    expect((await t.services.orders.setAttributes(withAttrs.id, { x: null }, 'ops')).attributes).toEqual({ giftNote: 'Happy birthday' });
    await expect(t.services.orders.tag(order.id, [''], true, 'ops')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'tags[0]' });
    await expect(t.services.orders.tag('00000000-0000-0000-0000-000000000000', ['x'], true, 'ops')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
