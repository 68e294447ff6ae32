import { remainingCapacity } from './capacity';
import { haversineKm } from './geo';
import type { Candidate, LocationFilter, RoutingContext, WeightedRanker } from './strategy';
import type { CandidateTrace, RoutingLocation } from './types';

export interface Evaluation {
  /** Eligible candidates, best first. */
  ranked: Candidate[];
  /** Scores aligned with `ranked`. */
  scores: number[];
  /** One entry per location considered, eligible or not, in network order. */
  traces: CandidateTrace[];
}

const SCORE_EPSILON = 1e-9;

export function evaluateCandidates(
  locations: readonly RoutingLocation[],
  ctx: RoutingContext,
  filters: readonly LocationFilter[],
  rankers: readonly WeightedRanker[],
): Evaluation {
  const traces: CandidateTrace[] = [];
  const eligible: { c: Candidate; trace: CandidateTrace }[] = [];

  for (const location of locations) {
    const distanceKm = haversineKm(ctx.destination.latitude, ctx.destination.longitude, location.latitude, location.longitude);
    const cap = remainingCapacity(location, ctx.now, ctx.ruleSet);
    const c: Candidate = { location, distanceKm, remainingOrders: cap.orders, remainingLines: cap.lines, supply: new Map() };
    const trace: CandidateTrace = { code: location.code, name: location.name, type: location.type, distanceKm: round3(distanceKm), supply: {} };
    traces.push(trace);

    let excluded = false;
    for (const f of filters) {
      const v = f.exclude?.(c, ctx);
      if (v) {
        trace.excluded = { filter: f.name, ...v };
        excluded = true;
        break;
      }
    }
    if (excluded) continue;

    let firstRestriction: CandidateTrace['excluded'];
    for (const [sku, q] of ctx.demand) {
      let restricted = false;
      for (const f of filters) {
        const v = f.restrictSku?.(c, sku, ctx);
        if (v) {
          firstRestriction ??= { filter: f.name, ...v };
          restricted = true;
          break;
        }
      }
      const units = restricted ? 0 : Math.min(q, Math.max(0, ctx.atp.available[sku]?.[location.code] ?? 0));
      trace.supply[sku] = units;
      if (units > 0) c.supply.set(sku, units);
    }
    if (c.supply.size === 0) {
      trace.excluded = firstRestriction ?? { filter: 'stock', code: 'OUT_OF_STOCK' };
      continue;
    }
    trace.coversAll = [...ctx.demand].every(([sku, q]) => (c.supply.get(sku) ?? 0) >= q) && ctx.demand.size <= c.remainingLines;
    eligible.push({ c, trace });
  }

  // Min-max normalise each metric across eligible candidates so weights compare like with like; a metric that is
  // equal everywhere says nothing and scores 1 for all.
  const totalWeight = rankers.reduce((a, r) => a + r.weight, 0) || 1;
  const scores = eligible.map(() => 0);
  for (const { ranker, weight } of rankers) {
    const values = eligible.map(({ c, trace }) => {
      const v = ranker.metric(c, ctx);
      (trace.metrics ??= {})[ranker.name] = round3(v);
      return v;
    });
    const min = Math.min(...values);
    const max = Math.max(...values);
    values.forEach((v, i) => {
      const n = max === min ? 1 : ranker.better === 'lower' ? (max - v) / (max - min) : (v - min) / (max - min);
      scores[i] += (weight * n) / totalWeight;
    });
  }

  const order = eligible.map((_, i) => i);
  order.sort((a, b) => {
    const ds = scores[b] - scores[a];
    if (Math.abs(ds) > SCORE_EPSILON) return ds;
    const ca = eligible[a].c;
    const cb = eligible[b].c;
    if (ca.distanceKm !== cb.distanceKm) return ca.distanceKm - cb.distanceKm;
    if (ca.location.priority !== cb.location.priority) return ca.location.priority - cb.location.priority;
    return ca.location.code < cb.location.code ? -1 : ca.location.code > cb.location.code ? 1 : 0;
  });
  order.forEach((i, rank) => {
    eligible[i].trace.score = round3(scores[i]);
    eligible[i].trace.rank = rank + 1;
  });
  return { ranked: order.map((i) => eligible[i].c), scores: order.map((i) => scores[i]), traces };
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
