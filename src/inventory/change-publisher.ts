import type { DataSource } from 'typeorm';
import { NOTIFY_CHANNEL } from '../events/event-bus';
import type { InventoryChangedEvent } from '../events/hub-events';

/**
 * Publishes inventory change events right AFTER the writing transaction committed, batched, in one statement of
 * their own with synchronous_commit off (one round trip, no fsync).
 *
 * Why not NOTIFY inside the writing transaction: Postgres serialises the commits of all notifying transactions
 * behind one global lock that is held through the commit's WAL flush, so every stock change would queue behind
 * every other one's fsync (measured: reservations spread over many SKUs collapsed to ~1 commit per flush). Here
 * the data commits in parallel, and one cheap notifying transaction carries many events.
 *
 * Guarantees kept: only committed changes are published (we publish after commit returns), and a rolled-back
 * change never is. Given up: a process crash between commit and publish loses that event (subscribers re-read on
 * reconnect); events from different hub processes may interleave out of commit order (each carries the full
 * balance, so the latest event for an item is the truth).
 */
export class ChangePublisher {
  private pending: { payload: string; done: () => void }[] = [];
  private flushing = false;

  constructor(private readonly ds: DataSource) {}

  /** Resolves once the events are handed to Postgres (never rejects: the change itself is already committed). */
  publish(events: InventoryChangedEvent[]): Promise<void> {
    if (!events.length) return Promise.resolve();
    return new Promise<void>((resolve) => {
      events.forEach((e, i) => this.pending.push({ payload: JSON.stringify(e), done: i === events.length - 1 ? resolve : () => undefined }));
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, 200);
        try {
          // One round trip: a multi-statement simple query is one implicit transaction, so SET LOCAL applies to it,
          // and a notification needs no durable commit. (Simple protocol: no bind parameters, hence the quoting;
          // standard_conforming_strings keeps backslashes literal.)
          const notify = batch.map((b) => `pg_notify('${NOTIFY_CHANNEL}', '${b.payload.replace(/'/g, "''")}')`).join(', ');
          await this.ds.query(`SET LOCAL synchronous_commit = off; SELECT ${notify}`);
        } catch {
          // Live events are best effort once the change is committed; the ledger and stock levels stay the truth.
        } finally {
          for (const b of batch) b.done();
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
