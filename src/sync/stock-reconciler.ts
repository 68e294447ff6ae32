import type { DataSource } from 'typeorm';
import type { CanonicalStockLevel } from '../connectors/sdk/canonical';
import { rows } from '../db/sql';
import { badInput } from '../errors';
import { RECONCILE_SCHEDULE, type ConnectionService } from '../connections/connection.service';
import type { SyncTrigger } from './sync-runner';
import { hubAvailable } from './outbox-dispatcher';

export interface DriftRow { sku: string; externalLocationId: string; channelQuantity: number; hubAvailable: number; drift: number; seenAt: Date }

/**
 * Compares each channel's stock (its `inventory` stream, read in full) with the hub's ATP for the locations the
 * channel is fed from; run on demand (`reconcileStock`) or by a `reconcile` cron in the connection's schedules. Drift is stored (GraphQL `stockDrift`) and corrected by marking the items dirty, so the
 * next dispatcher round pushes the hub's level.
 */
export class StockReconciler {
  constructor(private readonly ds: DataSource, private readonly connections: ConnectionService) {}

  /**
   * Runs one reconciliation and records it in the run history (`syncRuns`, stream `reconcile`: updated = items
   * corrected, skipped = items that matched), so scheduled checks are as visible as stream runs.
   */
  async reconcile(ref: string, trigger: SyncTrigger = 'MANUAL'): Promise<{ checked: number; drifted: number }> {
    const conn = await this.connections.require(ref, 'connection');
    const [run] = await rows<{ id: string }>(this.ds.manager,
      `INSERT INTO sync_run (connection_id, stream, trigger, holder) VALUES ($1, $2, $3, 'reconciler') RETURNING id`, [conn.id, RECONCILE_SCHEDULE, trigger]);
    try {
      const result = await this.compareAndCorrect(conn.id);
      await rows(this.ds.manager, `UPDATE sync_run SET status = 'SUCCEEDED', finished_at = now(), pages = 1, updated = $2, skipped = $3 WHERE id = $1 RETURNING id`,
        [run.id, result.drifted, result.checked - result.drifted]);
      return result;
    } catch (err) {
      await rows(this.ds.manager, `UPDATE sync_run SET status = 'FAILED', finished_at = now(), errors = jsonb_build_array($2::text) WHERE id = $1 RETURNING id`,
        [run.id, (err as Error).message]);
      throw err;
    }
  }

  private async compareAndCorrect(ref: string): Promise<{ checked: number; drifted: number }> {
    const opened = await this.connections.open(ref);
    const conn = opened.row;
    if (!conn.settings.pushStock?.length) throw badInput('connection', `${conn.name} has no settings.pushStock: the hub does not publish stock to it`);
    if (!opened.vendor.streamNames().includes('inventory')) throw badInput('connection', `${conn.kind} has no inventory stream to compare with`);
    const { records } = await opened.vendor.readAll<CanonicalStockLevel>('inventory');
    let checked = 0;
    let drifted = 0;
    for (const level of records) {
      const mapping = conn.settings.pushStock.find((m) => m.externalLocationId === level.externalLocationId);
      const sku = level.sku ?? Object.entries(conn.settings.itemIds ?? {}).find(([, id]) => id === level.externalItemId)?.[0];
      if (!mapping || !sku) continue;
      const hub = await hubAvailable(this.ds, sku, mapping.locationCodes);
      checked++;
      await rows(this.ds.manager,
        `INSERT INTO channel_stock (connection_id, sku, external_location_id, channel_quantity, channel_seen_at, hub_available) VALUES ($1,$2,$3,$4,now(),$5)
         ON CONFLICT (connection_id, sku, external_location_id) DO UPDATE SET channel_quantity = $4, channel_seen_at = now(), hub_available = $5`,
        [conn.id, sku, level.externalLocationId, level.available, hub]);
      if (level.available !== hub) {
        drifted++;
        // Forget what we believed we pushed, and queue the item: the dispatcher sends the hub's level (compare-and-set on the seen quantity).
        await rows(this.ds.manager, `UPDATE channel_stock SET pushed_quantity = NULL WHERE connection_id = $1 AND sku = $2 AND external_location_id = $3`, [conn.id, sku, level.externalLocationId]);
        await rows(this.ds.manager, `INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key)
                                     VALUES ('stock.push', 'STOCK', $1::text, $1::uuid, $2, $3)`,
          [conn.id, JSON.stringify({ items: [{ sku, externalLocationId: level.externalLocationId }] }), `reconcile:${conn.id}:${sku}@${level.externalLocationId}:${Date.now()}`]);
      }
    }
    return { checked, drifted };
  }

  async drift(ref: string): Promise<DriftRow[]> {
    const conn = await this.connections.require(ref, 'connection');
    return rows<DriftRow>(this.ds.manager,
      `SELECT sku, external_location_id AS "externalLocationId", channel_quantity AS "channelQuantity", hub_available AS "hubAvailable",
              channel_quantity - hub_available AS drift, channel_seen_at AS "seenAt"
         FROM channel_stock WHERE connection_id = $1 AND channel_quantity IS NOT NULL AND hub_available IS NOT NULL AND channel_quantity <> hub_available
        ORDER BY abs(channel_quantity - hub_available) DESC, sku LIMIT 500`, [conn.id]);
  }
}
