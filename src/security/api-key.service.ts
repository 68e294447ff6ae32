import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { rows } from '../db/sql';
import { badInput, notFound } from '../errors';
import { Role, type Principal } from './roles';

export interface ApiKeyInfo { id: string; name: string; role: Role; keyPrefix: string; connectionId: string | null; createdBy: string; createdAt: Date; revokedAt: Date | null; lastUsedAt: Date | null }

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const KEY_PATTERN = /^sy_[A-Za-z0-9_-]{32}$/;

interface Row { id: string; name: string; role: Role; key_prefix: string; connection_id: string | null; created_by: string; created_at: Date; revoked_at: Date | null; last_used_at: Date | null }
const toInfo = (r: Row): ApiKeyInfo => ({ id: r.id, name: r.name, role: r.role, keyPrefix: r.key_prefix, connectionId: r.connection_id, createdBy: r.created_by, createdAt: r.created_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at });

/**
 * API keys: `sy_` + 32 url-safe random characters (192 bits), shown once at creation, stored as SHA-256.
 * The bootstrap admin key from SWITCHYARD_ADMIN_KEY is never stored; it is compared in constant time.
 */
export class ApiKeyService {
  private readonly bootstrapHash?: Buffer;
  private readonly touched = new Map<string, number>();

  constructor(private readonly ds: DataSource, bootstrapAdminKey?: string) {
    if (bootstrapAdminKey) this.bootstrapHash = createHash('sha256').update(bootstrapAdminKey).digest();
  }

  async create(input: { name: string; role: Role; connectionId?: string | null }, createdBy: string): Promise<{ key: string; info: ApiKeyInfo }> {
    if (!input.name?.trim() || input.name.length > 100) throw badInput('input.name', 'must be 1 to 100 characters');
    if (!Object.values(Role).includes(input.role)) throw badInput('input.role', `must be one of ${Object.values(Role).join(', ')}`);
    if (input.connectionId && input.role !== Role.INTEGRATION) throw badInput('input.connectionId', 'only INTEGRATION keys are bound to a connection');
    const key = `sy_${randomBytes(24).toString('base64url')}`;
    const [row] = await rows<Row>(this.ds.manager,
      `INSERT INTO api_key (name, role, key_hash, key_prefix, connection_id, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [input.name.trim(), input.role, sha256(key), key.slice(0, 7), input.connectionId ?? null, createdBy]);
    return { key, info: toInfo(row) };
  }

  async revoke(id: string): Promise<ApiKeyInfo> {
    const [row] = await rows<Row>(this.ds.manager, `UPDATE api_key SET revoked_at = coalesce(revoked_at, now()) WHERE id::text = $1 RETURNING *`, [id]);
    if (!row) throw notFound('API key', id, 'id');
    return toInfo(row);
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await rows<Row>(this.ds.manager, `SELECT * FROM api_key ORDER BY created_at DESC`)).map(toInfo);
  }

  /** The principal for an `Authorization` header value (`Bearer <key>`), or null if it names no live key. */
  async authenticate(bearer: string): Promise<Principal | null> {
    if (this.bootstrapHash) {
      const given = createHash('sha256').update(bearer).digest();
      if (timingSafeEqual(given, this.bootstrapHash)) return { actor: 'admin:bootstrap', role: Role.ADMIN };
    }
    if (!KEY_PATTERN.test(bearer)) return null;
    const [row] = await rows<Row>(this.ds.manager, `SELECT * FROM api_key WHERE key_hash = $1 AND revoked_at IS NULL`, [sha256(bearer)]);
    if (!row) return null;
    this.markUsed(row.id);
    return { actor: `key:${row.id}`, role: row.role, connectionId: row.connection_id, keyId: row.id };
  }

  /** last_used_at is informational: written at most once a minute per key, off the request path. */
  private markUsed(id: string): void {
    const now = Date.now();
    if ((this.touched.get(id) ?? 0) > now - 60_000) return;
    this.touched.set(id, now);
    this.ds.query(`UPDATE api_key SET last_used_at = now() WHERE id = $1`, [id]).catch(() => undefined);
  }
}
