import { rows as sql } from '../db/sql';
import type { DataSource, EntityManager } from 'typeorm';
import { DomainError, badInput, notFound } from '../errors';
import { EventOutboxRelay, poolOf } from '../events/event-outbox';
import type { InventoryChangedEvent } from '../events/hub-events';
import { IdempotencyStore } from '../idempotency/idempotency.store';
import { BasketCoalescer, ReservationCoalescer, reservationId, type CoalescedGrant, type CoalescedRequest } from './reservation-coalescer';
import { StockMovementReason } from '../model/enums';

export const MAX_QUANTITY = 1_000_000_000;
/** Longest a cart/checkout reservation may be held before the sweeper expires it. */
export const MAX_RESERVATION_TTL_SECONDS = 7 * 24 * 3600;
export const MAX_RESERVATION_LINES = 100;

export interface StockSnapshot {
  sku: string;
  locationCode: string;
  onHand: number;
  reserved: number;
  safetyStock: number;
  available: number;
}

/** Options every change accepts. */
export interface ChangeOptions { idempotencyKey?: string | null }

export interface AdjustInput { sku: string; locationCode: string; delta: number; reason: StockMovementReason; reference?: string; note?: string }
export interface SetInput { sku: string; locationCode: string; onHand: number; expectedOnHand?: number; reason?: StockMovementReason; reference?: string; note?: string }
export interface ReserveLine { productId: string; locationId: string; quantity: number; fulfillmentOrderLineId?: string }
export interface TransferInput { sku: string; fromLocationCode: string; toLocationCode: string; quantity: number; reference?: string; note?: string }
export interface ReserveStockInput { lines: { sku: string; locationCode: string; quantity: number }[]; ttlSeconds?: number | null; reference?: string | null }
export interface ReleaseInput { reservationIds?: string[] | null; reference?: string | null }

export interface TransferView {
  id: string; sku: string; fromLocationCode: string; toLocationCode: string; quantity: number;
  status: 'IN_TRANSIT' | 'RECEIVED' | 'CANCELLED'; reference: string | null; createdAt: string; closedAt: string | null;
}
export type TransferReceivedHandler = (em: EntityManager, transfer: TransferView & { productId: string; toLocationId: string }, actor: string) => Promise<void>;
export interface ReservationView { id: string; sku: string; locationCode: string; quantity: number; status: string; reference: string | null; expiresAt: string | null }
export interface ReserveStockResult { reservations: ReservationView[] }

const ADJUST_REASONS = new Set<StockMovementReason>([
  StockMovementReason.RECEIPT, StockMovementReason.SALE, StockMovementReason.DAMAGE, StockMovementReason.CYCLE_COUNT,
  StockMovementReason.RETURN, StockMovementReason.CORRECTION,
]);

interface ItemIds { productId: string; locationId: string; sku: string; locationCode: string }

interface BalanceRow { on_hand: number; reserved: number; safety_stock: number }

export function checkQuantity(field: string, value: number, opts: { allowZero?: boolean; allowNegative?: boolean } = {}): void {
  if (!Number.isInteger(value)) throw badInput(field, `must be a whole number, got ${value}`);
  if (Math.abs(value) > MAX_QUANTITY) throw badInput(field, `must be at most ${MAX_QUANTITY} in size, got ${value}`);
  if (value === 0 && !opts.allowZero) throw badInput(field, 'must not be zero');
  if (value < 0 && !opts.allowNegative) throw badInput(field, `must be positive, got ${value}`);
}

/** `at` of an event built in SQL, in the same form as Date.toISOString(). */
const EVENT_AT = `to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** An InventoryChangedEvent as JSON, from a row with sku, code, on_hand, reserved, safety_stock. */
const eventJson = (a: string, reason: string) => `json_build_object('type', 'inventoryChanged', 'sku', ${a}.sku, 'locationCode', ${a}.code,
  'onHand', ${a}.on_hand, 'reserved', ${a}.reserved, 'available', greatest(0, ${a}.on_hand - ${a}.reserved - ${a}.safety_stock),
  'reason', ${reason}, 'at', ${EVENT_AT})`;

/**
 * One reservation line as one statement, committed on its own: conditional UPDATE (never below ATP 0), reservation
 * row, ledger row with the balance after, and the change event in the outbox. Nothing is written when the condition
 * fails (no row comes back).
 */
const RESERVE_ONE = `
  WITH item AS (SELECT p.id AS product_id, l.id AS location_id, p.sku, l.code FROM product p, location l WHERE p.sku = $1 AND l.code = $2),
  upd AS (
    UPDATE stock_level s SET reserved = s.reserved + $3::int, updated_at = now()
      FROM item WHERE s.product_id = item.product_id AND s.location_id = item.location_id
       AND s.on_hand - s.reserved - s.safety_stock >= $3
    RETURNING s.product_id, s.location_id, s.on_hand, s.reserved, s.safety_stock, item.sku, item.code),
  res AS (
    INSERT INTO reservation (id, product_id, location_id, quantity, reference, expires_at)
    SELECT $7::uuid, product_id, location_id, $3::int, $4::text, $5::timestamptz FROM upd RETURNING id, expires_at),
  mov AS (
    INSERT INTO stock_movement (product_id, location_id, reason, on_hand_delta, reserved_delta, on_hand_after, reserved_after, reference, actor)
    SELECT product_id, location_id, 'RESERVE', 0, $3::int, on_hand, reserved, $4::text, $6::text FROM upd),
  evt AS (INSERT INTO hub_event_outbox (events) SELECT json_build_array(${eventJson('upd', `'RESERVE'`)}) FROM upd)
  SELECT res.id, res.expires_at, upd.sku, upd.code FROM upd, res`;

/**
 * All lines of a reservation or none, in one statement: the stock rows are locked in the one fixed order (product,
 * location) before anything is written, every line is checked against the locked balances (lines on the same item
 * add up), and only if all fit are the balances, reservation rows, ledger rows (running balance per line) and the
 * events written. It returns every resolved line with its locked balance, so a refusal needs no further reads.
 * `$1/$2` select the items: SKU and location code, or product and location id (`byIds`). `LIMIT $10` is the number of
 * lines (a no-op): it tells the planner the input is small, so that the prepared statement gets one generic plan per
 * connection. Without it the plan for the actual arrays always looked cheaper than the generic one (which guesses 10
 * elements per array) and the statement was planned again on every execution — about 40 % of its cost.
 */
const reserveLinesSql = (byIds: boolean) => `
  WITH v AS (SELECT * FROM unnest($1::${byIds ? 'uuid' : 'text'}[], $2::${byIds ? 'uuid' : 'text'}[], $3::int[], $4::uuid[], $5::uuid[])
                  WITH ORDINALITY AS v(k1, k2, q, rid, fol, ord) LIMIT $10),
  items AS (
    SELECT v.ord, v.q, v.rid, v.fol, p.id AS product_id, l.id AS location_id, p.sku, l.code
      FROM v JOIN product p ON p.${byIds ? 'id' : 'sku'} = v.k1 JOIN location l ON l.${byIds ? 'id' : 'code'} = v.k2),
  locked AS (
    SELECT s.product_id, s.location_id, s.on_hand, s.reserved, s.safety_stock
      FROM stock_level s JOIN items i ON s.product_id = i.product_id AND s.location_id = i.location_id
     ORDER BY s.product_id, s.location_id FOR UPDATE OF s),
  need AS (SELECT product_id, location_id, sum(q)::int AS q FROM items GROUP BY 1, 2),
  chk AS (
    SELECT n.product_id, n.location_id, n.q, k.on_hand, k.reserved, k.safety_stock,
           coalesce(k.on_hand - k.reserved - k.safety_stock >= n.q, false) AS fits
      FROM need n LEFT JOIN locked k ON k.product_id = n.product_id AND k.location_id = n.location_id),
  go AS (SELECT (SELECT count(*) FROM items) = $10::int AND coalesce(bool_and(fits), false) AS ok FROM chk),
  upd AS (
    -- The condition is checked again on the row version being updated: the database, not the read above, guarantees
    -- ATP never goes below 0. Should a line no longer fit here, \`whole\` below fails the statement: nothing is written.
    UPDATE stock_level s SET reserved = s.reserved + c.q, updated_at = now()
      FROM chk c WHERE (SELECT ok FROM go) AND s.product_id = c.product_id AND s.location_id = c.location_id
       AND s.on_hand - s.reserved - s.safety_stock >= c.q
    RETURNING s.product_id, s.location_id, s.on_hand, s.reserved, s.safety_stock, s.reserved - c.q AS reserved_before),
  whole AS (
    SELECT CASE WHEN (SELECT count(*) FROM upd) IN (0, (SELECT count(*) FROM chk)) THEN 0
                ELSE 1 / ((SELECT count(*) FROM upd) - (SELECT count(*) FROM upd))::int END AS partial),
  lines AS (
    SELECT i.ord, i.q, i.rid, i.fol, i.product_id, i.location_id, u.on_hand,
           u.reserved_before + sum(i.q) OVER (PARTITION BY i.product_id, i.location_id ORDER BY i.ord) AS reserved_after
      FROM items i JOIN upd u ON u.product_id = i.product_id AND u.location_id = i.location_id),
  res AS (
    INSERT INTO reservation (id, product_id, location_id, quantity, order_id, fulfillment_order_line_id, reference, expires_at)
    SELECT rid, product_id, location_id, q, $6::uuid, fol, $7::text, $8::timestamptz FROM lines),
  mov AS (
    INSERT INTO stock_movement (product_id, location_id, reason, on_hand_delta, reserved_delta, on_hand_after, reserved_after, reference, actor)
    SELECT product_id, location_id, 'RESERVE', 0, q, on_hand, reserved_after, coalesce($7::text, $6::uuid::text), $9::text FROM lines ORDER BY ord),
  evt AS (
    INSERT INTO hub_event_outbox (events)
    SELECT json_agg(${eventJson('e', `'RESERVE'`)} ORDER BY e.ord)
      FROM (SELECT DISTINCT ON (u.product_id, u.location_id) u.*, i.sku, i.code, i.ord
              FROM upd u JOIN items i ON i.product_id = u.product_id AND i.location_id = u.location_id
             ORDER BY u.product_id, u.location_id, i.ord) e
    HAVING count(*) > 0)
  SELECT i.ord::int AS ord, i.sku, i.code, c.on_hand, c.reserved, c.safety_stock, c.fits, (SELECT count(*) FROM upd)::int AS applied
    FROM items i JOIN chk c ON c.product_id = i.product_id AND c.location_id = i.location_id, whole WHERE whole.partial = 0`;
const RESERVE_LINES_BY_CODES = reserveLinesSql(false);

/** An adjustment of an existing stock row as one statement: conditional UPDATE, ledger row, event. No row: not applied. */
const ADJUST_ONE = `
  WITH item AS (SELECT p.id AS product_id, l.id AS location_id, p.sku, l.code FROM product p, location l WHERE p.sku = $1 AND l.code = $2),
  upd AS (
    UPDATE stock_level s SET on_hand = s.on_hand + $3::int, updated_at = now()
      FROM item WHERE s.product_id = item.product_id AND s.location_id = item.location_id AND s.on_hand + $3::int >= s.reserved
    RETURNING s.product_id, s.location_id, s.on_hand, s.reserved, s.safety_stock, item.sku, item.code),
  mov AS (
    INSERT INTO stock_movement (product_id, location_id, reason, on_hand_delta, reserved_delta, on_hand_after, reserved_after, reference, note, actor)
    SELECT product_id, location_id, $4::text, $3::int, 0, on_hand, reserved, $5::text, $6::text, $7::text FROM upd),
  evt AS (INSERT INTO hub_event_outbox (events) SELECT json_build_array(${eventJson('upd', '$4::text')}) FROM upd)
  SELECT * FROM upd`;
const RESERVE_LINES_BY_IDS = reserveLinesSql(true);

interface LineOutcome extends BalanceRow { ord: number; sku: string; code: string; fits: boolean; applied: number }

interface ReservedRow { id: string; expires_at: Date | null; sku: string; code: string }

/**
 * The only writer of stock. Every change is a conditional UPDATE (the database's CHECK constraints are the
 * last line of defence, not the first) plus a ledger row carrying the balance after it, in one transaction,
 * with the change event written to the outbox in that transaction (relayed to subscribers after the commit, see
 * event-outbox.ts). Every public change takes an optional idempotency key.
 */
export class InventoryService {
  readonly idempotency: IdempotencyStore;
  private readonly coalescer: ReservationCoalescer;
  private readonly baskets: BasketCoalescer;
  /** Moves the events our transactions wrote to the outbox on to NOTIFY, right after they commit. */
  private readonly relay: EventOutboxRelay;

  constructor(private readonly ds: DataSource, idempotency?: IdempotencyStore) {
    this.idempotency = idempotency ?? new IdempotencyStore(ds);
    this.relay = new EventOutboxRelay(ds);
    this.coalescer = new ReservationCoalescer(ds, (r) => this.reserveOne(r), () => this.relay.kick());
    this.baskets = new BasketCoalescer(ds, () => this.relay.kick());
  }

  /** A change in a transaction of our own, under an optional idempotency key. */
  private change<T>(scope: string, key: string | null | undefined, payload: unknown, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.idempotency.execute(scope, key, payload, fn);
  }

  /** Resolves once the events of changes committed so far have been handed to NOTIFY by this process (tests, shutdown). */
  flushEvents(): Promise<void> {
    return this.relay.idle();
  }

  /** A statement on the pool's own connection, prepared once per connection (the hot paths: no transaction of ours around it). */
  private async prepared<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    return (await poolOf(this.ds).query({ name, text, values })).rows as T[];
  }

  async resolveItem(em: EntityManager, sku: string, locationCode: string, fieldPrefix = 'input', locationField = 'locationCode'): Promise<ItemIds> {
    const rows: { product_id: string | null; location_id: string | null }[] = await sql<any>(em,
      `SELECT (SELECT id FROM product WHERE sku = $1) AS product_id, (SELECT id FROM location WHERE code = $2) AS location_id`,
      [sku, locationCode],
    );
    const { product_id, location_id } = rows[0];
    if (!product_id) throw notFound('SKU', sku, `${fieldPrefix}.sku`);
    if (!location_id) throw notFound('Location', locationCode, `${fieldPrefix}.${locationField}`);
    return { productId: product_id, locationId: location_id, sku, locationCode };
  }

  async adjust(input: AdjustInput, actor: string, opts: ChangeOptions = {}): Promise<StockSnapshot> {
    checkQuantity('input.delta', input.delta, { allowNegative: true });
    if (!ADJUST_REASONS.has(input.reason)) {
      throw badInput('input.reason', `must be one of ${[...ADJUST_REASONS].join(', ')} for an adjustment`);
    }
    if (opts.idempotencyKey == null) {
      // The common case as one statement committed on its own (an existing stock row that the change fits); anything
      // else (first stock of the item here, unknown SKU or location, not enough on hand) takes the path below, which
      // creates the row or says exactly what is wrong.
      const [row] = await this.prepared<BalanceRow & { sku: string; code: string; product_id: string; location_id: string }>('inventory.adjust', ADJUST_ONE,
        [input.sku, input.locationCode, input.delta, input.reason, input.reference ?? null, input.note ?? null, actor]);
      if (row) {
        this.relay.kick();
        return snapshot({ productId: row.product_id, locationId: row.location_id, sku: row.sku, locationCode: row.code }, row);
      }
    }
    return this.change('inventory.adjust', opts.idempotencyKey, input, async (em) => {
      const item = await this.resolveItem(em, input.sku, input.locationCode);
      await this.ensureRow(em, item);
      const rows: BalanceRow[] = await sql<any>(em,
        `UPDATE stock_level SET on_hand = on_hand + $3, updated_at = now()
          WHERE product_id = $1 AND location_id = $2 AND on_hand + $3 >= reserved
          RETURNING on_hand, reserved, safety_stock`,
        [item.productId, item.locationId, input.delta],
      );
      if (!rows.length) {
        const current = await this.balance(em, item);
        throw new DomainError('INSUFFICIENT_STOCK',
          `cannot remove ${-input.delta} of ${item.sku} at ${item.locationCode}: on hand ${current.on_hand}, of which ${current.reserved} reserved`,
          'input.delta', { onHand: current.on_hand, reserved: current.reserved });
      }
      return this.record(em, item, rows[0], input.reason, input.delta, 0, actor, input.reference, input.note);
    });
  }

  async set(input: SetInput, actor: string, opts: ChangeOptions = {}): Promise<StockSnapshot> {
    checkQuantity('input.onHand', input.onHand, { allowZero: true });
    if (input.expectedOnHand !== undefined && input.expectedOnHand !== null) {
      checkQuantity('input.expectedOnHand', input.expectedOnHand, { allowZero: true });
    }
    const reason = input.reason ?? StockMovementReason.CYCLE_COUNT;
    if (!ADJUST_REASONS.has(reason)) throw badInput('input.reason', `must be one of ${[...ADJUST_REASONS].join(', ')}`);
    return this.change('inventory.set', opts.idempotencyKey, input, async (em) => {
      const item = await this.resolveItem(em, input.sku, input.locationCode);
      await this.ensureRow(em, item);
      // Lock the row: the delta recorded in the ledger must be against the value we overwrite.
      const [current] = (await sql<any>(em,
        `SELECT on_hand, reserved, safety_stock FROM stock_level WHERE product_id = $1 AND location_id = $2 FOR UPDATE`,
        [item.productId, item.locationId],
      )) as BalanceRow[];
      if (input.expectedOnHand != null && current.on_hand !== input.expectedOnHand) {
        throw new DomainError('STALE_VALUE',
          `on hand of ${item.sku} at ${item.locationCode} is ${current.on_hand}, not the expected ${input.expectedOnHand}`,
          'input.expectedOnHand', { onHand: current.on_hand });
      }
      if (input.onHand < current.reserved) {
        throw new DomainError('INSUFFICIENT_STOCK',
          `cannot set on hand of ${item.sku} at ${item.locationCode} to ${input.onHand}: ${current.reserved} are reserved`,
          'input.onHand', { reserved: current.reserved });
      }
      const delta = input.onHand - current.on_hand;
      if (delta === 0) return snapshot(item, current);
      const [row] = (await sql<any>(em,
        `UPDATE stock_level SET on_hand = $3, updated_at = now() WHERE product_id = $1 AND location_id = $2
          RETURNING on_hand, reserved, safety_stock`,
        [item.productId, item.locationId, input.onHand],
      )) as BalanceRow[];
      return this.record(em, item, row, reason, delta, 0, actor, input.reference, input.note);
    });
  }

  /**
   * Moves stock out of one location towards another: TRANSFER_OUT at the source now (reserved units cannot leave),
   * in transit until `receiveTransfer` books TRANSFER_IN at the destination (or `cancelTransfer` books it back).
   */
  async transfer(input: TransferInput, actor: string, opts: ChangeOptions = {}): Promise<TransferView> {
    checkQuantity('input.quantity', input.quantity);
    if (input.fromLocationCode === input.toLocationCode) throw badInput('input.toLocationCode', 'must differ from fromLocationCode');
    return this.change('inventory.transfer', opts.idempotencyKey, input, (em) => this.transferIn(em, input, actor));
  }

  /** `transfer` inside the caller's transaction (e.g. an order that sends stock to its pickup store). */
  async transferIn(em: EntityManager, input: TransferInput, actor: string): Promise<TransferView> {
    checkQuantity('input.quantity', input.quantity);
    if (input.fromLocationCode === input.toLocationCode) throw badInput('input.toLocationCode', 'must differ from fromLocationCode');
    {
      const from = await this.resolveItem(em, input.sku, input.fromLocationCode, 'input', 'fromLocationCode');
      const to = await this.resolveItem(em, input.sku, input.toLocationCode, 'input', 'toLocationCode');
      // The destination gets its row now, so that it lists what is on its way. Before locking the source: the
      // insert's unique check may wait for a transaction holding the destination row, which must not happen
      // while we hold another row (two rows locked in no fixed order could deadlock).
      await this.ensureRow(em, to);
      const rows: BalanceRow[] = await sql<any>(em,
        `UPDATE stock_level SET on_hand = on_hand - $3, updated_at = now()
          WHERE product_id = $1 AND location_id = $2 AND on_hand - reserved >= $3
          RETURNING on_hand, reserved, safety_stock`,
        [from.productId, from.locationId, input.quantity]);
      if (!rows.length) {
        const current = await this.balance(em, from);
        throw new DomainError('INSUFFICIENT_STOCK',
          `cannot transfer ${input.quantity} of ${from.sku} from ${from.locationCode}: on hand ${current.on_hand}, of which ${current.reserved} reserved`,
          'input.quantity', { onHand: current.on_hand, reserved: current.reserved });
      }
      const [t] = await sql<{ id: string; created_at: Date }>(em,
        `INSERT INTO inventory_transfer (product_id, from_location_id, to_location_id, quantity, reference, actor)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
        [from.productId, from.locationId, to.locationId, input.quantity, input.reference ?? null, actor]);
      await this.record(em, from, rows[0], StockMovementReason.TRANSFER_OUT, -input.quantity, 0, actor, `transfer:${t.id}`, input.note);
      return {
        id: t.id, sku: from.sku, fromLocationCode: from.locationCode, toLocationCode: to.locationCode, quantity: input.quantity,
        status: 'IN_TRANSIT' as const, reference: input.reference ?? null, createdAt: t.created_at.toISOString(), closedAt: null,
      };
    }
  }

  /**
   * Runs inside the transaction that books a transfer into its destination (e.g. orders reserve the arrived units
   * for the pickup that was waiting for them). A handler that throws undoes the receipt.
   */
  onTransferReceived(handler: TransferReceivedHandler): void {
    this.receivedHandlers.push(handler);
  }
  private readonly receivedHandlers: TransferReceivedHandler[] = [];

  /** Books an in-transit transfer into its destination (TRANSFER_IN). */
  receiveTransfer(id: string, actor: string, opts: ChangeOptions = {}): Promise<TransferView> {
    return this.closeTransfer(id, 'RECEIVED', actor, opts);
  }

  /** Cancels an in-transit transfer: the units go back to the source (TRANSFER_IN there). */
  cancelTransfer(id: string, actor: string, opts: ChangeOptions = {}): Promise<TransferView> {
    return this.closeTransfer(id, 'CANCELLED', actor, opts);
  }

  private async closeTransfer(id: string, status: 'RECEIVED' | 'CANCELLED', actor: string, opts: ChangeOptions): Promise<TransferView> {
    if (!UUID.test(id)) throw notFound('Transfer', id, 'id');
    const scope = status === 'RECEIVED' ? 'inventory.receiveTransfer' : 'inventory.cancelTransfer';
    return this.change(scope, opts.idempotencyKey, { id }, async (em) => {
      const [t] = await sql<{ product_id: string; from_location_id: string; to_location_id: string; quantity: number }>(em,
        `UPDATE inventory_transfer SET status = $2, closed_at = now() WHERE id = $1 AND status = 'IN_TRANSIT'
         RETURNING product_id, from_location_id, to_location_id, quantity`, [id, status]);
      if (!t) {
        const [existing] = await sql<{ status: string }>(em, `SELECT status FROM inventory_transfer WHERE id = $1`, [id]);
        if (!existing) throw notFound('Transfer', id, 'id');
        throw new DomainError('INVALID_TRANSITION', `transfer ${id} is ${existing.status}, not IN_TRANSIT`, 'id', { status: existing.status });
      }
      const target = status === 'RECEIVED' ? t.to_location_id : t.from_location_id;
      const item = await this.describe(em, t.product_id, target);
      await this.ensureRow(em, item);
      const [row] = await sql<BalanceRow>(em,
        `UPDATE stock_level SET on_hand = on_hand + $3, updated_at = now() WHERE product_id = $1 AND location_id = $2
         RETURNING on_hand, reserved, safety_stock`, [t.product_id, target, t.quantity]);
      await this.record(em, item, row, StockMovementReason.TRANSFER_IN, t.quantity, 0, actor, `transfer:${id}`, status === 'CANCELLED' ? 'transfer cancelled' : undefined);
      const view = (await this.transfers(em, { ids: [id] }))[0];
      if (status === 'RECEIVED') for (const h of this.receivedHandlers) await h(em, { ...view, productId: t.product_id, toLocationId: t.to_location_id }, actor);
      return view;
    });
  }

  async transfers(em: EntityManager, filter: { ids?: string[]; status?: string | null; sku?: string | null; locationCode?: string | null; afterId?: string | null; limit?: number }): Promise<TransferView[]> {
    const found = await sql<any>(em, `
      SELECT t.id, p.sku, lf.code AS from_code, lt.code AS to_code, t.quantity, t.status, t.reference, t.created_at, t.closed_at
        FROM inventory_transfer t JOIN product p ON p.id = t.product_id
        JOIN location lf ON lf.id = t.from_location_id JOIN location lt ON lt.id = t.to_location_id
       WHERE ($1::uuid[] IS NULL OR t.id = ANY($1)) AND ($2::text IS NULL OR t.status = $2) AND ($3::text IS NULL OR p.sku = $3)
         AND ($4::text IS NULL OR lf.code = $4 OR lt.code = $4)
         AND ($5::uuid IS NULL OR (t.created_at, t.id) > (SELECT created_at, id FROM inventory_transfer WHERE id = $5))
       ORDER BY t.created_at, t.id LIMIT $6`,
      [filter.ids ?? null, filter.status ?? null, filter.sku ?? null, filter.locationCode ?? null, filter.afterId ?? null, filter.limit ?? 1000]);
    return found.map((r) => ({
      id: r.id, sku: r.sku, fromLocationCode: r.from_code, toLocationCode: r.to_code, quantity: r.quantity, status: r.status,
      reference: r.reference, createdAt: r.created_at.toISOString(), closedAt: r.closed_at ? r.closed_at.toISOString() : null,
    }));
  }

  /**
   * Reserves every line or none, inside the caller's transaction, in one statement (see reserveLinesSql: rows locked
   * in (product, location) order, so two multi-line reservations never wait on each other in opposite orders).
   * Lines may repeat an item (two order lines of one SKU): they add up. Returns the reservation ids in the order of `lines`.
   */
  async reserve(em: EntityManager, lines: ReserveLine[], ctx: { orderId?: string; reference?: string; expiresAt?: Date; actor: string }): Promise<string[]> {
    if (!lines.length) return [];
    lines.forEach((line, index) => {
      checkQuantity(`lines[${index}].quantity`, line.quantity);
      if (!UUID.test(line.productId)) throw notFound('Product', line.productId, `lines[${index}].productId`);
      if (!UUID.test(line.locationId)) throw notFound('Location', line.locationId, `lines[${index}].locationId`);
    });
    const ids = lines.map(() => reservationId());
    let outcome: LineOutcome[] = [];
    for (let tries = 1; tries <= 3; tries++) {
      outcome = await sql<LineOutcome>(em, RESERVE_LINES_BY_IDS, [
        lines.map((l) => l.productId), lines.map((l) => l.locationId), lines.map((l) => l.quantity), ids,
        lines.map((l) => l.fulfillmentOrderLineId ?? null), ctx.orderId ?? null, ctx.reference ?? null, ctx.expiresAt ?? null, ctx.actor, lines.length])
        .catch((err) => { throw changedWhileReserving(err, 'lines'); });
      if (outcome[0]?.applied) {
        this.relay.afterCommit(em);
        return ids;
      }
      // Nothing written although every line seemed to fit: the stock changed between the read and the write (the
      // write's own condition refused). The statement left nothing behind, so it can simply run again.
      if (!(outcome.length === lines.length && outcome.every((o) => o.fits))) break;
    }
    const byLine = new Map(outcome.map((o) => [o.ord - 1, o]));
    lines.forEach((line, index) => {
      if (!byLine.has(index)) throw new DomainError('NOT_FOUND', `product ${line.productId} or location ${line.locationId} was not found`, `lines[${index}]`, { productId: line.productId, locationId: line.locationId });
    });
    const index = Math.max(0, lines.findIndex((_, i) => !byLine.get(i)!.fits));
    const o = byLine.get(index)!;
    throw new DomainError('INSUFFICIENT_STOCK', `not enough ${o.sku} available at ${o.code} to reserve ${lines[index].quantity}`,
      `lines[${index}].quantity`, { sku: o.sku, locationCode: o.code, available: available(o) });
  }

  /**
   * Cart/checkout reservations by SKU and location code, all lines or none, optionally expiring after `ttlSeconds`
   * (the expiry sweeper then releases them). One statement either way; a single line without an idempotency key is
   * coalesced with concurrent reservations of the same item (see ReservationCoalescer).
   */
  async reserveStock(input: ReserveStockInput, actor: string, opts: ChangeOptions = {}): Promise<ReserveStockResult> {
    if (!input.lines.length) throw badInput('input.lines', 'must not be empty');
    if (input.lines.length > MAX_RESERVATION_LINES) throw badInput('input.lines', `at most ${MAX_RESERVATION_LINES} lines`);
    input.lines.forEach((l, i) => checkQuantity(`input.lines[${i}].quantity`, l.quantity));
    if (input.ttlSeconds != null && !(Number.isInteger(input.ttlSeconds) && input.ttlSeconds > 0 && input.ttlSeconds <= MAX_RESERVATION_TTL_SECONDS)) {
      throw badInput('input.ttlSeconds', `must be a whole number of seconds between 1 and ${MAX_RESERVATION_TTL_SECONDS}`);
    }
    const seen = new Set<string>();
    input.lines.forEach((l, i) => {
      const key = `${l.sku}\u0000${l.locationCode}`;
      if (seen.has(key)) throw badInput(`input.lines[${i}]`, 'repeats an earlier line\'s sku and location; merge them');
      seen.add(key);
    });
    const expiresAt = input.ttlSeconds != null ? new Date(Date.now() + input.ttlSeconds * 1000) : null;
    const reference = input.reference ?? null;
    if (input.lines.length === 1 && opts.idempotencyKey == null) {
      // The hot path for carts: coalesced with concurrent reservations of the same item (see ReservationCoalescer);
      // a request the batch could not grant is retried alone, which gives the exact answer.
      const line = input.lines[0];
      const request = { ...line, reference, expiresAt, actor };
      const grant = await this.coalescer.reserve(request) ?? await this.reserveOne(request);
      return { reservations: [{ id: grant.id, sku: grant.sku, locationCode: grant.locationCode, quantity: line.quantity, status: 'ACTIVE', reference, expiresAt: grant.expiresAt ? new Date(grant.expiresAt).toISOString() : null }] };
    }
    const ids = input.lines.map(() => reservationId());
    const params = [input.lines.map((l) => l.sku), input.lines.map((l) => l.locationCode), input.lines.map((l) => l.quantity), ids,
      input.lines.map(() => null), null, reference, expiresAt, actor, input.lines.length];
    // SKU and location codes match exactly (text equality), so what was reserved carries the caller's.
    const reserved: ReserveStockResult = {
      reservations: input.lines.map((line, i): ReservationView => ({
        id: ids[i], sku: line.sku, locationCode: line.locationCode, quantity: line.quantity, status: 'ACTIVE', reference,
        expiresAt: expiresAt ? expiresAt.toISOString() : null,
      })),
    };
    const attempt = async (em: EntityManager | null): Promise<ReserveStockResult> => {
      let outcome: LineOutcome[] = [];
      for (let tries = 1; tries <= 3; tries++) {
        try {
          outcome = em ? await sql<LineOutcome>(em, RESERVE_LINES_BY_CODES, params) : await this.prepared<LineOutcome>('inventory.reserve-lines', RESERVE_LINES_BY_CODES, params);
        } catch (err) {
          // A line no longer fitted when written (the statement wrote nothing): on its own, simply ask again.
          if (em || tries >= 3 || !isChangedWhileReserving(err)) throw changedWhileReserving(err, 'input.lines');
          continue;
        }
        // Nothing written although every line seemed to fit: the stock changed between the statement's read and its
        // write (the write's own condition refused); nothing was left behind, so ask again.
        if (outcome[0]?.applied || !(outcome.length === input.lines.length && outcome.every((o) => o.fits))) break;
      }
      if (!outcome[0]?.applied) throw await this.whyLinesRefused(em ?? this.ds.manager, input, outcome);
      if (em) this.relay.afterCommit(em); else this.relay.kick();
      return reserved;
    };
    // With a key: in the transaction that claims the key. Without: the statement commits on its own, or, while other
    // baskets are being reserved, together with the baskets that arrived meanwhile (see BasketCoalescer).
    if (opts.idempotencyKey != null) return this.change('inventory.reserve', opts.idempotencyKey, input, (em) => attempt(em));
    return (await this.baskets.reserve({ lines: input.lines, ids, reference, expiresAt, actor }, () => attempt(null))) ?? reserved;
  }

  /** Why an all-or-nothing reservation wrote nothing: an unknown SKU or location first (bad input before stock), then
   * the first line, in the caller's order, that does not fit. */
  private async whyLinesRefused(em: EntityManager, input: ReserveStockInput, outcome: LineOutcome[]): Promise<DomainError> {
    const byLine = new Map(outcome.map((o) => [o.ord - 1, o]));
    for (const [i, line] of input.lines.entries()) if (!byLine.has(i)) await this.resolveItem(em, line.sku, line.locationCode, `input.lines[${i}]`);
    const index = Math.max(0, input.lines.findIndex((_, i) => !byLine.get(i)!.fits));
    const o = byLine.get(index)!;
    return new DomainError('INSUFFICIENT_STOCK', `not enough ${o.sku} available at ${o.code} to reserve ${input.lines[index].quantity}`,
      `input.lines[${index}].quantity`, { sku: o.sku, locationCode: o.code, available: available(o) });
  }

  /** One line in one statement, committed on its own. */
  private async reserveOne(r: CoalescedRequest): Promise<CoalescedGrant> {
    const [row] = await this.prepared<ReservedRow>('inventory.reserve-one', RESERVE_ONE, [r.sku, r.locationCode, r.quantity, r.reference, r.expiresAt, r.actor, reservationId()]);
    if (!row) throw await this.whyNotReserved(this.ds.manager, r, 0);
    this.relay.kick();
    return { id: row.id, sku: row.sku, locationCode: row.code, expiresAt: row.expires_at };
  }

  private async whyNotReserved(em: EntityManager, line: { sku: string; locationCode: string; quantity: number }, index: number): Promise<DomainError> {
    const item = await this.resolveItem(em, line.sku, line.locationCode, `input.lines[${index}]`);
    const b = await this.balance(em, item);
    return new DomainError('INSUFFICIENT_STOCK', `not enough ${item.sku} available at ${item.locationCode} to reserve ${line.quantity}`,
      `input.lines[${index}].quantity`, { sku: item.sku, locationCode: item.locationCode, available: Math.max(0, b.on_hand - b.reserved - b.safety_stock) });
  }

  /** Releases active reservations by id and/or reference (a cart); returns how many were released. */
  async releaseReservations(input: ReleaseInput, actor: string, opts: ChangeOptions = {}): Promise<{ released: number }> {
    const ids = input.reservationIds ?? [];
    if (!ids.length && !input.reference) throw badInput('input', 'give reservationIds or a reference');
    ids.forEach((id, i) => { if (!UUID.test(id)) throw badInput(`input.reservationIds[${i}]`, 'is not a reservation id'); });
    return this.change('inventory.release', opts.idempotencyKey, input, async (em) => ({
      released: await this.release(em, { reservationIds: ids.length ? ids : undefined, reference: input.reference ?? undefined }, actor),
    }));
  }

  /**
   * Locks the stock rows of an order's products at every location, in the fixed lock order, for a transaction that
   * releases the order's stock and then reserves it again elsewhere (a rejected fulfilment order re-routed). Taken
   * in one statement up front, the later locks are already held: the two steps cannot close a cycle with another
   * writer that locks the same rows in one statement.
   */
  async lockOrderProducts(em: EntityManager, orderId: string): Promise<void> {
    await sql(em, `SELECT 1 FROM stock_level WHERE product_id IN (SELECT product_id FROM order_line WHERE order_id = $1)
                    ORDER BY product_id, location_id FOR UPDATE`, [orderId]);
  }

  /** Releases active reservations (cancelled order, rejected fulfilment order, expired cart) in the caller's transaction. */
  async release(em: EntityManager, filter: { orderId?: string; fulfillmentOrderId?: string; reservationIds?: string[]; reference?: string }, actor: string, reason = StockMovementReason.RELEASE): Promise<number> {
    const closed = await this.claimReservations(em, filter, reason === StockMovementReason.EXPIRE ? 'EXPIRED' : 'RELEASED');
    await this.applyClosed(em, closed, false, actor, reason, filter.fulfillmentOrderId ?? filter.orderId ?? filter.reference);
    return closed.length;
  }

  /** Shipping turns reservations into a sale: on hand and reserved both drop by the shipped quantity. */
  async consume(em: EntityManager, fulfillmentOrderId: string, actor: string): Promise<number> {
    const closed = await this.claimReservations(em, { fulfillmentOrderId }, 'CONSUMED');
    await this.applyClosed(em, closed, true, actor, StockMovementReason.SALE, fulfillmentOrderId);
    return closed.length;
  }

  /** Consumes given reservations (a sale outside the order flow, e.g. a POS checkout that reserved first). */
  async consumeReservations(em: EntityManager, reservationIds: string[], actor: string, reference?: string): Promise<number> {
    const closed = await this.claimReservations(em, { reservationIds }, 'CONSUMED');
    await this.applyClosed(em, closed, true, actor, StockMovementReason.SALE, reference);
    return closed.length;
  }

  /**
   * Expires up to `limit` reservations whose time is up, in one transaction: EXPIRE ledger rows and change events.
   * SKIP LOCKED lets several hub processes sweep at once without waiting on (or double-releasing) each other.
   */
  async expireDue(limit = 500, actor = 'reservation-expiry'): Promise<number> {
    return this.change('inventory.expire', null, null, async (em) => {
      const closed = await sql<ClosedRow>(em, `
        WITH due AS (
          SELECT id FROM reservation WHERE status = 'ACTIVE' AND expires_at <= now()
           ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        UPDATE reservation r SET status = 'EXPIRED', updated_at = now() FROM due WHERE r.id = due.id
        RETURNING r.product_id, r.location_id, r.quantity`, [limit]);
      await this.applyClosed(em, closed, false, actor, StockMovementReason.EXPIRE, 'expired');
      return closed.length;
    });
  }

  /** Flips ACTIVE reservations to `status`, locking them in id order (the status flip is the idempotency guard). */
  private async claimReservations(em: EntityManager, filter: { orderId?: string; fulfillmentOrderId?: string; reservationIds?: string[]; reference?: string }, status: 'RELEASED' | 'EXPIRED' | 'CONSUMED'): Promise<ClosedRow[]> {
    return sql<ClosedRow>(em, `
      WITH target AS (
        SELECT r.id FROM reservation r
         WHERE r.status = 'ACTIVE'
           AND ($1::uuid IS NULL OR r.order_id = $1)
           AND ($2::uuid IS NULL OR r.fulfillment_order_line_id IN (SELECT id FROM fulfillment_order_line WHERE fulfillment_order_id = $2))
           AND ($3::uuid[] IS NULL OR r.id = ANY($3))
           AND ($5::text IS NULL OR r.reference = $5)
         ORDER BY r.id FOR UPDATE)
      UPDATE reservation r SET status = $4, updated_at = now() FROM target
       WHERE r.id = target.id AND r.status = 'ACTIVE'
      RETURNING r.product_id, r.location_id, r.quantity`,
      [filter.orderId ?? null, filter.fulfillmentOrderId ?? null, filter.reservationIds ?? null, status, filter.reference ?? null]);
  }

  /** Applies closed reservations to the balances, one ledger row per item, in the fixed lock order. */
  private async applyClosed(em: EntityManager, closed: ClosedRow[], consume: boolean, actor: string, reason: StockMovementReason, reference?: string): Promise<void> {
    const totals = new Map<string, { productId: string; locationId: string; quantity: number }>();
    for (const r of closed) {
      const key = `${r.product_id}|${r.location_id}`;
      const t = totals.get(key) ?? { productId: r.product_id, locationId: r.location_id, quantity: 0 };
      t.quantity += r.quantity;
      totals.set(key, t);
    }
    for (const t of [...totals.values()].sort(compareItems)) {
      const [row] = await sql<BalanceRow & { sku: string; code: string }>(em,
        `UPDATE stock_level s SET reserved = reserved - $3, on_hand = on_hand - CASE WHEN $4 THEN $3 ELSE 0 END, updated_at = now()
          WHERE product_id = $1 AND location_id = $2
          RETURNING on_hand, reserved, safety_stock, (SELECT sku FROM product WHERE id = $1) AS sku, (SELECT code FROM location WHERE id = $2) AS code`,
        [t.productId, t.locationId, t.quantity, consume]);
      const item = { productId: t.productId, locationId: t.locationId, sku: row.sku, locationCode: row.code };
      await this.record(em, item, row, reason, consume ? -t.quantity : 0, -t.quantity, actor, reference);
    }
  }

  private async ensureRow(em: EntityManager, item: ItemIds): Promise<void> {
    await sql<any>(em, `INSERT INTO stock_level (product_id, location_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [item.productId, item.locationId]);
  }

  private async balance(em: EntityManager, item: ItemIds): Promise<BalanceRow> {
    const [row] = await sql<any>(em, `SELECT on_hand, reserved, safety_stock FROM stock_level WHERE product_id = $1 AND location_id = $2`, [item.productId, item.locationId]);
    return row ?? { on_hand: 0, reserved: 0, safety_stock: 0 };
  }

  private async describe(em: EntityManager, productId: string, locationId: string): Promise<ItemIds> {
    const [row] = await sql<any>(em, `SELECT (SELECT sku FROM product WHERE id = $1) AS sku, (SELECT code FROM location WHERE id = $2) AS code`, [productId, locationId]);
    return { productId, locationId, sku: row.sku, locationCode: row.code };
  }

  /** Ledger row with the balance after, and the change event in the outbox, in one statement of `em`'s transaction. */
  private async record(em: EntityManager, item: ItemIds, row: BalanceRow, reason: StockMovementReason, onHandDelta: number, reservedDelta: number, actor: string, reference?: string | null, note?: string): Promise<StockSnapshot> {
    await sql<any>(em,
      `WITH m AS (
         INSERT INTO stock_movement (product_id, location_id, reason, on_hand_delta, reserved_delta, on_hand_after, reserved_after, reference, note, actor)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10))
       INSERT INTO hub_event_outbox (events) VALUES ($11::json)`,
      [item.productId, item.locationId, reason, onHandDelta, reservedDelta, row.on_hand, row.reserved, reference ?? null, note ?? null, actor,
        JSON.stringify([changeEvent(item.sku, item.locationCode, row, reason)])],
    );
    this.relay.afterCommit(em);
    return snapshot(item, row);
  }
}

interface ClosedRow { product_id: string; location_id: string; quantity: number }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The one lock order for stock rows, shared by every path that locks more than one. */
function compareItems(a: { productId: string; locationId: string }, b: { productId: string; locationId: string }): number {
  return a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : a.locationId < b.locationId ? -1 : a.locationId > b.locationId ? 1 : 0;
}

/** The reservation statement refused to write part of its lines (division by zero is its way of aborting). */
function isChangedWhileReserving(err: unknown): boolean {
  return (err as { code?: string; driverError?: { code?: string } })?.code === '22012' || (err as { driverError?: { code?: string } })?.driverError?.code === '22012';
}

function changedWhileReserving(err: unknown, field: string): unknown {
  if (!isChangedWhileReserving(err)) return err;
  return new DomainError('INSUFFICIENT_STOCK', 'the stock changed while reserving and a line no longer fits; nothing was reserved', field);
}

function available(row: BalanceRow): number {
  return Math.max(0, (row.on_hand ?? 0) - (row.reserved ?? 0) - (row.safety_stock ?? 0));
}

function snapshot(item: ItemIds, row: BalanceRow): StockSnapshot {
  return {
    sku: item.sku,
    locationCode: item.locationCode,
    onHand: row.on_hand,
    reserved: row.reserved,
    safetyStock: row.safety_stock,
    available: Math.max(0, row.on_hand - row.reserved - row.safety_stock),
  };
}

export function changeEvent(sku: string, locationCode: string, row: BalanceRow, reason: string): InventoryChangedEvent {
  return {
    type: 'inventoryChanged', sku, locationCode, onHand: row.on_hand, reserved: row.reserved,
    available: Math.max(0, row.on_hand - row.reserved - row.safety_stock), reason, at: new Date().toISOString(),
  };
}
