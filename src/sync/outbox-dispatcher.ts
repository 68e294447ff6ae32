import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { CancelLinesCommand, CreateOrderCommand, SetStockCommand, UpdateShipToCommand } from '../connectors/sdk/canonical';
import { ConnectorError } from '../connectors/sdk/connector-error';
import { rows } from '../db/sql';
import { notFound } from '../errors';
import { FulfillmentOrderStatus as FO } from '../model/enums';
import { OPEN_FULFILLMENT } from '../orders/order-lifecycle';
import type { Logger } from '../logger';
import type { ConnectionService, ConnectionView, OpenedConnection } from '../connections/connection.service';
import { backoffMs } from './job-queue';
import { Rounds } from './rounds';
import { performOrderBooking } from './pos-sales-lander';
import { performRefund, performReturnLabel } from '../returns/return-dispatch';

interface OutboxRow { id: string; topic: string; aggregate_id: string; connection_id: string; payload: Record<string, unknown>; idempotency_key: string; attempts: number }

/** The NOTIFY channel an outbox event's commit is announced on; every hub process's dispatcher LISTENs to it. */
export const OUTBOX_CHANNEL = 'switchyard_outbox';

export interface DispatcherOptions { maxAttempts?: number; baseBackoffMs?: number; maxBackoffMs?: number; leaseMs?: number; pollMs?: number }

/**
 * Sends outbox events after commit, at least once: claimed with FOR UPDATE SKIP LOCKED under a lease, pushed with
 * the event's idempotency key (the vendor dedupes a resend), marked SENT, or retried with backoff (Retry-After
 * wins) until maxAttempts, then DEAD (visible in `deadLetters`, replayable). Stock is coalesced: changes only mark
 * items dirty (trigger); `coalesceStock` turns a round of dirty items into one push per channel, and the quantity
 * is read at send time, so a late retry never sends a stale level.
 */
export class OutboxDispatcher {
  private readonly opts: Required<DispatcherOptions>;

  constructor(private readonly ds: DataSource, private readonly connections: ConnectionService, private readonly log: Logger, opts: DispatcherOptions = {}) {
    this.opts = { maxAttempts: 10, baseBackoffMs: 2000, maxBackoffMs: 15 * 60_000, leaseMs: 2 * 60_000, pollMs: 1000, ...opts };
  }

  /**
   * Sends until stop(): when an event is written (wake(), on the NOTIFY of its commit, OUTBOX_CHANNEL) and every
   * `pollMs` (retries whose backoff ran out). Dirty stock is coalesced at most once per `pollMs`, so that each channel
   * gets one push per round, within its vendor's budget, however often events wake the dispatcher. One round at a time
   * per process, so a process sends an aggregate's events in the order they were written.
   */
  start(): void {
    this.rounds.start();
  }

  /** Send now rather than at the next poll: an event was written. */
  wake(): void {
    this.rounds.wake();
  }

  async stop(): Promise<void> {
    await this.rounds.stop();
  }

  private coalescedAt = 0;
  private readonly rounds = new Rounds(async () => {
    const coalesce = Date.now() - this.coalescedAt >= this.opts.pollMs;
    if (coalesce) this.coalescedAt = Date.now();
    await this.drain({ coalesce }).catch((err) => this.log.warn({ err }, 'outbox dispatch failed'));
    return Math.max(0, this.coalescedAt + this.opts.pollMs - Date.now());
  });

  /** One round: coalesce dirty stock (unless told not to), then send everything due. Returns how many events were attempted. */
  async drain(opts: { coalesce?: boolean } = {}): Promise<number> {
    // A failure here must not hold back fulfilments, tracking and refunds: the dirty marks stay for the next round.
    if (opts.coalesce ?? true) await this.coalesceStock().catch((err) => this.log.warn({ err }, 'stock coalescing failed'));
    let n = 0;
    for (;;) {
      const batch = await rows<OutboxRow>(this.ds.manager,
        `UPDATE outbox_event e SET attempts = e.attempts + 1, locked_until = now() + make_interval(secs => $2 / 1000.0)
          WHERE e.id IN (SELECT id FROM outbox_event WHERE status = 'PENDING' AND next_attempt_at <= now()
                            AND (locked_until IS NULL OR locked_until < now()) AND connection_id IS NOT NULL
                          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING e.id, e.topic, e.aggregate_id, e.connection_id, e.payload, e.idempotency_key, e.attempts`, [20, this.opts.leaseMs]);
      if (!batch.length) return n;
      for (const ev of batch.sort((a, b) => Number(a.id) - Number(b.id))) await this.send(ev);
      n += batch.length;
    }
  }

  /** Dead-letter replay. */
  async retry(id: string): Promise<boolean> {
    const r = await rows(this.ds.manager, `UPDATE outbox_event SET status = 'PENDING', attempts = 0, next_attempt_at = now(), last_error = NULL, locked_until = NULL
      WHERE id = $1 AND status = 'DEAD' RETURNING id, pg_notify($2, '')`, [id, OUTBOX_CHANNEL]);
    return r.length > 0;
  }

  /** Turns dirty stock items into one `stock.push` event per channel that publishes them (same transaction). */
  async coalesceStock(): Promise<number> {
    return this.ds.transaction(async (em) => {
      const channels = await rows<ConnectionView>(em, `SELECT id, settings FROM connection WHERE enabled AND settings ? 'pushStock'`);
      if (!channels.length) {
        // Nobody publishes stock: the marks are dropped without reading them (a bulk load marks every row it wrote,
        // and reading 2,000 of them a second back into the hub kept the database busy for minutes for nothing).
        await rows(em, `DELETE FROM stock_push_dirty WHERE (product_id, location_id) IN
                          (SELECT product_id, location_id FROM stock_push_dirty LIMIT 50000 FOR UPDATE SKIP LOCKED)`);
        return 0;
      }
      const dirty = await rows<{ sku: string; code: string }>(em,
        `WITH d AS (DELETE FROM stock_push_dirty WHERE (product_id, location_id) IN
                      (SELECT product_id, location_id FROM stock_push_dirty ORDER BY marked_at LIMIT 2000 FOR UPDATE SKIP LOCKED)
                    RETURNING product_id, location_id)
         SELECT p.sku, l.code FROM d JOIN product p ON p.id = d.product_id JOIN location l ON l.id = d.location_id`);
      if (!dirty.length) return 0;
      let events = 0;
      for (const c of channels) {
        const items = new Map<string, { sku: string; externalLocationId: string }>();
        for (const m of c.settings.pushStock ?? []) {
          for (const d of dirty) {
            if (m.locationCodes && !m.locationCodes.includes(d.code)) continue;
            items.set(`${d.sku}@${m.externalLocationId}`, { sku: d.sku, externalLocationId: m.externalLocationId });
          }
        }
        if (!items.size) continue;
        await rows(em, `INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key) VALUES ('stock.push', 'STOCK', $1::text, $1::uuid, $2, $3) RETURNING id`,
          [c.id, JSON.stringify({ items: [...items.values()] }), `stock:${c.id}:${randomUUID()}`]);
        events++;
      }
      return events;
    });
  }

  private async send(ev: OutboxRow): Promise<void> {
    try {
      const opened = await this.client(ev.connection_id);
      const note = await this.perform(opened, ev);
      await rows(this.ds.manager, `UPDATE outbox_event SET status = 'SENT', dispatched_at = now(), locked_until = NULL, last_error = $2 WHERE id = $1 RETURNING id`, [ev.id, note ?? null]);
    } catch (err) {
      const retryable = err instanceof ConnectorError ? err.retryable : true;
      const dead = !retryable || ev.attempts >= this.opts.maxAttempts;
      const retryAfter = (err as { retryAfterMs?: number }).retryAfterMs;
      const delay = backoffMs(ev.attempts, this.opts.baseBackoffMs, this.opts.maxBackoffMs, retryAfter);
      this.log.warn({ event: ev.id, topic: ev.topic, attempts: ev.attempts, dead, error: (err as Error).message }, 'outbox event failed');
      await rows(this.ds.manager,
        `UPDATE outbox_event SET status = $2, last_error = $3, locked_until = NULL, next_attempt_at = now() + make_interval(secs => $4 / 1000.0) WHERE id = $1 RETURNING id`,
        [ev.id, dead ? 'DEAD' : 'PENDING', (err as Error).message.slice(0, 2000), delay]);
    }
  }

  /** Performs one event against its connection; returns a note when there was nothing to do. */
  private async perform(opened: OpenedConnection, ev: OutboxRow): Promise<string | undefined> {
    const conn = opened.row;
    const vendorLocation = (code: string) => Object.entries(conn.settings.locations ?? {}).find(([, c]) => c === code)?.[0];
    switch (ev.topic) {
      case 'fulfillment.create': {
        const [fo] = await rows<{ id: string; status: string; method: string; code: string; order_id: string; channel: string; external_id: string; currency: string;
          placed_at: Date; ship_to: Record<string, unknown> | null; customer_name: string | null; customer_email: string | null; customer_phone: string | null; name: string | null }>(this.ds.manager,
          `SELECT fo.id, fo.status, fo.method, l.code, o.id AS order_id, o.channel, o.external_id, o.currency, o.placed_at, o.ship_to,
                  o.customer_name, o.customer_email, o.customer_phone, o.attributes->>'channelOrderName' AS name
             FROM fulfillment_order fo JOIN location l ON l.id = fo.location_id JOIN orders o ON o.id = fo.order_id WHERE fo.id = $1`, [ev.aggregate_id]);
        if (!fo) return 'fulfilment order no longer exists';
        if (['CANCELLED', 'REJECTED'].includes(fo.status)) return `fulfilment order is ${fo.status}; not sent`;
        const lines = await rows<{ id: string; sku: string; quantity: number; unit_price: string | null }>(this.ds.manager,
          `SELECT fol.id, fol.sku, fol.quantity, ol.unit_price::text FROM fulfillment_order_line fol JOIN order_line ol ON ol.id = fol.order_line_id WHERE fol.fulfillment_order_id = $1 ORDER BY fol.id`, [fo.id]);
        const cmd: CreateOrderCommand = {
          reference: fo.id, name: fo.name ?? fo.external_id, channel: fo.channel, currency: fo.currency, placedAt: fo.placed_at.toISOString(),
          method: fo.method as CreateOrderCommand['method'], externalLocationId: vendorLocation(fo.code),
          customer: { name: fo.customer_name ?? undefined, email: fo.customer_email ?? undefined, phone: fo.customer_phone ?? undefined },
          shipTo: fo.ship_to ? stripNulls(fo.ship_to) as unknown as CreateOrderCommand['shipTo'] : undefined,
          lines: lines.map((l) => ({ lineRef: l.id, sku: l.sku, quantity: l.quantity, unitPrice: l.unit_price ? trimMoney(l.unit_price) : undefined })),
          idempotencyKey: ev.idempotency_key,
        };
        const result = await opened.vendor.push('createOrder', cmd);
        if (result.externalId) {
          await rows(this.ds.manager, `INSERT INTO external_ref (connection_id, entity_type, external_id, internal_id) VALUES ($1, 'FULFILLMENT_ORDER', $2, $3) ON CONFLICT DO NOTHING`,
            [conn.id, result.externalId, fo.id]);
        }
        return undefined;
      }
      case 'fulfillment.cancel': {
        const [ref] = await rows<{ external_id: string }>(this.ds.manager,
          `SELECT external_id FROM external_ref WHERE connection_id = $1 AND entity_type = 'FULFILLMENT_ORDER' AND internal_id = $2`, [conn.id, ev.aggregate_id]);
        if (!ref) return 'never reached the vendor; nothing to cancel';
        await opened.vendor.push('cancelOrder', { orderExternalId: ref.external_id, reason: 'cancelled in the hub', idempotencyKey: ev.idempotency_key });
        return undefined;
      }
      case 'fulfillment.address': {
        const [ref] = await rows<{ external_id: string }>(this.ds.manager,
          `SELECT external_id FROM external_ref WHERE connection_id = $1 AND entity_type = 'FULFILLMENT_ORDER' AND internal_id = $2`, [conn.id, ev.aggregate_id]);
        if (!ref) return 'never reached the vendor; it is sent there with the address of the moment';
        const [fo] = await rows<OrderAddressRow & { status: string }>(this.ds.manager,
          `SELECT fo.status, ${ORDER_ADDRESS} FROM fulfillment_order fo JOIN orders o ON o.id = fo.order_id WHERE fo.id = $1`, [ev.aggregate_id]);
        if (!fo) return 'fulfilment order no longer exists';
        if (!OPEN_FULFILLMENT.includes(fo.status as FO)) return `fulfilment order is ${fo.status}; address not sent`;
        if (!fo.ship_to) return 'the order has no ship-to address';
        if (!opened.vendor.supports('updateShipTo')) {
          throw new ConnectorError({ code: 'CONFIG', message: `${conn.kind} cannot change the address of an order it holds: change vendor order ${ref.external_id} there, then discard this event`, retryable: false, operation: 'updateShipTo', record: ev.aggregate_id });
        }
        await opened.vendor.push('updateShipTo', shipToCommand(fo, ref.external_id, ev));
        return undefined;
      }
      case 'order.address': {
        const [o] = await rows<OrderAddressRow & { external_id: string }>(this.ds.manager, `SELECT o.external_id, ${ORDER_ADDRESS} FROM orders o WHERE o.id = $1`, [ev.aggregate_id]);
        if (!o) return 'order no longer exists';
        if (!o.ship_to) return 'the order has no ship-to address';
        if (!opened.vendor.supports('updateShipTo')) return `${conn.kind} does not take address changes; the hub keeps the corrected one`;
        await opened.vendor.push('updateShipTo', shipToCommand(o, o.external_id, ev));
        return undefined;
      }
      case 'order.cancelLines': {
        const [o] = await rows<{ external_id: string }>(this.ds.manager, `SELECT external_id FROM orders WHERE id = $1`, [ev.aggregate_id]);
        if (!o) return 'order no longer exists';
        const p = ev.payload as { lines: CancelLinesCommand['lines']; reason?: string };
        if (!opened.vendor.supports('cancelLines')) {
          // The customer paid for units they will not get: someone has to take them off in the channel.
          throw new ConnectorError({ code: 'CONFIG', message: `${conn.kind} cannot cancel single lines: cancel ${p.lines.map((l) => `${l.quantity} × ${l.sku ?? l.orderLineExternalId}`).join(', ')} of order ${o.external_id} there, then discard this event`,
            retryable: false, operation: 'cancelLines', record: ev.aggregate_id });
        }
        await opened.vendor.push('cancelLines', { orderExternalId: o.external_id, reference: ev.aggregate_id, lines: p.lines, reason: p.reason, idempotencyKey: ev.idempotency_key });
        return undefined;
      }
      case 'order.cancel': {
        const [o] = await rows<{ external_id: string }>(this.ds.manager, `SELECT external_id FROM orders WHERE id = $1`, [ev.aggregate_id]);
        if (!o) return 'order no longer exists';
        if (!opened.vendor.supports('cancelOrder')) return `${conn.kind} does not take cancellations`;
        await opened.vendor.push('cancelOrder', { orderExternalId: o.external_id, reason: 'cancelled in the hub', restock: true, idempotencyKey: ev.idempotency_key });
        return undefined;
      }
      case 'tracking.push': {
        const [s] = await rows<{ carrier: string | null; tracking_number: string | null; tracking_url: string | null; shipped_at: Date; code: string; external_id: string }>(this.ds.manager,
          `SELECT s.carrier, s.tracking_number, s.tracking_url, s.shipped_at, l.code, o.external_id
             FROM shipment s JOIN fulfillment_order fo ON fo.id = s.fulfillment_order_id JOIN location l ON l.id = fo.location_id
             JOIN orders o ON o.id = fo.order_id WHERE s.id = $1`, [ev.aggregate_id]);
        if (!s) return 'shipment no longer exists';
        if (!opened.vendor.supports('createShipment')) return `${conn.kind} does not take shipments`;
        const lines = await rows<{ external_id: string | null; quantity: number }>(this.ds.manager,
          `SELECT ol.external_id, sl.quantity FROM shipment_line sl JOIN fulfillment_order_line fol ON fol.id = sl.fulfillment_order_line_id
             JOIN order_line ol ON ol.id = fol.order_line_id WHERE sl.shipment_id = $1`, [ev.aggregate_id]);
        await opened.vendor.push('createShipment', {
          orderExternalId: s.external_id, externalLocationId: vendorLocation(s.code), carrier: s.carrier ?? 'Other', trackingNumber: s.tracking_number ?? '',
          trackingUrl: s.tracking_url ?? undefined, shippedAt: s.shipped_at.toISOString(), notifyCustomer: true, idempotencyKey: ev.idempotency_key,
          lines: lines.filter((l) => l.external_id).map((l) => ({ orderLineExternalId: l.external_id!, quantity: l.quantity })),
        });
        return undefined;
      }
      case 'stock.push':
        return this.pushStock(opened, ev);
      case 'order.book':
        return performOrderBooking(this.ds, opened, ev);
      case 'return.label':
        return performReturnLabel(this.ds, opened, ev);
      case 'refund.push':
        return performRefund(this.ds, opened, ev);
      default:
        throw new ConnectorError({ code: 'CONFIG', message: `no dispatcher for outbox topic ${ev.topic}`, retryable: false });
    }
  }

  /** Current ATP of each item (summed over the mapping's hub locations), sent only where it differs from what the channel was last told. */
  private async pushStock(opened: OpenedConnection, ev: OutboxRow): Promise<string | undefined> {
    const conn = opened.row;
    const items = (ev.payload.items ?? []) as { sku: string; externalLocationId: string }[];
    const cmds: SetStockCommand[] = [];
    for (const item of items) {
      const mapping = conn.settings.pushStock?.find((m) => m.externalLocationId === item.externalLocationId);
      if (!mapping) continue;
      const quantity = await hubAvailable(this.ds, item.sku, mapping.locationCodes);
      const [prev] = await rows<{ pushed_quantity: number | null; channel_quantity: number | null }>(this.ds.manager,
        `SELECT pushed_quantity, channel_quantity FROM channel_stock WHERE connection_id = $1 AND sku = $2 AND external_location_id = $3`, [conn.id, item.sku, item.externalLocationId]);
      if (prev?.pushed_quantity === quantity) continue;
      cmds.push({ sku: item.sku, externalLocationId: item.externalLocationId, externalItemId: conn.settings.itemIds?.[item.sku], quantity,
        expectedQuantity: prev ? prev.channel_quantity ?? prev.pushed_quantity : null, idempotencyKey: `${ev.idempotency_key}:${item.sku}@${item.externalLocationId}:${quantity}` });
    }
    if (!cmds.length) return 'channel already holds these levels';
    if (opened.vendor.supports('setStockBatch')) await opened.vendor.push('setStockBatch', cmds);
    else for (const c of cmds) await opened.vendor.push('setStock', c);
    for (const c of cmds) {
      await rows(this.ds.manager,
        `INSERT INTO channel_stock (connection_id, sku, external_location_id, pushed_quantity, pushed_at, channel_quantity, hub_available) VALUES ($1,$2,$3,$4,now(),$4,$4)
         ON CONFLICT (connection_id, sku, external_location_id) DO UPDATE SET pushed_quantity = $4, pushed_at = now(), channel_quantity = $4, hub_available = $4`,
        [conn.id, c.sku, c.externalLocationId, c.quantity]);
    }
    return undefined;
  }

  /** The connection's vendor client, kept between rounds (ConnectionService.openCurrent): its rate limiter keeps its state. */
  private async client(connectionId: string): Promise<OpenedConnection> {
    const opened = await this.connections.openCurrent(connectionId);
    if (!opened) throw notFound('Connection', connectionId, 'id');
    return opened;
  }
}

/** ATP of a sku summed over hub locations (all active ones when none are named), never below 0 per location. */
export async function hubAvailable(ds: DataSource, sku: string, locationCodes?: string[]): Promise<number> {
  const [r] = await rows<{ n: number }>(ds.manager,
    `SELECT coalesce(sum(greatest(s.on_hand - s.reserved - s.safety_stock, 0)), 0)::int AS n
       FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id
      WHERE p.sku = $1 AND l.active AND ($2::text[] IS NULL OR l.code = ANY($2))`, [sku, locationCodes ?? null]);
  return r.n;
}

/** What an address push needs of the order (`o`): where it goes now, and who receives it. */
const ORDER_ADDRESS = 'o.ship_to, o.customer_name, o.customer_email, o.customer_phone';
interface OrderAddressRow { ship_to: Record<string, unknown> | null; customer_name: string | null; customer_email: string | null; customer_phone: string | null }

/** `updateShipTo` for the vendor's order `orderExternalId`, with the address as the order holds it when sent. */
function shipToCommand(o: OrderAddressRow, orderExternalId: string, ev: OutboxRow): UpdateShipToCommand {
  return {
    orderExternalId, reference: ev.aggregate_id, shipTo: stripNulls(o.ship_to!) as unknown as UpdateShipToCommand['shipTo'],
    customer: { name: o.customer_name ?? undefined, email: o.customer_email ?? undefined, phone: o.customer_phone ?? undefined }, idempotencyKey: ev.idempotency_key,
  };
}

function stripNulls<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

/** numeric(19,4) text → canonical money ("19.9900" → "19.99"). */
function trimMoney(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '.00').replace(/\.(\d)$/, '.$10') : s;
}
