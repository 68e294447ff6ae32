import type { DataSource } from 'typeorm';
import type { CanonicalReturn, CanonicalStockLevel } from '../connectors/sdk/canonical';
import { ConnectorError } from '../connectors/sdk/connector-error';
import type { StreamState } from '../connectors/sdk/stream';
import { retryingTransaction, rows } from '../db/sql';
import { DomainError, badInput } from '../errors';
import type { Logger } from '../logger';
import type { ConnectionService } from '../connections/connection.service';
import { lockOrderKeys } from './intake-lock';
import { emptyTally, recordKindOf, type RecordLander, type Tally } from './record-lander';

export type SyncTrigger = 'SCHEDULE' | 'MANUAL' | 'CLI';

export interface RunOptions {
  stream: string;
  trigger: SyncTrigger;
  /** Backfill: read from this date instead of the saved cursor (the cursor moves on from there). */
  since?: Date;
  /** Stop after this many vendor pages (the next run resumes). */
  maxPages?: number;
  /** After each landed page; `progress` (0..1) is set for incremental streams (see StreamBatch.progress). */
  onProgress?: (p: { pages: number; records: number; progress?: number } & Omit<Tally, 'errors'>) => void;
}

export interface RunSummary extends Tally {
  id: string;
  connectionId: string;
  stream: string;
  status: 'SUCCEEDED' | 'FAILED';
  pages: number;
  startedAt: Date;
  finishedAt: Date;
}

/**
 * Reads one stream of one connection from its saved cursor and lands every batch. For orders and shipments the
 * records, the cursor and the run's counters commit in ONE transaction per vendor page, so a crash at any point
 * resumes exactly after the last committed page (DESIGN §4: a cursor never moves past uncommitted data). Stock
 * levels and 3PL return orders go through their own services' transactions first (idempotent: absolute counts,
 * cumulative return states), then the cursor commits. A run holds a session advisory lock on (connection, stream):
 * runs never overlap, on any number of hub instances, and a crashed holder's lock dies with its database session.
 */
export class SyncRunner {
  constructor(private readonly ds: DataSource, private readonly connections: ConnectionService, private readonly lander: RecordLander,
    private readonly log: Logger, private readonly holder: string) {}

  async run(ref: string, opts: RunOptions): Promise<RunSummary> {
    const opened = await this.connections.open(ref);
    const conn = opened.row;
    if (!conn.enabled) throw new DomainError('CONFLICT', `connection ${conn.name} is disabled`);
    if (!opened.vendor.streamNames().includes(opts.stream)) throw badInput('stream', `${conn.kind} has no stream "${opts.stream}" (streams: ${opened.vendor.streamNames().join(', ')})`);
    const kind = recordKindOf(opts.stream);

    const lock = this.ds.createQueryRunner();
    await lock.connect();
    try {
      const [{ ok }] = await lock.query(`SELECT pg_try_advisory_lock(hashtext('sync-run'), hashtext($1)) AS ok`, [`${conn.id}/${opts.stream}`]);
      if (!ok) throw new DomainError('CONFLICT', `a sync of ${conn.name}/${opts.stream} is already running`);
      try {
        // We hold the lock: a RUNNING row left for this stream belongs to a holder that died.
        await rows(this.ds.manager, `UPDATE sync_run SET status = 'ABORTED', finished_at = now() WHERE connection_id = $1 AND stream = $2 AND status = 'RUNNING' RETURNING id`, [conn.id, opts.stream]);
        const [run] = await rows<{ id: string; started_at: Date }>(this.ds.manager,
          `INSERT INTO sync_run (connection_id, stream, trigger, since, holder) VALUES ($1,$2,$3,$4,$5) RETURNING id, started_at`,
          [conn.id, opts.stream, opts.trigger, opts.since ?? null, this.holder]);
        const tally = emptyTally();
        let pages = 0;
        let records = 0;
        let status: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED';
        try {
          let state: StreamState;
          if (opts.since) state = { cursor: opts.since.toISOString() };
          else {
            const [saved] = await rows<{ cursor: StreamState }>(this.ds.manager, `SELECT cursor FROM sync_cursor WHERE connection_id = $1 AND stream = $2`, [conn.id, opts.stream]);
            state = saved?.cursor ?? {};
          }
          for await (const batch of opened.vendor.read(opts.stream, state, { maxPages: opts.maxPages })) {
            const before = emptyTally(); // what landed in the stock and returns services' own transactions
            if (kind === 'stock') {
              for (const level of batch.records as CanonicalStockLevel[]) await this.lander.landStock(conn, level, before, 'SYNC', opts.stream, run.id);
            } else if (kind === 'return') {
              for (const ret of batch.records as CanonicalReturn[]) await this.lander.landReturn(conn, ret, before, 'SYNC', opts.stream);
            }
            let t = before;
            // Run again whole if PostgreSQL broke a deadlock with it (a page's writes can meet an operator's reroute).
            await retryingTransaction(this.ds, async (em) => {
              t = { ...before, errors: [...before.errors] };
              if (kind === 'order') {
                await lockOrderKeys(em, conn.id, (batch.records as { externalId: string }[]).map((r) => r.externalId));
                await this.lander.landOrdersInTransaction(em, conn, opened.channel, batch.records, t, 'SYNC', opts.stream);
              } else if (kind === 'shipment') {
                for (const rec of batch.records) await this.lander.landInTransaction(em, conn, opened.channel, kind, rec, t, 'SYNC', opts.stream);
              } else if (kind === 'ignored') t.skipped += batch.records.length;
              // The cursor and the run's counters, with the page (one statement).
              await rows(em, `
                WITH cursor AS (
                  INSERT INTO sync_cursor (connection_id, stream, cursor) VALUES ($7, $8, $9)
                  ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now())
                UPDATE sync_run SET pages = pages + 1, created = created + $2, updated = updated + $3, skipped = skipped + $4, failed = failed + $5,
                       errors = errors || $6::jsonb WHERE id = $1 RETURNING id`,
                [run.id, t.created, t.updated, t.skipped, t.failed, JSON.stringify(t.errors.slice(0, 20)), conn.id, opts.stream, JSON.stringify(batch.state)], { prepare: true });
            });
            pages++;
            records += batch.records.length;
            for (const k of ['created', 'updated', 'skipped', 'failed'] as const) tally[k] += t[k];
            tally.errors.push(...t.errors);
            opts.onProgress?.({ pages, records, progress: batch.progress, created: tally.created, updated: tally.updated, skipped: tally.skipped, failed: tally.failed });
          }
        } catch (err) {
          // A vendor fault (after the SDK's retries) or a database fault: what committed stays, the cursor with it.
          status = 'FAILED';
          const message = err instanceof ConnectorError || err instanceof DomainError ? err.message : `internal error: ${(err as Error).message}`;
          tally.errors.push(message);
          if (!(err instanceof ConnectorError)) this.log.error({ err, connection: conn.name, stream: opts.stream }, 'sync run failed');
          await rows(this.ds.manager, `UPDATE sync_run SET errors = errors || $2::jsonb WHERE id = $1 RETURNING id`, [run.id, JSON.stringify([message])]);
        }
        const [done] = await rows<{ finished_at: Date }>(this.ds.manager, `UPDATE sync_run SET status = $2, finished_at = now() WHERE id = $1 RETURNING finished_at`, [run.id, status]);
        this.log.info({ connection: conn.name, stream: opts.stream, status, pages, created: tally.created, updated: tally.updated, skipped: tally.skipped, failed: tally.failed }, 'sync run finished');
        return { id: run.id, connectionId: conn.id, stream: opts.stream, status, pages, ...tally, startedAt: run.started_at, finishedAt: done.finished_at };
      } finally {
        await lock.query(`SELECT pg_advisory_unlock(hashtext('sync-run'), hashtext($1))`, [`${conn.id}/${opts.stream}`]);
      }
    } finally {
      await lock.release();
    }
  }
}
