import 'reflect-metadata';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import { migrate } from '../../src/db/database';
import { startEmbeddedPostgres, withDatabase } from '../../src/db/embedded-postgres';
import { createLogger } from '../../src/logger';

export interface BenchDb { url: string; ds: DataSource; close(): Promise<void> }

/**
 * A fresh, migrated database for one benchmark: on DATABASE_URL's server if set, else on an embedded Postgres
 * started for the run. Dropped (and the server stopped) on close.
 */
export async function openBenchDb(poolSize: number): Promise<BenchDb> {
  const log = createLogger('warn');
  let adminUrl = process.env.DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  let dir: string | undefined;
  if (!adminUrl) {
    dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-bench-'));
    chmodSync(dir, 0o755);
    const server = await startEmbeddedPostgres(dir, log);
    adminUrl = server.adminUrl;
    stop = () => server.stop();
  }
  const name = `sy_bench_${process.pid}_${Date.now().toString(36)}`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(adminUrl, name);
  const ds = createDataSource(url, { poolSize, applicationName: 'switchyard-bench' });
  await ds.initialize();
  await migrate(ds, log);
  return {
    url, ds,
    async close() {
      await ds.destroy();
      await admin(adminUrl!, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      await stop?.();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function admin<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Runs `clients` loops of `op` for `ms` milliseconds; returns completed operations per second. */
export async function rate(clients: number, ms: number, op: (client: number) => Promise<unknown>): Promise<number> {
  const deadline = Date.now() + ms;
  let done = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    while (Date.now() < deadline) { await op(c); done++; }
  }));
  return done / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/**
 * Our rate against a limit's on a noisy machine: `slices` adjacent pairs of short runs (ours, then the limit, with
 * the same clients), so that both see the same load. Returns the median rate of each and the median of the
 * per-pair ratios (the figure to quote: each ratio compares runs measured a fraction of a second apart).
 */
export async function pairedRates(clients: number, sliceMs: number, slices: number, ours: (client: number) => Promise<unknown>, limit: (client: number) => Promise<unknown>): Promise<{ ours: number; limit: number; ratio: number }> {
  const o: number[] = [];
  const l: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < slices; i++) {
    // Alternate which goes first, so that neither always follows the other's backlog (WAL flushes, vacuum).
    const [a, b] = i % 2 ? [await rate(clients, sliceMs, limit), await rate(clients, sliceMs, ours)].reverse() : [await rate(clients, sliceMs, ours), await rate(clients, sliceMs, limit)];
    o.push(a);
    l.push(b);
    ratios.push(a / b);
  }
  return { ours: median(o), limit: median(l), ratio: median(ratios) };
}
