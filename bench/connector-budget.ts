import type { Clock } from '../src/connectors/sdk/clock';
import { openConnection } from '../src/connectors/sdk/connector';
import { shopifyConnector } from '../src/connectors/shopify/shopify.connector';
import { amazonConnector } from '../src/connectors/amazon/amazon.connector';
import { magentoConnector } from '../src/connectors/magento/magento.connector';
import { minimalTimeMs, type SandboxStore, startAmazonSandbox, startMagentoSandbox, startShopifySandbox, SP_API_PUBLISHED_LIMITS } from '../src/connectors/sandbox';

/**
 * connector-budget: each real connector pulls 10,000 orders from its sandbox, which enforces the vendor's limit.
 * value = orders/s achieved; limit = orders/s the limit permits for the same pages (the minimal time the vendor's
 * bucket or window needs to admit those requests, from a full bucket); ratio = value ÷ limit (goal ≥ 0.95, with
 * < 1 % of requests throttled).
 *
 * Time is simulated where the limits would make us wait for hours (SP-API searchOrders admits one page every
 * ~3 minutes): a hybrid clock runs at wall-clock speed but skips every sleep instantly, on both the connector
 * and the sandbox, so real processing time still counts against us and the waits count as the limit imposes them.
 *
 * Limits: Shopify standard plan (bucket 2000 points, restore 100/s), admitting each query as Shopify does: the
 * bucket must hold the query's requested cost before it runs, and the difference to the actual cost is refunded
 * after (the limit's minimal time is computed by the same rule, over the requested and charged cost of each query
 * the sandbox admitted); SP-API searchOrders 0.0056 req/s burst 20 (published); Magento none published: a fixed
 * window of 60 requests/minute (a conservative hosting WAF; the connector is configured to the same).
 */
class HybridClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  async sleep(ms: number): Promise<void> {
    this.offset += Math.max(0, ms);
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Minimal time a Shopify bucket (from full) needs to admit these queries in order when each must find its requested
 * cost in the bucket before it runs and is then charged its actual cost.
 */
function requestedAdmissionMinimalMs(queries: Array<{ requested: number; charged: number }>, max: number, restoreRate: number): number {
  let t = 0;
  let available = max;
  for (const q of queries) {
    const need = Math.min(q.requested, max);
    if (available < need) {
      t += ((need - available) / restoreRate) * 1000;
      available = need;
    }
    available -= q.charged;
  }
  return t;
}

// BENCH_ORDERS, BENCH_ROUNDS; BENCH_VENDORS=shopify,amazon,magento picks vendors (default all).
const N = Number(process.env.BENCH_ORDERS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SEED = 42;

interface Round { orders: number; elapsedMs: number; minimalMs: number; requests: number; throttled: number }

function summary(store: SandboxStore, minimalMs: number, orders: number, elapsedMs: number): Round {
  const st = store.stats();
  return { orders, elapsedMs, minimalMs, requests: st.requests, throttled: st.throttled };
}

async function shopify(): Promise<Round> {
  const clock = new HybridClock();
  const sb = await startShopifySandbox({ seed: SEED, clock, backlog: N, backlogHours: 24, ordersPerHour: 0, costAdmission: 'requested' });
  try {
    await clock.sleep(10_000); // the connector reads up to now − 5 s
    sb.store.orders(); // the simulator generates its backlog now, not inside the first timed request
    const conn = openConnection(shopifyConnector, { ...sb.connection, clock });
    const t0 = clock.now();
    const { records } = await conn.readAll('orders');
    const elapsed = clock.now() - t0;
    return summary(sb.store, requestedAdmissionMinimalMs(sb.admitted, 2000, 100), records.length, elapsed);
  } finally {
    await sb.close();
  }
}

async function amazon(): Promise<Round> {
  const clock = new HybridClock();
  const sb = await startAmazonSandbox({ seed: SEED, clock, backlog: N, backlogHours: 24, ordersPerHour: 0 });
  try {
    await clock.sleep(180_000); // SP-API serves orders updated at least two minutes ago: let the last ones settle
    sb.store.orders(); // the simulator generates its backlog now, not inside the first timed request
    const conn = openConnection(amazonConnector, { ...sb.connection, clock });
    const t0 = clock.now();
    const { records } = await conn.readAll('orders');
    const elapsed = clock.now() - t0;
    const plan = SP_API_PUBLISHED_LIMITS.searchOrders;
    return summary(sb.store, minimalTimeMs({ kind: 'token', rate: plan.rate, burst: plan.burst, requests: Math.ceil(records.length / 100) }), records.length, elapsed);
  } finally {
    await sb.close();
  }
}

async function magento(): Promise<Round> {
  const clock = new HybridClock();
  const rpm = 60;
  const sb = await startMagentoSandbox({ seed: SEED, clock, backlog: N, backlogHours: 24, ordersPerHour: 0, requestsPerMinute: rpm });
  try {
    await clock.sleep(10_000); // the connector reads up to now − 5 s
    sb.store.orders(); // the simulator generates its backlog now, not inside the first timed request
    const conn = openConnection(magentoConnector, { config: { ...sb.connection.config, pageSize: 100, requestsPerMinute: rpm }, credentials: sb.connection.credentials, clock });
    const t0 = clock.now();
    const { records } = await conn.readAll('orders');
    const elapsed = clock.now() - t0;
    return summary(sb.store, minimalTimeMs({ kind: 'window', limit: rpm, windowMs: 60_000, requests: Math.ceil(records.length / 100) }), records.length, elapsed);
  } finally {
    await sb.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(): Promise<void> {
  const only = (process.env.BENCH_VENDORS ?? '').split(',').filter(Boolean);
  const vendors = ([['shopify', shopify], ['amazon', amazon], ['magento', magento]] as Array<[string, () => Promise<Round>]>).filter(([name]) => !only.length || only.includes(name));
  for (const [name, pull] of vendors) {
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await pull();
      if (r.orders !== N) throw new Error(`${name}: pulled ${r.orders} of ${N} orders`);
      rounds.push(r);
      console.log(
        `connector-budget-${name} round ${i + 1}: ${r.orders} orders in ${(r.elapsedMs / 1000).toFixed(1)} s (limit needs ${(r.minimalMs / 1000).toFixed(1)} s), ` +
          `${r.requests} requests, ${r.throttled} throttled (${((100 * r.throttled) / r.requests).toFixed(2)} %)`,
      );
    }
    const value = median(rounds.map((r) => r.orders / (r.elapsedMs / 1000)));
    const limit = median(rounds.map((r) => r.orders / (r.minimalMs / 1000)));
    const throttledShare = median(rounds.map((r) => r.throttled / r.requests));
    console.log(`connector-budget-${name}: throttled ${(throttledShare * 100).toFixed(2)} % of requests (goal < 1 %)`);
    console.log(`RESULT connector-budget-${name} value=${value.toFixed(3)} limit=${limit.toFixed(3)} ratio=${(value / limit).toFixed(3)}`);
  }
}

if (require.main === module) run().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
