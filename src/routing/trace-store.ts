import type { CandidateTrace, LocationType, RoutingDecision, RoutingTrace } from './types';

/**
 * How a routing decision is stored (routing_decision.decision), and read back for explainRouting.
 *
 * The trace lists every location of the network as a candidate (35 in the demo network, most of them excluded),
 * each with its name, type and per-SKU supply: about 8.5 kB of jsonb per order, written with every routed order.
 * Stored, a candidate keeps only what the explanation and the GraphQL view use, as one small array:
 *
 *   eligible: [code, distanceKm, rank | null, score | null, coversAll ? 1 : 0, metrics | null]
 *   excluded: [code, distanceKm, "filter:CODE", detail?]
 *
 * Names and types are properties of the location, read back from the network at explain time (`expandDecision`).
 * Per-SKU supply is dropped: it is the ATP snapshot the order was routed against, which nothing shows. Everything
 * else (shipments, unfilled lines, status, steps, rule set, times) is stored as the router returned it. Decisions
 * stored before this format (`trace.candidates`) are read as they are.
 */
export type StoredCandidate =
  | [code: string, distanceKm: number, rank: number | null, score: number | null, coversAll: 0 | 1, metrics: Record<string, number> | null]
  | [code: string, distanceKm: number, exclusion: string, detail?: Record<string, string | number | boolean>];

export type StoredTrace = Omit<RoutingTrace, 'candidates'> & { cand: StoredCandidate[] };
export type StoredDecision = Omit<RoutingDecision, 'trace'> & { trace: StoredTrace | RoutingTrace };

/** What the explanation shows of a location besides its code (read from the network when the decision is read). */
export interface LocationLabel { name?: string; type: LocationType }

export function packDecision<T extends RoutingDecision>(decision: T): Omit<T, 'trace'> & { trace: StoredTrace } {
  const { candidates, ...trace } = decision.trace;
  return { ...decision, trace: { ...trace, cand: candidates.map(packCandidate) } };
}

function packCandidate(c: CandidateTrace): StoredCandidate {
  if (c.excluded) {
    const exclusion = `${c.excluded.filter}:${c.excluded.code}`;
    return c.excluded.detail ? [c.code, c.distanceKm, exclusion, c.excluded.detail] : [c.code, c.distanceKm, exclusion];
  }
  return [c.code, c.distanceKm, c.rank ?? null, c.score ?? null, c.coversAll ? 1 : 0, c.metrics ?? null];
}

/** The codes of the locations a stored decision names as candidates (to read their labels). */
export function candidateCodes(stored: StoredDecision): string[] {
  return 'cand' in stored.trace ? stored.trace.cand.map((c) => c[0]) : stored.trace.candidates.map((c) => c.code);
}

/** A stored decision as the router returned it, less per-SKU supply; a location the network no longer has keeps its code. */
export function expandDecision(stored: StoredDecision, labels: ReadonlyMap<string, LocationLabel>): RoutingDecision {
  if (!('cand' in stored.trace)) return stored as RoutingDecision;
  const { cand, ...trace } = stored.trace;
  const candidates = cand.map((c): CandidateTrace => {
    const label = labels.get(c[0]);
    const base = { code: c[0], ...(label?.name !== undefined ? { name: label.name } : {}), type: label?.type ?? ('UNKNOWN' as LocationType), distanceKm: c[1], supply: {} };
    if (typeof c[2] === 'string') {
      const [, , exclusion, detail] = c as Extract<StoredCandidate, [string, number, string, ...unknown[]]>;
      const at = exclusion.indexOf(':');
      return { ...base, excluded: { filter: exclusion.slice(0, at), code: exclusion.slice(at + 1), ...(detail ? { detail } : {}) } };
    }
    const [, , rank, score, coversAll, metrics] = c as Extract<StoredCandidate, [string, number, number | null, ...unknown[]]>;
    return { ...base, ...(rank !== null ? { rank } : {}), ...(score !== null ? { score } : {}), ...(coversAll ? { coversAll: true } : {}), ...(metrics ? { metrics } : {}) };
  });
  return { ...stored, trace: { ...trace, candidates } };
}
