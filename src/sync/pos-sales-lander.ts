import type { EntityManager } from 'typeorm';
import type { CanonicalOrder } from '../connectors/sdk/canonical';
import { rows } from '../db/sql';
import { DomainError } from '../errors';
import type { InventoryService } from '../inventory/inventory.service';
import { FulfillmentOrderStatus as FO, StockMovementReason } from '../model/enums';
import type { LandOutcome } from '../orders/order-intake';
import type { OrderService } from '../orders/order.service';
import type { ConnectionView } from '../connections/connection.service';

export interface OrderRecordDeps { inventory: InventoryService; orders: OrderService }

/**
 * The hook `RecordLander` calls for every order record, around the ordinary order intake (`landOrder`):
 * - a POS counter sale (a Square order tagged `pos-location:<id>`: the goods left the store with the buyer) is not
 *   an order to route: each line lands as a SALE movement at the store the connection maps, so the store's stock,
 *   and with it the web's ATP, drops;
 * - an order the hub itself pushed to that POS (a pickup order, known by its external_ref) is not a new order:
 *   its fulfilment state is read back onto the fulfilment order (PREPARED → ready for pickup, COMPLETED → picked up);
 * - any other order lands through intake, and a new one is booked in every ERP connection that asks for all
 *   orders (Odoo `config.bookOrders`), through the outbox in the same transaction.
 */
export async function landOrderRecord(em: EntityManager, deps: OrderRecordDeps, conn: ConnectionView, order: CanonicalOrder, landOrder: () => Promise<LandOutcome>): Promise<LandOutcome> {
  const pos = order.tags?.find((t) => t.startsWith('pos-location:'));
  if (pos) return landCounterSale(em, deps.inventory, conn, order, pos.slice('pos-location:'.length));
  const [pushed] = await rows<{ internal_id: string }>(em,
    `SELECT internal_id FROM external_ref WHERE connection_id = $1 AND entity_type = 'FULFILLMENT_ORDER' AND external_id = $2`, [conn.id, order.externalId]);
  if (pushed) return readBackFulfilment(em, deps.orders, conn, pushed.internal_id, order);
  const outcome = await landOrder();
  if (outcome === 'created') await bookInErp(em, conn, order.externalId);
  return outcome;
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

/** An `order.book` outbox event per ERP connection that books every channel's orders (same transaction as the order). */
async function bookInErp(em: EntityManager, conn: ConnectionView, externalId: string): Promise<void> {
  await rows(em,
    `INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key)
     SELECT 'order.book', 'ORDER', r.internal_id::text, c.id, jsonb_build_object('orderId', r.internal_id), 'order-book:' || r.internal_id || ':' || c.id
       FROM external_ref r CROSS JOIN connection c
      WHERE r.connection_id = $1 AND r.entity_type = 'ORDER' AND r.external_id = $2
        AND c.enabled AND c.id <> $1 AND c.kind = 'odoo' AND coalesce((c.config->>'bookOrders')::boolean, false)
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`, [conn.id, externalId]);
}
