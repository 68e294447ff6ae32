/**
 * `npm run bench -- <name>` runs one benchmark, `npm run bench` all of them. Each prints its figures and ends with
 * `RESULT <name> value=<v> limit=<l> ratio=<r>` (ratio oriented so that higher is better; 1.0 = as good as the limit).
 */
// Benchmarks measure the hub as it is deployed: graphql-js's development-mode checks (~6 % of a GraphQL read) are
// off under NODE_ENV=production. Set before any bench module (and graphql) is loaded; an explicit setting wins.
process.env.NODE_ENV ??= 'production';
// The hub's heap settings (src/heap-tuning.ts): benchmarks measure the hub as `npm start` runs it.
import '../src/heap-tuning';

const BENCHES: Record<string, () => Promise<{ run: () => unknown }>> = {
  'route-latency': () => import('./route-latency'),
  'optimize-scale': () => import('./optimize-scale'),
  'route-quality': () => import('./route-quality'),
  'reserve-hot': () => import('./reserve-hot'),
  'reserve-spread': () => import('./reserve-spread'),
  availability: () => import('./availability'),
  fanout: () => import('./fanout'),
  'connector-budget': () => import('./connector-budget'),
  'delivery-options': () => import('./delivery-options'),
  'sync-throughput': () => import('./sync-throughput'),
  'webhook-latency': () => import('./webhook-latency'),
};

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !BENCHES[n]);
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    console.log(`== ${name}`);
    const mod = await BENCHES[name]();
    await mod.run();
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
