import type { DataSource, EntityManager } from 'typeorm';
import type { CanonicalOrder, CreateOrderCommand } from '../connectors/sdk/canonical';
import { rows } from '../db/sql';
import { DomainError } from '../errors';
import type { InventoryService } from '../inventory/inventory.service';
import { FulfillmentOrderStatus as FO, StockMovementReason } from '../model/enums';
import type { LandOutcome } from '../orders/order-intake';
import type { OrderService } from '../orders/order.service';
import type { ConnectionView, OpenedConnection } from '../connections/connection.service';

export interface OrderRecordDeps { inventory: InventoryService; orders: OrderService }

/**
 * The hook `RecordLander` calls for every order record, around the ordinary order intake (`landOrder`):
 * - a POS counter sale (a Square order tagged `pos-location:<id>`: the goods left the store with the buyer) is not
 *   an order to route: each line lands as a SALE movement at the store the connection maps, so the store's stock,
 *   and with it the web's ATP, drops;
 * - an order the hub itself pushed to that POS (a pickup order, known by its external_ref) is not a new order:
 *   its fulfilment state is read back onto the fulfilment order (PREPARED → ready for pickup, COMPLETED → picked up);
 * - any other order lands through intake (a new one is booked in every ERP connection that asks for all orders,
 *   Odoo `config.bookOrders`, by the orders table's insert trigger, in the same transaction).
 */
export async function landOrderRecord(em: EntityManager, deps: OrderRecordDeps, conn: ConnectionView, order: CanonicalOrder, landOrder: () => Promise<LandOutcome>): Promise<LandOutcome> {
  const pos = order.tags?.find((t) => t.startsWith('pos-location:'));
  if (pos) return landCounterSale(em, deps.inventory, conn, order, pos.slice('pos-location:'.length));
  const [pushed] = await rows<{ internal_id: string }>(em,
    `SELECT internal_id FROM external_ref WHERE connection_id = $1 AND entity_type = 'FULFILLMENT_ORDER' AND external_id = $2`, [conn.id, order.externalId]);
  if (pushed) return readBackFulfilment(em, deps.orders, conn, pushed.internal_id, order);
  return landOrder();
}

/** SALE movements, one per line, each under its own idempotency key: re-reading the order (72 h overlap) changes nothing. */
async function landCounterSale(em: EntityManager, inventory: InventoryService, conn: ConnectionView, order: CanonicalOrder, vendorLocation: string): Promise<LandOutcome> {
  if (order.status !== 'FULFILLED' && order.status !== 'CLOSED') return 'skipped'; // an open ticket has not sold anything yet
  const code = conn.settings.locations?.[vendorLocation];
  if (!code) throw new DomainError('BAD_USER_INPUT', `counter sale ${order.externalId}: POS location ${vendorLocation} is not mapped to a hub location (settings.locations)`);
  const reference = `${conn.kind}:${order.externalId}`;
  let applied = 0;
  for (const line of order.lines) {
    if (line.quantity <= 0) continue;
    const key = `pos-sale:${conn.id}:${order.externalId}:${line.externalId}`;
    const [before] = await rows(em, `SELECT 1 FROM idempotency_key WHERE scope = 'inventory.adjust' AND key = $1`, [key]);
    await inventory.adjust({ sku: line.sku, locationCode: code, delta: -line.quantity, reason: StockMovementReason.SALE, reference, note: `counter sale at ${code}` },
      `sync:${conn.name}`, { idempotencyKey: key });
    if (!before) applied++;
  }
  return applied ? 'created' : 'skipped';
}

/** The POS's state of an order the hub pushed there, moved forward onto the hub's fulfilment order. */
async function readBackFulfilment(em: EntityManager, orders: OrderService, conn: ConnectionView, foId: string, order: CanonicalOrder): Promise<LandOutcome> {
  const state = order.tags?.find((t) => t.startsWith('square-fulfillment:'))?.slice('square-fulfillment:'.length);
  const target = state === 'PREPARED' ? FO.READY_FOR_PICKUP : state === 'COMPLETED' ? FO.PICKED_UP : undefined;
  if (!target) return 'skipped';
  const [fo] = await rows<{ status: FO; method: string }>(em, `SELECT status, method FROM fulfillment_order WHERE id = $1 FOR UPDATE`, [foId]);
  if (!fo || fo.method === 'SHIP') return 'skipped';
  const path = [FO.PENDING, FO.ACCEPTED, FO.PICKED, FO.PACKED, FO.READY_FOR_PICKUP, FO.PICKED_UP];
  const from = path.indexOf(fo.status);
  const to = path.indexOf(target);
  if (from < 0 || from >= to) return 'skipped';
  await rows(em, `SELECT set_config('switchyard.sync_origin', $1, true)`, [conn.id]);
  for (let i = from + 1; i <= to; i++) {
    const rejected = await orders.transitionFulfillmentIn(em, foId, path[i], `sync:${conn.name}`, { reason: `${conn.kind} order ${order.externalId} is ${state}` });
    if (rejected) throw new DomainError('INVALID_TRANSITION', rejected.message);
  }
  await rows(em, `SELECT set_config('switchyard.sync_origin', '', true)`);
  return 'updated';
}

/**
 * `order.book` (outbox): a channel's order as a confirmed `sale.order` in the ERP, so the books see every sale. Lines
 * the ERP's own warehouses fulfil are left out: their fulfilment order reaches the ERP as its own sale order (with
 * the delivery to ship). Idempotent on the ERP side by reference (`client_order_ref`).
 */
export async function performOrderBooking(ds: DataSource, opened: OpenedConnection, ev: { aggregate_id: string; idempotency_key: string }): Promise<string | undefined> {
  const [o] = await rows<{ id: string; channel: string; external_id: string; currency: string; placed_at: Date; ship_to: Record<string, unknown> | null;
    customer_name: string | null; customer_email: string | null; customer_phone: string | null; name: string | null }>(ds.manager,
    `SELECT id, channel, external_id, currency, placed_at, ship_to, customer_name, customer_email, customer_phone, attributes->>'channelOrderName' AS name FROM orders WHERE id = $1`, [ev.aggregate_id]);
  if (!o) return 'order no longer exists';
  if (!opened.vendor.supports('createOrder')) return `${opened.row.kind} takes no orders`;
  const own = opened.row.settings.fulfilsLocations ?? [];
  const lines = await rows<{ id: string; sku: string; quantity: number; unit_price: string | null }>(ds.manager,
    `SELECT ol.id, ol.sku, ol.quantity - coalesce((SELECT sum(fol.quantity) FROM fulfillment_order_line fol JOIN fulfillment_order fo ON fo.id = fol.fulfillment_order_id
                                                  JOIN location l ON l.id = fo.location_id
                                                 WHERE fol.order_line_id = ol.id AND l.code = ANY($2) AND fo.status NOT IN ('CANCELLED','REJECTED')), 0)::int AS quantity,
            ol.unit_price::text
       FROM order_line ol WHERE ol.order_id = $1 ORDER BY ol.id`, [o.id, own]);
  const booked = lines.filter((l) => l.quantity > 0);
  if (!booked.length) return 'every line is fulfilled by this ERP; booked with its fulfilment orders';
  const ship = o.ship_to ? Object.fromEntries(Object.entries(o.ship_to).filter(([, v]) => v !== null)) : undefined;
  const cmd: CreateOrderCommand = {
    reference: `order:${o.id}`, name: o.name ?? o.external_id, channel: o.channel, currency: o.currency, placedAt: o.placed_at.toISOString(), method: 'SHIP',
    customer: { name: o.customer_name ?? undefined, email: o.customer_email ?? undefined, phone: o.customer_phone ?? undefined },
    shipTo: ship as CreateOrderCommand['shipTo'],
    lines: booked.map((l) => ({ lineRef: l.id, sku: l.sku, quantity: l.quantity, unitPrice: l.unit_price ? String(Number(l.unit_price)) : undefined })),
    idempotencyKey: ev.idempotency_key,
  };
  const result = await opened.vendor.push('createOrder', cmd);
  if (result.externalId) {
    await rows(ds.manager, `INSERT INTO external_ref (connection_id, entity_type, external_id, internal_id) VALUES ($1, 'ORDER', $2, $3) ON CONFLICT DO NOTHING RETURNING internal_id`,
      [opened.row.id, result.externalId, o.id]);
  }
  return undefined;
}
