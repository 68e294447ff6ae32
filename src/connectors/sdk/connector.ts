import { z } from 'zod';
import type { AdjustStockCommand, CancelLinesCommand, CancelOrderCommand, CanonicalOrder, CanonicalShipment, CreateOrderCommand, CreateShipmentCommand, PushResult, SetStockCommand, UpdateShipToCommand } from './canonical';
import { ConnectorError } from './connector-error';
import type { CreateReturnCommand, RefundCommand } from './returns';
import { type Clock, systemClock } from './clock';
import { HttpClient, type HttpClientOptions, type RetryPolicy } from './http-client';
import { describeIssues } from './shape';
import { readStream, type StreamBatch, type StreamDefinition, type StreamState } from './stream';
import { handleWebhook, type HandleWebhookOptions, type WebhookDefinition, type WebhookOutcome, type WebhookRequest } from './webhooks';

/** Fields every connector config accepts; extend it with `baseConfigSchema.extend({...})`. */
export const baseConfigSchema = z.object({
  /** Overrides the vendor URL (vendor sandbox, in-process simulator, nock). */
  baseUrl: z.url().optional(),
  timeoutMs: z.number().int().positive().optional(),
});

/** What every connector function receives. */
export interface ConnectorContext<Cfg, Cred> {
  kind: string;
  config: Cfg;
  credentials: Cred;
  http: HttpClient;
  clock: Clock;
}

/** Hub → vendor operations. Each one is optional; the hub only calls what a connector declares. */
export interface PushOperations<Ctx> {
  /** Absolute stock level of one sku at one vendor location. */
  setStock?(ctx: Ctx, cmd: SetStockCommand): Promise<PushResult>;
  /** Many absolute levels at once (Amazon JSON_LISTINGS_FEED, Magento source-items). */
  setStockBatch?(ctx: Ctx, cmds: SetStockCommand[]): Promise<PushResult>;
  /** Tell the channel that goods shipped, with tracking. */
  createShipment?(ctx: Ctx, cmd: CreateShipmentCommand): Promise<PushResult>;
  cancelOrder?(ctx: Ctx, cmd: CancelOrderCommand): Promise<PushResult>;
  /** Remove units of some lines from an order that otherwise goes on, refunding them (see `CancelLinesCommand`). */
  cancelLines?(ctx: Ctx, cmd: CancelLinesCommand): Promise<PushResult>;
  /** Relative stock change (delta), where the vendor records adjustments rather than counts. */
  adjustStock?(ctx: Ctx, cmd: AdjustStockCommand): Promise<PushResult>;
  /** Place an order in the vendor's system (ERP books, POS pickup order, 3PL fulfilment order); idempotent by `reference`. */
  createOrder?(ctx: Ctx, cmd: CreateOrderCommand): Promise<PushResult>;
  /** Send an order placed with `createOrder` to a new ship-to address (see `UpdateShipToCommand`). */
  updateShipTo?(ctx: Ctx, cmd: UpdateShipToCommand): Promise<PushResult>;
  /** Refund returned goods on the origin channel; pushed once per idempotency key (see `RefundCommand`). */
  refund?(ctx: Ctx, cmd: RefundCommand): Promise<PushResult>;
  /** Open a return order at a 3PL so it expects the goods (and issues the label); idempotent by `reference`. */
  createReturn?(ctx: Ctx, cmd: CreateReturnCommand): Promise<PushResult>;
}

/** Point reads the hub makes after a push (state read back), outside any stream. */
export interface LookupOperations<Ctx> {
  /** One order by the vendor's id, `null` when the vendor does not know it. */
  order?(ctx: Ctx, externalId: string): Promise<CanonicalOrder | null>;
  /** Shipments of one vendor order. */
  shipments?(ctx: Ctx, orderExternalId: string): Promise<CanonicalShipment[]>;
}

/**
 * Everything a connector declares. The SDK supplies the rest (HTTP, auth, retries, rate limiting, pagination
 * state, webhook replay protection).
 *
 * Extension point — a new connector is one `defineConnector({...})` call:
 * - `kind`: stable identifier stored with each connection ("shopify").
 * - `configSchema` / `credentialsSchema`: zod schemas; credentials are stored encrypted by the hub and never logged.
 * - `http`: how to reach the vendor: default base URL, auth provider, rate limiter, response inspector.
 * - `streams`: what can be read (see `StreamDefinition`).
 * - `push`: what can be written (see `PushOperations`).
 * - `webhooks`: optional signed pushes from the vendor (see `WebhookDefinition`).
 * - `check`: one cheap authenticated call proving the connection works; throw a ConnectorError otherwise.
 */
export interface ConnectorDefinition<Cfg extends { baseUrl?: string; timeoutMs?: number }, Cred> {
  kind: string;
  displayName: string;
  configSchema: z.ZodType<Cfg>;
  credentialsSchema: z.ZodType<Cred>;
  http(args: { config: Cfg; credentials: Cred }): Omit<HttpClientOptions, 'clock' | 'retry' | 'random' | 'timeoutMs'> & { retry?: Partial<RetryPolicy> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  streams: Record<string, StreamDefinition<ConnectorContext<Cfg, Cred>, any, any>>;
  push: PushOperations<ConnectorContext<Cfg, Cred>>;
  webhooks?: WebhookDefinition<ConnectorContext<Cfg, Cred>>;
  /** Optional point reads (see `LookupOperations`). */
  lookups?: LookupOperations<ConnectorContext<Cfg, Cred>>;
  check(ctx: ConnectorContext<Cfg, Cred>): Promise<void>;
}

/** Identity helper that keeps the literal types of a definition. */
export function defineConnector<Cfg extends { baseUrl?: string; timeoutMs?: number }, Cred>(def: ConnectorDefinition<Cfg, Cred>): ConnectorDefinition<Cfg, Cred> {
  return def;
}

export interface OpenOptions {
  config: unknown;
  credentials: unknown;
  clock?: Clock;
  random?: () => number;
  retry?: Partial<RetryPolicy>;
}

/** One configured connection to a vendor account: validated config, one HTTP client, one rate limiter. */
export class Connection<Cfg extends { baseUrl?: string; timeoutMs?: number }, Cred> {
  readonly ctx: ConnectorContext<Cfg, Cred>;

  constructor(readonly def: ConnectorDefinition<Cfg, Cred>, opts: OpenOptions) {
    const config = validate(def.configSchema, opts.config, `${def.kind} config`);
    const credentials = validate(def.credentialsSchema, opts.credentials, `${def.kind} credentials`);
    const clock = opts.clock ?? systemClock;
    const http = def.http({ config, credentials });
    const client = new HttpClient({
      ...http,
      baseUrl: config.baseUrl ?? http.baseUrl,
      timeoutMs: config.timeoutMs,
      clock,
      random: opts.random,
      retry: { ...http.retry, ...opts.retry },
    });
    this.ctx = { kind: def.kind, config, credentials, http: client, clock };
  }

  get kind(): string {
    return this.def.kind;
  }

  streamNames(): string[] {
    return Object.keys(this.def.streams);
  }

  /** Batches of records with the state to save alongside each (see `readStream`). */
  read(stream: string, state: StreamState = {}, opts: { maxPages?: number } = {}): AsyncGenerator<StreamBatch<unknown>> {
    const def = this.def.streams[stream];
    if (!def) throw new ConnectorError({ code: 'CONFIG', message: `${this.kind} has no stream ${stream}`, retryable: false, stream });
    return readStream(def, this.ctx, state, { now: this.ctx.clock.now(), maxPages: opts.maxPages });
  }

  /** Reads a stream to its end in memory (CLI, tests). Production syncs iterate `read` and commit per batch. */
  async readAll<T = unknown>(stream: string, state: StreamState = {}): Promise<{ records: T[]; state: StreamState; batches: number }> {
    const records: T[] = [];
    let last = state;
    let batches = 0;
    for await (const b of this.read(stream, state)) {
      records.push(...(b.records as T[]));
      last = b.state;
      batches++;
    }
    return { records, state: last, batches };
  }

  async push<K extends keyof PushOperations<unknown>>(op: K, input: Parameters<NonNullable<PushOperations<ConnectorContext<Cfg, Cred>>[K]>>[1]): Promise<PushResult> {
    const fn = this.def.push[op] as ((ctx: ConnectorContext<Cfg, Cred>, i: unknown) => Promise<PushResult>) | undefined;
    if (!fn) throw new ConnectorError({ code: 'CONFIG', message: `${this.kind} does not support ${op}`, retryable: false, operation: op });
    return fn(this.ctx, input);
  }

  /** Reads one order back from the vendor (e.g. a pushed pickup order's state). */
  async lookupOrder(externalId: string): Promise<CanonicalOrder | null> {
    const fn = this.def.lookups?.order;
    if (!fn) throw new ConnectorError({ code: 'CONFIG', message: `${this.kind} cannot look up orders`, retryable: false, operation: 'lookupOrder' });
    return fn(this.ctx, externalId);
  }

  async lookupShipments(orderExternalId: string): Promise<CanonicalShipment[]> {
    const fn = this.def.lookups?.shipments;
    if (!fn) throw new ConnectorError({ code: 'CONFIG', message: `${this.kind} cannot look up shipments`, retryable: false, operation: 'lookupShipments' });
    return fn(this.ctx, orderExternalId);
  }

  supports(op: keyof PushOperations<unknown>): boolean {
    return typeof this.def.push[op] === 'function';
  }

  webhook(req: WebhookRequest, opts: Omit<HandleWebhookOptions, 'clock'>): Promise<WebhookOutcome> {
    if (!this.def.webhooks) throw new ConnectorError({ code: 'CONFIG', message: `${this.kind} has no webhooks`, retryable: false });
    return handleWebhook(this.def.webhooks, this.ctx, req, { ...opts, clock: this.ctx.clock });
  }

  async check(): Promise<{ ok: true } | { ok: false; error: ConnectorError }> {
    try {
      await this.def.check(this.ctx);
      return { ok: true };
    } catch (e) {
      if (e instanceof ConnectorError) return { ok: false, error: e };
      return { ok: false, error: new ConnectorError({ code: 'HTTP', message: (e as Error).message, retryable: true, cause: e }) };
    }
  }
}

export function openConnection<Cfg extends { baseUrl?: string; timeoutMs?: number }, Cred>(def: ConnectorDefinition<Cfg, Cred>, opts: OpenOptions): Connection<Cfg, Cred> {
  return new Connection(def, opts);
}

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ConnectorError({ code: 'CONFIG', message: `invalid ${what}: ${describeIssues(r.error)}`, retryable: false });
  return r.data;
}
