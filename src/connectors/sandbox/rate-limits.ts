/**
 * Vendor rate limits as the vendor's server enforces them (the SDK's limiters are the client-side models of the
 * same rules). A tiny epsilon absorbs float drift, so a client that waits exactly long enough is admitted.
 */
const EPS = 1e-6;

/** Shopify's leaky bucket of query cost (points; restores continuously). */
export class CostBucket {
  private available: number;
  private at: number;

  constructor(readonly maximumAvailable: number, readonly restoreRate: number, now: number) {
    this.available = maximumAvailable;
    this.at = now;
  }

  currentlyAvailable(now: number): number {
    if (now > this.at) {
      this.available = Math.min(this.maximumAvailable, this.available + ((now - this.at) / 1000) * this.restoreRate);
      this.at = now;
    }
    return this.available;
  }

  /** Takes `cost` points if the bucket holds them. */
  tryTake(cost: number, now: number): boolean {
    if (this.currentlyAvailable(now) + EPS < cost) return false;
    this.available = Math.max(0, this.available - cost);
    return true;
  }

  /** Gives points back (requested − actual cost). */
  refund(points: number, now: number): void {
    this.currentlyAvailable(now);
    this.available = Math.min(this.maximumAvailable, this.available + points);
  }
}

/** Amazon SP-API's per-operation token bucket (requests/second, burst): a cost bucket where every request costs 1. */
export class TokenBucket {
  private readonly bucket: CostBucket;

  constructor(readonly rate: number, readonly burst: number, now: number) {
    this.bucket = new CostBucket(burst, rate, now);
  }

  tryTake(now: number): boolean {
    return this.bucket.tryTake(1, now);
  }
}

/** N requests per fixed window that opens at the first request after the previous one closed. */
export class FixedWindow {
  private start = Number.NEGATIVE_INFINITY;
  private used = 0;

  constructor(readonly limit: number, readonly windowMs: number) {}

  /** `true` if admitted, else the ms until the window resets. */
  tryTake(now: number): true | number {
    if (now - this.start >= this.windowMs) {
      this.start = now;
      this.used = 0;
    }
    if (this.used >= this.limit) return this.start + this.windowMs - now;
    this.used++;
    return true;
  }
}

/** Minimal time the limit needs to admit a sequence of requests (from a full bucket), for benchmarks. */
export function minimalTimeMs(limit: { kind: 'cost'; max: number; restoreRate: number; costs: number[] } | { kind: 'token'; rate: number; burst: number; requests: number } | { kind: 'window'; limit: number; windowMs: number; requests: number }): number {
  switch (limit.kind) {
    case 'cost': {
      let t = 0;
      let avail = limit.max;
      for (const c of limit.costs) {
        if (avail < c) {
          const wait = ((c - avail) / limit.restoreRate) * 1000;
          t += wait;
          avail = c;
        }
        avail -= c;
      }
      return t;
    }
    case 'token':
      return (Math.max(0, limit.requests - limit.burst) / limit.rate) * 1000;
    case 'window':
      return Math.max(0, Math.ceil(limit.requests / limit.limit) - 1) * limit.windowMs;
  }
}
