import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { rows } from '../db/sql';
import { DomainError, badInput } from '../errors';

/** Keys are kept at least this long; `purge()` removes older ones. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
/** A two-phase claim left IN_FLIGHT longer than this (its holder crashed) may be taken over. */
export const IN_FLIGHT_LEASE_MS = 5 * 60 * 1000;
const MAX_KEY_LENGTH = 200;

/**
 * Makes a request with an idempotency key take effect at most once: the same (scope, key) with the same payload
 * returns the stored result of the first call; with a different payload it fails with IDEMPOTENCY_KEY_REUSED;
 * while the first call is still running, a second one fails with CONFLICT (retry later) instead of waiting.
 *
 * Usage, when the effect is database work (the normal case):
 *
 *   const result = await store.execute('inventory.adjust', key, input, (em) => doTheChange(em));
 *
 * The key is claimed in the same transaction as the effect, so a crash or an error leaves neither the effect nor
 * the claim behind, and the retry runs afresh. `scope` separates operations (and, if wanted, callers: include an
 * API key id in it). The payload is hashed as canonical JSON (object keys sorted); the result is stored as JSON,
 * so return plain JSON-compatible values (Dates come back as ISO strings).
 *
 * For effects that cannot share the transaction (a call to another system), use `claim` → effect → `complete`
 * (or `abandon` on failure): the claim is committed as IN_FLIGHT, and one older than IN_FLIGHT_LEASE_MS is treated
 * as abandoned by a crashed holder and may be claimed again.
 */
export class IdempotencyStore {
  constructor(private readonly ds: DataSource) {}

  async execute<T>(scope: string, key: string | null | undefined, payload: unknown, effect: (em: EntityManager) => Promise<T>): Promise<T> {
    if (key == null) return this.ds.transaction(effect);
    checkKey(key);
    const hash = requestHash(payload);
    return this.ds.transaction(async (em) => {
      // A transaction-scoped advisory lock makes a concurrent duplicate fail fast (CONFLICT) rather than queue
      // behind our uncommitted claim row.
      // (A hash collision between two keys only costs a retryable CONFLICT.)
      const [{ locked }] = await rows<{ locked: boolean }>(em, `SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2)) AS locked`, [scope, key]);
      if (!locked) throw inFlight(key);
      const claimed = await rows(em,
        `INSERT INTO idempotency_key (scope, key, request_hash, status) VALUES ($1, $2, $3, 'IN_FLIGHT')
         ON CONFLICT (scope, key) DO NOTHING RETURNING key`, [scope, key, hash]);
      if (!claimed.length) return this.replay<T>(em, scope, key, hash);
      const result = await effect(em);
      await rows(em, `UPDATE idempotency_key SET status = 'DONE', result = $3, completed_at = now() WHERE scope = $1 AND key = $2 RETURNING key`,
        [scope, key, JSON.stringify(result ?? null)]);
      return result;
    });
  }

  /**
   * Two-phase, first step (committed on its own). Returns `{ claimed: true }` if the caller now owns the key and must
   * call `complete` or `abandon`, or `{ claimed: false, result }` with the stored result of an earlier completion.
   */
  async claim<T>(scope: string, key: string, payload: unknown): Promise<{ claimed: true } | { claimed: false; result: T }> {
    checkKey(key);
    const hash = requestHash(payload);
    return this.ds.transaction(async (em) => {
      const taken = await rows(em, `
        INSERT INTO idempotency_key (scope, key, request_hash, status) VALUES ($1, $2, $3, 'IN_FLIGHT')
        ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, created_at = now()
          WHERE idempotency_key.status = 'IN_FLIGHT' AND idempotency_key.request_hash = EXCLUDED.request_hash
            AND idempotency_key.created_at < now() - make_interval(secs => $4)
        RETURNING key`, [scope, key, hash, IN_FLIGHT_LEASE_MS / 1000]);
      if (taken.length) return { claimed: true as const };
      return { claimed: false as const, result: await this.replay<T>(em, scope, key, hash) };
    });
  }

  /** Two-phase, last step: records the result. Pass `em` to record it inside the transaction of a final local write. */
  async complete(scope: string, key: string, result: unknown, em: EntityManager = this.ds.manager): Promise<void> {
    await rows(em, `UPDATE idempotency_key SET status = 'DONE', result = $3, completed_at = now() WHERE scope = $1 AND key = $2 AND status = 'IN_FLIGHT' RETURNING key`,
      [scope, key, JSON.stringify(result ?? null)]);
  }

  /** Two-phase, on failure: frees the key so that a retry runs the effect again. */
  async abandon(scope: string, key: string): Promise<void> {
    await rows(this.ds.manager, `DELETE FROM idempotency_key WHERE scope = $1 AND key = $2 AND status = 'IN_FLIGHT' RETURNING key`, [scope, key]);
  }

  /** Deletes keys older than the retention (never less than 24 h); returns how many. Run it from a scheduled job. */
  async purge(olderThanMs = IDEMPOTENCY_RETENTION_MS): Promise<number> {
    const age = Math.max(olderThanMs, IDEMPOTENCY_RETENTION_MS);
    const deleted = await rows(this.ds.manager,
      `DELETE FROM idempotency_key WHERE created_at < now() - make_interval(secs => $1) RETURNING key`, [age / 1000]);
    return deleted.length;
  }

  private async replay<T>(em: EntityManager, scope: string, key: string, hash: string): Promise<T> {
    const [row] = await rows<{ request_hash: string; status: string; result: T }>(em,
      `SELECT request_hash, status, result FROM idempotency_key WHERE scope = $1 AND key = $2`, [scope, key]);
    if (!row) throw inFlight(key); // claimed and abandoned between our two statements: the caller may retry
    if (row.request_hash !== hash) {
      throw new DomainError('IDEMPOTENCY_KEY_REUSED', `idempotency key "${key}" was already used with a different request`, 'idempotencyKey');
    }
    if (row.status !== 'DONE') throw inFlight(key);
    return row.result;
  }
}

function checkKey(key: string): void {
  if (!key.length || key.length > MAX_KEY_LENGTH) throw badInput('idempotencyKey', `must be 1 to ${MAX_KEY_LENGTH} characters`);
}

function inFlight(key: string): DomainError {
  return new DomainError('CONFLICT', `a request with idempotency key "${key}" is still in progress; retry later`, 'idempotencyKey', { retryable: true });
}

/** SHA-256 of the payload as canonical JSON: object keys sorted, `undefined` and `null` members dropped
 * (GraphQL clients send an omitted optional field either way). */
export function requestHash(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
