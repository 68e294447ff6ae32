import type { EntityManager } from 'typeorm';
import { rows } from '../db/sql';
import { badInput, notFound } from '../errors';

export interface MovementView {
  id: string; sku: string; locationCode: string; reason: string; onHandDelta: number; reservedDelta: number;
  onHandAfter: number; reservedAfter: number; reference: string | null; note: string | null; actor: string; createdAt: Date;
}

/**
 * The ledger of one SKU at one location (or at every location when `locationCode` is omitted), oldest first,
 * from `since`; keyset-paged by movement id.
 */
export async function inventoryHistory(em: EntityManager, q: { sku: string; locationCode?: string | null; since?: Date | null; afterId?: string | null; limit: number }): Promise<MovementView[]> {
  if (q.since != null && Number.isNaN(q.since.getTime())) throw badInput('since', 'is not a valid time');
  const [ids] = await rows<{ product_id: string | null; location_id: string | null }>(em,
    `SELECT (SELECT id FROM product WHERE sku = $1) AS product_id, (SELECT id FROM location WHERE code = $2) AS location_id`, [q.sku, q.locationCode ?? null]);
  if (!ids.product_id) throw notFound('SKU', q.sku, 'sku');
  if (q.locationCode != null && !ids.location_id) throw notFound('Location', q.locationCode, 'locationCode');
  const found = await rows<any>(em, `
    SELECT m.id::text AS id, l.code, m.reason, m.on_hand_delta, m.reserved_delta, m.on_hand_after, m.reserved_after, m.reference, m.note, m.actor, m.created_at
      FROM stock_movement m JOIN location l ON l.id = m.location_id
     WHERE m.product_id = $1 AND ($2::uuid IS NULL OR m.location_id = $2)
       AND ($3::timestamptz IS NULL OR m.created_at >= $3) AND ($4::bigint IS NULL OR m.id > $4)
     ORDER BY m.id LIMIT $5`,
    [ids.product_id, ids.location_id, q.since ?? null, q.afterId ?? null, q.limit]);
  return found.map((r) => ({
    id: r.id, sku: q.sku, locationCode: r.code, reason: r.reason, onHandDelta: r.on_hand_delta, reservedDelta: r.reserved_delta,
    onHandAfter: r.on_hand_after, reservedAfter: r.reserved_after, reference: r.reference, note: r.note, actor: r.actor, createdAt: r.created_at,
  }));
}
