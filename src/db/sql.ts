import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { PG, pgCode } from '../errors';

/**
 * Runs SQL and returns its rows. (EntityManager.query returns `[rows, count]` for UPDATE/DELETE on Postgres,
 * which silently breaks `UPDATE … RETURNING` checks; the structured result is unambiguous.)
 *
 * `prepare`: run it as a named statement, parsed once per pooled connection and planned from then on by
 * PostgreSQL's plan cache. For the statements of the hot paths (a sync page runs about twenty), where parsing and
 * planning the same text again each time was a third of a small page's cost. Only for fixed texts: every distinct
 * text stays prepared on every connection that ran it.
 */
export async function rows<T = Record<string, any>>(em: EntityManager, sql: string, params: unknown[] = [], opts: { prepare?: boolean } = {}): Promise<T[]> {
  const own = em.queryRunner ? undefined : em.connection.createQueryRunner();
  const runner = em.queryRunner ?? own!;
  try {
    if (opts.prepare) {
      const client = (await runner.connect()) as PoolClient;
      return (await client.query({ name: statementName(sql), text: sql, values: params })).rows as T[];
    }
    const result = await runner.query(sql, params, true);
    return (result.records ?? []) as T[];
  } finally {
    await own?.release();
  }
}

const statementNames = new Map<string, string>();

function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `sy_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * A transaction that PostgreSQL aborted to break a deadlock, or as a serialization failure, is run again from the
 * start on fresh data (a few times, after a short random pause so the colliding ones do not meet again). For
 * writers whose transactions lock rows in more than one step — releasing a fulfilment order's stock, then
 * reserving elsewhere — where no single lock order can be kept. `fn` must only touch the database.
 */
export async function retryingTransaction<T>(ds: DataSource, fn: (em: EntityManager) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ds.transaction(fn);
    } catch (err) {
      const code = pgCode(err);
      if (attempt >= attempts || (code !== PG.deadlockDetected && code !== PG.serializationFailure)) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}
