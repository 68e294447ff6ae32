import type { Logger } from '../logger';
import type { ReturnService } from './return.service';

export interface RestockJob { stop(): Promise<void> }

/**
 * Re-applies the restock of resellable return units whose receipt committed but whose stock change did not
 * happen (a crash in between); see `ReturnService.restockPending`. Safe in every hub process at once: each unit's
 * stock change carries its own idempotency key. Rounds never overlap; `stop` waits for the one running.
 */
export function startReturnRestockJob(returns: Pick<ReturnService, 'restockPending'>, log: Logger, intervalMs = 60_000): RestockJob {
  let running: Promise<void> | undefined;
  let stopped = false;
  const round = () => {
    if (running || stopped) return;
    running = returns.restockPending().then(
      (n) => { if (n) log.info({ units: n }, 'returned units restocked after an interrupted receipt'); },
      (err) => log.error({ err }, 'restocking pending return units failed'),
    ).finally(() => { running = undefined; });
  };
  const timer = setInterval(round, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
