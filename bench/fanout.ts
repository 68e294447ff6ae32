import { once } from 'node:events';
import http from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { TOPIC } from '../src/events/hub-events';
import { StockMovementReason } from '../src/model/enums';
import { openBenchDb, percentile } from './support/bench-db';
import { startBenchHub } from './support/bench-hub';

/**
 * fanout: 1,000 `inventoryChanged` subscribers (graphql-ws, one connection each) while stock changes at a steady
 * rate through the inventory service (commit → NOTIFY → LISTEN → pub/sub → filter → WebSocket), against a bare
 * `ws` server broadcasting the same payloads at the same rate to 1,000 plain sockets. Prints delivered events/s
 * and p50/p99 latency (change issued → event received) for both. Goals: ≥ 0.33 of the bare rate, p99 < 100 ms.
 */
export async function run(): Promise<void> {
  const subscribers = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
  const perSecond = Number(process.env.BENCH_CHANGES_PER_S ?? 50);
  const seconds = Number(process.env.BENCH_SECONDS ?? 4);
  const changes = perSecond * seconds;
  const db = await openBenchDb(8);
  const { services, hub, url, headers } = await startBenchHub(db);
  try {
    await db.ds.query(`INSERT INTO location (code, name, type, country, latitude, longitude) VALUES ('F', 'Fanout', 'WAREHOUSE', 'US', 40, -90)`);
    await db.ds.query(`INSERT INTO product (sku, name) VALUES ('FAN', 'fanout'), ('OTHER', 'other')`);

    // --- the hub ---
    const sentAt = new Map<number, number>(); // onHand after the change → when it was issued
    const hubLatencies: number[] = [];
    let hubLast = 0;
    const clients: Client[] = [];
    const errors: unknown[] = [];
    const wsUrl = url.replace(/^http/, 'ws');
    // Connect in waves (each socket authenticates against the database once): a thousand at once would only measure
    // the connection pool's queue.
    const deadline = Date.now() + 120_000;
    for (let i = 0; i < subscribers; i++) {
      const c = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: headers, retryAttempts: 0, lazy: false });
      clients.push(c);
      c.subscribe<{ inventoryChanged: { onHand: number } }>({ query: 'subscription { inventoryChanged(skus: ["FAN"]) { sku onHand available } }' }, {
        next: (v) => {
          const now = performance.now();
          hubLatencies.push(now - sentAt.get(v.data!.inventoryChanged.onHand)!);
          hubLast = now;
        },
        error: (e) => { errors.push(e); },
        complete: () => undefined,
      });
      if ((i + 1) % 100 === 0 || i + 1 === subscribers) {
        while (services.events.subscriberCount(TOPIC.inventoryChanged) < i + 1) {
          if (errors.length) throw new Error(`${errors.length} subscriptions failed, e.g. ${String((errors[0] as { reason?: string }).reason ?? errors[0])}`);
          if (Date.now() > deadline) throw new Error('subscribers did not register');
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
    const hubStart = performance.now();
    await steady(changes, perSecond, async (i) => {
      sentAt.set(i + 1, performance.now());
      await services.inventory.adjust({ sku: 'FAN', locationCode: 'F', delta: 1, reason: StockMovementReason.RECEIPT }, 'bench');
    });
    await waitFor(() => hubLatencies.length >= changes * subscribers, 60_000);
    const hubRate = hubLatencies.length / ((hubLast - hubStart) / 1000);
    await Promise.all(clients.map((c) => c.dispose()));

    // --- the bare ws broadcast ---
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const bareLatencies: number[] = [];
    let bareLast = 0;
    const bareSent = new Map<number, number>();
    const sockets: WebSocket[] = [];
    for (let i = 0; i < subscribers; i++) {
      const s = new WebSocket(`ws://127.0.0.1:${port}`);
      s.on('message', (data) => {
        const now = performance.now();
        const msg = JSON.parse(String(data));
        bareLatencies.push(now - bareSent.get(msg.payload.data.inventoryChanged.onHand)!);
        bareLast = now;
      });
      sockets.push(s);
    }
    await Promise.all(sockets.map((s) => (s.readyState === WebSocket.OPEN ? undefined : once(s, 'open'))));
    const bareStart = performance.now();
    await steady(changes, perSecond, async (i) => {
      bareSent.set(i + 1, performance.now());
      const payload = JSON.stringify({ id: 'x', type: 'next', payload: { data: { inventoryChanged: { sku: 'FAN', onHand: i + 1, available: i + 1 } } } });
      for (const client of wss.clients) client.send(payload);
    });
    await waitFor(() => bareLatencies.length >= changes * subscribers, 60_000);
    const bareRate = bareLatencies.length / ((bareLast - bareStart) / 1000);
    for (const s of sockets) s.close();
    wss.close();
    server.close();

    hubLatencies.sort((a, b) => a - b);
    bareLatencies.sort((a, b) => a - b);
    console.log(`fanout hub: ${subscribers} subscribers, ${changes} changes at ${perSecond}/s: ${hubRate.toFixed(0)} events/s, latency p50 ${percentile(hubLatencies, 0.5).toFixed(1)} ms, p99 ${percentile(hubLatencies, 0.99).toFixed(1)} ms`);
    console.log(`fanout bare ws: ${bareRate.toFixed(0)} events/s, latency p50 ${percentile(bareLatencies, 0.5).toFixed(1)} ms, p99 ${percentile(bareLatencies, 0.99).toFixed(1)} ms`);
    console.log(`RESULT fanout value=${hubRate.toFixed(0)} limit=${bareRate.toFixed(0)} ratio=${(hubRate / bareRate).toFixed(3)} p99_ms=${percentile(hubLatencies, 0.99).toFixed(1)}`);
  } finally {
    await hub.close();
    await db.close();
  }
}

/** Calls `fn(i)` for i = 0…n−1 at `perSecond`, on a fixed schedule (late calls do not shift later ones). */
async function steady(n: number, perSecond: number, fn: (i: number) => Promise<void>): Promise<void> {
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(fn(i));
  }
  await Promise.all(pending);
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for deliveries');
    await new Promise((r) => setTimeout(r, 20));
  }
}

if (require.main === module) run().catch((e) => { console.error(e); process.exit(1); });
