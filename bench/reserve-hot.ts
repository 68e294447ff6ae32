import { Pool } from 'pg';
import { InventoryService } from '../src/inventory/inventory.service';
import { DomainError } from '../src/errors';
import { openBenchDb, pairedRates, rate } from './support/bench-db';

/**
 * reserve-hot: single-unit reservations on ONE hot SKU at one location, at 1, 16 and 64 concurrent clients,
 * through InventoryService.reserveStock (reservation row + ledger row + event, atomically) ÷ a raw conditional
 * UPDATE loop (`UPDATE … WHERE on_hand - reserved - safety_stock >= 1`, nothing else, one durable commit each) with
 * the same clients on the same database (the service coalesces concurrent requests for the item; the raw loop does not). `rounds` adjacent pairs of short runs per client count (pairedRates: the ratio is the median of the
 * pairs' ratios, each pair measured under the same machine load). Then an oversell check: 64 clients race for 500
 * units. RESULT is the 64-client ratio (goal ≥ 0.8, and ≥ 2 by coalescing; ≥ 0.7 at 1 client).
 */
export async function run(opts: { roundMs?: number; rounds?: number } = {}): Promise<void> {
  const roundMs = opts.roundMs ?? Number(process.env.BENCH_ROUND_MS ?? 400);
  const rounds = opts.rounds ?? Number(process.env.BENCH_ROUNDS ?? 10);
  const db = await openBenchDb(70);
  const raw = new Pool({ connectionString: db.url, max: 70 });
  try {
    await db.ds.query(`INSERT INTO location (code, name, type, country, latitude, longitude) VALUES ('HOT', 'Hot', 'WAREHOUSE', 'US', 40, -90)`);
    await db.ds.query(`INSERT INTO product (sku, name) SELECT 'HOT-' || i, 'hot' FROM generate_series(1, 3) i`);
    const inv = new InventoryService(db.ds);
    await inv.set({ sku: 'HOT-1', locationCode: 'HOT', onHand: 1_000_000_000 }, 'bench');
    await inv.set({ sku: 'HOT-2', locationCode: 'HOT', onHand: 1_000_000_000 }, 'bench');
    const [ids] = await db.ds.query(`SELECT (SELECT id FROM product WHERE sku = 'HOT-2') AS p, (SELECT id FROM location WHERE code = 'HOT') AS l`);
    const ours = () => inv.reserveStock({ lines: [{ sku: 'HOT-1', locationCode: 'HOT', quantity: 1 }] }, 'bench');
    const limit = async () => {
      const r = await raw.query(`UPDATE stock_level SET reserved = reserved + 1 WHERE product_id = $1 AND location_id = $2 AND on_hand - reserved - safety_stock >= 1 RETURNING reserved`, [ids.p, ids.l]);
      if (r.rowCount !== 1) throw new Error('raw reservation failed');
    };
    // Warm both paths (connections, plans).
    await rate(16, 300, ours);
    await rate(16, 300, limit);
    const results: { clients: number; ours: number; raw: number; ratio: number }[] = [];
    for (const clients of [1, 16, 64]) {
      const p = await pairedRates(clients, roundMs, rounds, ours, limit);
      const res = { clients, ours: p.ours, raw: p.limit, ratio: p.ratio };
      results.push(res);
      console.log(`reserve-hot ${clients} client(s): service ${res.ours.toFixed(0)}/s, raw UPDATE ${res.raw.toFixed(0)}/s, ratio ${res.ratio.toFixed(3)}`);
    }

    await inv.set({ sku: 'HOT-3', locationCode: 'HOT', onHand: 500 }, 'bench');
    let granted = 0;
    let refused = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      for (;;) {
        try {
          await inv.reserveStock({ lines: [{ sku: 'HOT-3', locationCode: 'HOT', quantity: 1 }] }, 'bench');
          granted++;
        } catch (err) {
          if (err instanceof DomainError && err.code === 'INSUFFICIENT_STOCK') { refused++; return; }
          throw err;
        }
      }
    }));
    const [row] = await db.ds.query(`SELECT s.on_hand, s.reserved, (SELECT count(*)::int FROM reservation r WHERE r.product_id = s.product_id AND r.status = 'ACTIVE') AS live
      FROM stock_level s JOIN product p ON p.id = s.product_id WHERE p.sku = 'HOT-3'`);
    const oversold = Math.max(0, granted - 500, row.reserved - row.on_hand, row.live - 500);
    console.log(`reserve-hot oversell check: 64 clients, 500 units: granted ${granted}, refused ${refused}, reserved ${row.reserved}, oversold=${oversold}`);
    const at64 = results[2];
    console.log(`RESULT reserve-hot value=${at64.ours.toFixed(0)} limit=${at64.raw.toFixed(0)} ratio=${at64.ratio.toFixed(3)} oversold=${oversold} ratio1=${results[0].ratio.toFixed(3)} ratio16=${results[1].ratio.toFixed(3)}`);
  } finally {
    await raw.end();
    await db.close();
  }
}

if (require.main === module) run().catch((e) => { console.error(e); process.exit(1); });
