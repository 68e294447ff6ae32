import { Client } from 'pg';
import { AVAILABILITY_LOCATIONS_SQL, AVAILABILITY_STOCK_SQL, queryAvailability } from '../src/inventory/availability.query';
import { FulfillmentMethod } from '../src/model/enums';
import { mulberry32 } from './instances/generate';
import { openBenchDb, percentile } from './support/bench-db';
import { startBenchHub } from './support/bench-hub';

/**
 * availability: 20-SKU availability near a point over 50 locations (10,000 SKUs stocked everywhere), one client
 * at a time: the service (queryAvailability), the same through GraphQL over HTTP, and the raw SQL read it is built
 * on (the same two statements, sent plainly and side by side on two pg clients, rows left as they come). Prints p50/p99 of each; goals: p99 < 5 ms at the service, < 15 ms through
 * GraphQL. RESULT: service rate ÷ raw SQL rate.
 *
 * Only stock_level is analysed after loading, as a new deployment's tables would be (autovacuum analyses the
 * 50-row location table only after more than 50 changes): the read's plan must not depend on statistics.
 */
export async function run(): Promise<void> {
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 2000);
  const skus = 10_000;
  const db = await openBenchDb(8);
  const raw = new Client({ connectionString: db.url });
  const raw2 = new Client({ connectionString: db.url });
  await raw.connect();
  await raw2.connect();
  const { hub, url, headers } = await startBenchHub(db);
  try {
    await db.ds.query(`INSERT INTO location (code, name, type, country, latitude, longitude, capabilities)
      SELECT 'L' || i, 'Location ' || i, CASE WHEN i % 3 = 0 THEN 'STORE' ELSE 'WAREHOUSE' END, 'US', 30 + (i % 10) * 1.5, -120 + i, '{SHIP,PICKUP}' FROM generate_series(1, 50) i`);
    await db.ds.query(`INSERT INTO product (sku, name) SELECT 'S' || i, 'Product ' || i FROM generate_series(1, ${skus}) i`);
    await db.ds.query(`INSERT INTO stock_level (product_id, location_id, on_hand, reserved) SELECT p.id, l.id, 50 + (random() * 50)::int, (random() * 10)::int FROM product p CROSS JOIN location l`);
    await db.ds.query(`VACUUM ANALYZE stock_level`);
    const rnd = mulberry32(5);
    const basket = () => Array.from({ length: 20 }, () => `S${1 + Math.floor(rnd() * skus)}`);
    const near = { latitude: 41.9, longitude: -87.7 };
    const query = `query($skus: [String!]!, $near: GeoPointInput) { availability(skus: $skus, near: $near) { sku available locations { locationCode available distanceKm } } }`;
    const measure = async (fn: () => Promise<unknown>) => {
      for (let i = 0; i < 100; i++) await fn();
      const times: number[] = [];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) {
        const s = process.hrtime.bigint();
        await fn();
        times.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      times.sort((a, b) => a - b);
      return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), rate: iterations / secs };
    };
    // The statements the service runs, sent plainly (parsed and planned each time) and their rows left as they come.
    const rawR = await measure(() => Promise.all([raw.query(AVAILABILITY_LOCATIONS_SQL, [near.latitude, near.longitude, 'SHIP']), raw2.query(AVAILABILITY_STOCK_SQL, [basket()])]));
    const svc = await measure(() => queryAvailability(db.ds, { skus: basket(), near, method: FulfillmentMethod.SHIP }));
    const api = await measure(async () => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables: { skus: basket(), near } }) });
      const body = (await res.json()) as { errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
    });
    const line = (name: string, r: { p50: number; p99: number; rate: number }) => console.log(`availability ${name}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.rate.toFixed(0)}/s`);
    line('raw SQL', rawR);
    line('service', svc);
    line('GraphQL', api);
    console.log(`availability goals: service p99 ${svc.p99.toFixed(2)} ms (< 5), GraphQL p99 ${api.p99.toFixed(2)} ms (< 15)`);
    console.log(`RESULT availability value=${svc.rate.toFixed(0)} limit=${rawR.rate.toFixed(0)} ratio=${(svc.rate / rawR.rate).toFixed(3)} p99_service_ms=${svc.p99.toFixed(2)} p99_graphql_ms=${api.p99.toFixed(2)}`);
  } finally {
    await hub.close();
    await raw.end();
    await raw2.end();
    await db.close();
  }
}

if (require.main === module) run().catch((e) => { console.error(e); process.exit(1); });
