import type { IdempotencyStore } from '../idempotency/idempotency.store';
import type { Logger } from '../logger';
import type { InventoryService } from './inventory.service';

export interface SweeperOptions {
  /** How often to look for expired reservations. */
  intervalMs?: number;
  /** Reservations expired per transaction; a full batch is followed at once by another. */
  batchSize?: number;
  /** When given, keys older than the retention are purged about once an hour. */
  idempotency?: IdempotencyStore;
  purgeEveryMs?: number;
  log?: Logger;
}

/**
 * Releases reservations whose TTL has passed (EXPIRE ledger rows, change events on commit). Safe to run in every
 * hub process at once: each batch claims its rows with FOR UPDATE SKIP LOCKED. Wire it with `start()` after the
 * database is migrated and `await stop()` before closing the pool.
 */
export class ReservationExpirySweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;
  private stopping = false;
  private lastPurge = 0;

  constructor(private readonly inventory: InventoryService, private readonly opts: SweeperOptions = {}) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.stopping = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass: expires every due reservation, batch by batch; returns how many expired. */
  async sweepOnce(): Promise<number> {
    const batch = this.opts.batchSize ?? 500;
    let total = 0;
    for (;;) {
      const n = await this.inventory.expireDue(batch);
      total += n;
      if (n < batch || this.stopping) break;
    }
    const purgeEvery = this.opts.purgeEveryMs ?? 3600_000;
    if (this.opts.idempotency && Date.now() - this.lastPurge >= purgeEvery) {
      this.lastPurge = Date.now();
      await this.opts.idempotency.purge();
    }
    return total;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweepOnce()
        .then((n) => { if (n) this.opts.log?.info({ expired: n }, 'expired reservations released'); })
        .catch((err) => this.opts.log?.warn({ err }, 'reservation expiry sweep failed; will retry'))
        .finally(() => { this.running = undefined; this.schedule(this.opts.intervalMs ?? 5000); });
    }, delay);
    this.timer.unref();
  }
}
