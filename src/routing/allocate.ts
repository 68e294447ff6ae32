import type { Candidate } from './strategy';
import type { SplitPolicy, TraceStep } from './types';

export interface Assignment {
  candidate: Candidate;
  /** Units per SKU taken from this candidate, in demand order. */
  take: Map<string, number>;
}

export interface Allocation {
  assignments: Assignment[];
  /** Units per SKU nobody could supply (only SKUs with a positive remainder). */
  unfilled: Map<string, number>;
}

/** Largest candidate pool searched exhaustively for a k-location cover, per k (k = 1 and 2 search everything). */
const COVER_POOL: Record<number, number> = { 3: 24, 4: 14, 5: 10 };
const DEFAULT_POOL = 8;

/**
 * What `candidate` takes of `need` if it goes first: every SKU it holds, up to its remaining line capacity
 * (lines taken in demand order, so the outcome is deterministic).
 */
function takeFrom(candidate: Candidate, need: ReadonlyMap<string, number>): Map<string, number> {
  const take = new Map<string, number>();
  let lines = candidate.remainingLines;
  for (const [sku, q] of need) {
    if (q <= 0 || lines <= 0) continue;
    const units = Math.min(q, candidate.supply.get(sku) ?? 0);
    if (units > 0) {
      take.set(sku, units);
      lines--;
    }
  }
  return take;
}

function subtract(need: Map<string, number>, take: ReadonlyMap<string, number>): void {
  for (const [sku, units] of take) need.set(sku, (need.get(sku) ?? 0) - units);
}

function remaining(need: ReadonlyMap<string, number>): Map<string, number> {
  return new Map([...need].filter(([, q]) => q > 0));
}

function coversAll(c: Candidate, demand: ReadonlyMap<string, number>): boolean {
  let lines = 0;
  for (const [sku, q] of demand) {
    if ((c.supply.get(sku) ?? 0) < q) return false;
    lines++;
  }
  return lines <= c.remainingLines;
}

/** Fills `need` from `members` in the order given; null when they cannot cover it all. */
function fillExactly(members: Candidate[], demand: ReadonlyMap<string, number>): Assignment[] | null {
  const need = new Map(demand);
  const out: Assignment[] = [];
  for (const m of members) {
    const take = takeFrom(m, need);
    if (take.size === 0) return null; // a member that adds nothing means a smaller cover exists
    subtract(need, take);
    out.push({ candidate: m, take });
  }
  return remaining(need).size === 0 ? out : null;
}

/**
 * Smallest set of at most `maxShipments` candidates that covers the demand. Among covers of that size the one with
 * the highest total score wins; equal totals go to the lexicographically best ranks. Candidates are in rank order.
 * Combinations are enumerated in lexicographic order over plain arrays: a bit mask of the SKUs each member holds
 * rejects most of them before any quantity is summed (this runs for every order no single location covers).
 */
function minimumCover(ranked: Candidate[], demand: ReadonlyMap<string, number>, maxShipments: number, scores: number[]): Assignment[] | null {
  const skus = [...demand.keys()];
  const qty = [...demand.values()];
  const nS = skus.length;
  const useful: { c: Candidate; i: number; supply: number[]; mask: number }[] = [];
  ranked.forEach((c, i) => {
    const supply = skus.map((s) => c.supply.get(s) ?? 0);
    if (supply.every((u) => u <= 0)) return;
    // Masks only when the SKUs fit in 30 bits; otherwise every combination goes to the quantity check.
    const mask = nS <= 30 ? supply.reduce((m, u, k) => (u > 0 ? m | (1 << k) : m), 0) : 0;
    useful.push({ c, i, supply, mask });
  });
  const full = nS <= 30 ? (1 << nS) - 1 : 0;
  for (let k = 2; k <= maxShipments; k++) {
    const pool = k <= 2 ? useful : useful.slice(0, COVER_POOL[k] ?? DEFAULT_POOL);
    if (k > pool.length) continue;
    let best: { total: number; plan: Assignment[] } | null = null;
    const combo = new Array<number>(k);
    const visit = () => {
      for (let s = 0; s < nS; s++) {
        let sum = 0;
        for (let m = 0; m < k; m++) sum += pool[combo[m]].supply[s];
        if (sum < qty[s]) return;
      }
      const plan = fillExactly(combo.map((j) => pool[j].c), demand);
      if (!plan) return;
      let total = 0;
      for (let m = 0; m < k; m++) total += scores[pool[combo[m]].i];
      // Strictly greater: equal totals keep the earlier (lexicographically better-ranked) combination.
      if (!best || total > best.total + 1e-12) best = { total, plan };
    };
    const walk = (depth: number, from: number, mask: number) => {
      if (depth === k) {
        if (mask === full) visit();
        return;
      }
      for (let j = from; j <= pool.length - (k - depth); j++) {
        combo[depth] = j;
        walk(depth + 1, j + 1, mask | pool[j].mask);
      }
    };
    walk(0, 0, 0);
    if (best) return (best as { plan: Assignment[] }).plan;
  }
  return null;
}

/**
 * Turns ranked candidates into shipments.
 * - Every policy first ships from the best-ranked location that has everything.
 * - NEVER: otherwise nothing ships (the order waits for stock).
 * - ALLOW: walk the ranking; each location ships what it has of what is still needed, up to `maxShipments`.
 * - MINIMIZE: the fewest locations that cover the order (best total score among equals); if no cover fits in
 *   `maxShipments`, greedily take the location that covers the most remaining units at each step.
 * Whatever remains is reported unfilled.
 */
export function allocate(
  ranked: Candidate[],
  demand: ReadonlyMap<string, number>,
  policy: SplitPolicy,
  maxShipments: number,
  steps: TraceStep[],
  scores: number[] = ranked.map(() => 0),
): Allocation {
  const single = ranked.find((c) => coversAll(c, demand));
  if (single) {
    steps.push({ code: 'SINGLE_LOCATION', detail: { location: single.location.code } });
    return { assignments: [{ candidate: single, take: new Map(demand) }], unfilled: new Map() };
  }
  steps.push({ code: 'NO_SINGLE_LOCATION' });
  if (policy === 'NEVER' || maxShipments <= 1) {
    steps.push({ code: 'SPLIT_NOT_ALLOWED', detail: { policy } });
    return { assignments: [], unfilled: new Map(demand) };
  }

  if (policy === 'MINIMIZE') {
    const cover = minimumCover(ranked, demand, maxShipments, scores);
    if (cover) {
      steps.push({ code: 'MINIMUM_SPLIT', detail: { shipments: cover.length } });
      return { assignments: cover, unfilled: new Map() };
    }
    steps.push({ code: 'NO_FULL_COVER', detail: { maxShipments } });
    const need = new Map(demand);
    const assignments: Assignment[] = [];
    const left = [...ranked];
    while (assignments.length < maxShipments && remaining(need).size > 0) {
      let bestIdx = -1;
      let bestUnits = 0;
      left.forEach((c, i) => {
        let units = 0;
        for (const u of takeFrom(c, need).values()) units += u;
        if (units > bestUnits) {
          bestUnits = units;
          bestIdx = i;
        }
      });
      if (bestIdx < 0) break;
      const [c] = left.splice(bestIdx, 1);
      const take = takeFrom(c, need);
      subtract(need, take);
      assignments.push({ candidate: c, take });
    }
    return { assignments, unfilled: remaining(need) };
  }

  const need = new Map(demand);
  const assignments: Assignment[] = [];
  for (const c of ranked) {
    if (assignments.length >= maxShipments || remaining(need).size === 0) break;
    const take = takeFrom(c, need);
    if (take.size === 0) continue;
    subtract(need, take);
    assignments.push({ candidate: c, take });
  }
  steps.push({ code: 'RANKED_SPLIT', detail: { shipments: assignments.length } });
  return { assignments, unfilled: remaining(need) };
}
