import type { EntityManager } from 'typeorm';
import { rows as sql } from '../db/sql';
import type { InventoryService } from '../inventory/inventory.service';

/**
 * Pickup and curbside orders whose store lacks stock: routing plans TRANSFER legs from other locations. The order's
 * fulfilment order stays at the pickup store (that is where the customer collects); each leg becomes an inventory
 * transfer, booked out of the source in the order's transaction (the units leave the source's ATP at once and travel
 * for this order), tagged with the fulfilment order line it serves. When the store books the transfer in, the
 * arrived units are reserved for that line in the same transaction, and only then can the pickup be made ready.
 */
export interface TransferLeg {
  fromLocationCode: string;
  toLocationCode: string;
  sku: string;
  quantity: number;
  /** The order line the units are for. */
  orderLineId: string;
}

const REFERENCE = /^fol:([0-9a-f-]{36})$/i;
export const transferReference = (fulfillmentOrderLineId: string) => `fol:${fulfillmentOrderLineId}`;

/** Books the legs out of their sources, in the caller's transaction; `folIdByOrderLine` maps order lines to the store's lines. */
export async function startPickupTransfers(
  em: EntityManager,
  inventory: InventoryService,
  orderId: string,
  legs: readonly TransferLeg[],
  folIdByOrderLine: ReadonlyMap<string, string>,
  actor: string,
): Promise<void> {
  for (const leg of legs) {
    const folId = folIdByOrderLine.get(leg.orderLineId);
    if (!folId) throw new Error(`transfer leg for order line ${leg.orderLineId} has no fulfilment order line at ${leg.toLocationCode}`);
    await inventory.transferIn(
      em,
      { sku: leg.sku, fromLocationCode: leg.fromLocationCode, toLocationCode: leg.toLocationCode, quantity: leg.quantity, reference: transferReference(folId), note: `for order ${orderId}` },
      actor,
    );
  }
}

const registered = new WeakSet<InventoryService>();

/** Reserves transferred units for the pickup line that waits for them, when the store receives the transfer (once per inventory service). */
export function reserveOnTransferReceipt(inventory: InventoryService): void {
  if (registered.has(inventory)) return;
  registered.add(inventory);
  inventory.onTransferReceived(async (em, t, actor) => {
    const m = t.reference ? REFERENCE.exec(t.reference) : null;
    if (!m) return;
    const [line] = await sql<{ order_id: string; status: string }>(em,
      `SELECT fo.order_id, fo.status FROM fulfillment_order_line fol JOIN fulfillment_order fo ON fo.id = fol.fulfillment_order_id
        WHERE fol.id = $1 AND fo.location_id = $2 FOR UPDATE OF fo`, [m[1], t.toLocationId]);
    // A cancelled or rejected pickup leaves the units as ordinary store stock.
    if (!line || ['CANCELLED', 'REJECTED'].includes(line.status)) return;
    await inventory.reserve(em, [{ productId: t.productId, locationId: t.toLocationId, quantity: t.quantity, fulfillmentOrderLineId: m[1] }], { orderId: line.order_id, actor });
  });
}

/** Transfers still on their way to a fulfilment order's lines (its pickup cannot be made ready before they arrive). */
export async function transfersInTransit(em: EntityManager, fulfillmentOrderId: string): Promise<number> {
  const [r] = await sql<{ n: number }>(em,
    `SELECT count(*)::int AS n FROM inventory_transfer t
      WHERE t.status = 'IN_TRANSIT' AND t.reference IN (SELECT 'fol:' || id FROM fulfillment_order_line WHERE fulfillment_order_id = $1)`, [fulfillmentOrderId]);
  return r.n;
}
