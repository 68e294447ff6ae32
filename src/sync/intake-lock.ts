import type { EntityManager } from 'typeorm';
import { rows } from '../db/sql';

/**
 * Serialises the landing of one vendor order across transactions: a webhook job, a replay of it, and a sync page
 * can carry the same order at the same moment. Without this, two transactions that both find no external_ref yet
 * each act on their own version (one places the order, the other leaves a cancellation tombstone) and the later
 * commit overwrites the newer version's ref with the older one. Transaction-scoped advisory locks, taken first in
 * the transaction and in sorted order (so two transactions never wait on each other crosswise), released at commit.
 */
export async function lockOrderKeys(em: EntityManager, connectionId: string, externalIds: Iterable<string>): Promise<void> {
  const keys = [...new Set(externalIds)].sort();
  if (!keys.length) return;
  await rows(em, `SELECT pg_advisory_xact_lock(hashtext('order-intake:' || $1), hashtext(k)) FROM unnest($2::text[]) WITH ORDINALITY AS u(k, n) ORDER BY n`,
    [connectionId, keys], { prepare: true });
}
