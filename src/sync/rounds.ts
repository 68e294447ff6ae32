/**
 * A background worker's rounds: one at a time, the first at start(), then each after the delay the last one asked
 * for (its poll), or at once when woken: a wake() between rounds cancels the wait, and one during a round runs
 * another right after it (what woke it may have come too late for the round under way).
 */
export class Rounds {
  private timer?: NodeJS.Timeout;
  private current?: Promise<void>;
  private wokenDuring = false;
  private stopped = true;

  /** `round` resolves to the milliseconds to wait before the next one (it handles its own errors). */
  constructor(private readonly round: () => Promise<number>) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  wake(): void {
    if (this.stopped) return;
    if (this.current) { this.wokenDuring = true; return; }
    this.schedule(0);
  }

  /** No more rounds; resolves when the one under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), delay);
  }

  private run(): void {
    if (this.stopped) return;
    this.wokenDuring = false;
    let next = 0;
    // A round that throws all the same is tried again a second later.
    this.current = this.round().then((ms) => { next = ms; }, () => { next = 1000; }).finally(() => {
      this.current = undefined;
      if (!this.stopped) this.schedule(this.wokenDuring ? 0 : next);
    });
  }
}
