import type { DataSource } from 'typeorm';
import { rows } from '../sql';
import { generateDemoNetwork, type DemoOptions } from './demo-network';

export interface SeedSummary { locations: number; products: number; stockRows: number; units: number; skipped: boolean }

const CHUNK = 5000;

function chunks<T>(items: Iterable<T>, size: number): Generator<T[]> {
  return (function* () {
    let batch: T[] = [];
    for (const item of items) {
      batch.push(item);
      if (batch.length === size) { yield batch; batch = []; }
    }
    if (batch.length) yield batch;
  })();
}

/**
 * Loads the demo network in bulk. Idempotent: rows that exist are left alone, so running it twice changes
 * nothing. Initial stock is written through the ledger (one RECEIPT movement per stock row) so the ledger sums
 * to the balances from the first minute.
 */
export async function loadDemoNetwork(ds: DataSource, opts: Partial<DemoOptions> = {}, progress?: (done: number, phase: string) => void): Promise<SeedSummary> {
  const network = generateDemoNetwork(opts);
  let locations = 0, products = 0, stockRows = 0, units = 0;
  await ds.transaction(async (em) => {
    for (const l of network.locations) {
      const inserted = await rows(em, `
        INSERT INTO location (code, name, type, city, region, country, latitude, longitude, time_zone, capabilities,
          daily_order_capacity, daily_line_capacity, processing_hours, order_cutoff, priority, ship_base_cost, ship_cost_per_km)
        VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) ON CONFLICT (code) DO NOTHING RETURNING id`,
        [l.code, l.name, l.type, l.city, l.region, l.country, l.latitude, l.longitude, l.timeZone, l.capabilities,
          l.dailyOrderCapacity ?? null, l.dailyLineCapacity ?? null, l.processingHours, l.orderCutoff, l.priority, l.shipBaseCost, l.shipCostPerKm]);
      locations += inserted.length;
    }
    progress?.(locations, 'locations');
    for (const batch of chunks(network.products, CHUNK)) {
      const inserted = await rows(em, `
        INSERT INTO product (sku, name, barcode, weight_grams, length_mm, width_mm, height_mm, attributes, tags)
        SELECT sku, name, barcode, w, l, wd, h, attrs::jsonb, string_to_array(tags, ',')
          FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::int[], $8::text[], $9::text[])
            AS t(sku, name, barcode, w, l, wd, h, attrs, tags)
        ON CONFLICT (sku) DO NOTHING RETURNING id`,
        [batch.map((p) => p.sku), batch.map((p) => p.name), batch.map((p) => p.barcode), batch.map((p) => p.weightGrams),
          batch.map((p) => p.lengthMm), batch.map((p) => p.widthMm), batch.map((p) => p.heightMm),
          batch.map((p) => JSON.stringify(p.attributes ?? {})), batch.map((p) => (p.tags ?? []).join(','))]);
      products += inserted.length;
      progress?.(products, 'products');
    }
    for (const batch of chunks(network.stock(), CHUNK)) {
      const inserted = await rows<{ n: number; units: number }>(em, `
        WITH input AS (
          SELECT p.id AS product_id, l.id AS location_id, t.on_hand, t.safety
            FROM unnest($1::text[], $2::text[], $3::int[], $4::int[]) AS t(sku, code, on_hand, safety)
            JOIN product p ON p.sku = t.sku JOIN location l ON l.code = t.code
        ), added AS (
          INSERT INTO stock_level (product_id, location_id, on_hand, safety_stock)
          SELECT product_id, location_id, on_hand, safety FROM input
          ON CONFLICT DO NOTHING RETURNING product_id, location_id, on_hand
        ), ledger AS (
          INSERT INTO stock_movement (product_id, location_id, reason, on_hand_delta, on_hand_after, reserved_after, reference, actor)
          SELECT product_id, location_id, 'RECEIPT', on_hand, on_hand, 0, 'demo seed', 'seed' FROM added
          RETURNING on_hand_delta
        )
        SELECT count(*)::int AS n, coalesce(sum(on_hand_delta), 0)::int AS units FROM ledger`,
        [batch.map((s) => s.sku), batch.map((s) => s.locationCode), batch.map((s) => s.onHand), batch.map((s) => s.safetyStock)]);
      stockRows += inserted[0].n;
      units += inserted[0].units;
      progress?.(stockRows, 'stock rows');
    }
  });
  return { locations, products, stockRows, units, skipped: false };
}

export async function isEmpty(ds: DataSource): Promise<boolean> {
  const [row] = await rows<{ n: number }>(ds.manager, `SELECT count(*)::int AS n FROM (SELECT 1 FROM location LIMIT 1) x`);
  return row.n === 0;
}
