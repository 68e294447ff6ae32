import { FulfillmentOrderStatus as FO, OrderStatus as OS } from '../../src/model/enums';
import { FULFILLMENT_TRANSITIONS, ORDER_TRANSITIONS, canTransitionFulfillment, canTransitionOrder, deriveOrderStatus } from '../../src/orders/order-lifecycle';

describe('order transition table', () => {
  it('covers every status and only names known statuses', () => {
    expect(Object.keys(ORDER_TRANSITIONS).sort()).toEqual(Object.values(OS).sort());
    for (const targets of Object.values(ORDER_TRANSITIONS)) for (const t of targets) expect(Object.values(OS)).toContain(t);
    expect(Object.keys(FULFILLMENT_TRANSITIONS).sort()).toEqual(Object.values(FO).sort());
  });

  it.each([
    [OS.CREATED, OS.ALLOCATED, true], [OS.ALLOCATED, OS.SHIPPED, true], [OS.SHIPPED, OS.DELIVERED, true],
    [OS.DELIVERED, OS.RETURNED, true], [OS.CREATED, OS.SHIPPED, false], [OS.CANCELLED, OS.ALLOCATED, false],
    [OS.SHIPPED, OS.CANCELLED, false], [OS.RETURNED, OS.DELIVERED, false],
  ])('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canTransitionOrder(from, to)).toBe(allowed);
  });

  it('terminal statuses allow nothing', () => {
    for (const s of [OS.CANCELLED, OS.RETURNED]) expect(ORDER_TRANSITIONS[s]).toEqual([]);
    for (const s of [FO.DELIVERED, FO.PICKED_UP, FO.REJECTED, FO.CANCELLED]) expect(FULFILLMENT_TRANSITIONS[s]).toEqual([]);
  });

  it.each([
    [FO.PENDING, FO.ACCEPTED, true], [FO.ACCEPTED, FO.PICKED, true], [FO.PICKED, FO.PACKED, true],
    [FO.PACKED, FO.SHIPPED, true], [FO.PACKED, FO.READY_FOR_PICKUP, true], [FO.READY_FOR_PICKUP, FO.PICKED_UP, true],
    [FO.PENDING, FO.SHIPPED, false], [FO.SHIPPED, FO.CANCELLED, false], [FO.REJECTED, FO.ACCEPTED, false],
  ])('fulfilment %s → %s allowed: %s', (from, to, allowed) => {
    expect(canTransitionFulfillment(from, to)).toBe(allowed);
  });
});

describe('deriveOrderStatus', () => {
  it.each([
    [OS.ALLOCATED, [FO.SHIPPED, FO.PENDING], OS.PARTIALLY_SHIPPED],
    [OS.PARTIALLY_SHIPPED, [FO.SHIPPED, FO.SHIPPED], OS.SHIPPED],
    [OS.SHIPPED, [FO.DELIVERED, FO.DELIVERED], OS.DELIVERED],
    [OS.SHIPPED, [FO.DELIVERED, FO.SHIPPED], undefined],
    [OS.ALLOCATED, [FO.READY_FOR_PICKUP], OS.READY_FOR_PICKUP],
    [OS.READY_FOR_PICKUP, [FO.PICKED_UP], OS.DELIVERED],
    [OS.ALLOCATED, [FO.REJECTED, FO.SHIPPED], OS.SHIPPED],
    [OS.ALLOCATED, [FO.PENDING, FO.ACCEPTED], undefined],
    [OS.ALLOCATED, [FO.REJECTED], undefined],
    [OS.ALLOCATED, [], undefined],
  ])('%s with %j → %s', (current, fos, expected) => {
    expect(deriveOrderStatus(current, fos)).toBe(expected);
  });
});

describe('deriveOrderStatus with part of the order unallocated', () => {
  it.each([
    [OS.BACKORDERED, [FO.SHIPPED], OS.PARTIALLY_SHIPPED],
    [OS.PARTIALLY_SHIPPED, [FO.DELIVERED], undefined],
    [OS.BACKORDERED, [FO.READY_FOR_PICKUP], undefined],
    [OS.BACKORDERED, [FO.PENDING], undefined],
  ])('%s with %j → %s', (current, fos, expected) => {
    expect(deriveOrderStatus(current, fos, true)).toBe(expected);
  });
});
