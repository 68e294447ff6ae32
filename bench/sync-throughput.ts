import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { loadConfig } from '../src/config';
import type { CanonicalOrder } from '../src/connectors/sdk/canonical';
import { startMagentoSandbox } from '../src/connectors/sandbox';
import { loadDemoNetwork } from '../src/db/seed/load-demo';
import { createLogger } from '../src/logger';
import { createServices } from '../src/services';
import { median, openBenchDb, percentile } from './support/bench-db';

/**
 * sync-throughput: orders/s from a sandbox channel to routed-and-reserved, end to end — the sync runner pulls a
 * backlog from the Magento sandbox (100-order pages, its connector's default; no rate limit, so the hub is what is
 * measured), maps it, lands each page with its cursor, routes every order and reserves its stock — ÷ the rate of
 * bare inserts of the same rows (each page's orders and order lines as two multi-row INSERTs in one transaction,
 * nothing else), measured in the same run. Latency: from the moment a page reached the hub (mapped records handed
 * to the runner) to the commit that routed and reserved its orders, over all rounds, and again without the first
 * (which runs against empty order tables, first analysed at 1,000 rows, and cold backends). Goal ≥ 1,000 orders/s,
 * p99 < 50 ms.
 * Alternating rounds on the demo network (35 locations, 2,000 SKUs); each round is a fresh connection (channel).
 */
export async function run(): Promise<void> {
  const perRound = Number(process.env.BENCH_ORDERS ?? 2000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const pageSize = Number(process.env.BENCH_PAGE_SIZE ?? 100);
  const db = await openBenchDb(10);
  const config = { ...loadConfig({}), masterKey: randomBytes(24).toString('hex'), autoRoute: true };
  const services = createServices(db.ds, config, createLogger('silent'), db.url);
  // The sandbox's clock runs a minute behind: every backlog order is older than the connector's 5 s read lag.
  const sandbox = await startMagentoSandbox({ seed: 42, backlog: perRound, backlogHours: 24, ordersPerHour: 0, rateLimits: false,
    clock: { now: () => Date.now() - 60_000 }, maxPageSize: 1000 });
  try {
    await loadDemoNetwork(db.ds);
    // Statistics for the network the demo loaded. The order tables are left to autovacuum, as on a hub that starts
    // syncing: an ANALYZE of them while empty would tell the planner they stay empty, and the per-row foreign-key
    // checks of the intake would then scan them whole (cached plans) for the rest of the run, ever slower.
    await db.ds.query('ANALYZE location, product, stock_level, stock_movement');

    // Instrument the vendor read: when each page reached the hub, and what it carried (for the bare-insert limit).
    const pages: { at: number; records: CanonicalOrder[] }[] = [];
    const open = services.connections.open.bind(services.connections);
    services.connections.open = async (ref: string) => {
      const opened = await open(ref);
      const read = opened.vendor.read.bind(opened.vendor);
      opened.vendor.read = (async function* (...args: Parameters<typeof read>) {
        for await (const batch of read(...args)) {
          pages.push({ at: performance.now(), records: batch.records as CanonicalOrder[] });
          yield batch;
        }
      }) as typeof read;
      return opened;
    };

    const ours = async (round: number) => {
      const name = `bench-magento-${round}`;
      const conn = await services.connections.create({ name, kind: 'magento',
        config: { ...sandbox.connection.config, startAt: new Date(Date.now() - 3 * 86_400_000).toISOString(), pageSize },
        credentials: sandbox.connection.credentials, settings: { channel: name } });
      pages.length = 0;
      const latencies: number[] = [];
      let committed = 0;
      const t0 = performance.now();
      const summary = await services.sync.runner.run(conn.id, { stream: 'orders', trigger: 'MANUAL', onProgress: (p) => {
        const now = performance.now();
        for (const pg of pages.slice(committed, p.pages)) for (let i = 0; i < pg.records.length; i++) latencies.push(now - pg.at);
        committed = p.pages;
      } });
      const seconds = (performance.now() - t0) / 1000;
      if (summary.status !== 'SUCCEEDED' || summary.created !== perRound) {
        throw new Error(`round ${round}: ${summary.status}, created ${summary.created} of ${perRound}, failed ${summary.failed}: ${summary.errors.slice(0, 3).join('; ')}`);
      }
      const [{ routed }] = await db.ds.query(`SELECT count(*)::int AS routed FROM orders WHERE channel = $1 AND status IN ('ALLOCATED', 'BACKORDERED')`, [name]);
      if (routed !== perRound) throw new Error(`round ${round}: only ${routed} of ${perRound} orders routed`);
      return { rate: perRound / seconds, latencies, pages: pages.map((p) => p.records) };
    };

    const bare = async (round: number, batches: CanonicalOrder[][]) => {
      const channel = `bench-bare-${round}`;
      const [{ id: productId }] = await db.ds.query(`SELECT id FROM product ORDER BY sku LIMIT 1`);
      const t0 = performance.now();
      let n = 0;
      for (const batch of batches) {
        await db.ds.transaction(async (em) => {
          const ids: { id: string }[] = await em.query(`
            INSERT INTO orders (channel, external_id, customer_name, customer_email, ship_to, currency, total_amount, placed_at)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::numeric[], $8::timestamptz[]) RETURNING id`,
          [batch.map(() => channel), batch.map((o) => o.externalId), batch.map((o) => o.customer?.name ?? null), batch.map((o) => o.customer?.email ?? null),
            batch.map((o) => JSON.stringify(o.shipTo ?? null)), batch.map((o) => o.currency), batch.map((o) => o.totalPrice), batch.map((o) => o.placedAt)]);
          const lines = batch.flatMap((o, i) => o.lines.map((l, k) => ({ orderId: ids[i].id, no: k + 1, l })));
          await em.query(`INSERT INTO order_line (order_id, line_no, product_id, sku, quantity, unit_price)
            SELECT o, n, $3::uuid, s, q, p FROM unnest($1::uuid[], $2::int[], $4::text[], $5::int[], $6::numeric[]) AS v(o, n, s, q, p)`,
          [lines.map((x) => x.orderId), lines.map((x) => x.no), productId, lines.map((x) => x.l.sku), lines.map((x) => x.l.quantity), lines.map((x) => x.l.unitPrice ?? null)]);
        });
        n += batch.length;
      }
      return n / ((performance.now() - t0) / 1000);
    };

    // Warm-up (not measured): one page through the same path, so that one-time work (JIT, the geocoder's city
    // index, prepared plans) is not counted as ingest latency.
    const warm = await services.connections.create({ name: 'bench-warmup', kind: 'magento',
      config: { ...sandbox.connection.config, startAt: new Date(Date.now() - 3 * 86_400_000).toISOString(), pageSize },
      credentials: sandbox.connection.credentials, settings: { channel: 'bench-warmup' } });
    await services.sync.runner.run(warm.id, { stream: 'orders', trigger: 'MANUAL', maxPages: 1 });

    const o: number[] = [];
    const b: number[] = [];
    const all: number[] = [];
    const afterFirst: number[] = []; // rounds 2…n: order tables no longer empty, backends warm
    for (let round = 0; round < rounds; round++) {
      const r = await ours(round);
      o.push(r.rate);
      all.push(...r.latencies);
      if (round > 0) afterFirst.push(...r.latencies);
      b.push(await bare(round, r.pages));
      const s = [...r.latencies].sort((x, y) => x - y);
      console.log(`sync-throughput round ${round + 1}: ${r.rate.toFixed(0)} orders/s (p50 ${percentile(s, 0.5).toFixed(1)} ms, p99 ${percentile(s, 0.99).toFixed(1)} ms), bare inserts ${b[round].toFixed(0)} orders/s`);
    }
    all.sort((x, y) => x - y);
    afterFirst.sort((x, y) => x - y);
    const ratio = median(o) / median(b);
    console.log(`sync-throughput: ${perRound} orders × ${rounds} rounds, ${pageSize}-order pages: ${median(o).toFixed(0)} orders/s routed and reserved (${o.map((x) => x.toFixed(0)).join(', ')}), `
      + `bare inserts ${median(b).toFixed(0)} orders/s (${b.map((x) => x.toFixed(0)).join(', ')}); ingest→routed p50 ${percentile(all, 0.5).toFixed(1)} ms, p99 ${percentile(all, 0.99).toFixed(1)} ms`
      + (afterFirst.length ? ` (after the first round: p50 ${percentile(afterFirst, 0.5).toFixed(1)} ms, p99 ${percentile(afterFirst, 0.99).toFixed(1)} ms)` : '') + '; '
      + `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`RESULT sync-throughput value=${median(o).toFixed(0)} limit=${median(b).toFixed(0)} ratio=${ratio.toFixed(3)}`);
  } finally {
    await sandbox.close();
    await db.close();
  }
}

if (require.main === module) run().catch((e) => { console.error(e); process.exit(1); });
