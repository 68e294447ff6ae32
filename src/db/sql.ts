import type { EntityManager } from 'typeorm';

/**
 * Runs SQL and returns its rows. (EntityManager.query returns `[rows, count]` for UPDATE/DELETE on Postgres,
 * which silently breaks `UPDATE … RETURNING` checks; the structured result is unambiguous.)
 */
export async function rows<T = Record<string, any>>(em: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  const own = em.queryRunner ? undefined : em.connection.createQueryRunner();
  const runner = em.queryRunner ?? own!;
  try {
    const result = await runner.query(sql, params, true);
    return (result.records ?? []) as T[];
  } finally {
    await own?.release();
  }
}
