import { FulfillmentOrderStatus as FO, OrderStatus as OS } from '../model/enums';

/**
 * The allowed status changes. Order statuses after allocation are mostly derived from their fulfilment orders
 * (see deriveOrderStatus); operators move orders directly only to hold, release, or cancel.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OS, readonly OS[]>> = {
  [OS.CREATED]: [OS.ALLOCATED, OS.BACKORDERED, OS.ON_HOLD, OS.CANCELLED],
  [OS.BACKORDERED]: [OS.ALLOCATED, OS.PARTIALLY_SHIPPED, OS.ON_HOLD, OS.CANCELLED],
  [OS.ON_HOLD]: [OS.CREATED, OS.ALLOCATED, OS.BACKORDERED, OS.CANCELLED],
  [OS.ALLOCATED]: [OS.PARTIALLY_SHIPPED, OS.SHIPPED, OS.READY_FOR_PICKUP, OS.DELIVERED, OS.BACKORDERED, OS.ON_HOLD, OS.CANCELLED],
  // → *_RETURNED: the rest will never ship (cancelled or unfulfilled lines) and what did is coming back.
  [OS.PARTIALLY_SHIPPED]: [OS.SHIPPED, OS.DELIVERED, OS.CANCELLED, OS.PARTIALLY_RETURNED, OS.RETURNED],
  [OS.SHIPPED]: [OS.DELIVERED, OS.PARTIALLY_RETURNED, OS.RETURNED],
  [OS.READY_FOR_PICKUP]: [OS.DELIVERED, OS.CANCELLED],
  [OS.DELIVERED]: [OS.PARTIALLY_RETURNED, OS.RETURNED],
  [OS.PARTIALLY_RETURNED]: [OS.RETURNED],
  [OS.CANCELLED]: [],
  [OS.RETURNED]: [],
};

export const FULFILLMENT_TRANSITIONS: Readonly<Record<FO, readonly FO[]>> = {
  [FO.PENDING]: [FO.ACCEPTED, FO.REJECTED, FO.CANCELLED],
  [FO.ACCEPTED]: [FO.PICKED, FO.REJECTED, FO.CANCELLED],
  [FO.PICKED]: [FO.PACKED, FO.REJECTED, FO.CANCELLED],
  [FO.PACKED]: [FO.SHIPPED, FO.READY_FOR_PICKUP, FO.CANCELLED],
  [FO.SHIPPED]: [FO.DELIVERED],
  [FO.READY_FOR_PICKUP]: [FO.PICKED_UP, FO.CANCELLED],
  [FO.DELIVERED]: [],
  [FO.PICKED_UP]: [],
  [FO.REJECTED]: [],
  [FO.CANCELLED]: [],
};

export const canTransitionOrder = (from: OS, to: OS) => ORDER_TRANSITIONS[from].includes(to);
export const canTransitionFulfillment = (from: FO, to: FO) => FULFILLMENT_TRANSITIONS[from].includes(to);

/** Orders with units still to ship: units can be added or cancelled, and the ship-to address can change. */
export const STILL_TO_SHIP: readonly OS[] = [OS.CREATED, OS.ON_HOLD, OS.BACKORDERED, OS.ALLOCATED, OS.PARTIALLY_SHIPPED];

/** Fulfilment orders that still hold stock for the order (their reservations are live). */
export const OPEN_FULFILLMENT: readonly FO[] = [FO.PENDING, FO.ACCEPTED, FO.PICKED, FO.PACKED, FO.READY_FOR_PICKUP];
const CLOSED_WITHOUT_GOODS: readonly FO[] = [FO.REJECTED, FO.CANCELLED];

/**
 * The order status implied by its fulfilment orders, or undefined when they imply no change
 * (e.g. all still open, or none exist). Rejected/cancelled fulfilment orders are ignored: their
 * remainder is re-routed separately. While part of the order is not allocated (`unallocated`), it is at
 * most PARTIALLY_SHIPPED.
 */
export function deriveOrderStatus(current: OS, fulfillments: readonly FO[], unallocated = false): OS | undefined {
  const live = fulfillments.filter((s) => !CLOSED_WITHOUT_GOODS.includes(s));
  if (!live.length) return undefined;
  const done = (s: FO) => s === FO.DELIVERED || s === FO.PICKED_UP;
  const shipped = (s: FO) => s === FO.SHIPPED || done(s);
  let next: OS;
  if (live.every(done)) next = OS.DELIVERED;
  else if (live.every(shipped)) next = OS.SHIPPED;
  else if (live.some(shipped)) next = OS.PARTIALLY_SHIPPED;
  else if (live.every((s) => s === FO.READY_FOR_PICKUP)) next = OS.READY_FOR_PICKUP;
  else return undefined;
  if (unallocated) {
    if (next === OS.READY_FOR_PICKUP) return undefined;
    next = OS.PARTIALLY_SHIPPED;
  }
  return next === current ? undefined : next;
}
