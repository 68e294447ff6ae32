import cron, { type ScheduledTask } from 'node-cron';
import type { DataSource } from 'typeorm';
import { rows } from '../db/sql';
import type { Logger } from '../logger';
import { RECONCILE_SCHEDULE } from '../connections/connection.service';
import type { JobQueue } from './job-queue';

/**
 * Cron schedules per (connection, stream), from `connection.schedules` (the key `reconcile` schedules the stock
 * reconciliation instead of a stream). node-cron only says "a tick is due" in
 * each process; the tick is claimed by inserting (connection, stream, tick time) — the instance whose INSERT wins
 * enqueues the run, in the same transaction — so several hub instances run each tick exactly once. Runs never
 * overlap: the runner holds an advisory lock per (connection, stream), and a tick that finds it taken is skipped.
 */
export class SyncScheduler {
  private tasks = new Map<string, { expr: string; task: ScheduledTask }>();
  private refreshTimer?: NodeJS.Timeout;

  constructor(private readonly ds: DataSource, private readonly queue: JobQueue, private readonly log: Logger, private readonly instanceId: string) {}

  /** Claims one tick; true when this instance won it and the run is queued. */
  async tick(connectionId: string, stream: string, at: Date): Promise<boolean> {
    const tickAt = new Date(Math.floor(at.getTime() / 1000) * 1000); // cron has one-second resolution; every instance computes the same time
    return this.ds.transaction(async (em) => {
      const [won] = await rows(em, `INSERT INTO sync_tick (connection_id, stream, tick_at, claimed_by) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING tick_at`,
        [connectionId, stream, tickAt, this.instanceId]);
      if (!won) return false;
      const kind = stream === RECONCILE_SCHEDULE ? 'stock.reconcile' : 'sync.run';
      await this.queue.enqueue(em, kind, { connectionId, stream, trigger: 'SCHEDULE', tickAt: tickAt.toISOString() },
        { dedupeKey: `sync:${connectionId}:${stream}:${tickAt.toISOString()}`, maxAttempts: 1 });
      return true;
    });
  }

  /** (Re)loads the schedules of enabled connections; called at start and every 30 s, so edits apply without a restart. */
  async refresh(): Promise<void> {
    const conns = await rows<{ id: string; name: string; schedules: Record<string, string> }>(this.ds.manager, `SELECT id, name, schedules FROM connection WHERE enabled`);
    const wanted = new Map<string, { id: string; name: string; stream: string; expr: string }>();
    for (const c of conns) for (const [stream, expr] of Object.entries(c.schedules ?? {})) if (cron.validate(expr)) wanted.set(`${c.id}/${stream}`, { id: c.id, name: c.name, stream, expr });
    for (const [key, t] of this.tasks) {
      if (wanted.get(key)?.expr !== t.expr) { await t.task.destroy(); this.tasks.delete(key); }
    }
    for (const [key, w] of wanted) {
      if (this.tasks.has(key)) continue;
      const task = cron.schedule(w.expr, async (ctx) => {
        try {
          if (await this.tick(w.id, w.stream, ctx.date)) this.log.debug({ connection: w.name, stream: w.stream }, 'schedule tick claimed');
        } catch (err) {
          this.log.warn({ err, connection: w.name, stream: w.stream }, 'schedule tick failed');
        }
      }, { name: `sync:${w.name}/${w.stream}`, noOverlap: true });
      this.tasks.set(key, { expr: w.expr, task });
    }
  }

  async start(): Promise<void> {
    await this.refresh();
    this.refreshTimer = setInterval(() => void this.refresh().catch((err) => this.log.warn({ err }, 'schedule refresh failed')), 30_000);
    this.refreshTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    for (const t of this.tasks.values()) await t.task.destroy();
    this.tasks.clear();
  }
}
