/** Time source for limiters and retries; tests inject a virtual clock so backoff is measured, not waited. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** A clock whose sleeps advance virtual time instantly and are recorded. */
export class VirtualClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private t = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    const d = Math.max(0, ms);
    this.sleeps.push(d);
    this.t += d;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  get slept(): number {
    return this.sleeps.reduce((a, b) => a + b, 0);
  }
}
