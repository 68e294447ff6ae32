import { hostname } from 'node:os';
import type { DataSource } from 'typeorm';
import type { InventoryService } from '../inventory/inventory.service';
import type { Logger } from '../logger';
import type { ConnectionService } from '../connections/connection.service';
import { OrderIntake } from '../orders/order-intake';
import { ReturnService } from '../returns/return.service';
import type { OrderService } from '../orders/order.service';
import { DomainError } from '../errors';
import { JobQueue, type JobQueueOptions } from './job-queue';
import { OutboxDispatcher, type DispatcherOptions } from './outbox-dispatcher';
import { RecordLander } from './record-lander';
import { SyncScheduler } from './scheduler';
import { StockReconciler } from './stock-reconciler';
import { SyncRunner, type SyncTrigger } from './sync-runner';
import { WebhookIntake } from './webhook-intake';

export interface SyncEngineOptions { instanceId?: string; queue?: JobQueueOptions; dispatcher?: DispatcherOptions }

/** The sync engine's parts, wired once; `start`/`stop` run the background workers (serve only). */
export class SyncEngine {
  readonly instanceId: string;
  readonly queue: JobQueue;
  readonly runner: SyncRunner;
  readonly scheduler: SyncScheduler;
  readonly webhooks: WebhookIntake;
  readonly outbox: OutboxDispatcher;
  readonly reconciler: StockReconciler;

  constructor(ds: DataSource, connections: ConnectionService, orders: OrderService, inventory: InventoryService, log: Logger, opts: SyncEngineOptions = {}) {
    this.instanceId = opts.instanceId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    const intake = new OrderIntake(orders);
    const lander = new RecordLander(ds, intake, orders, inventory, new ReturnService(ds, orders, inventory, log));
    this.queue = new JobQueue(ds, log, { workerId: this.instanceId, ...opts.queue });
    this.runner = new SyncRunner(ds, connections, lander, log, this.instanceId);
    this.scheduler = new SyncScheduler(ds, this.queue, log, this.instanceId);
    this.webhooks = new WebhookIntake(ds, connections, this.queue, lander, intake, log);
    this.outbox = new OutboxDispatcher(ds, connections, log, opts.dispatcher);
    this.reconciler = new StockReconciler(ds, connections);
    this.queue.on('sync.run', async (p) => {
      try {
        await this.runner.run(String(p.connectionId), { stream: String(p.stream), trigger: (p.trigger as SyncTrigger) ?? 'SCHEDULE', since: p.since ? new Date(String(p.since)) : undefined });
      } catch (err) {
        // Another run of this stream is in progress: the tick is skipped, never run alongside it.
        if (err instanceof DomainError && err.code === 'CONFLICT') return;
        throw err;
      }
    });
    this.queue.on('stock.reconcile', async (p) => {
      await this.reconciler.reconcile(String(p.connectionId), (p.trigger as SyncTrigger) ?? 'SCHEDULE');
    });
  }

  async start(): Promise<void> {
    this.queue.start();
    this.outbox.start();
    await this.scheduler.start();
  }

  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.outbox.stop();
    await this.queue.stop();
  }
}
