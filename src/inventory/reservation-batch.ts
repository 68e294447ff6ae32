import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { rows as sql } from '../db/sql';
import { EventOutboxRelay } from '../events/event-outbox';
import type { InventoryChangedEvent } from '../events/hub-events';
import { DomainError } from '../errors';
import { StockMovementReason } from '../model/enums';

export interface BatchReserveLine { productId: string; locationId: string; quantity: number; fulfillmentOrderLineId: string }

interface Balance { product_id: string; location_id: string; on_hand: number; reserved: number; safety_stock: number; sku: string; code: string }

interface Grant { orderId: string; lines: BatchReserveLine[] }

const itemKey = (productId: string, locationId: string) => `${productId}|${locationId}`;

/**
 * Reservations for many orders at once (a page of synced orders) in a handful of statements instead of one per
 * line. `lock` takes every stock row the page needs in ONE statement, in the fixed (product, location) lock order
 * that every multi-row writer uses, so it cannot deadlock against them. While the rows are held, `take` grants
 * each order all of its lines or none (in the order the caller asks), against the locked balances minus what earlier
 * orders of the batch took: the answer is exact, and an order it refuses lost a race since it was planned — the
 * caller re-plans it. `write` then applies the granted lines in one statement: the conditional UPDATE (never below
 * ATP 0, checked again as the last line of defence), one reservation row and one RESERVE ledger row per line with the
 * running balance after it, and the change events into the transactional outbox (event-outbox.ts), relayed to
 * subscribers once the caller's transaction commits — and by any hub process's sweep if this one dies first.
 */
export class ReservationBatch {
  private readonly grants: Grant[] = [];
  /** Units taken so far per item (on top of the locked balance). */
  private readonly extra = new Map<string, number>();

  private constructor(private readonly balances: Map<string, Balance>) {}

  static async lock(em: EntityManager, items: { productId: string; locationId: string }[]): Promise<ReservationBatch> {
    const unique = new Map(items.map((i) => [itemKey(i.productId, i.locationId), i]));
    const locked = unique.size ? await sql<Balance>(em, `
      SELECT s.product_id, s.location_id, s.on_hand, s.reserved, s.safety_stock, p.sku, l.code
        FROM unnest($1::uuid[], $2::uuid[]) AS v(p, l)
        JOIN stock_level s ON s.product_id = v.p AND s.location_id = v.l
        JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id
       ORDER BY s.product_id, s.location_id FOR UPDATE OF s`,
    [[...unique.values()].map((i) => i.productId), [...unique.values()].map((i) => i.locationId)], { prepare: true }) : [];
    return new ReservationBatch(new Map(locked.map((b) => [itemKey(b.product_id, b.location_id), b])));
  }

  /** Grants all of the order's lines, or none (false: not enough stock left at one of them). */
  take(orderId: string, lines: BatchReserveLine[]): boolean {
    const need = new Map<string, number>();
    for (const l of lines) {
      if (!Number.isInteger(l.quantity) || l.quantity <= 0) throw new DomainError('BAD_USER_INPUT', `reservation quantity must be a positive whole number, got ${l.quantity}`);
      const k = itemKey(l.productId, l.locationId);
      need.set(k, (need.get(k) ?? 0) + l.quantity);
    }
    for (const [k, q] of need) {
      const b = this.balances.get(k);
      if (!b || b.on_hand - b.reserved - b.safety_stock - (this.extra.get(k) ?? 0) < q) return false;
    }
    for (const [k, q] of need) this.extra.set(k, (this.extra.get(k) ?? 0) + q);
    this.grants.push({ orderId, lines });
    return true;
  }

  /**
   * Writes the granted lines of the orders in `orders` (a granted order the caller did not write after all — its
   * insert lost to a concurrent one — is left out), with one change event per line (balance after it, in the order
   * granted) in the outbox; returns the number of lines written.
   */
  async write(em: EntityManager, actor: string, orders: ReadonlySet<string>): Promise<number> {
    const running = new Map<string, number>();
    const t = this.grants.filter((g) => orders.has(g.orderId)).flatMap((g) => g.lines.map((line) => {
      const k = itemKey(line.productId, line.locationId);
      const balance = this.balances.get(k)!;
      const reservedAfter = (running.get(k) ?? balance.reserved) + line.quantity;
      running.set(k, reservedAfter);
      return { id: randomUUID(), orderId: g.orderId, line, balance, reservedAfter };
    }));
    if (!t.length) return 0;
    const at = new Date().toISOString();
    const events: InventoryChangedEvent[] = t.map((x) => ({
      type: 'inventoryChanged', sku: x.balance.sku, locationCode: x.balance.code, onHand: x.balance.on_hand, reserved: x.reservedAfter,
      available: Math.max(0, x.balance.on_hand - x.reservedAfter - x.balance.safety_stock), reason: StockMovementReason.RESERVE, at,
    }));
    const [{ updated }] = await sql<{ updated: number }>(em, `
      WITH v AS (
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::uuid[], $5::uuid[], $6::uuid[], $7::int[], $8::int[]) WITH ORDINALITY
               AS v(p, l, q, id, order_id, fol_id, on_hand, reserved_after, ord)),
      item AS (SELECT p, l, sum(q)::int AS q FROM v GROUP BY p, l),
      upd AS (
        UPDATE stock_level s SET reserved = s.reserved + item.q, updated_at = now() FROM item
         WHERE s.product_id = item.p AND s.location_id = item.l AND s.on_hand - s.reserved - s.safety_stock >= item.q
        RETURNING 1),
      res AS (
        INSERT INTO reservation (id, product_id, location_id, quantity, order_id, fulfillment_order_line_id)
        SELECT id, p, l, q, order_id, fol_id FROM v ORDER BY ord),
      mov AS (
        INSERT INTO stock_movement (product_id, location_id, reason, on_hand_delta, reserved_delta, on_hand_after, reserved_after, reference, actor)
        SELECT p, l, 'RESERVE', 0, q, on_hand, reserved_after, order_id::text, $9 FROM v ORDER BY ord),
      ev AS (INSERT INTO hub_event_outbox (events) VALUES ($10::json))
      SELECT count(*)::int AS updated FROM upd`,
    [t.map((x) => x.line.productId), t.map((x) => x.line.locationId), t.map((x) => x.line.quantity), t.map((x) => x.id), t.map((x) => x.orderId),
      t.map((x) => x.line.fulfillmentOrderLineId), t.map((x) => x.balance.on_hand), t.map((x) => x.reservedAfter), actor, JSON.stringify(events)], { prepare: true });
    // The rows were locked and checked before: a refused update here means a bug, and the statement wrote nothing
    // useful — fail the transaction rather than leave reservations without their balance.
    if (updated !== new Set(t.map((x) => itemKey(x.line.productId, x.line.locationId))).size) {
      throw new Error(`reservation batch: ${updated} stock rows updated, expected one per item`);
    }
    EventOutboxRelay.of(em.dataSource).afterCommit(em);
    return t.length;
  }
}
