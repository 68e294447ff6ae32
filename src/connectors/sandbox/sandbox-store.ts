import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { addressEditOf, type GeneratedOrder, OrderGenerator, type OrderGeneratorOptions, takeBackOf } from './order-generator';

/** What a sandbox needs of a clock: the SDK's `Clock` (systemClock, VirtualClock) fits. */
export interface SandboxClock {
  now(): number;
}

/** Options every sandbox accepts. */
export interface SandboxBaseOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Same seed, same orders. */
  seed: number;
  /** Drives order arrival and the rate limits. Share it with the connector (VirtualClock in tests). Default: wall clock. */
  clock?: SandboxClock;
  /** Mean order arrival rate after start (default 120/h). 0 = only the backlog. */
  ordersPerHour?: number;
  /** Orders placed before start (default 0), spread over `backlogHours` (default 24). */
  backlog?: number;
  backlogHours?: number;
  /** Demo SKUs drawn from (default 2000, the demo network's). */
  skus?: number;
  /** Set false to switch rate limiting off (default true). */
  rateLimits?: boolean;
  /**
   * Orders in a hundred (default 0) whose customer takes back one unit before it ships, 2 to 30 minutes after
   * placing the order: the line's cancelled units grow and the order's updated_at moves, as a refund of an
   * unfulfilled item does. A unit already shipped (or a cancelled order) is left alone.
   */
  takeBacksPerHundred?: number;
  /** Orders in a hundred whose customer corrects the shipping address before it ships (`addressEditOf`). */
  addressEditsPerHundred?: number;
}

export interface ShipmentRecord {
  /** Vendor's shipment / fulfilment id. */
  id: string;
  at: string;
  orderSeq: number;
  /** The vendor's order id, as the connector knows it. */
  orderId: string;
  lines: Array<{ lineIndex: number; lineId: string; sku: string; quantity: number }>;
  carrier: string;
  trackingNumber: string;
  trackingUrl?: string;
  /** Vendor location the goods left from, when the push named one. */
  location?: string;
}

export interface StockPushRecord {
  at: string;
  sku: string;
  location: string;
  quantity: number;
  /** Level before the push (null: none). */
  previous: number | null;
  accepted: boolean;
  /** Why it was refused (e.g. stale compare-and-set). */
  reason?: string;
  idempotencyKey?: string;
}

export interface CancellationRecord {
  at: string;
  orderSeq: number;
  orderId: string;
  accepted: boolean;
  reason?: string;
}

/** Everything the hub pushed to a sandbox, in arrival order. */
export interface PushLog {
  stock: StockPushRecord[];
  shipments: ShipmentRecord[];
  cancellations: CancellationRecord[];
}

export interface RequestRecord {
  at: number;
  operation: string;
  status: number;
  throttled: boolean;
  /** Shopify: cost charged to the bucket. */
  cost?: number;
}

export interface SandboxStats {
  requests: number;
  throttled: number;
  byOperation: Record<string, { requests: number; throttled: number }>;
}

/** One order as the sandbox holds it: the generated order plus what happened to it since. */
export interface OrderState {
  gen: GeneratedOrder;
  updatedAt: number;
  /** Per line (same order as gen.lines). */
  shipped: number[];
  cancelled: number[];
  cancelledAt?: number;
  cancelReason?: string;
  shipments: ShipmentRecord[];
  /** Units the customer took back before they shipped, per line (included in `cancelled`). */
  takenBack: number[];
  /** The shipping address set since the order was placed (a merchant's edit), in the vendor's own fields. */
  shippingAddress?: Record<string, string | null>;
  /** The address the customer corrected it to (`addressEditsPerHundred`), vendor-neutral; shown unless a merchant's edit came later. */
  shipTo?: GeneratedOrder['shipTo'];
}

/**
 * The vendor-neutral state behind a sandbox: orders (materialised as the clock passes their arrival), stock
 * levels, and logs of pushes and requests. Each vendor sandbox renders it in its own contract.
 */
export class SandboxStore {
  readonly clock: SandboxClock;
  readonly generator: OrderGenerator;
  readonly pushes: PushLog = { stock: [], shipments: [], cancellations: [] };
  readonly requests: RequestRecord[] = [];
  private readonly states: OrderState[] = [];
  private readonly stock = new Map<string, number>();
  private sortedCache?: { version: number; list: OrderState[] };
  private version = 0;
  private readonly takeBacksPerHundred: number;
  /** Take-backs of materialised orders not yet due, soonest first. */
  private readonly takeBacks: { at: number; state: OrderState; line: number }[] = [];
  private readonly addressEditsPerHundred: number;
  /** Address corrections of materialised orders not yet due, soonest first. */
  private readonly addressEdits: { at: number; state: OrderState; shipTo: GeneratedOrder['shipTo'] }[] = [];

  constructor(opts: SandboxBaseOptions) {
    this.clock = opts.clock ?? { now: () => Date.now() };
    const gen: OrderGeneratorOptions = {
      seed: opts.seed,
      start: this.clock.now(),
      ordersPerHour: opts.ordersPerHour,
      backlog: opts.backlog,
      backlogHours: opts.backlogHours,
      skus: opts.skus,
    };
    this.generator = new OrderGenerator(gen);
    this.takeBacksPerHundred = opts.takeBacksPerHundred ?? 0;
    this.addressEditsPerHundred = opts.addressEditsPerHundred ?? 0;
  }

  now(): number {
    return this.clock.now();
  }

  nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  /** Materialises every order placed, and every take-back made, up to now; returns all orders, in placement order. */
  orders(): OrderState[] {
    const now = this.now();
    const n = this.generator.countAt(now);
    while (this.states.length < n) {
      const gen = this.generator.order(this.states.length + 1);
      const state: OrderState = { gen, updatedAt: gen.placedAt, shipped: gen.lines.map(() => 0), cancelled: gen.lines.map(() => 0), shipments: [], takenBack: gen.lines.map(() => 0) };
      this.states.push(state);
      this.version++;
      const takeBack = takeBackOf(this.generator, gen.seq, this.takeBacksPerHundred);
      if (takeBack) {
        const at = this.takeBacks.findIndex((t) => t.at > takeBack.at);
        this.takeBacks.splice(at < 0 ? this.takeBacks.length : at, 0, { ...takeBack, state });
      }
      const edit = addressEditOf(this.generator, gen.seq, this.addressEditsPerHundred);
      if (edit) {
        const at = this.addressEdits.findIndex((t) => t.at > edit.at);
        this.addressEdits.splice(at < 0 ? this.addressEdits.length : at, 0, { ...edit, state });
      }
    }
    while (this.addressEdits.length && this.addressEdits[0].at <= now) {
      const { at, state, shipTo } = this.addressEdits.shift()!;
      // Too late once something has left, or the order is cancelled: the shop does not take the edit.
      if (state.cancelledAt || state.shipped.some((n) => n > 0)) continue;
      state.shipTo = shipTo;
      delete state.shippingAddress;
      state.updatedAt = Math.max(state.updatedAt, at);
      this.version++;
    }
    while (this.takeBacks.length && this.takeBacks[0].at <= now) {
      const { at, state, line } = this.takeBacks.shift()!;
      if (state.cancelledAt || this.open(state, line) < 1) continue;
      state.cancelled[line]++;
      state.takenBack[line]++;
      // Stamped when it happened: every read so far covered only earlier times, so the next one sees it.
      state.updatedAt = Math.max(state.updatedAt, at);
      this.version++;
    }
    return this.states;
  }

  /** Orders sorted by (updatedAt, seq). */
  byUpdatedAt(): OrderState[] {
    const all = this.orders();
    if (this.sortedCache?.version !== this.version) {
      this.sortedCache = { version: this.version, list: [...all].sort((a, b) => a.updatedAt - b.updatedAt || a.gen.seq - b.gen.seq) };
    }
    return this.sortedCache.list;
  }

  order(seq: number): OrderState | undefined {
    return Number.isInteger(seq) && seq >= 1 ? this.orders()[seq - 1] : undefined;
  }

  /** Marks an order changed now (it moves to the end of the updated_at order). */
  touch(o: OrderState): void {
    o.updatedAt = Math.max(o.updatedAt, Math.floor(this.now() / 1000) * 1000);
    this.version++;
  }

  /** Units of a line still open for shipment. */
  open(o: OrderState, i: number): number {
    return o.gen.lines[i].quantity - o.shipped[i] - o.cancelled[i];
  }

  getStock(sku: string, location: string): number | null {
    return this.stock.get(`${sku}\u0000${location}`) ?? null;
  }

  setStock(sku: string, location: string, quantity: number): void {
    this.stock.set(`${sku}\u0000${location}`, quantity);
  }

  stockEntries(): Array<{ sku: string; location: string; quantity: number }> {
    return [...this.stock.entries()].map(([k, quantity]) => {
      const [sku, location] = k.split('\u0000');
      return { sku, location, quantity };
    });
  }

  record(operation: string, status: number, throttled: boolean, cost?: number): void {
    this.requests.push({ at: this.now(), operation, status, throttled, ...(cost !== undefined ? { cost } : {}) });
  }

  stats(): SandboxStats {
    const byOperation: SandboxStats['byOperation'] = {};
    let throttled = 0;
    for (const r of this.requests) {
      const s = (byOperation[r.operation] ??= { requests: 0, throttled: 0 });
      s.requests++;
      if (r.throttled) {
        s.throttled++;
        throttled++;
      }
    }
    return { requests: this.requests.length, throttled, byOperation };
  }
}

/** Starts an express app on 127.0.0.1 and resolves once it listens. */
export async function listen(app: Express, port = 0): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Base-36 style helpers shared by the vendors' id schemes. */
export const pad = (n: number, width: number) => String(n).padStart(width, '0');
