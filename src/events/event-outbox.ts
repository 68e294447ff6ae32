import type { Pool } from 'pg';
import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { rows } from '../db/sql';
import { NOTIFY_CHANNEL, type HubEvent } from './hub-events';

/**
 * Transactional live events: the change writes its events into `hub_event_outbox` in its own transaction (so they
 * exist exactly when the change committed), and a relay moves them to Postgres NOTIFY, which every hub process
 * LISTENs to. The relay runs right after a local commit (kick) and, in every listening process, on a timer, so
 * events left behind by a process that died between commit and relay are still delivered.
 *
 * Why not pg_notify inside the writing transaction: Postgres serialises the commits of all notifying transactions
 * behind one lock held through the commit's WAL flush, which would put every stock change behind every other one's
 * fsync (measured: 16 clients writing 5 rows each fell from ~860 to ~300 commits/s). An outbox row costs about what
 * a plain write costs; the relay's one statement (no fsync wait) carries many events.
 *
 * Delivery is at least once (a relay whose async commit is lost in a server crash sends its events again) and in
 * outbox order: relays take one advisory lock, and a later change of the same stock row always has a later outbox
 * id (it waited for the earlier one's row lock, hence its commit), so per item the events arrive in commit order.
 */
export const RELAY_LOCK = 724_302; // arbitrary, fixed (the migration lock is 724_301)
const BATCH_ROWS = 500;
/**
 * Relay rounds start at most this often, so that under load the events of many commits share one round (its cost is
 * per round). A kick after a quiet spell relays at once: the spacing costs latency only when commits come fast.
 */
const RELAY_SPACING_MS = 10;
/** Events per notification: an event is at most ~330 bytes (sku ≤ 100, location code ≤ 64), NOTIFY's limit 8000. */
const EVENTS_PER_NOTIFICATION = 20;

const relayStatement = (lock: string) => `
  SET LOCAL synchronous_commit = off;
  ${lock}
  WITH batch AS (
    DELETE FROM hub_event_outbox
     WHERE id IN (SELECT id FROM hub_event_outbox ORDER BY id LIMIT ${BATCH_ROWS} FOR UPDATE SKIP LOCKED)
    RETURNING id, events),
  ev AS (
    SELECT x.e, row_number() OVER (ORDER BY b.id, x.o) AS n
      FROM batch b CROSS JOIN LATERAL json_array_elements(b.events) WITH ORDINALITY AS x(e, o)),
  chunk AS (
    SELECT (n - 1) / ${EVENTS_PER_NOTIFICATION} AS g, json_agg(e ORDER BY n)::text AS payload FROM ev GROUP BY 1),
  sent AS (
    SELECT pg_notify('${NOTIFY_CHANNEL}', payload) FROM (SELECT payload FROM chunk ORDER BY g) c)
  SELECT (SELECT count(*) FROM batch)::int AS rows, (SELECT count(*) FROM sent)::int AS notifications`;

/** Waits for a relay in another process (after commit-time kicks: their rows must not wait for the timer). The lock
 * is taken in its own statement so that the DELETE's snapshot is taken after it. */
const RELAY_WAITING = relayStatement(`SELECT pg_advisory_xact_lock(${RELAY_LOCK});`);
/** Skips the round when another relay is busy (the periodic sweep on the LISTEN connection must never block). */
const RELAY_IF_FREE = relayStatement(`SELECT 1 WHERE pg_try_advisory_xact_lock(${RELAY_LOCK});`).replace(
  'WHERE id IN (SELECT', `WHERE pg_try_advisory_xact_lock(${RELAY_LOCK}) AND id IN (SELECT`);

/** Runs one simple-protocol (multi-statement) query and returns the last statement's rows. */
export type SimpleQuery = (sql: string) => Promise<{ rows: number }[]>;

/** One relay round: moves up to BATCH_ROWS outbox rows to NOTIFY, in one implicit transaction; returns the rows moved. */
export async function relayOnce(query: SimpleQuery, opts: { wait: boolean }): Promise<number> {
  const result = await query(opts.wait ? RELAY_WAITING : RELAY_IF_FREE);
  return result[0]?.rows ?? 0;
}

/** The simple-query runner over a pg client or pool (multi-statement text returns one result per statement). */
export function simpleQuery(client: { query(sql: string): Promise<unknown> }): SimpleQuery {
  return async (sql) => {
    const res = (await client.query(sql)) as { rows: { rows: number }[] } | { rows: { rows: number }[] }[];
    return Array.isArray(res) ? res[res.length - 1].rows : res.rows;
  };
}

/** The pg pool under a TypeORM DataSource (for prepared statements and simple-protocol batches). */
export function poolOf(ds: DataSource): Pool {
  return (ds.driver as unknown as { master: Pool }).master;
}

/** Writes events into the outbox inside `em`'s transaction (or as its own statement when `em` has none). */
export async function writeEvents(em: EntityManager, events: HubEvent[]): Promise<void> {
  if (!events.length) return;
  await rows(em, `INSERT INTO hub_event_outbox (events) VALUES ($1::json) RETURNING id`, [JSON.stringify(events)]);
}

/**
 * Relays this process's outbox rows right after their commit. Kicks within one tick share a round; a kick during a
 * round makes another round follow. Failures are left to the next kick or the periodic sweep (the rows stay).
 */
export class EventOutboxRelay implements EntitySubscriberInterface {
  private static readonly byDataSource = new WeakMap<DataSource, EventOutboxRelay>();

  /** The relay of a DataSource: the first one made for it (the inventory service's), so every writer shares its rounds. */
  static of(ds: DataSource): EventOutboxRelay {
    return EventOutboxRelay.byDataSource.get(ds) ?? new EventOutboxRelay(ds);
  }

  private scheduled = false;
  private again = false;
  private running?: Promise<void>;
  /** When the last round started (performance.now()); the next one waits for RELAY_SPACING_MS after it. */
  private lastRoundAt = -Infinity;
  /** Query runners whose open transaction wrote events: kick when it commits (see `afterCommit`). */
  private readonly pendingCommit = new WeakSet<QueryRunner>();
  private subscribed = false;

  constructor(private readonly ds: DataSource, private readonly onError: (err: unknown) => void = () => undefined) {
    if (!EventOutboxRelay.byDataSource.has(ds)) EventOutboxRelay.byDataSource.set(ds, this);
  }

  kick(): void {
    if (this.running) { this.again = true; return; }
    if (this.scheduled) return;
    this.scheduled = true;
    const start = () => {
      this.scheduled = false;
      this.running = this.loop().finally(() => { this.running = undefined; });
    };
    // On the next turn at the earliest: the kicks of commits answered in the same turn share the round.
    const wait = this.spacing();
    if (wait > 0) setTimeout(start, wait); else setImmediate(start);
  }

  private spacing(): number {
    return Math.max(0, this.lastRoundAt + RELAY_SPACING_MS - performance.now());
  }

  /** Resolves when the rounds kicked so far have run (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.scheduled || this.running) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, 1));
    }
  }

  /**
   * Events written in `em`: relay them once they are committed. Inside a transaction that is when it commits
   * (TypeORM's after-commit broadcast; nothing is relayed on rollback, the rows are gone); otherwise now.
   */
  afterCommit(em: EntityManager): void {
    const qr = em.queryRunner;
    if (!qr || !qr.isTransactionActive) { this.kick(); return; }
    if (!this.subscribed && this.ds.isInitialized) {
      // Subscribers are rebuilt when a DataSource initialises, so join after that (the services get an initialised one).
      if (!this.ds.subscribers.includes(this)) this.ds.subscribers.push(this);
      this.subscribed = true;
    }
    this.pendingCommit.add(qr);
  }

  /** TypeORM: a transaction committed (also called when a savepoint is released; then it is not over yet). */
  afterTransactionCommit(event: TransactionCommitEvent): void {
    const qr = event.queryRunner;
    if (qr.isTransactionActive || !this.pendingCommit.has(qr)) return;
    this.pendingCommit.delete(qr);
    this.kick();
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) this.pendingCommit.delete(event.queryRunner);
  }

  private async loop(): Promise<void> {
    const query = simpleQuery(poolOf(this.ds));
    try {
      do {
        if (this.again) await new Promise((r) => setTimeout(r, this.spacing()));
        this.again = false;
        if (!this.ds.isInitialized) return;
        this.lastRoundAt = performance.now();
        while ((await relayOnce(query, { wait: true })) === BATCH_ROWS) { /* more waiting */ }
      } while (this.again);
    } catch (err) {
      this.again = false;
      if (this.ds.isInitialized) this.onError(err);
    }
  }
}

/** Relays everything in the outbox, round after round; for the periodic sweep (never waits for another relay). */
export async function sweepOutbox(query: SimpleQuery): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await relayOnce(query, { wait: false });
    total += n;
    if (n < BATCH_ROWS) return total;
  }
}
