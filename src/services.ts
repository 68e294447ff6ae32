import type { DataSource } from 'typeorm';
import type { Config } from './config';
import type { Logger } from './logger';
import { EventBus } from './events/event-bus';
import { InventoryService } from './inventory/inventory.service';
import { OrderService } from './orders/order.service';
import { LocationService } from './catalog/location.service';
import { ProductService } from './catalog/product.service';
import { OrderRouter } from './orders/order-router';
import { RuleSetService } from './rules/rule-set.service';
import { IdempotencyStore } from './idempotency/idempotency.store';
import { ApiKeyService } from './security/api-key.service';
import { AuditLog } from './security/audit-log';
import { Authenticator } from './security/authenticator';
import { JwtVerifier } from './security/jwt';
import { ConnectionService } from './connections/connection.service';
import { SyncEngine } from './sync/sync-engine';
import { JOBS_CHANNEL } from './sync/job-queue';
import { OUTBOX_CHANNEL } from './sync/outbox-dispatcher';
import { PromiseService } from './promise/promise.service';
import { ReturnService } from './returns/return.service';

export interface Services {
  dataSource: DataSource;
  config: Config;
  log: Logger;
  events: EventBus;
  inventory: InventoryService;
  orders: OrderService;
  locations: LocationService;
  products: ProductService;
  ruleSets: RuleSetService;
  idempotency: IdempotencyStore;
  apiKeys: ApiKeyService;
  auth: Authenticator;
  audit: AuditLog;
  connections: ConnectionService;
  sync: SyncEngine;
  promise: PromiseService;
  returns: ReturnService;
}

/** Wires every service once; no DI framework. */
export function createServices(dataSource: DataSource, config: Config, log: Logger, databaseUrl: string): Services {
  const inventory = new InventoryService(dataSource);
  const orders = new OrderService(dataSource, inventory);
  const ruleSets = new RuleSetService(dataSource);
  if (config.autoRoute) orders.planner = new OrderRouter(ruleSets);
  const apiKeys = new ApiKeyService(dataSource, config.adminKey);
  const connections = new ConnectionService(dataSource, config.masterKey);
  const events = new EventBus(databaseUrl, log);
  const sync = new SyncEngine(dataSource, connections, orders, inventory, log);
  // Not listening yet (start() LISTENs), so nothing to wait for.
  void events.onNotify(JOBS_CHANNEL, () => sync.queue.wake());
  void events.onNotify(OUTBOX_CHANNEL, () => sync.outbox.wake());
  return {
    dataSource,
    config,
    log,
    events,
    inventory,
    orders,
    locations: new LocationService(dataSource),
    products: new ProductService(dataSource),
    ruleSets,
    idempotency: new IdempotencyStore(dataSource),
    apiKeys,
    auth: new Authenticator(apiKeys, config.jwt ? new JwtVerifier(config.jwt) : undefined),
    audit: new AuditLog(dataSource, log),
    connections,
    sync,
    promise: new PromiseService(dataSource, ruleSets),
    returns: new ReturnService(dataSource, orders, inventory, log),
  };
}
