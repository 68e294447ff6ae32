import type { EntityManager } from 'typeorm';
import type { CanonicalAddress, CanonicalOrder } from '../connectors/sdk/canonical';
import { rows } from '../db/sql';
import { DomainError } from '../errors';
import { FulfillmentMethod } from '../model/enums';
import type { OrderService } from './order.service';
import { sameAddress, type AddressData, type PlaceOrderData } from './place-order.input';

/** external_ref.internal_id of an order seen only after it was closed in the channel (never placed in the hub). */
const TOMBSTONE = '00000000-0000-0000-0000-000000000000';
/**
 * external_ref.internal_id of an order seen only while open with every unit taken back (never placed): unlike a
 * closed one, it is placed if a later version brings units back (an order edit).
 */
const EMPTIED = '00000000-0000-0000-0000-000000000001';

export type LandOutcome = 'created' | 'updated' | 'skipped';

/** What intake needs to know about the connection an order came from. */
export interface IntakeSource {
  connectionId: string;
  /** Channel name stamped on the order (unique with the external id). */
  channel: string;
  /** Vendor location id → hub location code. */
  locations?: Record<string, string>;
}

/**
 * Maps a channel's CanonicalOrder onto OrderService calls, inside the caller's transaction (the sync runner's
 * batch, with the stream cursor; or a webhook job). Idempotent by (connection, external id) through external_ref,
 * whose source_updated_at makes an older version (a stale or replayed delivery) a no-op.
 * Throws a DomainError when the order cannot be landed (unknown SKU, no address…): the caller quarantines it.
 */
export class OrderIntake {
  constructor(private readonly orders: OrderService) {}

  async land(em: EntityManager, src: IntakeSource, o: CanonicalOrder, actor: string): Promise<LandOutcome> {
    const [ref] = await rows<{ internal_id: string; source_updated_at: Date | null }>(em,
      `SELECT internal_id, source_updated_at FROM external_ref WHERE connection_id = $1 AND entity_type = 'ORDER' AND external_id = $2 FOR UPDATE`,
      [src.connectionId, o.externalId]);
    if (ref && ref.source_updated_at && ref.source_updated_at.getTime() >= Date.parse(o.updatedAt)) return 'skipped';

    if (!ref || ref.internal_id === EMPTIED) {
      // Closed before we ever saw it (history, counter sales), or every unit already taken back: nothing to fulfil,
      // nothing to reserve.
      if (isClosed(o) || isEmptied(o)) {
        // Remembered as a tombstone, so that an older version delivered later (a stale webhook) cannot create it.
        await this.remember(em, src.connectionId, o, isClosed(o) ? TOMBSTONE : EMPTIED);
        return 'skipped';
      }
      const { orderId } = await this.orders.placeOrderIn(em, toPlaceOrder(src, o), actor);
      await this.remember(em, src.connectionId, o, orderId);
      return 'created';
    }

    if (ref.internal_id === TOMBSTONE) {
      await this.remember(em, src.connectionId, o, TOMBSTONE);
      return 'skipped';
    }
    if (o.status === 'CANCELLED') {
      const [cur] = await rows<{ status: string }>(em, `SELECT status FROM orders WHERE id = $1`, [ref.internal_id]);
      if (cur && cur.status !== 'CANCELLED') {
        const rejected = await asChannel(em, src, () => this.orders.cancelIn(em, ref.internal_id, `cancelled in ${src.channel}${o.cancelledAt ? ` at ${o.cancelledAt}` : ''}`, actor));
        if (rejected) throw new DomainError('INVALID_TRANSITION', `channel cancelled order ${o.externalId}, but the hub cannot: ${rejected.message}`);
      }
    } else {
      // A new address first, so that units routed again below go by it. Only a change of the channel's own view
      // counts: after an operator's correction, the channel shows the old address until told, and an update carrying
      // it must not undo the correction. Once nothing is left to ship, the channel's change has no effect here (the
      // goods went to the old one): the rest of the update still lands. An address without the street the channel
      // showed is a redacted view of the order (marketplaces hide buyers' details), not a correction.
      const shipTo = o.shipTo ? addressData(o.shipTo) : null;
      const [cur] = shipTo ? await rows<{ ship_to: AddressData | null; channel_ship_to: AddressData | null }>(em,
        `SELECT ship_to, channel_ship_to FROM orders WHERE id = $1`, [ref.internal_id]) : [];
      const shown = cur && (cur.channel_ship_to ?? cur.ship_to);
      if (shipTo && cur && !sameAddress(shown, shipTo) && !(shown?.line1 && !shipTo.line1)) {
        await asChannel(em, src, () => this.orders.changeShipToIn(em, ref.internal_id, shipTo, `ship-to changed in ${src.channel}`, actor));
      }
      const change = await lineChanges(em, ref.internal_id, o);
      if (change.takenBack.size) await asChannel(em, src, () => this.orders.cancelLinesIn(em, ref.internal_id, change.takenBack, `cancelled in ${src.channel}`, actor));
      if (change.newLines.length || change.more.size) {
        const rejected = await this.orders.addUnitsIn(em, ref.internal_id, change.newLines, change.more, actor);
        if (rejected) throw new DomainError('INVALID_TRANSITION', `${src.channel} added units to order ${o.externalId}, but the hub cannot: ${rejected.message}`);
      }
    }
    await this.remember(em, src.connectionId, o, ref.internal_id);
    return 'updated';
  }

  /**
   * land() for a page of orders. The orders the hub has never seen (no external_ref, open in the channel, once in
   * the page) are placed together (OrderService.placeOrdersIn: a fixed number of statements for the whole page);
   * per record, the result is its outcome, the DomainError to quarantine it with (nothing of it was written), or
   * undefined for a record the caller lands alone with land() (known orders, closed ones, repeats, malformed, and
   * those `alone` picks).
   */
  async landPage(em: EntityManager, src: IntakeSource, records: CanonicalOrder[], actor: string, alone: (o: CanonicalOrder) => boolean = () => false): Promise<(LandOutcome | DomainError | undefined)[]> {
    const out: (LandOutcome | DomainError | undefined)[] = new Array(records.length).fill(undefined);
    const seen = new Map<string, number>();
    for (const r of records) if (typeof r?.externalId === 'string') seen.set(r.externalId, (seen.get(r.externalId) ?? 0) + 1);
    const known = new Set((await rows<{ external_id: string }>(em,
      // Known in any way (an order, or a fulfilment order the hub pushed to this connection): landed alone.
      `SELECT external_id FROM external_ref WHERE connection_id = $1 AND entity_type IN ('ORDER', 'FULFILLMENT_ORDER') AND external_id = ANY($2)`,
      [src.connectionId, [...seen.keys()]], { prepare: true })).map((r) => r.external_id));
    if (known.size) {
      // The known orders land one by one after the new ones, each taking stock rows as it goes (a cancellation
      // releases them). Their order rows are locked now, in one fixed order and before any stock row, as every
      // order-service transaction locks its order before its stock: otherwise this page could hold stock that a
      // shipment of order B waits for while it waits for order B, and one of the two would be aborted.
      await rows(em, `SELECT o.id FROM external_ref r JOIN orders o ON o.id = r.internal_id
        WHERE r.connection_id = $1 AND r.entity_type = 'ORDER' AND r.external_id = ANY($2) ORDER BY o.id FOR UPDATE OF o`,
      [src.connectionId, [...known]], { prepare: true });
    }
    const fresh: { index: number; order: CanonicalOrder; input: PlaceOrderData }[] = [];
    for (const [index, o] of records.entries()) {
      if (typeof o?.externalId !== 'string' || seen.get(o.externalId) !== 1 || known.has(o.externalId)) continue;
      if (!Array.isArray(o.lines) || isClosed(o) || isEmptied(o) || alone(o)) continue;
      try {
        fresh.push({ index, order: o, input: toPlaceOrder(src, o) });
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        out[index] = err;
      }
    }
    if (!fresh.length) return out;
    const placed = await this.orders.placeOrdersIn(em, fresh.map((f) => f.input), actor);
    const remembered: { order: CanonicalOrder; orderId: string }[] = [];
    for (const [k, r] of placed.entries()) {
      if ('error' in r) out[fresh[k].index] = r.error;
      else {
        remembered.push({ order: fresh[k].order, orderId: r.orderId });
        out[fresh[k].index] = 'created';
      }
    }
    if (remembered.length) {
      await rows(em, `
        INSERT INTO external_ref (connection_id, entity_type, external_id, internal_id, source_updated_at)
        SELECT $1, 'ORDER', v.external_id, v.internal_id, v.source_updated_at FROM unnest($2::text[], $3::uuid[], $4::timestamptz[]) AS v(external_id, internal_id, source_updated_at)
        ON CONFLICT (connection_id, entity_type, external_id) DO UPDATE SET source_updated_at = EXCLUDED.source_updated_at, internal_id = EXCLUDED.internal_id, updated_at = now()`,
      [src.connectionId, remembered.map((r) => r.order.externalId), remembered.map((r) => r.orderId), remembered.map((r) => r.order.updatedAt)], { prepare: true });
    }
    return out;
  }

  /** A cancellation that names the order only (no payload): applied when the order is known and not newer. */
  async cancelByExternalId(em: EntityManager, src: IntakeSource, externalId: string, at: string, reason: string | undefined, actor: string): Promise<LandOutcome> {
    const [ref] = await rows<{ source_updated_at: Date | null }>(em,
      `SELECT source_updated_at FROM external_ref WHERE connection_id = $1 AND entity_type = 'ORDER' AND external_id = $2`, [src.connectionId, externalId]);
    if (!ref) return 'skipped';
    const [o] = await rows<{ currency: string }>(em, `SELECT currency FROM orders o JOIN external_ref r ON r.internal_id = o.id
      WHERE r.connection_id = $1 AND r.entity_type = 'ORDER' AND r.external_id = $2`, [src.connectionId, externalId]);
    return this.land(em, src, { externalId, status: 'CANCELLED', currency: o?.currency ?? 'USD', totalPrice: '0', placedAt: at, updatedAt: at, cancelledAt: at,
      method: 'SHIP', lines: [], tags: reason ? [reason] : [] }, actor);
  }

  private async remember(em: EntityManager, connectionId: string, o: CanonicalOrder, orderId: string): Promise<void> {
    await rows(em,
      `INSERT INTO external_ref (connection_id, entity_type, external_id, internal_id, source_updated_at) VALUES ($1, 'ORDER', $2, $3, $4)
       ON CONFLICT (connection_id, entity_type, external_id) DO UPDATE SET source_updated_at = EXCLUDED.source_updated_at, internal_id = EXCLUDED.internal_id, updated_at = now()`,
      [connectionId, o.externalId, orderId, o.updatedAt]);
  }
}

/**
 * Runs a change the channel itself reported: nothing of it is pushed back to that channel (the outbox triggers skip
 * the connection named in `switchyard.sync_origin`), while other connections (the 3PL holding a fulfilment order)
 * are still told.
 */
async function asChannel<T>(em: EntityManager, src: IntakeSource, fn: () => Promise<T>): Promise<T> {
  await rows(em, `SELECT set_config('switchyard.sync_origin', $1, true)`, [src.connectionId]);
  const result = await fn();
  await rows(em, `SELECT set_config('switchyard.sync_origin', '', true)`);
  return result;
}

/**
 * How the channel's lines differ from the hub's, from the channel's cumulative view of them, so that a replayed or
 * repeated update is a no-op. The channel wants `quantity − quantityCancelled` of a line; the hub plans
 * `quantity − cancelled_quantity` (it was created net of what was cancelled by then).
 * - takenBack (order line id → units): what the hub plans beyond what the channel wants; where the channel says what
 *   it still expects to be fulfilled, no more than the hub's unshipped units exceed that. A Shopify refund may cover
 *   a unit shipped and sent back: the unit still owed must not be cancelled for it. A shipment the channel has not
 *   heard of yet only delays a cancellation, never adds one.
 * - newLines, more (order line id → units): lines or units the channel added by an order edit.
 * Lines the channel does not send, and known lines whose removals it does not say, are left alone.
 */
async function lineChanges(em: EntityManager, orderId: string, o: CanonicalOrder) {
  const takenBack = new Map<string, number>();
  const more = new Map<string, number>();
  const newLines: { sku: string; quantity: number; unitPrice: string | null; externalId: string }[] = [];
  const told = (o.lines ?? []).filter((l) => l.externalId);
  if (!told.length) return { takenBack, more, newLines };
  const lines = await rows<{ id: string; external_id: string; planned: number; unshipped: number }>(em,
    `SELECT id, external_id, quantity - cancelled_quantity AS planned, quantity - cancelled_quantity - shipped_quantity AS unshipped
       FROM order_line WHERE order_id = $1 AND external_id = ANY($2)`,
    [orderId, told.map((l) => l.externalId)]);
  const byExternalId = new Map(lines.map((l) => [l.external_id, l]));
  for (const l of told) {
    const line = byExternalId.get(l.externalId);
    const wanted = Math.max(0, l.quantity - (l.quantityCancelled ?? 0));
    if (!line) {
      if (wanted > 0) newLines.push({ sku: l.sku, quantity: wanted, unitPrice: l.unitPrice ?? null, externalId: l.externalId });
    } else if (l.quantityCancelled === undefined) {
      // Without the channel's removals, its `quantity` cannot be compared with a line created net of them.
    } else if (wanted > line.planned) {
      more.set(line.id, wanted - line.planned);
    } else {
      const owed = l.quantityFulfillable === undefined ? Infinity : line.unshipped - l.quantityFulfillable;
      const n = Math.min(line.planned - wanted, owed);
      if (n > 0) takenBack.set(line.id, n);
    }
  }
  return { takenBack, more, newLines };
}

/** Closed in the channel: when first seen, nothing for the hub to fulfil or reserve, then or later. */
const isClosed = (o: CanonicalOrder) => ['CANCELLED', 'FULFILLED', 'CLOSED'].includes(o.status);

/**
 * Open with every unit of every line taken back (a Shopify order whose unfulfilled items were all refunded stays
 * open): nothing to do until an edit brings units back. Malformed lines are not "emptied": validation names them.
 */
function isEmptied(o: CanonicalOrder): boolean {
  return Array.isArray(o.lines) && o.lines.length > 0
    && o.lines.every((l) => Number.isInteger(l?.quantity) && Number.isInteger(l.quantityCancelled) && l.quantity - l.quantityCancelled! <= 0);
}

/** Canonical → hub input. Pickup orders name their store by a `pickup-location:<vendor id>` tag (Square) or by shipTo. */
export function toPlaceOrder(src: IntakeSource, o: CanonicalOrder): PlaceOrderData {
  let pickupLocationCode: string | null = null;
  if (o.method !== 'SHIP') {
    const tag = (o.tags ?? []).find((t) => t.startsWith('pickup-location:'));
    const vendorLocation = tag?.slice('pickup-location:'.length);
    pickupLocationCode = vendorLocation ? src.locations?.[vendorLocation] ?? null : null;
    if (!pickupLocationCode) {
      throw new DomainError('NOT_FOUND', `order ${o.externalId}: ${o.method} at vendor location "${vendorLocation ?? '?'}", which is not mapped to a hub location (settings.locations)`);
    }
  }
  return {
    channel: src.channel,
    externalId: o.externalId,
    connectionId: src.connectionId,
    method: o.method as FulfillmentMethod,
    pickupLocationCode,
    currency: o.currency,
    placedAt: new Date(o.placedAt),
    customer: o.customer ? { name: o.customer.name ?? null, email: o.customer.email ?? null, phone: o.customer.phone ?? null } : null,
    shipTo: o.shipTo ? addressData(o.shipTo) : null,
    tags: (o.tags ?? []).slice(0, 50).map((t) => t.slice(0, 64)),
    attributes: o.name ? { channelOrderName: o.name } : null,
    lines: o.lines
      .map((l) => ({ sku: l.sku, quantity: l.quantity - (l.quantityCancelled ?? 0), unitPrice: l.unitPrice, externalId: l.externalId }))
      .filter((l) => l.quantity > 0),
  };
}

/** A channel's address as the hub keeps it (the phone goes with the customer). */
function addressData(a: CanonicalAddress): AddressData {
  return {
    name: a.name ?? null, line1: a.line1 ?? null, line2: a.line2 ?? null, city: a.city ?? null, region: a.region ?? null,
    postalCode: a.postalCode ?? null, country: a.country, latitude: a.latitude ?? null, longitude: a.longitude ?? null,
  };
}
