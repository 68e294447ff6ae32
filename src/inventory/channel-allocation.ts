import type { DataSource, EntityManager } from 'typeorm';
import { rows } from '../db/sql';
import { badInput, notFound } from '../errors';
import type { ChannelRules } from './atp';
import { MAX_QUANTITY } from './inventory.service';

/**
 * Which locations feed which sales channel. A channel with no allocation rows is fed by every active location;
 * once it has rows, only those locations feed it, each with a buffer (units the channel never sees there).
 * A channel's safety stock is held back from its network total. Changes are upserts, so replays are harmless.
 */
export interface ChannelAllocationView { channel: string; locationCode: string; buffer: number }
export interface ChannelPolicyView { channel: string; safetyStock: number; allocations: ChannelAllocationView[] }

function checkChannel(channel: string): void {
  if (!(channel.length >= 1 && channel.length <= 100)) throw badInput('input.channel', 'must be 1 to 100 characters');
}
function checkUnits(field: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_QUANTITY) throw badInput(field, `must be a whole number from 0 to ${MAX_QUANTITY}`);
}

export async function loadChannelRules(em: EntityManager, channel: string): Promise<ChannelRules> {
  const [row] = await rows<{ safety: number | null; allocations: Record<string, number> | null }>(em, `
    SELECT (SELECT safety_stock FROM channel_inventory_policy WHERE channel = $1) AS safety,
           (SELECT json_object_agg(l.code, ca.buffer) FROM channel_allocation ca JOIN location l ON l.id = ca.location_id WHERE ca.channel = $1) AS allocations`,
    [channel]);
  return {
    safetyStock: row.safety ?? 0,
    allocations: row.allocations ? new Map(Object.entries(row.allocations)) : undefined,
  };
}

export async function getChannelPolicy(ds: DataSource, channel: string): Promise<ChannelPolicyView> {
  const [policy] = await rows<{ safety_stock: number }>(ds.manager, `SELECT safety_stock FROM channel_inventory_policy WHERE channel = $1`, [channel]);
  const allocations = await rows<{ code: string; buffer: number }>(ds.manager,
    `SELECT l.code, ca.buffer FROM channel_allocation ca JOIN location l ON l.id = ca.location_id WHERE ca.channel = $1 ORDER BY l.code`, [channel]);
  return { channel, safetyStock: policy?.safety_stock ?? 0, allocations: allocations.map((a) => ({ channel, locationCode: a.code, buffer: a.buffer })) };
}

/** Lets `locationCode` feed `channel` with `buffer` (default 0); `remove` stops it feeding the channel. */
export async function setChannelAllocation(ds: DataSource, input: { channel: string; locationCode: string; buffer?: number | null; remove?: boolean | null }): Promise<ChannelPolicyView> {
  checkChannel(input.channel);
  const buffer = input.buffer ?? 0;
  checkUnits('input.buffer', buffer);
  await ds.transaction(async (em) => {
    const [loc] = await rows<{ id: string }>(em, `SELECT id FROM location WHERE code = $1`, [input.locationCode]);
    if (!loc) throw notFound('Location', input.locationCode, 'input.locationCode');
    if (input.remove) {
      await rows(em, `DELETE FROM channel_allocation WHERE channel = $1 AND location_id = $2 RETURNING channel`, [input.channel, loc.id]);
    } else {
      await rows(em, `INSERT INTO channel_allocation (channel, location_id, buffer) VALUES ($1, $2, $3)
                      ON CONFLICT (channel, location_id) DO UPDATE SET buffer = EXCLUDED.buffer, updated_at = now() RETURNING channel`,
        [input.channel, loc.id, buffer]);
    }
  });
  return getChannelPolicy(ds, input.channel);
}

export async function setChannelSafetyStock(ds: DataSource, input: { channel: string; safetyStock: number }): Promise<ChannelPolicyView> {
  checkChannel(input.channel);
  checkUnits('input.safetyStock', input.safetyStock);
  await rows(ds.manager, `INSERT INTO channel_inventory_policy (channel, safety_stock) VALUES ($1, $2)
                          ON CONFLICT (channel) DO UPDATE SET safety_stock = EXCLUDED.safety_stock, updated_at = now() RETURNING channel`,
    [input.channel, input.safetyStock]);
  return getChannelPolicy(ds, input.channel);
}
