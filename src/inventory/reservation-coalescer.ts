import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Pool } from 'pg';

export interface CoalescedRequest { sku: string; locationCode: string; quantity: number; reference: string | null; expiresAt: Date | null; actor: string }
export interface CoalescedGrant { id: string; sku: string; locationCode: string; expiresAt: Date | null }

interface Pending extends CoalescedRequest { resolve: (g: CoalescedGrant | null) => void; reject: (e: unknown) => void }

const MAX_BATCH = 500;

/**
 * A reservation id: a UUID whose first 48 bits are the time in milliseconds (the UUIDv7 layout), the rest random.
 * Ids of new reservations then land at the right edge of the primary-key index instead of on a random leaf page
 * each, which makes every reservation's index insert cheaper (fewer pages touched, fewer full-page images in the WAL).
 */
export function reservationId(): string {
  const random = randomUUID();
  const ms = Date.now().toString(16).padStart(12, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${random.slice(15)}`;
}

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
    const ids = batch.map(() => reservationId());
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

export interface BasketRequest {
  lines: { sku: string; locationCode: string; quantity: number }[];
  /** The reservation ids to write, one per line. */
  ids: string[];
  reference: string | null;
  expiresAt: Date | null;
  actor: string;
}

interface PendingBasket { request: BasketRequest; alone: () => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }

/**
 * Statements (a lone basket or a batch of them) the basket coalescer runs at once; later baskets wait for one. Enough
 * to keep the database busy while some wait for their commit's WAL flush (measured: the CPU per reservation was the
 * same with 1 to 8 slots, so more slots cost nothing there), few enough that busy periods form batches.
 */
const BASKET_SLOTS = 4;
/** Lines per batch statement (a basket has at most 100). */
const MAX_BASKET_LINES = 400;

/**
 * Several multi-line reservations ("baskets") in one statement, committed on its own, each all-or-nothing:
 * - every stock row of the batch is locked in ONE statement, in the fixed (product, location) order that every
 *   multi-row writer uses, so batches cannot deadlock with each other or with other writers;
 * - a basket is granted when each of its items fits with everything that baskets earlier in the batch ask of that
 *   item (whether those were granted or not: conservative, never more than the locked balance); a basket with an
 *   unknown SKU or location, or one that does not fit, is not granted here and its caller asks alone, which gives the
 *   exact answer and the precise error;
 * - the granted lines are written as a single reservation would write them: the conditional UPDATE per item (checked
 *   again on the row being written; should it refuse, `whole` fails the statement and nothing is written), one
 *   reservation and one RESERVE ledger row per line (running balance, in basket order), and one event per item
 *   (its balance after the batch) in the outbox.
 * `LIMIT $9` / `LIMIT $10` are the array lengths (no-ops): they tell the planner the input is small, so that the
 * statement gets one generic plan per connection instead of being planned again on every execution.
 * Returns the granted baskets' positions (1-based).
 */
const GRANT_BASKETS = `
  WITH v AS (
    SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::uuid[]) WITH ORDINALITY AS v(req, sku, code, q, rid, ord) LIMIT $9),
  r AS (
    SELECT * FROM unnest($6::text[], $7::timestamptz[], $8::text[]) WITH ORDINALITY AS r(reference, expires_at, actor, req) LIMIT $10),
  items AS (
    SELECT v.req, v.ord, v.q, v.rid, v.sku, v.code, p.id AS product_id, l.id AS location_id
      FROM v JOIN product p ON p.sku = v.sku JOIN location l ON l.code = v.code),
  locked AS (
    SELECT s.product_id, s.location_id, s.on_hand - s.reserved - s.safety_stock AS atp
      FROM stock_level s JOIN (SELECT DISTINCT product_id, location_id FROM items) i ON s.product_id = i.product_id AND s.location_id = i.location_id
     ORDER BY s.product_id, s.location_id FOR UPDATE OF s),
  need AS (SELECT req, product_id, location_id, sum(q) AS q FROM items GROUP BY 1, 2, 3),
  upto AS (
    SELECT n.req, coalesce(sum(n.q) OVER (PARTITION BY n.product_id, n.location_id ORDER BY n.req) <= k.atp, false) AS fits
      FROM need n LEFT JOIN locked k ON k.product_id = n.product_id AND k.location_id = n.location_id),
  ok AS (
    SELECT req FROM upto GROUP BY req HAVING bool_and(fits)
    INTERSECT
    SELECT v.req FROM v LEFT JOIN items i ON i.ord = v.ord GROUP BY v.req HAVING bool_and(i.ord IS NOT NULL)),
  g AS (SELECT i.*, r.reference, r.expires_at, r.actor FROM items i JOIN ok ON ok.req = i.req JOIN r ON r.req = i.req),
  tot AS (SELECT product_id, location_id, sum(q)::int AS q FROM g GROUP BY 1, 2),
  upd AS (
    UPDATE stock_level s SET reserved = s.reserved + t.q, updated_at = now()
      FROM tot t WHERE s.product_id = t.product_id AND s.location_id = t.location_id AND s.on_hand - s.reserved - s.safety_stock >= t.q
    RETURNING s.product_id, s.location_id, s.on_hand, s.reserved, s.safety_stock, s.reserved - t.q AS reserved_before),
  whole AS (
    SELECT CASE WHEN (SELECT count(*) FROM upd) = (SELECT count(*) FROM tot) THEN 0
                ELSE 1 / ((SELECT count(*) FROM upd) - (SELECT count(*) FROM upd))::int END AS partial),
  lines AS (
    SELECT g.*, u.on_hand, (u.reserved_before + sum(g.q) OVER (PARTITION BY g.product_id, g.location_id ORDER BY g.ord))::int AS reserved_after
      FROM g JOIN upd u ON u.product_id = g.product_id AND u.location_id = g.location_id),
  res AS (
    INSERT INTO reservation (id, product_id, location_id, quantity, reference, expires_at)
    SELECT rid, product_id, location_id, q, reference, expires_at FROM lines),
  mov AS (
    INSERT INTO stock_movement (product_id, location_id, reason, on_hand_delta, reserved_delta, on_hand_after, reserved_after, reference, actor)
    SELECT product_id, location_id, 'RESERVE', 0, q, on_hand, reserved_after, reference, actor FROM lines ORDER BY ord),
  evt AS (
    INSERT INTO hub_event_outbox (events)
    SELECT json_agg(json_build_object('type', 'inventoryChanged', 'sku', e.sku, 'locationCode', e.code, 'onHand', e.on_hand,
             'reserved', e.reserved, 'available', greatest(0, e.on_hand - e.reserved - e.safety_stock), 'reason', 'RESERVE', 'at', ${EVENT_AT}) ORDER BY e.ord)
      FROM (SELECT DISTINCT ON (u.product_id, u.location_id) u.*, g.sku, g.code, g.ord
              FROM upd u JOIN g ON g.product_id = u.product_id AND g.location_id = u.location_id
             ORDER BY u.product_id, u.location_id, g.ord) e
    HAVING count(*) > 0)
  SELECT ok.req::int AS req FROM ok, whole WHERE whole.partial = 0`;

/**
 * Group commit for multi-line reservations. Baskets that arrive in the same turn of the event loop, or while
 * BASKET_SLOTS statements are already running, are tried together in one statement (GRANT_BASKETS): one round trip,
 * one commit and one outbox row for the lot, each basket still all or nothing. A basket that is alone runs its own
 * statement (`alone`), delayed by no timer (only to the end of the current turn). A basket the batch did not grant
 * runs `alone` afterwards, which gives the exact answer.
 */
export class BasketCoalescer {
  private running = 0;
  private scheduled = false;
  private readonly waiting: PendingBasket[] = [];

  constructor(private readonly ds: DataSource, private readonly committed: () => void, private readonly slots = BASKET_SLOTS) {}

  /** `alone`'s result, or undefined when a batch granted the basket (with `request.ids`). */
  reserve<T>(request: BasketRequest, alone: () => Promise<T>): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      this.waiting.push({ request, alone, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.slots || !this.waiting.length) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.running < this.slots && this.waiting.length) this.start(this.take());
    });
  }

  /** The waiting baskets, oldest first, up to MAX_BASKET_LINES lines (at least one basket). */
  private take(): PendingBasket[] {
    let lines = 0;
    let n = 0;
    while (n < this.waiting.length && (n === 0 || lines + this.waiting[n].request.lines.length <= MAX_BASKET_LINES)) lines += this.waiting[n++].request.lines.length;
    return this.waiting.splice(0, n);
  }

  private start(batch: PendingBasket[]): void {
    this.running++;
    const done = batch.length === 1
      ? batch[0].alone().then(batch[0].resolve, batch[0].reject)
      : this.grant(batch).then(
        (granted) => batch.forEach((p, i) => (granted.has(i) ? p.resolve(undefined) : p.alone().then(p.resolve, p.reject))),
        // The statement wrote nothing (a line no longer fitted when written): each basket asks alone. Any other error
        // (e.g. a lost connection, when the commit's outcome is unknown) is not retried.
        (err) => batch.forEach((p) => (isStatementAborted(err) ? p.alone().then(p.resolve, p.reject) : p.reject(err))),
      );
    void done.finally(() => {
      this.running--;
      this.schedule();
    });
  }

  private async grant(batch: PendingBasket[]): Promise<Set<number>> {
    const lines = batch.flatMap((p, b) => p.request.lines.map((l, i) => ({ ...l, req: b + 1, id: p.request.ids[i] })));
    const pool = (this.ds.driver as unknown as { master: Pool }).master;
    const { rows } = await pool.query<{ req: number }>({
      name: 'inventory.reserve-baskets', text: GRANT_BASKETS,
      values: [lines.map((l) => l.req), lines.map((l) => l.sku), lines.map((l) => l.locationCode), lines.map((l) => l.quantity), lines.map((l) => l.id),
        batch.map((p) => p.request.reference), batch.map((p) => p.request.expiresAt), batch.map((p) => p.request.actor), lines.length, batch.length],
    });
    if (rows.length) this.committed();
    return new Set(rows.map((r) => r.req - 1));
  }
}

/** The batch statement refused to write part of its lines and wrote nothing (division by zero is its way of aborting). */
function isStatementAborted(err: unknown): boolean {
  return (err as { code?: string })?.code === '22012';
}
