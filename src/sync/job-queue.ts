import { hostname } from 'node:os';
import type { DataSource, EntityManager } from 'typeorm';
import { ConnectorError } from '../connectors/sdk/connector-error';
import { rows } from '../db/sql';
import type { Logger } from '../logger';
import { Rounds } from './rounds';

/** The NOTIFY channel a due job is announced on (payload: its kind); every hub process's queue LISTENs to it. */
export const JOBS_CHANNEL = 'switchyard_jobs';

export interface Job { id: string; kind: string; payload: Record<string, unknown>; attempts: number; maxAttempts: number }
export type JobHandler = (payload: Record<string, unknown>, job: Job) => Promise<void>;
/** Runs several claimed jobs of one kind together; per job (same order), the error it failed with, or undefined. */
export type BatchJobHandler = (jobs: Job[]) => Promise<unknown[]>;

/** Thrown by a handler when retrying cannot help: the job goes straight to the dead letters. */
export class PermanentJobError extends Error {}

export interface JobQueueOptions {
  workerId?: string;
  /** A claimed job whose worker has not finished within this is taken over (its worker crashed). */
  leaseMs?: number;
  pollMs?: number;
  concurrency?: number;
  /** First retry delay; doubles per attempt (with jitter) up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * A small durable queue in Postgres (pg-boss would need another dependency): jobs are rows, claimed with
 * FOR UPDATE SKIP LOCKED under a lease, so several hub instances share the work and a crashed worker's job is
 * picked up again once its lease runs out. Handlers must be idempotent (at-least-once).
 */
export class JobQueue {
  readonly workerId: string;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly batchHandlers = new Map<string, { handler: BatchJobHandler; max: number }>();
  private readonly opts: Required<Omit<JobQueueOptions, 'workerId'>>;
  private running = 0;
  /** Kinds that run in batches with a batch running now (one at a time per queue). */
  private readonly batching = new Set<string>();
  private stopped = true;
  private idle?: () => void;

  constructor(private readonly ds: DataSource, private readonly log: Logger, opts: JobQueueOptions = {}) {
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.opts = { leaseMs: 5 * 60_000, pollMs: 500, concurrency: 2, baseBackoffMs: 1000, maxBackoffMs: 10 * 60_000, ...stripUndefined(opts) };
  }

  on(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
  }

  /**
   * Runs a kind in batches: when a worker claims a job of this kind and more of it are due, it claims up to `max` in
   * all (oldest first) and hands them to `batch` together, a single due job as a batch of one; each job still
   * succeeds, retries or dies on its own. Such a kind needs no `on` handler.
   */
  onBatch(kind: string, max: number, batch: BatchJobHandler): void {
    this.batchHandlers.set(kind, { handler: batch, max });
  }

  /** Adds a job (in the caller's transaction when `em` is one). With a dedupe key, a second enqueue is a no-op; returns the id or null. */
  async enqueue(em: EntityManager, kind: string, payload: Record<string, unknown>, o: { dedupeKey?: string; runAt?: Date; maxAttempts?: number } = {}): Promise<string | null> {
    // A job due now wakes the workers of every hub process when its transaction commits (JOBS_CHANNEL).
    const [row] = await rows<{ id: string }>(em, `
      WITH j AS (
        INSERT INTO sync_job (kind, payload, dedupe_key, run_at, max_attempts) VALUES ($1, $2, $3, coalesce($4, now()), $5)
        ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, run_at <= now() AS due)
      SELECT id FROM j WHERE NOT due OR pg_notify($6, $1) IS NOT NULL`,
    [kind, JSON.stringify(payload), o.dedupeKey ?? null, o.runAt ?? null, o.maxAttempts ?? 8, JOBS_CHANNEL], { prepare: true });
    return row?.id ?? null;
  }

  /** Claims and runs due jobs until none is left (or `max` ran); returns how many ran. */
  async drain(max = Infinity): Promise<number> {
    let n = 0;
    while (n < max) {
      const claimed = await this.claim(Math.min(this.opts.concurrency, max - n), this.kinds());
      if (!claimed.length) return n;
      const units = await Promise.all(this.unitsOf(claimed).map((u) => this.withBatch(u)));
      await Promise.all(units.map((u) => this.executeUnit(u)));
      n += units.reduce((a, u) => a + u.length, 0);
    }
    return n;
  }

  /**
   * Runs `insert` (an INSERT … RETURNING id, on $1…$n of `params`) and queues a `kind` job for each row it returns,
   * payload `{ [key]: id }`, dedupe key `<dedupePrefix><id>`, in ONE statement: without a transaction around it, the
   * row and its job commit together or not at all, in one round trip. Returns the ids inserted.
   */
  async insertAndEnqueue(em: EntityManager, insert: string, params: unknown[], job: { kind: string; key: string; dedupePrefix: string }): Promise<string[]> {
    const n = params.length;
    const inserted = await rows<{ id: string }>(em, `
      WITH src AS (${insert}),
      j AS (
        INSERT INTO sync_job (kind, payload, dedupe_key)
        SELECT $${n + 1}, jsonb_build_object($${n + 2}::text, src.id::text), $${n + 3} || src.id FROM src
        ON CONFLICT (dedupe_key) DO NOTHING RETURNING id)
      SELECT src.id FROM src WHERE (SELECT count(pg_notify($${n + 4}, $${n + 1})) FROM j) >= 0`,
    [...params, job.kind, job.key, job.dedupePrefix, JOBS_CHANNEL], { prepare: true });
    return inserted.map((r) => String(r.id));
  }

  /** Puts a dead job back in the queue with fresh attempts (dead-letter replay). */
  async retry(id: string): Promise<boolean> {
    const r = await rows(this.ds.manager, `UPDATE sync_job SET status = 'QUEUED', attempts = 0, run_at = now(), last_error = NULL, finished_at = NULL
      WHERE id = $1 AND status = 'DEAD' RETURNING id, pg_notify($2, kind)`, [id, JOBS_CHANNEL]);
    return r.length > 0;
  }

  /**
   * Runs workers until stop(): they claim due jobs when a job is queued (wake(), on the NOTIFY of enqueue), when a
   * worker comes free, and every `pollMs` besides (jobs whose retry delay ran out, a lost notification).
   */
  start(): void {
    this.stopped = false;
    this.rounds.start();
  }

  /** Claim now rather than at the next poll: a job was queued, or a worker came free. */
  wake(): void {
    this.rounds.wake();
  }

  private readonly rounds = new Rounds(() => this.claimRound());

  /** Claims what the free workers can take and starts it; the delay until the next round. */
  private async claimRound(): Promise<number> {
    const free = this.opts.concurrency - this.running;
    if (free <= 0) return this.opts.pollMs; // a worker that finishes wakes the queue
    try {
      // A kind that runs in batches runs one batch at a time here: the next forms from what queued while this one
      // ran. Two at once would only split the work between two transactions that contend for the same rows and
      // cores (measured: higher latency at every rate, bench/webhook-latency).
      const claimed = await this.claim(free, this.kinds().filter((k) => !this.batching.has(k)));
      for (const unit of this.unitsOf(claimed)) {
        const kind = unit[0].kind;
        const batched = this.batchHandlers.has(kind);
        this.running++;
        if (batched) this.batching.add(kind);
        // A job's outcome that could not be recorded (the database went away) is run again when its lease runs out.
        void this.withBatch(unit).then((u) => this.executeUnit(u)).catch((err) => this.log.warn({ err, kind }, 'job queue: recording an outcome failed')).finally(() => {
          this.running--;
          if (batched) this.batching.delete(kind);
          if (this.stopped && this.running === 0) this.idle?.();
          else this.wake(); // more may be due: the next batch forms from what queued meanwhile
        });
      }
      return claimed.length === free ? 0 : this.opts.pollMs;
    } catch (err) {
      this.log.warn({ err }, 'job queue: claim failed');
      return this.opts.pollMs;
    }
  }

  /** Stops claiming and waits for running jobs (their leases would otherwise hand them to another instance later). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.rounds.stop();
    if (this.running > 0) await new Promise<void>((resolve) => { this.idle = resolve; });
  }

  private async claim(limit: number, kinds: string[]): Promise<Job[]> {
    if (limit <= 0 || !kinds.length) return [];
    return rows<Job>(this.ds.manager,
      `UPDATE sync_job j SET status = 'RUNNING', attempts = j.attempts + 1, locked_by = $2, locked_until = now() + make_interval(secs => $3 / 1000.0)
        WHERE j.id IN (SELECT id FROM sync_job
                        WHERE kind = ANY($4) AND ((status = 'QUEUED' AND run_at <= now()) OR (status = 'RUNNING' AND locked_until < now()))
                        ORDER BY run_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING j.id, j.kind, j.payload, j.attempts, j.max_attempts AS "maxAttempts"`,
      [limit, this.workerId, this.opts.leaseMs, kinds]);
  }

  /** The kinds this queue runs. */
  private kinds(): string[] {
    return [...new Set([...this.handlers.keys(), ...this.batchHandlers.keys()])];
  }

  /** Claimed jobs as units of work: one per job, but the jobs of a kind that runs in batches together. */
  private unitsOf(jobs: Job[]): Job[][] {
    const units: Job[][] = [];
    const byKind = new Map<string, Job[]>();
    for (const job of jobs) {
      if (!this.batchHandlers.has(job.kind)) { units.push([job]); continue; }
      let unit = byKind.get(job.kind);
      if (!unit) { unit = []; byKind.set(job.kind, unit); units.push(unit); }
      unit.push(job);
    }
    return units;
  }

  /** A unit, with more due jobs of its kind claimed beside it when the kind runs in batches. */
  private async withBatch(unit: Job[]): Promise<Job[]> {
    const b = this.batchHandlers.get(unit[0].kind);
    let more: Job[] = [];
    if (b && unit.length < b.max) {
      try {
        more = await this.claim(b.max - unit.length, [unit[0].kind]);
      } catch (err) {
        this.log.warn({ err }, 'job queue: batch claim failed');
      }
    }
    return [...unit, ...more].sort((x, y) => Number(x.id) - Number(y.id)); // in the order they were queued
  }

  /** Runs a unit (one job, or a batch of a kind run in batches) and records each job's outcome. */
  private async executeUnit(jobs: Job[]): Promise<void> {
    const errors = await this.run(jobs);
    const done = jobs.filter((_, i) => errors[i] === undefined);
    if (done.length) {
      await rows(this.ds.manager, `UPDATE sync_job j SET status = 'DONE', finished_at = now(), locked_until = NULL, last_error = NULL
        FROM unnest($1::bigint[], $2::int[]) AS v(id, attempts) WHERE j.id = v.id AND j.locked_by = $3 AND j.attempts = v.attempts RETURNING j.id`,
      [done.map((j) => j.id), done.map((j) => j.attempts), this.workerId], { prepare: true });
    }
    for (const [i, job] of jobs.entries()) if (errors[i] !== undefined) await this.fail(job, errors[i]);
  }

  /** Per job, the error it failed with (undefined: done). */
  private async run(jobs: Job[]): Promise<unknown[]> {
    try {
      const batch = this.batchHandlers.get(jobs[0].kind);
      if (batch) return await batch.handler(jobs);
      await this.handlers.get(jobs[0].kind)!(jobs[0].payload, jobs[0]);
      return [undefined];
    } catch (err) {
      return jobs.map(() => err ?? new Error('job failed'));
    }
  }

  /** A job failed with `err`: retried with backoff, or dead. */
  private async fail(job: Job, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const permanent = err instanceof PermanentJobError || (err instanceof ConnectorError && !err.retryable);
    const dead = permanent || job.attempts >= job.maxAttempts;
    const delay = backoffMs(job.attempts, this.opts.baseBackoffMs, this.opts.maxBackoffMs, retryAfterOf(err));
    this.log.warn({ job: job.id, kind: job.kind, attempts: job.attempts, dead, error: message }, 'job failed');
    await rows(this.ds.manager,
      `UPDATE sync_job SET status = $4, last_error = $5, locked_until = NULL, run_at = now() + make_interval(secs => $6 / 1000.0),
              finished_at = CASE WHEN $4 = 'DEAD' THEN now() END
        WHERE id = $1 AND locked_by = $2 AND attempts = $3 RETURNING id`,
      [job.id, this.workerId, job.attempts, dead ? 'DEAD' : 'QUEUED', message.slice(0, 2000), delay]);
  }
}

/** Exponential backoff with equal jitter; a vendor's Retry-After wins when it is longer. */
export function backoffMs(attempt: number, base: number, max: number, retryAfterMs?: number): number {
  const exp = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const jittered = exp / 2 + Math.random() * (exp / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

function retryAfterOf(err: unknown): number | undefined {
  const v = (err as { retryAfterMs?: unknown })?.retryAfterMs;
  return typeof v === 'number' ? v : undefined;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
