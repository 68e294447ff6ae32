import { haversineKm } from '../routing';

/** A location that accepts returns, as return routing sees it. */
export interface ReturnCandidate {
  code: string;
  latitude: number;
  longitude: number;
  /** ATP of each returned SKU there now. */
  available: Record<string, number>;
  /** Returns on their way to or waiting at the location. */
  openReturns: number;
  /** Open returns it can process at a time; null = no limit. */
  capacity: number | null;
}

export interface ReturnCandidateTrace { code: string; distanceKm: number | null; need: number; load: number; score?: number; excluded?: 'AT_CAPACITY' }
export interface ReturnRoute { locationCode: string; candidates: ReturnCandidateTrace[] }

/** Weights of the three concerns; a return is mostly about shipping it a short way. */
export const RETURN_WEIGHTS = { distance: 0.5, need: 0.3, capacity: 0.2 } as const;

/**
 * Where a mailed return should go. Pure. Each candidate gets a score in [0, 1]:
 * - distance from the customer, min-max normalised across candidates (nearest = 1; all equal without an origin);
 * - need: how short the location is of the returned SKUs, the mean of 1 / (1 + ATP) — an empty shelf needs the unit most;
 * - capacity: 1 − open returns / capacity; a location at capacity is excluded.
 * Ties go to the nearer, then to the location code. Null when no location can take the return.
 */
export function routeReturn(origin: { latitude: number; longitude: number } | undefined, skus: string[], candidates: ReturnCandidate[]): ReturnRoute | null {
  const traced = candidates.map((c) => {
    const distanceKm = origin ? haversineKm(origin.latitude, origin.longitude, c.latitude, c.longitude) : null;
    const need = skus.length ? skus.reduce((s, sku) => s + 1 / (1 + Math.max(0, c.available[sku] ?? 0)), 0) / skus.length : 0;
    const load = c.capacity == null ? 0 : c.capacity === 0 ? 1 : Math.min(1, c.openReturns / c.capacity);
    const excluded = c.capacity != null && c.openReturns >= c.capacity ? ('AT_CAPACITY' as const) : undefined;
    return { code: c.code, distanceKm, need: round3(need), load: round3(load), ...(excluded ? { excluded } : {}) } as ReturnCandidateTrace;
  });
  const eligible = traced.filter((t) => !t.excluded);
  if (!eligible.length) return null;
  const ds = eligible.map((t) => t.distanceKm ?? 0);
  const [min, max] = [Math.min(...ds), Math.max(...ds)];
  for (const t of eligible) {
    const closeness = max > min ? 1 - ((t.distanceKm ?? 0) - min) / (max - min) : 1;
    t.score = round3(RETURN_WEIGHTS.distance * closeness + RETURN_WEIGHTS.need * t.need + RETURN_WEIGHTS.capacity * (1 - t.load));
  }
  eligible.sort((a, b) => b.score! - a.score! || (a.distanceKm ?? 0) - (b.distanceKm ?? 0) || a.code.localeCompare(b.code));
  for (const t of traced) if (t.distanceKm != null) t.distanceKm = round3(t.distanceKm);
  return { locationCode: eligible[0].code, candidates: traced };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
