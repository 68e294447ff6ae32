import { greedyPlan, shortageLowerBound, trivialLowerBound } from './optimize.greedy';
import { evaluatePlan, parseInstance, prepare, type OrderPlan, type OptimizeInstanceInput } from './optimize.instance';
import { buildMip } from './optimize.mip';
import { solveInWorker } from './optimize.worker';

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
   * Candidate locations per order in the MIP: the N cheapest that stock any of its SKUs, plus those of the greedy
   * plan (default 6; Infinity for the full model). Pruning keeps large batches tractable; when it drops anything,
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
  solver: 'highs' | 'greedy';
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
 * HiGHS runs in a worker thread with a time limit; the greedy plan is its warm start and the fallback.
 */
export async function optimize(input: OptimizeInstanceInput, opts: OptimizeOptions = {}): Promise<OptimizeResult> {
  const inst = parseInstance(input);
  const p = prepare(inst);
  const greedy = greedyPlan(p);
  const greedyEval = evaluatePlan(p, greedy);
  const lb = Math.max(trivialLowerBound(p), shortageLowerBound(p));
  let pruned = false;
  let restrictedBound: number | undefined;
  const result = (plan: OrderPlan[], status: OptimizeStatus, solver: 'highs' | 'greedy', bound: number, solverError?: string): OptimizeResult => {
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
      ...(restrictedBound !== undefined ? { restrictedBound } : {}),
      ...(solverError ? { solverError } : {}),
    };
  };
  if (opts.useSolver === false || inst.orders.length === 0) return result(greedy, 'GREEDY', 'greedy', lb);

  const timeLimitMs = opts.timeLimitMs ?? 10_000;
  const locIndex = new Map(inst.locations.map((l, i) => [l.code, i]));
  const mip = buildMip(p, {
    maxLocationsPerOrder: opts.maxLocationsPerOrder ?? 6,
    keep: (oi) => greedy[oi].shipments.map((s) => locIndex.get(s.location)!),
  });
  pruned = mip.pruned;
  const out = await solveInWorker(mip.model, {
    timeLimitSec: timeLimitMs / 1000,
    hardLimitMs: opts.hardLimitMs ?? timeLimitMs + 2000,
    mipRelGap: opts.mipRelGap ?? 1e-6,
    start: mip.encode(greedy),
  });
  const solverBound = Number.isFinite(out.bound) ? (out.bound as number) : -Infinity;
  if (pruned && Number.isFinite(solverBound)) restrictedBound = solverBound;
  const bound = pruned ? lb : Math.max(lb, solverBound);
  if (out.colValue) {
    const plan = mip.decode(out.colValue);
    const ev = evaluatePlan(p, plan);
    if (ev.violations.length === 0 && ev.cost <= greedyEval.cost + 1e-9) {
      const optimal = !pruned && out.ended === 'done' && out.status === HIGHS_OPTIMAL;
      return result(plan, optimal ? 'OPTIMAL' : 'FEASIBLE', 'highs', bound);
    }
  }
  return result(greedy, 'GREEDY_FALLBACK', 'greedy', bound, out.error);
}
