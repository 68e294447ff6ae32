import type { Clock } from './clock';

/** The part of a response a limiter may learn from. */
export interface ObservedResponse {
  status: number;
  headers: Record<string, string | undefined>;
  data: unknown;
  /** The cost `acquire` took for this request. */
  cost?: number;
}

/**
 * A vendor's rate limit, modelled client-side so that we wait before the vendor throttles us.
 *
 * Extension point: implement this for a vendor whose limit none of the built-ins model. `acquire` is called before
 * every attempt and must resolve once the request may be sent (sleeping via the clock); `observe` is called after
 * every response (including 429s) so the limiter can follow the vendor's own accounting.
 */
export interface RateLimiter {
  acquire(operation: string, cost: number, clock: Clock): Promise<void>;
  observe(operation: string, res: ObservedResponse, clock: Clock): void;
  /** Suggested wait after a throttled response that carried no Retry-After, in ms. */
  throttleDelay?(operation: string, clock: Clock): number | undefined;
  /** How long `acquire` would wait now for this cost, in ms (counted in the client's retry budget). */
  waitMs?(operation: string, cost: number, clock: Clock): number;
}

export const noLimit: RateLimiter = { acquire: async () => {}, observe: () => {} };

/**
 * Shopify's leaky bucket of query cost. State is corrected from `extensions.cost.throttleStatus` on every GraphQL
 * response; between responses it restores at `restoreRate` points per second.
 */
export class CostBucketLimiter implements RateLimiter {
  max: number;
  available: number;
  restoreRate: number;
  private at = 0;

  constructor(opts: { maximumAvailable?: number; restoreRate?: number } = {}) {
    this.max = opts.maximumAvailable ?? 2000;
    this.available = this.max;
    this.restoreRate = opts.restoreRate ?? 100;
  }

  private refill(now: number): void {
    if (this.at === 0) this.at = now;
    this.available = Math.min(this.max, this.available + ((now - this.at) / 1000) * this.restoreRate);
    this.at = now;
  }

  async acquire(_op: string, cost: number, clock: Clock): Promise<void> {
    const need = Math.min(cost, this.max);
    this.refill(clock.now());
    if (this.available < need) {
      await clock.sleep(Math.ceil(((need - this.available) / this.restoreRate) * 1000));
      this.refill(clock.now());
    }
    this.available -= need;
  }

  waitMs(_op: string, cost: number, clock: Clock): number {
    this.refill(clock.now());
    const need = Math.min(cost, this.max);
    return this.available >= need ? 0 : Math.ceil(((need - this.available) / this.restoreRate) * 1000);
  }

  observe(_op: string, res: ObservedResponse, clock: Clock): void {
    const status = (res.data as { extensions?: { cost?: { throttleStatus?: Record<string, number> } } } | undefined)
      ?.extensions?.cost?.throttleStatus;
    if (!status) {
      // A 5xx without cost data: the query did not run to completion, and Shopify charges a query's actual cost
      // only when it does. Give back the requested cost taken in `acquire`; otherwise every failed attempt of an
      // 852-point page would make the retry wait ~8.5 s for points that were never spent. (The next response's
      // throttleStatus corrects the bucket either way.)
      if (res.status >= 500 && res.cost) this.available = Math.min(this.max, this.available + res.cost);
      return;
    }
    if (typeof status.maximumAvailable === 'number') this.max = status.maximumAvailable;
    if (typeof status.restoreRate === 'number' && status.restoreRate > 0) this.restoreRate = status.restoreRate;
    if (typeof status.currentlyAvailable === 'number') {
      this.available = status.currentlyAvailable;
      this.at = clock.now();
    }
  }

  throttleDelay(): number {
    // After THROTTLED the bucket is near empty; wait for a typical page's worth of points.
    return Math.ceil((Math.min(this.max, 100) / this.restoreRate) * 1000);
  }
}

export interface TokenBucketSpec {
  /** Sustained requests per second. */
  rate: number;
  burst: number;
}

/**
 * Amazon SP-API's per-operation token buckets. Each operation has its own bucket (defaults from the published
 * limits); the sustained rate follows `x-amzn-RateLimit-Limit` when the vendor sends it, and a 429 empties the
 * bucket (SP-API sends no Retry-After).
 */
export class TokenBucketLimiter implements RateLimiter {
  private buckets = new Map<string, { rate: number; burst: number; tokens: number; at: number }>();

  constructor(
    private readonly specs: Record<string, TokenBucketSpec>,
    private readonly fallback: TokenBucketSpec = { rate: 1, burst: 1 },
    private readonly headerName = 'x-amzn-ratelimit-limit',
  ) {}

  private bucket(op: string, now: number) {
    let b = this.buckets.get(op);
    if (!b) {
      const s = this.specs[op] ?? this.fallback;
      b = { rate: s.rate, burst: s.burst, tokens: s.burst, at: now };
      this.buckets.set(op, b);
    }
    b.tokens = Math.min(b.burst, b.tokens + ((now - b.at) / 1000) * b.rate);
    b.at = now;
    return b;
  }

  async acquire(op: string, _cost: number, clock: Clock): Promise<void> {
    let b = this.bucket(op, clock.now());
    if (b.tokens < 1) {
      await clock.sleep(Math.ceil(((1 - b.tokens) / b.rate) * 1000));
      b = this.bucket(op, clock.now());
    }
    b.tokens -= 1;
  }

  observe(op: string, res: ObservedResponse, clock: Clock): void {
    // The vendor took the token when the request reached it, not when we sent it: do not count the time in flight
    // as refill, or the next request can arrive a few milliseconds before the vendor's bucket holds a token.
    const known = this.buckets.get(op);
    if (known) known.at = Math.max(known.at, clock.now());
    const b = this.bucket(op, clock.now());
    const limit = Number.parseFloat(res.headers[this.headerName] ?? '');
    if (Number.isFinite(limit) && limit > 0) b.rate = limit;
    if (res.status === 429) b.tokens = Math.min(b.tokens, 0);
  }

  throttleDelay(op: string, clock: Clock): number {
    const b = this.bucket(op, clock.now());
    return Math.ceil((Math.max(0, 1 - b.tokens) / b.rate) * 1000);
  }

  waitMs(op: string, _cost: number, clock: Clock): number {
    return this.throttleDelay(op, clock);
  }

  /** Current sustained rate of an operation (for tests and metrics). */
  rateOf(op: string, clock: Clock): number {
    return this.bucket(op, clock.now()).rate;
  }
}

/** N requests per fixed window (ShipBob: 150 per minute). */
export class FixedWindowLimiter implements RateLimiter {
  private windowStart = -Infinity;
  private used = 0;
  private anchored = false;
  constructor(private readonly limit: number, private readonly windowMs: number) {}

  async acquire(_op: string, _cost: number, clock: Clock): Promise<void> {
    let now = clock.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
      this.anchored = false;
    }
    if (this.used >= this.limit) {
      await clock.sleep(this.windowStart + this.windowMs - now);
      now = clock.now();
      this.windowStart = now;
      this.used = 0;
      this.anchored = false;
    }
    this.used += 1;
  }

  observe(_op: string, res: ObservedResponse, clock: Clock): void {
    if (res.status === 429) {
      // The vendor's window is out of phase with ours: take its reset time when it says (Retry-After in seconds).
      const ra = Number(res.headers['retry-after'] ?? res.headers['x-retry-after']);
      if (Number.isFinite(ra) && ra >= 0) this.windowStart = clock.now() + ra * 1000 - this.windowMs;
      this.used = this.limit;
      this.anchored = true;
      return;
    }
    // The vendor opened its window when our first request arrived, not when we sent it: anchor ours to the first
    // response so it never closes before the vendor's.
    if (!this.anchored) {
      this.windowStart = Math.max(this.windowStart, clock.now());
      this.anchored = true;
    }
  }

  throttleDelay(_op: string, clock: Clock): number {
    return Math.max(0, this.windowStart + this.windowMs - clock.now());
  }

  waitMs(_op: string, _cost: number, clock: Clock): number {
    const now = clock.now();
    return this.used >= this.limit && now - this.windowStart < this.windowMs ? this.windowStart + this.windowMs - now : 0;
  }
}
