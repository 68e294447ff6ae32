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
  // Per-SKU stock index for this order: an ATP snapshot maps SKU → location → units, and a SKU is usually held at
  // a handful of locations, so reading it SKU-first touches a few entries instead of one per location and SKU.
  const skus = [...ctx.demand.keys()];
  const qty = [...ctx.demand.values()];
  const stockAt = new Map<string, number[]>();
  skus.forEach((sku, i) => {
    const bySku = ctx.atp.available[sku];
    if (!bySku) return;
    for (const code in bySku) {
      const units = bySku[code];
      if (!(units > 0)) continue;
      let row = stockAt.get(code);
      if (!row) stockAt.set(code, (row = new Array<number>(skus.length).fill(0)));
      row[i] = units;
    }
  });
  const skuFilters = filters.filter((f) => f.restrictSku);
  // Most locations hold none of the order's SKUs: their traces share one all-zero supply record.
  const noSupply: Record<string, number> = {};
  for (const sku of skus) noSupply[sku] = 0;
  const { latitude: dLat, longitude: dLng } = ctx.destination;

  for (const location of locations) {
    const distanceKm = haversineKm(dLat, dLng, location.latitude, location.longitude);
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
    const stock = stockAt.get(location.code);
    let coversAll = ctx.demand.size <= c.remainingLines;
    for (let i = 0; i < skus.length; i++) {
      const sku = skus[i];
      let restricted = false;
      for (const f of skuFilters) {
        const v = f.restrictSku!(c, sku, ctx);
        if (v) {
          firstRestriction ??= { filter: f.name, ...v };
          restricted = true;
          break;
        }
      }
      const units = restricted || !stock ? 0 : Math.min(qty[i], stock[i]);
      if (stock) trace.supply[sku] = units;
      if (units > 0) c.supply.set(sku, units);
      if (units < qty[i]) coversAll = false;
    }
    if (!stock) trace.supply = noSupply;
    if (c.supply.size === 0) {
      trace.excluded = firstRestriction ?? { filter: 'stock', code: 'OUT_OF_STOCK' };
      continue;
    }
    trace.coversAll = coversAll;
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
