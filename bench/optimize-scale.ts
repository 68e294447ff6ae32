import { optimize } from '../src/routing/optimize';
import { generateInstance } from './instances/generate';

/**
 * optimize-scale: wall time to allocate a seeded batch jointly (HiGHS with time limit + greedy fallback).
 * Goals from the routing issue: 1,000 orders × 50 locations ≤ 6 s; 3,000 × 100 ≤ 60 s; under 1 GB.
 * Prints one RESULT line per size; ratio = limit ÷ our time (higher is better).
 */
export async function run(sizes = [{ orders: 1000, locations: 50, limitS: 6 }, { orders: 3000, locations: 100, limitS: 60 }]): Promise<void> {
  for (const s of sizes) {
    const inst = generateInstance({ seed: 42, orders: s.orders, locations: s.locations, capacitySlack: 2 });
    const t0 = process.hrtime.bigint();
    // Leave room for loading the solver and reading its answer inside the goal.
    const r = await optimize(inst, { timeLimitMs: s.limitS * 1000 * 0.7, hardLimitMs: s.limitS * 1000 * 0.85, mipRelGap: 1e-3 });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const name = `optimize-scale-${s.orders}x${s.locations}`;
    console.log(
      `${name}: ${secs.toFixed(2)} s, status ${r.status} (${r.solver}), cost ${r.cost.toFixed(2)}, bound ${r.bound.toFixed(2)} (${r.boundSource}) ` +
        `(gap ${(r.gap * 100).toFixed(3)} %), greedy ${r.greedyCost.toFixed(2)}, shipments ${r.shipments}, unfilled ${r.unfilledUnits}, ` +
        `rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
    );
    console.log(`RESULT ${name} value=${secs.toFixed(3)} limit=${s.limitS} ratio=${(s.limitS / secs).toFixed(3)}`);
  }
}

if (require.main === module) {
  const only = process.argv[2] === 'small' ? [{ orders: 1000, locations: 50, limitS: 6 }] : undefined;
  run(only).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
