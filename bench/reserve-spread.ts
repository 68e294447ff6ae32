import { Pool } from 'pg';
import { InventoryService } from '../src/inventory/inventory.service';
import { mulberry32 } from './instances/generate';
import { openBenchDb, pairedRates, rate } from './support/bench-db';

/**
 * reserve-spread: 5-line reservations spread over 100,000 SKUs × 50 locations (5 M stock rows), 16 clients,
 * through InventoryService.reserveStock (all-or-nothing, fixed lock order, reservation + ledger rows, events)
 * ÷ raw batched SQL doing the same conditional reservation (BEGIN; one UPDATE … FROM unnest(…) of the 5 lines;
 * COMMIT, no ledger). `rounds` adjacent pairs of short runs; the ratio is the median of the pairs' ratios. Goal ≥ 0.5.
 * Both sides make durable commits and fire the same stock_level triggers. The raw side commits every basket on its
 * own (as each client would without a coordinator); the service may commit baskets that arrive together in one
 * transaction (BasketCoalescer), each still all or nothing with its own reservation and ledger rows.
 */
export async function run(): Promise<void> {
  const skus = Number(process.env.BENCH_SPREAD_SKUS ?? 100_000);
  const locations = 50;
  const clients = 16;
  const roundMs = Number(process.env.BENCH_ROUND_MS ?? 500);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
  const db = await openBenchDb(clients + 4);
  const raw = new Pool({ connectionString: db.url, max: clients + 4 });
  try {
    const t0 = Date.now();
    await db.ds.query(`INSERT INTO location (code, name, type, country, latitude, longitude)
      SELECT 'L' || i, 'Location ' || i, 'WAREHOUSE', 'US', 30 + i * 0.3, -120 + i FROM generate_series(1, ${locations}) i`);
    await db.ds.query(`INSERT INTO product (sku, name) SELECT 'S' || i, 'Product ' || i FROM generate_series(1, ${skus}) i`);
    // Bulk load without the row triggers (the channel-push dirty marker would add 5 M rows of its own); the measured
    // statements, ours and the raw ones alike, run with them.
    await db.ds.query(`ALTER TABLE stock_level DISABLE TRIGGER USER`);
    await db.ds.query(`INSERT INTO stock_level (product_id, location_id, on_hand) SELECT p.id, l.id, 1000000 FROM product p CROSS JOIN location l`);
    await db.ds.query(`ALTER TABLE stock_level ENABLE TRIGGER USER`);
    await db.ds.query(`VACUUM ANALYZE stock_level`);
    await db.ds.query(`ANALYZE product`);
    await db.ds.query(`ANALYZE location`);
    console.log(`reserve-spread: loaded ${skus} SKUs × ${locations} locations in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const productIds: string[] = (await db.ds.query(`SELECT id FROM product ORDER BY (substr(sku, 2))::int`)).map((r: { id: string }) => r.id);
    const locationIds: string[] = (await db.ds.query(`SELECT id FROM location ORDER BY (substr(code, 2))::int`)).map((r: { id: string }) => r.id);
    const inv = new InventoryService(db.ds);
    const rnd = mulberry32(11);
    const basket = () => {
      const picked = new Map<string, [number, number]>();
      while (picked.size < 5) {
        const s = Math.floor(rnd() * skus);
        const l = Math.floor(rnd() * locations);
        picked.set(`${s}|${l}`, [s, l]);
      }
      return [...picked.values()];
    };
    const ours = () => inv.reserveStock({ lines: basket().map(([s, l]) => ({ sku: `S${s + 1}`, locationCode: `L${l + 1}`, quantity: 1 })) }, 'bench');
    const limit = async () => {
      const lines = basket().map(([s, l]) => [productIds[s], locationIds[l]]).sort((a, b) => (a[0] + a[1] < b[0] + b[1] ? -1 : 1));
      const c = await raw.connect();
      try {
        await c.query('BEGIN');
        const r = await c.query(`UPDATE stock_level s SET reserved = s.reserved + v.q, updated_at = now()
            FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS v(p, l, q)
           WHERE s.product_id = v.p AND s.location_id = v.l AND s.on_hand - s.reserved - s.safety_stock >= v.q`,
          [lines.map((x) => x[0]), lines.map((x) => x[1]), lines.map(() => 1)]);
        await c.query(r.rowCount === lines.length ? 'COMMIT' : 'ROLLBACK');
      } finally {
        c.release();
      }
    };
    await rate(clients, 500, ours);
    await rate(clients, 500, limit);
    const p = await pairedRates(clients, roundMs, rounds, ours, limit);
    console.log(`reserve-spread ${clients} clients: service ${p.ours.toFixed(0)} reservations/s, raw batched SQL ${p.limit.toFixed(0)}/s, ratio ${p.ratio.toFixed(3)}`);
    console.log(`RESULT reserve-spread value=${p.ours.toFixed(0)} limit=${p.limit.toFixed(0)} ratio=${p.ratio.toFixed(3)}`);
  } finally {
    await raw.end();
    await db.close();
  }
}

if (require.main === module) run().catch((e) => { console.error(e); process.exit(1); });
