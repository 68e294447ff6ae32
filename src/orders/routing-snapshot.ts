import type { EntityManager } from 'typeorm';
import type { CityGeocoder, GeoPoint } from '../catalog/geocoder';
import { rows } from '../db/sql';
import { atpFromRows, type AtpSnapshot, type RoutingLocation, type RoutingNetwork, type RuleSet } from '../routing';
import type { RuleSetService } from '../rules/rule-set.service';

export interface SnapshotLocation {
  id: string; code: string; name: string; type: RoutingLocation['type']; active: boolean; capabilities: RoutingLocation['capabilities'];
  latitude: number; longitude: number; time_zone: string; country: string; daily_order_capacity: number | null; daily_line_capacity: number | null;
  priority: number; ship_base_cost: string; ship_cost_per_km: string; processing_hours: number; order_cutoff: string;
  local_date: string; used_orders: number; used_lines: number;
}

/** Everything `route()` needs, read in one place so that orders and delivery promises see the same network. */
export interface RoutingSnapshot {
  /** The rule set in force, as orders apply it (see `forOrders`). */
  ruleSet: RuleSet;
  locations: SnapshotLocation[];
  network: RoutingNetwork;
  atp: AtpSnapshot;
  /** Each requested SKU that exists: its product id, and whether it may be ordered (active); for callers that validate lines. */
  products: ReadonlyMap<string, { id: string; active: boolean }>;
}

/**
 * The rule set as orders apply it. Transfers to a pickup store are carried out (see `pickup-transfer.ts`), so the
 * rule set applies unchanged; kept as the one place where orders and promises could diverge from the rules.
 */
export const forOrders = (ruleSet: RuleSet): RuleSet => ruleSet;

/**
 * Independent reads, issued together outside a transaction, where each takes its own pooled connection (a delivery
 * promise waits for one round trip instead of four); inside one, one after another on its connection (node-postgres
 * queues concurrent queries on one client, but deprecates doing so).
 */
async function readTogether<T extends (() => Promise<unknown>)[]>(em: EntityManager, reads: [...T]): Promise<{ [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  if (!em.queryRunner?.isTransactionActive) return Promise.all(reads.map((read) => read())) as never;
  const out: unknown[] = [];
  for (const read of reads) out.push(await read());
  return out as never;
}

/**
 * Reads the active network (with today's capacity use in each location's time zone), an ATP snapshot of `skus`
 * and the rule set in force at `now`.
 */
export async function readRoutingSnapshot(em: EntityManager, ruleSets: RuleSetService, skus: string[], now: Date): Promise<RoutingSnapshot> {
  const [ruleSet, locations, atpRows, products] = await readTogether(em, [
    () => ruleSets.active(em, now),
    () => rows<SnapshotLocation>(em, `
    SELECT l.id, l.code, l.name, l.type, l.active, l.capabilities, l.latitude, l.longitude, l.time_zone, l.country,
           l.daily_order_capacity, l.daily_line_capacity, l.priority, l.ship_base_cost, l.ship_cost_per_km,
           l.processing_hours, to_char(l.order_cutoff, 'HH24:MI') AS order_cutoff,
           to_char($1::timestamptz AT TIME ZONE l.time_zone, 'YYYY-MM-DD') AS local_date,
           coalesce(u.orders, 0)::int AS used_orders, coalesce(u.lines, 0)::int AS used_lines
      FROM location l
      LEFT JOIN LATERAL (
        -- Kept by triggers as fulfilment orders and their lines change (migration 770): a few rows per location-day.
        SELECT sum(d.orders) AS orders, sum(d.lines) AS lines FROM location_day_use d
         WHERE d.location_id = l.id AND d.day = ($1::timestamptz AT TIME ZONE l.time_zone)::date
      ) u ON true
     WHERE l.active`, [now], { prepare: true }),
    // The stock rows are found by product id through the primary key: joined on SKU, the planner hashes the whole
    // stock_level table on each read (it did, at 12,000 rows), so the read would grow with the catalogue.
    () => rows<{ sku: string; locationCode: string; available: number }>(em, `
    SELECT p.sku, l.code AS "locationCode", s.on_hand - s.reserved - s.safety_stock AS available
      FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id
     WHERE s.product_id = ANY(ARRAY(SELECT id FROM product WHERE sku = ANY($1))) AND p.sku = ANY($1)
       AND l.active AND s.on_hand - s.reserved - s.safety_stock > 0`, [skus], { prepare: true }),
    () => rows<{ id: string; sku: string; tags: string[]; weight_grams: number | null; active: boolean }>(em,
      `SELECT id, sku, tags, weight_grams, active FROM product WHERE sku = ANY($1)`, [skus], { prepare: true }),
  ]);
  const atp = atpFromRows(atpRows);
  const network: RoutingNetwork = {
    locations: locations.map((l) => ({
      code: l.code, name: l.name, type: l.type, active: l.active, capabilities: l.capabilities, latitude: l.latitude, longitude: l.longitude,
      timeZone: l.time_zone, dailyOrderCapacity: l.daily_order_capacity ?? undefined, dailyLineCapacity: l.daily_line_capacity ?? undefined,
      usedToday: { date: l.local_date, orders: l.used_orders, lines: l.used_lines }, priority: l.priority,
      shipBase: Number(l.ship_base_cost), shipPerKm: Number(l.ship_cost_per_km), processingHours: l.processing_hours, cutoff: l.order_cutoff,
    })),
    products: Object.fromEntries(products.map((p) => [p.sku, { tags: p.tags, weightKg: p.weight_grams == null ? undefined : p.weight_grams / 1000 }])),
  };
  return { ruleSet: forOrders(ruleSet), locations, network, atp, products: new Map(products.map((p) => [p.sku, { id: p.id, active: p.active }])) };
}

/**
 * Where a SHIP order goes, as routing sees it: the address's coordinates, else its city, else the middle of the
 * network in that country (which keeps routing going, ranked mostly by cost and priority).
 */
export function resolveDestination(geocoder: CityGeocoder, address: Parameters<CityGeocoder['locate']>[0], locations: Pick<SnapshotLocation, 'country' | 'latitude' | 'longitude'>[]): { point: GeoPoint; precision: string } | undefined {
  const found = geocoder.locate(address);
  if (found) return { point: { latitude: found.latitude, longitude: found.longitude }, precision: found.precision };
  const inCountry = locations.filter((l) => l.country === address.country);
  const pool = inCountry.length ? inCountry : locations;
  if (!pool.length) return undefined;
  const mean = (f: (l: Pick<SnapshotLocation, 'latitude' | 'longitude'>) => number) => pool.reduce((s, l) => s + f(l), 0) / pool.length;
  return { point: { latitude: mean((l) => l.latitude), longitude: mean((l) => l.longitude) }, precision: 'country' };
}
