import { greedyPlan, shortageLowerBound, trivialLowerBound } from './optimize.greedy';
import { evaluatePlan, parseInstance, prepare, type OrderPlan, type OptimizeInstanceInput } from './optimize.instance';
import { buildMip } from './optimize.mip';
import { priceBlocks } from './optimize.bound';
import { PlanSearch } from './optimize.local-search';
import { startSolver, type LpOutcome } from './optimize.worker';
import { prng } from '../db/seed/demo-network';

export interface OptimizeOptions {
  /** Time HiGHS may spend searching (default 10 s). Loading the solver adds a fraction of a second. */
  timeLimitMs?: number;
  /** Wall-clock limit after which the worker is terminated and the best plan so far is used (default timeLimitMs + 2 s). */
  hardLimitMs?: number;
  /** Relative MIP gap at which HiGHS stops (default 1e-6, i.e. optimal). */
  mipRelGap?: number;
  /** false skips the MIP and returns the greedy plan (and the trivial bound). */
  useSolver?: boolean;
  /**
   * Candidate locations per order in the first LP: the N cheapest that stock any of its SKUs, the two cheapest of
   * each SKU, plus those of the greedy plan (default 3; Infinity for the full model). Column generation adds more. Pruning keeps large batches tractable; when it drops anything,
   * `bound` falls back to bounds valid for the full problem and the solver's own bound is `restrictedBound`.
   */
  maxLocationsPerOrder?: number;
}

export type OptimizeStatus = 'OPTIMAL' | 'FEASIBLE' | 'GREEDY_FALLBACK' | 'GREEDY';

export interface OptimizeResult {
  cost: number;
  /** Proven lower bound on the cost of any plan (the solver's dual bound, or a simple bound without it). */
  bound: number;
  /** (cost − bound) / max(1, |cost|). */
  gap: number;
  plan: OrderPlan[];
  /** OPTIMAL: proven optimum. FEASIBLE: the solver stopped on its time limit with a plan. GREEDY_FALLBACK: the
   * solver produced nothing better in time, so the greedy plan is returned. GREEDY: the solver was not used. */
  status: OptimizeStatus;
  /** Where the returned plan came from: HiGHS (LP rounding or MIP), local search on the greedy plan, or greedy. */
  solver: 'highs' | 'local-search' | 'greedy';
  /** What proves `bound`: the LP relaxation ('lp', valid for the whole problem even when pruned), HiGHS's MIP
   * dual bound ('mip', unpruned models only), or the simple bounds ('simple'). */
  boundSource: 'lp' | 'mip' | 'simple';
  shipments: number;
  unfilledUnits: number;
  greedyCost: number;
  /** True when the MIP considered only the cheapest candidate locations per order. */
  pruned: boolean;
  /** The solver's bound over the pruned candidate set (a bound for that restricted problem only). */
  restrictedBound?: number;
  solverError?: string;
}

const HIGHS_OPTIMAL = 7;

/**
 * Allocates a batch of orders jointly: minimum shipping cost + split penalty (+ CO2 when weighted) + unfilled
 * penalty, subject to stock and per-location order capacity (see `optimize.instance.ts` for the cost definition).
 *
 * 1. The greedy plan (the fallback), improved by local search while HiGHS solves the LP relaxation of the MIP
 *    (restricted to the cheapest candidate locations per order) in a worker thread.
 * 2. From the LP's duals, a lower bound valid for the whole problem (`lagrangianBound`); from its shipment values, a
 *    second plan (LP rounding + local search).
 * 3. If the best plan is not yet within `mipRelGap` of the bound and time is left, the MIP from that warm start.
 * The hard limit ends the worker whatever it is doing; the best plan found so far is returned.
 */
export async function optimize(input: OptimizeInstanceInput, opts: OptimizeOptions = {}): Promise<OptimizeResult> {
  const t0 = Date.now();
  const inst = parseInstance(input);
  const p = prepare(inst);
  const greedy = greedyPlan(p);
  const greedyEval = evaluatePlan(p, greedy);
  let bound = Math.max(trivialLowerBound(p), shortageLowerBound(p));
  let boundSource: OptimizeResult['boundSource'] = 'simple';
  let pruned = false;
  let restrictedBound: number | undefined;
  const result = (plan: OrderPlan[], status: OptimizeStatus, solver: OptimizeResult['solver'], solverError?: string): OptimizeResult => {
    const ev = evaluatePlan(p, plan);
    const b = Math.min(ev.cost, bound);
    return {
      cost: ev.cost,
      bound: b,
      gap: (ev.cost - b) / Math.max(1, Math.abs(ev.cost)),
      plan,
      status,
      solver,
      shipments: ev.shipments,
      unfilledUnits: ev.unfilledUnits,
      greedyCost: greedyEval.cost,
      pruned,
      boundSource,
      ...(restrictedBound !== undefined ? { restrictedBound } : {}),
      ...(solverError ? { solverError } : {}),
    };
  };
  if (opts.useSolver === false || inst.orders.length === 0) return result(greedy, 'GREEDY', 'greedy');

  const timeLimitMs = opts.timeLimitMs ?? 10_000;
  const softDeadline = t0 + timeLimitMs;
  const hardDeadline = t0 + (opts.hardLimitMs ?? timeLimitMs + 2000);
  const mipRelGap = opts.mipRelGap ?? 1e-6;
  const until = (fraction: number) => Math.min(hardDeadline, Date.now() + Math.max(0, softDeadline - Date.now()) * fraction);
  const closeEnough = (cost: number) => cost - bound <= Math.max(1e-9, mipRelGap) * Math.max(1, Math.abs(cost));

  const locIndex = new Map(inst.locations.map((l, i) => [l.code, i]));
  const mip = buildMip(p, {
    maxLocationsPerOrder: opts.maxLocationsPerOrder ?? 3,
    keep: (oi) => greedy[oi].shipments.map((s) => locIndex.get(s.location)!),
  });
  pruned = mip.pruned;
  // The LP gets most of the time limit; what is left goes to rounding it, the MIP and local search.
  const lpDeadline = Math.min(hardDeadline, t0 + timeLimitMs * 0.75);
  const session = startSolver(mip.model, { lpTimeLimitSec: Math.max(0.001, (lpDeadline - Date.now()) / 1000), hardDeadline });
  let lpSettled = false;
  void session.lp.then(() => (lpSettled = true));
  const random = prng(0x5eed); // deterministic local search: the same instance always gives the same plan
  let usedSolver = false;
  try {
    // While the worker solves the LP, improve the greedy plan here (the machine has a second core).
    const search = new PlanSearch(p);
    search.load(greedy);
    search.improve({ deadline: until(0.25) });
    // Then ruin-and-recreate until the LP answers, in slices so that its message is seen.
    // Nothing accepted for a while (up to ~2 s on big batches) or nothing to try: stop and wait for the LP.
    const patience = Math.min(40, Math.max(4, Math.ceil(inst.orders.length / 25)));
    for (let idle = 0; idle < patience && !lpSettled && Date.now() < lpDeadline; ) {
      const slice = Math.min(lpDeadline, Date.now() + 50);
      const moves = search.perturb({ deadline: slice, random });
      idle = moves > 0 ? 0 : moves < 0 ? patience : idle + 1;
      search.improve({ deadline: Math.min(lpDeadline, Date.now() + 20) });
      await new Promise((r) => setImmediate(r));
    }
    let best = { plan: greedy, cost: greedyEval.cost, solver: 'greedy' as OptimizeResult['solver'] };
    const consider = (plan: OrderPlan[], solver: OptimizeResult['solver']) => {
      const ev = evaluatePlan(p, plan);
      if (ev.violations.length === 0 && ev.cost < best.cost - 1e-9) best = { plan, cost: ev.cost, solver };
    };
    consider(search.plan(), 'local-search');

    // LP relaxation, with column generation: price every order × location pair the restricted model dropped with
    // the LP's duals, add those the LP would gain from, re-solve; each round's duals give a valid bound.
    let lp = await session.lp;
    let lastLp: LpOutcome | undefined;
    for (let round = 0; lp?.rowDual && lp.colValue; round++) {
      usedSolver = true;
      lastLp = lp;
      const gains = new Map<number, [loc: number, value: number][]>();
      let blocks = 0;
      const constant = priceBlocks(p, mip.rows, lp.rowDual, (oi, li, value) => {
        blocks += Math.min(0, value);
        if (value < -1e-7 && !mip.has(oi, li)) (gains.get(oi) ?? gains.set(oi, []).get(oi)!).push([li, value]);
      });
      if (constant + blocks > bound) {
        bound = constant + blocks;
        boundSource = 'lp';
      }
      if (gains.size === 0 || Date.now() > lpDeadline || round >= 50) break;
      const pairs: [number, number][] = [];
      for (const [oi, g] of gains) for (const [li] of g.sort((a, b) => a[1] - b[1]).slice(0, 3)) pairs.push([oi, li]);
      lp = await session.extend(mip.extend(pairs), Math.max(0.05, (lpDeadline - Date.now()) / 1000));
    }
    if (lastLp?.colValue) {
      if (pruned && lastLp.objective !== undefined) restrictedBound = lastLp.objective;
      if (!closeEnough(best.cost)) {
        const colValue = lastLp.colValue;
        const rounded = new PlanSearch(p);
        rounded.construct({ deadline: until(0.5), preference: (oi) => mip.shipmentValues(colValue, oi) });
        rounded.improve({ deadline: until(0.3) });
        rounded.perturb({ deadline: until(0.3), random });
        rounded.improve({ deadline: until(0.2) });
        consider(rounded.plan(), 'highs');
      }
    }
    let optimal = closeEnough(best.cost) && best.cost - bound <= 1e-9 * Math.max(1, Math.abs(best.cost));
    const timeLeft = Math.min(softDeadline, hardDeadline) - Date.now();
    if (lastLp && !closeEnough(best.cost) && timeLeft > 50) {
      // Warm start: the best plan if the restricted model can express it, else the greedy plan (always can).
      const start = evaluatePlan(p, mip.decode(mip.encode(best.plan))).cost <= best.cost + 1e-9 ? best.plan : greedy;
      const out = await session.mip({ timeLimitSec: timeLeft / 1000, mipRelGap, start: mip.encode(start) });
      if (out.colValue) {
        usedSolver = true;
        consider(mip.decode(out.colValue), 'highs');
      }
      if (!pruned && out.ended === 'done' && Number.isFinite(out.bound) && (out.bound as number) > bound) {
        bound = out.bound as number;
        boundSource = 'mip';
      }
      if (!pruned && out.ended === 'done' && out.status === HIGHS_OPTIMAL) optimal = true;
      if (out.error && !out.colValue) return result(best.plan, usedSolver ? 'FEASIBLE' : 'GREEDY_FALLBACK', best.solver, out.error);
    }
    if (!optimal && Date.now() < hardDeadline) {
      // A last polish of whatever won (cheap when it is already locally optimal).
      const polish = new PlanSearch(p);
      polish.load(best.plan);
      const end = Math.min(hardDeadline, Math.max(Date.now() + 20, softDeadline));
      polish.improve({ deadline: end });
      for (let idle = 0; idle < patience && Date.now() < end && !closeEnough(polish.totalCost()); ) {
        const moves = polish.perturb({ deadline: Math.min(end, Date.now() + 50), random });
        if (moves < 0) break;
        idle = moves > 0 ? 0 : idle + 1;
        polish.improve({ deadline: end });
      }
      consider(polish.plan(), best.solver);
    }
    if (!optimal && best.cost - bound <= 1e-9 * Math.max(1, Math.abs(best.cost))) optimal = true;
    return result(best.plan, optimal ? 'OPTIMAL' : usedSolver ? 'FEASIBLE' : 'GREEDY_FALLBACK', best.solver);
  } finally {
    session.close();
  }
}
