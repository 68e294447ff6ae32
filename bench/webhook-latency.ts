import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../src/config';
import { hmacSha256 } from '../src/connectors/sdk/webhooks';
import { OrderGenerator, type GeneratedOrder } from '../src/connectors/sandbox';
import { loadDemoNetwork } from '../src/db/seed/load-demo';
import { TOPIC } from '../src/events/hub-events';
import { createLogger } from '../src/logger';
import { startHub } from '../src/server';
import { createServices } from '../src/services';
import { openBenchDb, percentile } from './support/bench-db';

/**
 * webhook-latency: live orders through the webhook path at a steady rate, end to end. Shopify `orders/create`
 * deliveries are POSTed to the real hub over HTTP at WEBHOOK_RATE a second (default 1,000; Shopify's platform-wide
 * peak is about 740) for WEBHOOK_SECONDS (default 5), open loop: a sender thread sends each on its schedule whatever
 * the hub answers, and latencies count from that scheduled moment, so a hub that falls behind is charged for the wait
 * (no coordinated omission). Each delivery is the REST order of ../shared/fixtures/shopify/rest-2026-07/order-1.json
 * with a generated order's lines (demo SKUs), customer and address, signed as Shopify signs.
 * Ours: from the send to the moment a hub listener hears the order routed and reserved (the `orderUpdated` event,
 * NOTIFY'd at the commit of the routing transaction). Limit: the hub's own answer to the same deliveries, 200 once
 * the receipt is stored (durable) in the same run: an order cannot be routed before its delivery is stored.
 * ratio = limit p99 ÷ ours p99. Goal: every order routed, p99 under 50 ms at ≥ 1,000 orders/s.
 * The job queue's workers run as `npm start` runs them; schedules and the outbox dispatcher do not (the bench's
 * shop has no schedule, and nothing here is pushed anywhere).
 */
export async function run(): Promise<void> {
  const base = shopifyRestOrder();
  if (!base) {
    console.log(`webhook-latency: skipped, no Shopify fixture at ${fixturePath()} (set SWITCHYARD_FIXTURES to the shared fixtures folder)`);
    return;
  }
  const rate = Number(process.env.WEBHOOK_RATE ?? 1000);
  const seconds = Number(process.env.WEBHOOK_SECONDS ?? 5);
  const db = await openBenchDb(10);
  const config = { ...loadConfig({}), port: 0, host: '127.0.0.1', masterKey: randomBytes(24).toString('hex'), autoRoute: true,
    adminKey: randomBytes(24).toString('hex'), rateLimitPerMinute: 10_000_000 };
  const services = createServices(db.ds, config, createLogger('silent'), db.url);
  const hub = await startHub(services, { port: 0, host: '127.0.0.1' });
  try {
    await loadDemoNetwork(db.ds);
    await db.ds.query('ANALYZE location, product, stock_level, stock_movement'); // as sync-throughput: order tables left to autovacuum
    const secret = randomBytes(16).toString('hex');
    const shop = await services.connections.create({ name: 'bench-shop', kind: 'shopify', config: { shop: 'bench-shop', baseUrl: 'https://bench-shop.myshopify.test' },
      credentials: { accessToken: 'shpat_unused', webhookSecret: secret } });
    const [{ channel }] = await db.ds.query(`SELECT coalesce(settings->>'channel', name) AS channel FROM connection WHERE id = $1`, [shop.id]);
    services.sync.queue.start();

    const routedAt = new Map<string, number>();
    const heard = services.events.subscribe(TOPIC.orderUpdated, (e) => e.type === 'orderUpdated' && (e.status === 'ALLOCATED' || e.status === 'BACKORDERED'));
    void (async () => {
      for await (const e of heard) if (e.type === 'orderUpdated' && !routedAt.has(e.orderId)) routedAt.set(e.orderId, performance.timeOrigin + performance.now());
    })();

    const generator = new OrderGenerator({ seed: 7, start: Date.now(), backlog: 0 });
    let seq = 0;
    const deliveries = (n: number) => Array.from({ length: n }, () => {
      const g = generator.order(++seq);
      const body = JSON.stringify(restOrderOf(base, g));
      return { id: String(9_000_000_000 + g.seq), body, headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/create',
        'x-shopify-hmac-sha256': hmacSha256(secret, body).toString('base64'), 'x-shopify-event-id': `bench-${g.seq}`, 'x-shopify-shop-domain': 'bench-shop.myshopify.com' } };
    });
    const until = async (ids: string[], timeoutMs: number) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const [{ n }] = await db.ds.query(`SELECT count(*)::int AS n FROM orders WHERE channel = $1 AND external_id = ANY($2) AND status IN ('ALLOCATED', 'BACKORDERED')`, [channel, ids]);
        if (n === ids.length) return;
        if (Date.now() > end) throw new Error(`only ${n} of ${ids.length} orders routed after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // Warm-up (not measured): a second of the same load, so that JIT, prepared plans and the geocoder's index are
    // not counted as latency.
    const warm = deliveries(Math.max(50, Math.round(rate)));
    await send(hub.port, warm, rate);
    await until(warm.map((d) => d.id), 60_000);

    const measured = deliveries(Math.round(rate * seconds));
    const sent = await send(hub.port, measured, rate);
    const refused = sent.filter((s) => s.status !== 200);
    if (refused.length) throw new Error(`${refused.length} deliveries not accepted (first: HTTP ${refused[0].status})`);
    await until(measured.map((d) => d.id), 120_000);
    const ids = await db.ds.query(`SELECT id, external_id FROM orders WHERE channel = $1 AND external_id = ANY($2)`, [channel, measured.map((d) => d.id)]);
    const orderOf = new Map<string, string>(ids.map((r: { id: string; external_id: string }) => [r.external_id, r.id]));
    await new Promise((r) => setTimeout(r, 200)); // the last events reach the listener
    const ours: number[] = [];
    const answers: number[] = [];
    let last = 0;
    for (const [i, d] of measured.entries()) {
      const at = routedAt.get(orderOf.get(d.id)!);
      if (at === undefined) throw new Error(`order ${d.id} routed, but its event was never heard`);
      ours.push(at - sent[i].scheduled);
      answers.push(sent[i].answered - sent[i].scheduled);
      last = Math.max(last, at);
    }
    await heard.return?.();
    ours.sort((a, b) => a - b);
    answers.sort((a, b) => a - b);
    const achieved = measured.length / ((last - sent[0].scheduled) / 1000);
    const [{ batches }] = await db.ds.query(`SELECT count(DISTINCT date_trunc('milliseconds', processed_at))::int AS batches FROM webhook_receipt WHERE processed_at IS NOT NULL`);
    const p99 = percentile(ours, 0.99);
    const limit = percentile(answers, 0.99);
    console.log(`webhook-latency: ${measured.length} orders/create deliveries at ${rate}/s over HTTP, open loop: all routed and reserved at ${achieved.toFixed(0)} orders/s; `
      + `send→routed p50 ${percentile(ours, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${ours[ours.length - 1].toFixed(1)} ms; `
      + `send→200 (receipt stored) p50 ${percentile(answers, 0.5).toFixed(1)} ms, p99 ${limit.toFixed(1)} ms; ~${batches} landing transactions for ${measured.length + warm.length} deliveries; `
      + `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`RESULT webhook-latency value=${p99.toFixed(1)} limit=${limit.toFixed(1)} ratio=${(limit / p99).toFixed(3)}`);
  } finally {
    await services.sync.queue.stop();
    await hub.close();
    await db.close();
  }
}

const fixturePath = () => join(process.env.SWITCHYARD_FIXTURES ?? join(__dirname, '..', '..', '..', 'shared', 'fixtures'), 'shopify', 'rest-2026-07', 'order-1.json');

/** The fixture's REST order (the shape of an orders/create payload), if the shared fixtures are there. */
function shopifyRestOrder(): Record<string, unknown> | undefined {
  if (!existsSync(fixturePath())) return undefined;
  const j = JSON.parse(readFileSync(fixturePath(), 'utf8'));
  return j.order ?? j;
}

/** A new, paid, unfulfilled order of `g` in the fixture's shape. */
function restOrderOf(base: Record<string, unknown>, g: GeneratedOrder): Record<string, unknown> {
  const at = new Date(g.placedAt).toISOString();
  const money = (amount: string) => ({ shop_money: { amount, currency_code: 'USD' }, presentment_money: { amount, currency_code: 'USD' } });
  const baseLine = (base.line_items as Record<string, unknown>[])[0];
  const id = 9_000_000_000 + g.seq;
  const address = { ...(base.shipping_address as object), first_name: g.customer.firstName, last_name: g.customer.lastName, name: g.shipTo.name,
    address1: g.shipTo.line1, address2: '', city: g.shipTo.city, province: g.shipTo.region, province_code: g.shipTo.region, zip: null,
    country: 'United States', country_code: 'US', latitude: g.shipTo.latitude, longitude: g.shipTo.longitude, phone: g.shipTo.phone };
  return {
    ...base, id, admin_graphql_api_id: `gid://shopify/Order/${id}`, name: `#B${g.seq}`, order_number: g.seq, number: g.seq,
    created_at: at, updated_at: at, processed_at: at, cancelled_at: null, cancel_reason: null, closed_at: null,
    financial_status: 'paid', fulfillment_status: null, fulfillments: [], refunds: [], email: g.customer.email, contact_email: g.customer.email, phone: null, tags: '',
    currency: 'USD', total_price: g.total, total_price_set: money(g.total), current_total_price: g.total, current_total_price_set: money(g.total),
    customer: { ...(base.customer as object), id: id + 1, email: g.customer.email, first_name: g.customer.firstName, last_name: g.customer.lastName, phone: g.customer.phone },
    shipping_address: address, billing_address: address,
    line_items: g.lines.map((l) => ({ ...baseLine, id: id * 100 + l.index, admin_graphql_api_id: `gid://shopify/LineItem/${id * 100 + l.index}`, sku: l.sku, title: l.title,
      name: l.title, variant_title: null, quantity: l.quantity, current_quantity: l.quantity, fulfillable_quantity: l.quantity, fulfillment_status: null,
      price: l.unitPrice, price_set: money(l.unitPrice), properties: [], discount_allocations: [], tax_lines: [] })),
  };
}

interface Sent { scheduled: number; answered: number; status: number }

/**
 * POSTs the deliveries from a worker thread at `rate` a second, each at its scheduled moment (keep-alive sockets, as
 * many at once as it takes); returns per delivery its scheduled time, the time of the answer and its status (epoch ms).
 */
function send(port: number, deliveries: { body: string; headers: Record<string, string> }[], rate: number): Promise<Sent[]> {
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const http = require('node:http');
    const { port, deliveries, rate } = workerData;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const out = deliveries.map(() => ({ scheduled: 0, answered: 0, status: 0 }));
    const clock = () => performance.timeOrigin + performance.now();
    const start = clock() + 20;
    let next = 0, done = 0;
    const post = (i) => {
      out[i].scheduled = start + (i * 1000) / rate;
      const req = http.request({ host: '127.0.0.1', port, path: '/webhooks/bench-shop', method: 'POST', agent, headers: deliveries[i].headers }, (res) => {
        res.resume();
        res.on('end', () => {
          out[i].answered = clock();
          out[i].status = res.statusCode;
          if (++done === deliveries.length) { agent.destroy(); parentPort.postMessage(out); }
        });
      });
      req.on('error', () => { out[i].answered = clock(); if (++done === deliveries.length) { agent.destroy(); parentPort.postMessage(out); } });
      req.end(deliveries[i].body);
    };
    const tick = () => {
      const due = Math.min(deliveries.length, Math.floor(((clock() - start) * rate) / 1000) + 1);
      while (next < due) post(next++);
      if (next < deliveries.length) setTimeout(tick, 1);
    };
    setTimeout(tick, 20);
  `, { eval: true, workerData: { port, deliveries, rate } });
  return new Promise((resolve, reject) => {
    worker.once('message', (out: Sent[]) => { void worker.terminate(); resolve(out); });
    worker.once('error', reject);
  });
}

if (require.main === module) run().catch((e) => { console.error(e); process.exit(1); });
