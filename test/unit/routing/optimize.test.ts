import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { optimize } from '../../../src/routing/optimize';
import { runOptimizeCommand } from '../../../src/routing/optimize.command';
import { greedyPlan } from '../../../src/routing/optimize.greedy';
import { PlanSearch } from '../../../src/routing/optimize.local-search';
import {
  evaluatePlan,
  parseInstance,
  prepare,
  type OptimizeInstanceInput,
  type OrderPlan,
  type PreparedInstance,
} from '../../../src/routing/optimize.instance';

/** Every allocation of every (order, SKU) demand over locations (the rest unfilled); keeps the cheapest feasible. */
function bruteForce(p: PreparedInstance): number {
  const pairs: { oi: number; sku: string; q: number }[] = [];
  p.demand.forEach((d, oi) => d.forEach((q, sku) => pairs.push({ oi, sku, q })));
  const nLoc = p.inst.locations.length;
  const splits = (q: number, n: number): number[][] => {
    if (n === 0) return [[]];
    const out: number[][] = [];
    for (let a = 0; a <= q; a++) for (const rest of splits(q - a, n - 1)) out.push([a, ...rest]);
    return out;
  };
  const options = pairs.map((pr) => splits(pr.q, nLoc));
  let best = Infinity;
  const choice: number[][] = [];
  const walk = (i: number) => {
    if (i === pairs.length) {
      const plan: OrderPlan[] = p.inst.orders.map((o) => ({ id: o.id, shipments: [] }));
      pairs.forEach((pr, k) => {
        choice[k].forEach((qty, li) => {
          if (qty === 0) return;
          const code = p.inst.locations[li].code;
          let s = plan[pr.oi].shipments.find((x) => x.location === code);
          if (!s) plan[pr.oi].shipments.push((s = { location: code, lines: [] }));
          s.lines.push({ sku: pr.sku, qty });
        });
      });
      const ev = evaluatePlan(p, plan);
      if (ev.violations.length === 0 && ev.cost < best) best = ev.cost;
      return;
    }
    for (const opt of options[i]) {
      choice[i] = opt;
      walk(i + 1);
    }
  };
  walk(0);
  return best;
}

const coord = fc.record({ lat: fc.double({ min: 50, max: 56, noNaN: true }), lng: fc.double({ min: -5, max: 1, noNaN: true }) });
const smallInstance: fc.Arbitrary<OptimizeInstanceInput> = fc
  .record({
    locations: fc.array(
      fc.record({ c: coord, base: fc.integer({ min: 1, max: 10 }), perKm: fc.constantFrom(0, 0.01, 0.05), cap: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }) }),
      { minLength: 1, maxLength: 3 },
    ),
    stock: fc.array(fc.tuple(fc.constantFrom('A', 'B'), fc.nat(2), fc.integer({ min: 0, max: 3 })), { maxLength: 6 }),
    orders: fc.array(
      fc.record({ c: coord, lines: fc.uniqueArray(fc.record({ sku: fc.constantFrom('A', 'B'), qty: fc.integer({ min: 1, max: 2 }) }), { selector: (l) => l.sku, minLength: 1, maxLength: 2 }) }),
      { minLength: 1, maxLength: 3 },
    ),
    splitPenalty: fc.constantFrom(0, 3, 20),
    unfilledPenalty: fc.constantFrom(5, 40, 1000),
  })
  .map((r) => ({
    locations: r.locations.map((l, i) => ({ code: `L${i}`, lat: l.c.lat, lng: l.c.lng, shipBase: l.base, shipPerKm: l.perKm, capacityOrders: l.cap })),
    stock: r.stock.filter(([, li]) => li < r.locations.length).map(([sku, li, qty]) => ({ sku, location: `L${li}`, qty })),
    orders: r.orders.map((o, i) => ({ id: `O${i}`, lat: o.c.lat, lng: o.c.lng, lines: o.lines })),
    splitPenalty: r.splitPenalty,
    unfilledPenalty: r.unfilledPenalty,
  }))
  .filter((inst) => inst.orders.reduce((a, o) => a + o.lines.length, 0) <= 4);

describe('optimize', () => {
  it('finds the exact optimum found by brute-force enumeration, with a valid bound', async () => {
    await fc.assert(
      fc.asyncProperty(smallInstance, async (input) => {
        const p = prepare(parseInstance(input));
        const exact = bruteForce(p);
        const r = await optimize(input, { timeLimitMs: 20_000 });
        expect(r.status).toBe('OPTIMAL');
        expect(evaluatePlan(p, r.plan).violations).toEqual([]);
        expect(r.cost).toBeCloseTo(exact, 6);
        expect(r.bound).toBeLessThanOrEqual(exact + 1e-6);
        expect(r.cost).toBeLessThanOrEqual(r.greedyCost + 1e-9);
      }),
      { numRuns: 25 },
    );
  });

  it('keeps a bound valid for the whole problem when the model keeps one location per order (column generation)', async () => {
    await fc.assert(
      fc.asyncProperty(smallInstance, async (input) => {
        const p = prepare(parseInstance(input));
        const exact = bruteForce(p);
        const r = await optimize(input, { timeLimitMs: 20_000, maxLocationsPerOrder: 1 });
        expect(evaluatePlan(p, r.plan).violations).toEqual([]);
        expect(r.bound).toBeLessThanOrEqual(exact + 1e-6);
        expect(r.cost).toBeGreaterThanOrEqual(exact - 1e-6);
        expect(r.cost).toBeLessThanOrEqual(r.greedyCost + 1e-9);
      }),
      { numRuns: 10 },
    );
  });

  it('local search only ever lowers the cost of a valid plan', () => {
    fc.assert(
      fc.property(smallInstance, (input) => {
        const p = prepare(parseInstance(input));
        const greedy = greedyPlan(p);
        const search = new PlanSearch(p);
        search.load(greedy);
        search.improve({ deadline: Date.now() + 5_000 });
        const ev = evaluatePlan(p, search.plan());
        expect(ev.violations).toEqual([]);
        expect(ev.cost).toBeCloseTo(search.totalCost(), 6);
        expect(ev.cost).toBeLessThanOrEqual(evaluatePlan(p, greedy).cost + 1e-9);
      }),
      { numRuns: 100 },
    );
  });

  it('reports the LP-relaxation bound on a batch where stock is contested', async () => {
    // One location per order in the model: the bound must still come from the LP relaxation of the whole problem.
    const r = await optimize(clashInstance(), { timeLimitMs: 10_000, maxLocationsPerOrder: 1 });
    expect(r.pruned).toBe(true);
    expect(r.boundSource).toBe('lp');
    expect(r.bound).toBeLessThanOrEqual(r.cost + 1e-9);
    expect(r.bound).toBeGreaterThan(0);
  });

  const clash = clashInstance();

  it('beats greedy when orders compete for stock', async () => {
    const r = await optimize(clash, { timeLimitMs: 10_000 });
    expect(r.plan).toEqual([
      { id: 'O1', shipments: [{ location: 'MID', lines: [{ sku: 'A', qty: 1 }] }] },
      { id: 'O2', shipments: [{ location: 'NEAR', lines: [{ sku: 'A', qty: 1 }, { sku: 'B', qty: 1 }] }] },
    ]);
    expect(r.cost).toBeLessThan(r.greedyCost);
  });

  it('falls back to the greedy plan when the solver is stopped before it answers', async () => {
    const r = await optimize(clash, { timeLimitMs: 10_000, hardLimitMs: 1 });
    expect(r.status).toBe('GREEDY_FALLBACK');
    expect(r.solver).toBe('greedy');
    const p = prepare(parseInstance(clash));
    expect(r.plan).toEqual(greedyPlan(p));
    expect(r.cost).toBe(r.greedyCost);
    expect(evaluatePlan(p, r.plan).violations).toEqual([]);
    expect(r.bound).toBeLessThanOrEqual(r.cost);
  });

  it('respects location order capacity and reports unfilled units', async () => {
    const r = await optimize({
      locations: [{ code: 'W', lat: 51.5, lng: -0.1, shipBase: 1, shipPerKm: 0, capacityOrders: 1 }],
      stock: [{ sku: 'A', location: 'W', qty: 10 }],
      orders: [
        { id: 'O1', lat: 51.5, lng: -0.1, lines: [{ sku: 'A', qty: 1 }] },
        { id: 'O2', lat: 51.5, lng: -0.1, lines: [{ sku: 'A', qty: 3 }] },
      ],
      splitPenalty: 0,
    });
    expect(r.plan.find((o) => o.id === 'O2')!.shipments).toHaveLength(1);
    expect(r.plan.find((o) => o.id === 'O1')!.shipments).toHaveLength(0);
    expect(r.unfilledUnits).toBe(1);
    expect(r.cost).toBeCloseTo(1 + 1000, 9);
  });

  it('rejects malformed instances with the path of the problem', async () => {
    await expect(optimize({ locations: [], stock: [], orders: [] } as never)).rejects.toThrow(/locations/);
    await expect(
      optimize({ locations: [{ code: 'W', lat: 0, lng: 0, shipBase: 1, shipPerKm: 0 }], stock: [{ sku: 'A', location: 'X', qty: 1 }], orders: [] }),
    ).rejects.toThrow(/stock\[0\]\.location: unknown location "X"/);
  });
});

describe('runOptimizeCommand', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-opt-'));
  const run = async (argv: string[]) => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => (text += c));
    const code = await runOptimizeCommand(argv, out);
    return { code, text };
  };

  it('prints cost, bound and plan as JSON', async () => {
    const file = join(dir, 'clash.json');
    writeFileSync(file, JSON.stringify(clashInstance()));
    const { code, text } = await run(['--input', file, '--json']);
    expect(code).toBe(0);
    const json = JSON.parse(text);
    expect(Object.keys(json).slice(0, 3)).toEqual(['cost', 'bound', 'plan']);
    expect(json.plan).toHaveLength(2);
    expect(json.plan[0]).toEqual({ id: 'O1', shipments: [{ location: 'MID', lines: [{ sku: 'A', qty: 1 }] }] });
    expect(json.bound).toBeLessThanOrEqual(json.cost);
  });

  it('prints a readable summary without --json', async () => {
    const file = join(dir, 'clash2.json');
    writeFileSync(file, JSON.stringify(clashInstance()));
    const { code, text } = await run(['-i', file]);
    expect(code).toBe(0);
    expect(text).toMatch(/2 orders: cost \d+\.\d\d, bound/);
    expect(text).toContain('O2: NEAR [1×A, 1×B]');
  });

  it('exits 2 on usage and instance errors', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['--bogus'])).code).toBe(2);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ locations: [], stock: [], orders: [] }));
    const r = await run(['--input', bad, '--json']);
    expect(r.code).toBe(2);
    expect(r.text).toContain('locations');
    expect((await run(['--input', join(dir, 'missing.json')])).code).toBe(1);
  });
});

/** Greedy gives O1 the near location's only unit; the optimum sends O1 a bit further so O2 is not split. */
function clashInstance(): OptimizeInstanceInput {
  return {
    locations: [
      { code: 'NEAR', lat: 51.5, lng: -0.1, shipBase: 2, shipPerKm: 0.01 },
      { code: 'MID', lat: 51.6, lng: -0.1, shipBase: 2, shipPerKm: 0.01 },
      { code: 'FAR', lat: 53.5, lng: -2.2, shipBase: 2, shipPerKm: 0.01 },
    ],
    stock: [
      { sku: 'A', location: 'NEAR', qty: 1 },
      { sku: 'B', location: 'NEAR', qty: 1 },
      { sku: 'A', location: 'MID', qty: 1 },
      { sku: 'B', location: 'FAR', qty: 1 },
    ],
    orders: [
      { id: 'O1', lat: 51.5, lng: -0.1, lines: [{ sku: 'A', qty: 1 }] },
      { id: 'O2', lat: 51.5, lng: -0.1, lines: [{ sku: 'A', qty: 1 }, { sku: 'B', qty: 1 }] },
    ],
    splitPenalty: 10,
  };
}
