import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { rows as sql } from '../db/sql';
import type { InventoryChangedEvent } from '../events/hub-events';

export interface CoalescedRequest { sku: string; locationCode: string; quantity: number; reference: string | null; expiresAt: Date | null; actor: string }
export interface CoalescedGrant { id: string; sku: string; locationCode: string; expiresAt: Date | null }

interface Pending extends CoalescedRequest { resolve: (g: CoalescedGrant | null) => void; reject: (e: unknown) => void }

const MAX_BATCH = 500;

/**
 * Request coalescing for hot items. Every reservation of one (sku, location) row queues behind that row's lock
 * anyway; here, while one reservation of an item is in flight, later ones for the same item wait in memory and are
 * then granted together: one transaction locks the row, grants the requests in arrival order while stock lasts,
 * and writes one reservation row and one RESERVE ledger row (with the running balance) per request, one UPDATE and
 * one event (published after commit). Throughput on a hot SKU then scales with the batch size instead of the row lock's hand-off rate.
 *
 * A lone request (nothing in flight) is not delayed: it takes the single-statement path. `null` means "not granted
 * in the batch": the caller retries it alone, which gives the exact answer (and the precise error).
 */
export class ReservationCoalescer {
  private readonly queues = new Map<string, Pending[]>();
  private readonly busy = new Set<string>();

  constructor(
    private readonly ds: DataSource,
    private readonly single: (r: CoalescedRequest) => Promise<CoalescedGrant>,
    /** Publishes events after the batch committed. */
    private readonly publish: (events: InventoryChangedEvent[]) => Promise<void>,
  ) {}

  reserve(r: CoalescedRequest): Promise<CoalescedGrant | null> {
    const key = `${r.sku}\u0000${r.locationCode}`;
    if (!this.busy.has(key)) {
      this.busy.add(key);
      return this.single(r).finally(() => this.drain(key));
    }
    return new Promise((resolve, reject) => {
      const q = this.queues.get(key) ?? [];
      q.push({ ...r, resolve, reject });
      this.queues.set(key, q);
    });
  }

  private drain(key: string): void {
    const q = this.queues.get(key);
    if (!q?.length) {
      this.queues.delete(key);
      this.busy.delete(key);
      return;
    }
    const batch = q.splice(0, MAX_BATCH);
    this.grant(batch).then(
      (grants) => batch.forEach((p, i) => p.resolve(grants[i])),
      (err) => batch.forEach((p) => p.reject(err)),
    ).finally(() => this.drain(key));
  }

  private async grant(batch: Pending[]): Promise<(CoalescedGrant | null)[]> {
    const { sku, locationCode } = batch[0];
    let event: InventoryChangedEvent | undefined;
    const result = await this.ds.transaction(async (em) => {
      const [cur] = await sql<{ product_id: string; location_id: string; on_hand: number; reserved: number; safety_stock: number }>(em, `
        SELECT s.product_id, s.location_id, s.on_hand, s.reserved, s.safety_stock
          FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id
         WHERE p.sku = $1 AND l.code = $2 FOR UPDATE OF s`, [sku, locationCode]);
      if (!cur) return batch.map(() => null);
      let available = cur.on_hand - cur.reserved - cur.safety_stock;
      let reserved = cur.reserved;
      const granted: { p: Pending; id: string; reservedAfter: number }[] = [];
      const result: (CoalescedGrant | null)[] = batch.map((p) => {
        if (p.quantity > available) return null;
        available -= p.quantity;
        reserved += p.quantity;
        const id = randomUUID();
        granted.push({ p, id, reservedAfter: reserved });
        return { id, sku, locationCode, expiresAt: p.expiresAt };
      });
      if (!granted.length) return result;
      const at = new Date().toISOString();
      event = { type: 'inventoryChanged', sku, locationCode, onHand: cur.on_hand, reserved, available: Math.max(0, available), reason: 'RESERVE', at };
      await sql(em, `
        WITH g AS (
          SELECT * FROM unnest($3::uuid[], $4::int[], $5::text[], $6::timestamptz[], $7::text[], $8::int[]) WITH ORDINALITY
                 AS g(id, quantity, reference, expires_at, actor, reserved_after, ord)),
        upd AS (UPDATE stock_level SET reserved = reserved + $9, updated_at = now() WHERE product_id = $1 AND location_id = $2 RETURNING 1),
        res AS (INSERT INTO reservation (id, product_id, location_id, quantity, reference, expires_at)
                SELECT id, $1, $2, quantity, reference, expires_at FROM g),
        mov AS (INSERT INTO stock_movement (product_id, location_id, reason, on_hand_delta, reserved_delta, on_hand_after, reserved_after, reference, actor)
                SELECT $1, $2, 'RESERVE', 0, quantity, $10, reserved_after, reference, actor FROM g ORDER BY ord)
        SELECT 1 FROM upd`,
        [cur.product_id, cur.location_id, granted.map((x) => x.id), granted.map((x) => x.p.quantity), granted.map((x) => x.p.reference),
          granted.map((x) => x.p.expiresAt), granted.map((x) => x.p.actor), granted.map((x) => x.reservedAfter),
          reserved - cur.reserved, cur.on_hand]);
      return result;
    });
    if (event) await this.publish([event]);
    return result;
  }
}
