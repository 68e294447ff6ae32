import type { DataSource, EntityManager } from 'typeorm';
import type { CanonicalOrder, CanonicalReturn, CanonicalShipment, CanonicalStockLevel } from '../connectors/sdk/canonical';
import { rows } from '../db/sql';
import { DomainError } from '../errors';
import type { InventoryService } from '../inventory/inventory.service';
import { FulfillmentOrderStatus as FO, StockMovementReason } from '../model/enums';
import type { OrderIntake, LandOutcome } from '../orders/order-intake';
import type { OrderService } from '../orders/order.service';
import type { ReturnService } from '../returns/return.service';
import { isUuid } from '../orders/order.service';
import type { ConnectionView } from '../connections/connection.service';
import { landOrderRecord } from './pos-sales-lander';

export type RecordKind = 'order' | 'shipment' | 'stock' | 'return' | 'ignored';

/** Which canonical DTO a stream carries. */
export function recordKindOf(stream: string): RecordKind {
  if (stream === 'orders' || stream === 'ordersBackfill') return 'order';
  if (stream === 'shipments') return 'shipment';
  if (stream === 'inventory') return 'stock';
  if (stream === 'returns') return 'return';
  return 'ignored'; // locations are read for operators' tools, not landed
}

export interface Tally { created: number; updated: number; skipped: number; failed: number; errors: string[] }
export const emptyTally = (): Tally => ({ created: 0, updated: 0, skipped: 0, failed: 0, errors: [] });

const FORWARD: FO[] = [FO.PENDING, FO.ACCEPTED, FO.PICKED, FO.PACKED, FO.SHIPPED];

/**
 * Lands canonical records through the services that own them. Orders and shipments land inside the caller's
 * transaction, each under a savepoint: a record the hub cannot take (unknown SKU, unmapped location, a transition
 * the lifecycle refuses) is rolled back alone and quarantined with the reason — never half-applied — and the
 * rest of the batch commits with the cursor.
 */
export class RecordLander {
  constructor(private readonly ds: DataSource, private readonly intake: OrderIntake, private readonly orders: OrderService, private readonly inventory: InventoryService,
    private readonly returns: Pick<ReturnService, 'applyVendorReturn'>) {}

  async landInTransaction(em: EntityManager, conn: ConnectionView, channel: string, kind: 'order' | 'shipment', rec: unknown, tally: Tally, source: 'SYNC' | 'WEBHOOK', stream: string): Promise<void> {
    await rows(em, 'SAVEPOINT land_record');
    try {
      const outcome = kind === 'order'
        ? await landOrderRecord(em, { inventory: this.inventory, orders: this.orders }, conn, rec as CanonicalOrder, () => this.intake.land(em, { connectionId: conn.id, channel, locations: conn.settings.locations }, rec as CanonicalOrder, `sync:${conn.name}`))
        : await this.landShipment(em, conn, rec as CanonicalShipment);
      await rows(em, 'RELEASE SAVEPOINT land_record');
      tally[outcome]++;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err; // the database or a bug: fail the batch, retry later
      await rows(em, 'ROLLBACK TO SAVEPOINT land_record');
      await quarantine(em, conn.id, source, stream, recordId(rec), err.message, rec);
      tally.failed++;
      tally.errors.push(err.message);
    }
  }

  /**
   * A page of orders inside the caller's transaction: new orders land together (OrderIntake.landPage, a fixed
   * number of statements per page), the others one by one as landInTransaction does. A record refused before
   * anything of it was written is quarantined; should the page path itself refuse (a DomainError thrown after it
   * wrote), it is rolled back whole and every record lands alone, so nothing is ever half-applied.
   */
  async landOrdersInTransaction(em: EntityManager, conn: ConnectionView, channel: string, records: unknown[], tally: Tally | ((index: number) => Tally), source: 'SYNC' | 'WEBHOOK', stream: string): Promise<void> {
    // One tally for the page, or one per record (a batch of webhook deliveries: each receipt keeps its own outcome).
    const tallyOf = typeof tally === 'function' ? tally : () => tally;
    let outcomes: (LandOutcome | DomainError | undefined)[];
    await rows(em, 'SAVEPOINT land_page');
    try {
      // POS counter sales are stock movements, not orders (landOrderRecord): they land alone.
      outcomes = await this.intake.landPage(em, { connectionId: conn.id, channel, locations: conn.settings.locations }, records as CanonicalOrder[], `sync:${conn.name}`,
        (o) => !!o.tags?.some((t) => t.startsWith('pos-location:')));
      await rows(em, 'RELEASE SAVEPOINT land_page');
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      await rows(em, 'ROLLBACK TO SAVEPOINT land_page');
      outcomes = records.map(() => undefined);
    }
    for (const [i, rec] of records.entries()) {
      const outcome = outcomes[i];
      const t = tallyOf(i);
      if (outcome === undefined) await this.landInTransaction(em, conn, channel, 'order', rec, t, source, stream);
      else if (outcome instanceof DomainError) {
        await quarantine(em, conn.id, source, stream, recordId(rec), outcome.message, rec);
        t.failed++;
        t.errors.push(outcome.message);
      } else t[outcome]++;
    }
  }

  /**
   * A stock level from the vendor. At a location the hub maps (3PL centre, ERP warehouse, store POS) it sets the
   * hub's on-hand through the inventory service (its own transaction, idempotent: an absolute count applied twice
   * is the same count); at an unmapped channel location it is remembered for reconciliation only.
   */
  async landStock(conn: ConnectionView, level: CanonicalStockLevel, tally: Tally, source: 'SYNC' | 'WEBHOOK', stream: string, runKey: string): Promise<void> {
    const code = conn.settings.locations?.[level.externalLocationId];
    const sku = level.sku ?? (level.externalItemId ? skuOfItem(conn, level.externalItemId) : undefined);
    if (!sku) { tally.skipped++; return; }
    if (!code) {
      await rows(this.ds.manager,
        `INSERT INTO channel_stock (connection_id, sku, external_location_id, channel_quantity, channel_seen_at) VALUES ($1,$2,$3,$4,now())
         ON CONFLICT (connection_id, sku, external_location_id) DO UPDATE SET channel_quantity = EXCLUDED.channel_quantity, channel_seen_at = now()`,
        [conn.id, sku, level.externalLocationId, level.available]);
      tally.skipped++;
      return;
    }
    const onHand = level.onHand ?? level.available;
    try {
      const before = await rows<{ on_hand: number }>(this.ds.manager,
        `SELECT s.on_hand FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id WHERE p.sku = $1 AND l.code = $2`, [sku, code]);
      if (before[0]?.on_hand === onHand) { tally.skipped++; return; }
      await this.inventory.set({ sku, locationCode: code, onHand, reason: StockMovementReason.CYCLE_COUNT, reference: `sync:${conn.name}`, note: `${conn.kind} ${stream}` },
        `sync:${conn.name}`, { idempotencyKey: `sync:${conn.id}:${sku}@${code}:${level.updatedAt ?? runKey}:${onHand}` });
      tally[before.length ? 'updated' : 'created']++;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      await quarantine(this.ds.manager, conn.id, source, stream, `${sku}@${level.externalLocationId}`, err.message, level);
      tally.failed++;
      tally.errors.push(err.message);
    }
  }

  /**
   * A 3PL's return order (ShipBob `GET /return` or a `return.*` webhook) for one of the hub's returns: applied by the
   * return service in its own transactions — cumulative and idempotent, so a page read again after a crash, or a
   * webhook and a poll saying the same thing, records only what is new. One the hub cannot apply is quarantined.
   */
  async landReturn(conn: ConnectionView, ret: CanonicalReturn, tally: Tally, source: 'SYNC' | 'WEBHOOK', stream: string): Promise<void> {
    try {
      const outcome = await this.returns.applyVendorReturn(conn.id, ret, `sync:${conn.name}`);
      tally[outcome === 'applied' ? 'updated' : 'skipped']++;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      await quarantine(this.ds.manager, conn.id, source, stream, ret.externalId, err.message, ret);
      tally.failed++;
      tally.errors.push(err.message);
    }
  }

  /** A 3PL/ERP shipment of a fulfilment order the hub sent there: ships the fulfilment order with its tracking. */
  private async landShipment(em: EntityManager, conn: ConnectionView, s: CanonicalShipment): Promise<LandOutcome> {
    if (s.status !== 'SHIPPED' && s.status !== 'DELIVERED') return 'skipped';
    const [seen] = await rows(em, `SELECT 1 FROM external_ref WHERE connection_id = $1 AND entity_type = 'SHIPMENT' AND external_id = $2`, [conn.id, s.externalId]);
    if (seen) return 'skipped';
    const [ref] = await rows<{ internal_id: string }>(em,
      `SELECT internal_id FROM external_ref WHERE connection_id = $1 AND entity_type = 'FULFILLMENT_ORDER' AND external_id = $2`, [conn.id, s.orderExternalId]);
    const foId = ref?.internal_id ?? (isUuid(s.orderExternalId) ? s.orderExternalId : undefined); // vendors that echo our reference
    const [fo] = foId ? await rows<{ id: string; status: FO }>(em, `SELECT id, status FROM fulfillment_order WHERE id = $1 FOR UPDATE`, [foId]) : [];
    if (!fo) return 'skipped'; // not an order the hub sent there
    const actor = `sync:${conn.name}`;
    await rows(em, `SELECT set_config('switchyard.sync_origin', $1, true)`, [conn.id]);
    let at = FORWARD.indexOf(fo.status);
    if (at < 0 && fo.status !== FO.SHIPPED && fo.status !== FO.DELIVERED) {
      throw new DomainError('INVALID_TRANSITION', `shipment ${s.externalId}: fulfilment order ${fo.id} is ${fo.status}`);
    }
    for (at = at + 1; at > 0 && at < FORWARD.length; at++) {
      const to = FORWARD[at];
      const rejected = await this.orders.transitionFulfillmentIn(em, fo.id, to, actor, to === FO.SHIPPED
        ? { reason: `shipped by ${conn.name}`, tracking: { carrier: s.carrier ?? null, trackingNumber: s.trackingNumber ?? null, trackingUrl: s.trackingUrl ?? null } }
        : { reason: `reported by ${conn.name}` });
      if (rejected) throw new DomainError('INVALID_TRANSITION', rejected.message);
    }
    if (s.status === 'DELIVERED') {
      const [cur] = await rows<{ status: FO }>(em, `SELECT status FROM fulfillment_order WHERE id = $1`, [fo.id]);
      if (cur.status === FO.SHIPPED) await this.orders.transitionFulfillmentIn(em, fo.id, FO.DELIVERED, actor, { reason: `delivered (${conn.name})` });
    }
    await rows(em, `SELECT set_config('switchyard.sync_origin', '', true)`);
    const [shipment] = await rows<{ id: string }>(em, `SELECT id FROM shipment WHERE fulfillment_order_id = $1 ORDER BY shipped_at DESC NULLS LAST LIMIT 1`, [fo.id]);
    await rows(em, `INSERT INTO external_ref (connection_id, entity_type, external_id, internal_id, source_updated_at) VALUES ($1, 'SHIPMENT', $2, $3, $4) ON CONFLICT DO NOTHING`,
      [conn.id, s.externalId, shipment?.id ?? fo.id, s.updatedAt ?? s.createdAt]);
    return at < 0 ? 'skipped' : 'updated';
  }
}

export async function quarantine(em: EntityManager, connectionId: string, source: 'SYNC' | 'WEBHOOK', stream: string, recordId: string | undefined, reason: string, payload: unknown): Promise<void> {
  await rows(em, `INSERT INTO sync_quarantine (connection_id, source, stream, record_id, reason, payload) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`,
    [connectionId, source, stream, recordId ?? null, reason.slice(0, 2000), payload === undefined ? null : JSON.stringify(payload)]);
}

function recordId(rec: unknown): string | undefined {
  const r = rec as { externalId?: unknown };
  return typeof r?.externalId === 'string' ? r.externalId : undefined;
}

function skuOfItem(conn: ConnectionView, itemId: string): string | undefined {
  for (const [sku, id] of Object.entries(conn.settings.itemIds ?? {})) if (id === itemId) return sku;
  return undefined;
}
