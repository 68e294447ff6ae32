import { createHash } from 'node:crypto';
import express, { type Router } from 'express';
import type { DataSource } from 'typeorm';
import type { CanonicalEvent, CanonicalOrder } from '../connectors/sdk/canonical';
import { ConnectorError } from '../connectors/sdk/connector-error';
import type { WebhookRequest } from '../connectors/sdk/webhooks';
import { rows } from '../db/sql';
import type { Logger } from '../logger';
import type { ConnectionService } from '../connections/connection.service';
import type { OrderIntake } from '../orders/order-intake';
import { lockOrderKeys } from './intake-lock';
import { emptyTally, quarantine, type RecordLander } from './record-lander';
import type { Job, JobQueue } from './job-queue';

export interface ReceiveResult { httpStatus: number; status: 'accepted' | 'duplicate' | 'rejected'; reason?: string }

/** At most this many queued deliveries are landed together (one page of orders). */
const WEBHOOK_BATCH = 100;

/** The job of a delivery that carries only order versions (batched), and of any other (alone). */
const ORDERS_JOB = 'webhook.orders';
const PROCESS_JOB = 'webhook.process';

/** An order's version: created or updated, or cancelled with the order (landed as that order, cancelled). */
const isOrderVersion = (e: CanonicalEvent) => e.type === 'order.upserted' || (e.type === 'order.cancelled' && !!e.order);

/** Headers worth keeping with a receipt (never Authorization or cookies). */
const KEEP_HEADERS = /^(x-shopify-|x-square-|x-webhook-|webhook-|x-amz|x-magento|content-type|user-agent)/i;
const TOPIC_HEADERS = ['x-shopify-topic', 'x-webhook-topic', 'x-amz-sns-message-type'];

/**
 * POST /webhooks/:connection. Verifies the signature over the raw bytes (the connector's `verify`), stores a
 * receipt unique on (connection, delivery id) and enqueues its processing in the same statement, then answers —
 * no landing happens on the request path, so the vendor gets its 200 fast. Duplicates (vendor retries, replays)
 * hit the unique key and change nothing.
 */
export class WebhookIntake {
  constructor(private readonly ds: DataSource, private readonly connections: ConnectionService, private readonly queue: JobQueue,
    private readonly lander: RecordLander, private readonly intake: OrderIntake, private readonly log: Logger) {
    // Deliveries that carry only order versions land in batches, one batch at a time (JobQueue.onBatch); any other
    // (stock, shipments, returns, an order to read back from the vendor) alone, beside them, so a slow vendor call
    // never holds back the orders.
    queue.onBatch(ORDERS_JOB, WEBHOOK_BATCH, (jobs) => this.processMany(jobs));
    queue.on(PROCESS_JOB, (payload, job) => this.process(String(payload.receiptId), job));
  }

  router(): Router {
    const r = express.Router();
    r.post('/webhooks/:connection', express.raw({ type: () => true, limit: '5mb' }), async (req, res) => {
      try {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const out = await this.receive(String(req.params.connection), { rawBody: body, headers: req.headers as WebhookRequest['headers'] });
        res.status(out.httpStatus).json({ status: out.status, ...(out.reason ? { reason: out.reason } : {}) });
      } catch (err) {
        this.log.error({ err }, 'webhook intake failed');
        res.status(500).json({ status: 'error' }); // the vendor retries; nothing was stored
      }
    });
    return r;
  }

  async receive(ref: string, req: WebhookRequest): Promise<ReceiveResult> {
    const opened = await this.connections.openCurrent(ref);
    const conn = opened?.row;
    if (!opened || !conn?.enabled) return { httpStatus: 404, status: 'rejected', reason: 'unknown connection' };
    if (!opened.vendor.def.webhooks) return { httpStatus: 404, status: 'rejected', reason: `${conn.kind} has no webhooks` };
    const secret = this.connections.registry.webhookSecret(conn.kind, opened.credentials);
    if (!secret) return { httpStatus: 401, status: 'rejected', reason: 'no webhook secret configured' }; // never accept what we cannot verify
    const url = typeof conn.config.notificationUrl === 'string' ? conn.config.notificationUrl : req.url;
    const outcome = await opened.vendor.webhook({ ...req, url }, { secret, replay: { firstSeen: () => true }, toleranceMs: conn.settings.webhookToleranceMs });
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => KEEP_HEADERS.test(k)).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]));
    const body = (Buffer.isBuffer(req.rawBody) ? req.rawBody : Buffer.from(req.rawBody)).toString('utf8');
    const topic = TOPIC_HEADERS.map((h) => headers[h]).find(Boolean);
    if (outcome.status === 'rejected') {
      if (outcome.httpStatus === 400) {
        // Signed by the vendor but not understood: kept (once) as a quarantined receipt, replayable after a fix.
        await rows(this.ds.manager,
          `INSERT INTO webhook_receipt (connection_id, delivery_id, topic, headers, body, status, last_error) VALUES ($1,$2,$3,$4,$5,'QUARANTINED',$6)
           ON CONFLICT (connection_id, delivery_id) DO NOTHING`,
          [conn.id, `sha256:${sha256(body)}`, topic ?? 'unknown', JSON.stringify(headers), body, outcome.reason.slice(0, 2000)]);
      }
      return { httpStatus: outcome.httpStatus, status: 'rejected', reason: outcome.httpStatus === 401 ? 'invalid signature' : outcome.reason };
    }
    if (outcome.status === 'duplicate') return { httpStatus: 200, status: 'duplicate' };
    const deliveryId = outcome.deliveryId ?? `sha256:${sha256(body)}`;
    // The receipt and its job in one statement (one round trip, no transaction to open and close).
    const inserted = await this.queue.insertAndEnqueue(this.ds.manager,
      `INSERT INTO webhook_receipt (connection_id, delivery_id, topic, headers, body, events) VALUES ($1,$2,$3,$4,$5,$6)
       ON CONFLICT (connection_id, delivery_id) DO NOTHING RETURNING id`,
      [conn.id, deliveryId, topic ?? outcome.events[0]?.type ?? 'unknown', JSON.stringify(headers), body, JSON.stringify(outcome.events)],
      { kind: outcome.events.length && outcome.events.every(isOrderVersion) ? ORDERS_JOB : PROCESS_JOB, key: 'receiptId', dedupePrefix: 'webhook:' });
    return { httpStatus: 200, status: inserted.length ? 'accepted' : 'duplicate' };
  }

  /** Puts a dead or quarantined receipt back in the queue (dead-letter replay). */
  async replay(receiptId: string): Promise<boolean> {
    return this.ds.transaction(async (em) => {
      const [row] = await rows<{ id: string; events: unknown }>(em,
        `UPDATE webhook_receipt SET status = 'RECEIVED', last_error = NULL WHERE id = $1 AND status IN ('DEAD','QUARANTINED','FAILED') RETURNING id, events`, [receiptId]);
      if (!row) return false;
      await this.queue.enqueue(em, PROCESS_JOB, { receiptId }, { dedupeKey: `webhook:${receiptId}:replay:${Date.now()}` });
      return true;
    });
  }

  /**
   * The queued deliveries of order versions, one or a burst of orders/create. The receipts of one connection that
   * carry only order versions (created, updated, or cancelled with the order) land together through the sync page
   * path (OrderIntake.landPage: a fixed number of statements for the new orders among them, fewer than placing even
   * one order alone) in one transaction, with every receipt marked in it, each by its own records'
   * outcome. Records keep the order the deliveries were queued in; two versions of one order in the batch land one
   * after the other under the same staleness rule as ever, and every order's key is locked first, as for a single
   * delivery. Any other receipt — or a batch whose transaction fails — is processed alone (process()), so a bad
   * delivery fails, retries and dies on its own. Returns, per job, the error it failed with (undefined: done).
   */
  async processMany(jobs: Job[]): Promise<unknown[]> {
    // Every receipt here was queued as ORDERS_JOB (order versions only); one processed meanwhile is skipped by process().
    const ids = jobs.map((j) => String(j.payload.receiptId));
    const receipts = await rows<{ id: string; connection_id: string; status: string; events: CanonicalEvent[] | null }>(this.ds.manager,
      `SELECT id, connection_id, status, events FROM webhook_receipt WHERE id = ANY($1::bigint[])`, [ids]);
    const byId = new Map(receipts.map((r) => [String(r.id), r]));
    const groups = new Map<string, number[]>();
    const alone: number[] = [];
    for (const [i, id] of ids.entries()) {
      const r = byId.get(id);
      if (r && r.status !== 'PROCESSED' && r.events?.length && r.events.every(isOrderVersion)) {
        groups.set(r.connection_id, [...groups.get(r.connection_id) ?? [], i]);
      } else alone.push(i);
    }
    const errors: unknown[] = jobs.map(() => undefined);
    for (const [connectionId, members] of groups) {
      if (!await this.landBatch(connectionId, members.map((i) => byId.get(ids[i])!))) alone.push(...members);
    }
    for (const i of alone.sort((a, b) => a - b)) {
      try {
        await this.process(ids[i], jobs[i]);
      } catch (err) {
        errors[i] = err;
      }
    }
    return errors;
  }

  /** The order versions of `receipts` (one connection), landed as one page; false when it did not commit. */
  private async landBatch(connectionId: string, receipts: { id: string; events: CanonicalEvent[] | null }[]): Promise<boolean> {
    // A cancellation that carries the order lands as that order, cancelled (as process() lands it).
    const records = receipts.flatMap((r, k) => r.events!.map((e) => ({ receipt: k,
      order: e.type === 'order.cancelled' ? { ...e.order!, status: 'CANCELLED' } as CanonicalOrder : (e as Extract<CanonicalEvent, { type: 'order.upserted' }>).order })));
    const tallies = receipts.map(() => emptyTally());
    try {
      const opened = (await this.connections.openCurrent(connectionId))!;
      await this.ds.transaction(async (em) => {
        await lockOrderKeys(em, connectionId, records.map((r) => r.order.externalId));
        await this.lander.landOrdersInTransaction(em, opened.row, opened.channel, records.map((r) => r.order), (i) => tallies[records[i].receipt], 'WEBHOOK', 'orders');
        await rows(em, `
          UPDATE webhook_receipt w SET status = v.status, attempts = w.attempts + 1, last_error = v.last_error, processed_at = now()
            FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(id, status, last_error) WHERE w.id = v.id RETURNING w.id`,
        [receipts.map((r) => r.id), tallies.map((t) => t.failed ? 'QUARANTINED' : 'PROCESSED'), tallies.map((t) => t.failed ? t.errors.join('; ').slice(0, 2000) : null)]);
      });
      return true;
    } catch (err) {
      this.log.warn({ err, connectionId, receipts: receipts.length }, 'webhook batch failed; processing its deliveries one by one');
      return false;
    }
  }

  /** Lands a receipt's events. Idempotent: a processed receipt is skipped, and every landing is keyed by external id. */
  async process(receiptId: string, job?: Job): Promise<void> {
    const [receipt] = await rows<{ id: string; connection_id: string; status: string; events: CanonicalEvent[] | null; body: string; headers: Record<string, string> }>(this.ds.manager,
      `SELECT id, connection_id, status, events, body, headers FROM webhook_receipt WHERE id = $1`, [receiptId]);
    if (!receipt || receipt.status === 'PROCESSED') return;
    try {
      const opened = (await this.connections.openCurrent(receipt.connection_id))!;
      const conn = opened.row;
      let events = receipt.events;
      if (!events) {
        // A quarantined delivery replayed after a fix: parse it again (the signature was verified on arrival).
        events = opened.vendor.def.webhooks!.parse({ rawBody: receipt.body, headers: receipt.headers }, opened.vendor.ctx);
      }
      const tally = emptyTally();
      const resolved: CanonicalEvent[] = [];
      for (const e of events) {
        if (e.type === 'order.changed') {
          // The delivery only names the order (Square): read its current state back.
          const order = opened.vendor.def.lookups?.order ? await opened.vendor.lookupOrder(e.orderExternalId) : null;
          if (order) resolved.push({ type: 'order.upserted', order });
          else tally.skipped++;
        } else if (e.type === 'stock.changed') {
          await this.lander.landStock(conn, e.level, tally, 'WEBHOOK', 'inventory', `webhook:${receiptId}`);
        } else if (e.type === 'return.upserted') {
          // A 3PL's return order for one of the hub's returns (in transit, arrived, graded): the return service's own transactions.
          await this.lander.landReturn(conn, e.ret, tally, 'WEBHOOK', 'returns');
        } else resolved.push(e);
      }
      await this.ds.transaction(async (em) => {
        await lockOrderKeys(em, conn.id, resolved.flatMap((e) => e.type === 'order.upserted' ? [e.order.externalId]
          : e.type === 'order.cancelled' ? [e.order?.externalId ?? e.orderExternalId] : []));
        for (const e of resolved) {
          if (e.type === 'order.upserted') await this.lander.landInTransaction(em, conn, opened.channel, 'order', e.order, tally, 'WEBHOOK', 'orders');
          else if (e.type === 'order.cancelled') {
            if (e.order) await this.lander.landInTransaction(em, conn, opened.channel, 'order', { ...e.order, status: 'CANCELLED' } as CanonicalOrder, tally, 'WEBHOOK', 'orders');
            else tally[await this.intake.cancelByExternalId(em, { connectionId: conn.id, channel: opened.channel, locations: conn.settings.locations }, e.orderExternalId, e.at, e.reason, `sync:${conn.name}`)]++;
          } else if (e.type === 'shipment.upserted') await this.lander.landInTransaction(em, conn, opened.channel, 'shipment', e.shipment, tally, 'WEBHOOK', 'shipments');
          // A refund issued in the channel stays in the receipt. What it does to the order (units taken back before
          // they shipped) reaches the hub as the order's own update (orders/updated, and the next poll), whose line
          // totals are compared with the hub's: applying the refund's deltas as well would count them twice.
          else tally.skipped++;
        }
        await rows(em, `UPDATE webhook_receipt SET status = $2, attempts = attempts + 1, last_error = $3, processed_at = now() WHERE id = $1 RETURNING id`,
          [receiptId, tally.failed ? 'QUARANTINED' : 'PROCESSED', tally.failed ? tally.errors.join('; ').slice(0, 2000) : null]);
      });
    } catch (err) {
      const last = !job || job.attempts >= job.maxAttempts || (err instanceof ConnectorError && !err.retryable);
      if (err instanceof ConnectorError && (err.code === 'MAPPING' || err.code === 'MALFORMED_PAYLOAD')) {
        await quarantine(this.ds.manager, receipt.connection_id, 'WEBHOOK', 'webhook', receiptId, err.message, null);
      }
      await rows(this.ds.manager, `UPDATE webhook_receipt SET status = $2, attempts = attempts + 1, last_error = $3 WHERE id = $1 RETURNING id`,
        [receiptId, last ? 'DEAD' : 'FAILED', (err as Error).message.slice(0, 2000)]);
      throw err;
    }
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
