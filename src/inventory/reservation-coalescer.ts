import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Pool } from 'pg';

export interface CoalescedRequest { sku: string; locationCode: string; quantity: number; reference: string | null; expiresAt: Date | null; actor: string }
export interface CoalescedGrant { id: string; sku: string; locationCode: string; expiresAt: Date | null }

interface Pending extends CoalescedRequest { resolve: (g: CoalescedGrant | null) => void; reject: (e: unknown) => void }

const MAX_BATCH = 500;

/** `at` of an event built in SQL, in the same form as Date.toISOString(). */
const EVENT_AT = `to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * A batch of reservations of one item in one statement, committed on its own: lock the stock row, grant the requests
 * in arrival order while the running total fits, and write one UPDATE, one reservation and one RESERVE ledger row
 * (running balance) per granted request, and one change event in the outbox. Returns the granted positions.
 */
const GRANT_BATCH = `
  WITH cur AS (
    SELECT s.product_id, s.location_id, s.on_hand, s.reserved, s.safety_stock
      FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id
     WHERE p.sku = $1 AND l.code = $2 FOR UPDATE OF s),
  req AS (
    SELECT g.*, sum(g.quantity) OVER (ORDER BY g.ord) AS cum
      FROM unnest($3::uuid[], $4::int[], $5::text[], $6::timestamptz[], $7::text[]) WITH ORDINALITY AS g(id, quantity, reference, expires_at, actor, ord)),
  granted AS (
    SELECT req.*, cur.product_id, cur.location_id FROM req, cur WHERE req.cum <= cur.on_hand - cur.reserved - cur.safety_stock),
  upd AS (
    -- The condition is checked again here, on the row version being updated: the database, not the read above, is
    -- what guarantees ATP never goes below 0 (if it no longer fits, nothing at all is written).
    UPDATE stock_level s SET reserved = s.reserved + (SELECT sum(quantity) FROM granted)::int, updated_at = now()
      FROM cur WHERE s.product_id = cur.product_id AND s.location_id = cur.location_id AND EXISTS (SELECT 1 FROM granted)
       AND s.on_hand - s.reserved - s.safety_stock >= (SELECT sum(quantity) FROM granted)
    RETURNING s.on_hand, s.reserved, s.safety_stock, s.reserved - (SELECT sum(quantity) FROM granted)::int AS reserved_before),
  lines AS (SELECT g.*, u.on_hand, (u.reserved_before + g.cum)::int AS reserved_after FROM granted g, upd u),
  res AS (
    INSERT INTO reservation (id, product_id, location_id, quantity, reference, expires_at)
    SELECT id, product_id, location_id, quantity, reference, expires_at FROM lines),
  mov AS (
    INSERT INTO stock_movement (product_id, location_id, reason, on_hand_delta, reserved_delta, on_hand_after, reserved_after, reference, actor)
    SELECT product_id, location_id, 'RESERVE', 0, quantity, on_hand, reserved_after, reference, actor FROM lines ORDER BY ord),
  evt AS (
    INSERT INTO hub_event_outbox (events)
    SELECT json_build_array(json_build_object('type', 'inventoryChanged', 'sku', $1::text, 'locationCode', $2::text, 'onHand', on_hand,
             'reserved', reserved, 'available', greatest(0, on_hand - reserved - safety_stock), 'reason', 'RESERVE', 'at', ${EVENT_AT}))
      FROM upd)
  SELECT ord::int AS ord FROM lines`;

/**
 * Request coalescing for hot items. Every reservation of one (sku, location) row queues behind that row's lock
 * anyway; here, while one reservation of an item is in flight, later ones for the same item wait in memory and are
 * then granted together in one statement (GRANT_BATCH). Throughput on a hot SKU then scales with the batch size
 * instead of the row lock's hand-off rate (one commit, one fsync, per batch).
 *
 * A lone request (nothing in flight) is not delayed: it takes the single-statement path. `null` means "not granted
 * in the batch" (the running total no longer fitted): the caller retries it alone, which gives the exact answer
 * (and the precise error).
 */
export class ReservationCoalescer {
  private readonly queues = new Map<string, Pending[]>();
  private readonly busy = new Set<string>();

  constructor(
    private readonly ds: DataSource,
    private readonly single: (r: CoalescedRequest) => Promise<CoalescedGrant>,
    /** Called after a batch committed that wrote events (the caller relays them). */
    private readonly committed: () => void,
  ) {}

  reserve(r: CoalescedRequest): Promise<CoalescedGrant | null> {
    const key = `${r.sku}\u0000${r.locationCode}`;
    if (!this.busy.has(key)) {
      this.busy.add(key);
      return this.single(r).finally(() => this.drain(key));
    }
    return new Promise((resolve, reject) => {
      const q = this.queues.get(key) ?? [];
      q.push({ ...r, resolve, reject });
      this.queues.set(key, q);
    });
  }

  private drain(key: string): void {
    const q = this.queues.get(key);
    if (!q?.length) {
      this.queues.delete(key);
      this.busy.delete(key);
      return;
    }
    const batch = q.splice(0, MAX_BATCH);
    this.grant(batch).then(
      (grants) => batch.forEach((p, i) => p.resolve(grants[i])),
      (err) => batch.forEach((p) => p.reject(err)),
    ).finally(() => this.drain(key));
  }

  private async grant(batch: Pending[]): Promise<(CoalescedGrant | null)[]> {
    const { sku, locationCode } = batch[0];
    const ids = batch.map(() => randomUUID());
    const pool = (this.ds.driver as unknown as { master: Pool }).master;
    const { rows } = await pool.query<{ ord: number }>({
      name: 'inventory.reserve-batch', text: GRANT_BATCH,
      values: [sku, locationCode, ids, batch.map((p) => p.quantity), batch.map((p) => p.reference), batch.map((p) => p.expiresAt), batch.map((p) => p.actor)],
    });
    if (rows.length) this.committed();
    const granted = new Set(rows.map((r) => r.ord - 1));
    return batch.map((p, i) => (granted.has(i) ? { id: ids[i], sku, locationCode, expiresAt: p.expiresAt } : null));
  }
}
