// Vendor payloads: ../shared/fixtures/shopify/rest-2026-07/order-1.json (through test/connectors/shopify/shopify-fixtures.ts),
// re-expressed in the Admin GraphQL shape for the orders stream and sent as-is (REST shape) for webhooks.
import nock from 'nock';
import { hmacSha256 } from '../../src/connectors/sdk/webhooks';
import { createServices, type Services } from '../../src/services';
import { createLogger } from '../../src/logger';
import { assertStockInvariants, count, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';
import { restOrders, restOrderToGql, THROTTLE_STATUS } from '../connectors/shopify/shopify-fixtures';
import { describeSyncFaults } from './sync-fault-matrix';

const HOST = 'https://sync-test.myshopify.test';
const GQL = '/admin/api/2026-07/graphql.json';
const SECRET = 'shopify_webhook_secret';
const MASTER = 'sync-test-master-key-0123456789abcdef0123';
const cost = { cost: { requestedQueryCost: 10, actualQueryCost: 10, throttleStatus: THROTTLE_STATUS } };
const base = restOrders('order-1.json')[0];

let t: TestHub;
let s: Services;

/** A fixture order with our SKUs, its own id and updated_at. */
function restOrder(id: string, updatedAt: string, extra: Record<string, unknown> = {}) {
  return { ...base, id: Number(id), name: `#${id}`, updated_at: updatedAt, cancelled_at: null, closed_at: null, fulfillment_status: null,
    line_items: [{ ...base.line_items[0], id: Number(id) * 10, sku: 'A', quantity: 1, current_quantity: 1 }], ...extra };
}
const gqlPage = (orders: unknown[], endCursor: string | null) => ({
  data: { orders: { nodes: orders, pageInfo: { hasNextPage: endCursor !== null, endCursor } } }, extensions: cost,
});
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

async function shopifyConnection(name: string, extra: Record<string, unknown> = {}) {
  return s.connections.create({
    name, kind: 'shopify',
    config: { shop: 'sync-test', baseUrl: HOST, startAt: minutesAgo(24 * 60), timeoutMs: 5000 },
    credentials: { accessToken: 'shpat_secret_token', webhookSecret: SECRET },
    ...extra,
  });
}

/** Serves two pages of orders for one window: page 1 (ids a..), then page 2 through `second`. */
function servePages(ids1: string[], ids2: string[], second: (scope: nock.Interceptor) => void = (i) => { i.reply(200, gqlPage(ids2.map((id) => restOrderToGql(restOrder(id, minutesAgo(30)))), null)); }) {
  nock(HOST).post(GQL, (b) => b.variables?.after == null).reply(200, gqlPage(ids1.map((id) => restOrderToGql(restOrder(id, minutesAgo(60)))), 'page-2'));
  second(nock(HOST).post(GQL, (b) => b.variables?.after === 'page-2'));
}

beforeAll(async () => {
  t = await createTestHub({ config: { masterKey: MASTER } });
  s = t.services;
  s.connections.openOptions = { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, budgetMs: 2000 }, random: () => 0.5 };
  await seedSmallNetwork(s);
  for (const code of ['WH-A', 'WH-B']) await s.inventory.set({ sku: 'A', locationCode: code, onHand: 10_000 }, 'test');
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('connections', () => {
  test('credentials are sealed at rest and never returned', async () => {
    const c = await shopifyConnection('creds-check');
    expect(c).not.toHaveProperty('credentials');
    expect(c.hasCredentials).toBe(true);
    const [row] = await t.db.dataSource.query(`SELECT credentials_ciphertext FROM connection WHERE id = $1`, [c.id]);
    expect(row.credentials_ciphertext).toMatch(/^v1\./);
    expect(row.credentials_ciphertext).not.toContain('shpat_secret_token');
    expect((await s.connections.open(c.id)).credentials).toMatchObject({ accessToken: 'shpat_secret_token' });
  });

  test('bad config, kind and schedules are refused with the field named', async () => {
    await expect(s.connections.create({ name: 'bad1', kind: 'nope' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.kind' });
    await expect(shopifyConnection('bad2', { schedules: { orders: 'every minute' } })).rejects.toMatchObject({ field: 'input.schedules.orders' });
    await expect(shopifyConnection('bad3', { schedules: { nostream: '* * * * *' } })).rejects.toMatchObject({ field: 'input.schedules.nostream' });
  });
});

describe('incremental sync', () => {
  test('orders land with their cursor, a rerun duplicates nothing, run history is kept', async () => {
    const c = await shopifyConnection('shop-main');
    servePages(['1001', '1002', '1003'], ['1004', '1005']);
    const run = await s.sync.runner.run(c.id, { stream: 'orders', trigger: 'MANUAL' });
    expect(run).toMatchObject({ status: 'SUCCEEDED', pages: 2, created: 5, failed: 0 });
    const [{ n }] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM orders WHERE channel = 'shop-main'`);
    expect(n).toBe(5);
    const [{ allocated }] = await t.db.dataSource.query(`SELECT count(*)::int AS allocated FROM orders WHERE channel = 'shop-main' AND status = 'ALLOCATED'`);
    expect(allocated).toBe(5); // routed and reserved in the same transaction

    // The same orders again inside the overlap: nothing new.
    const [{ cursor }] = await t.db.dataSource.query(`SELECT cursor FROM sync_cursor WHERE connection_id = $1 AND stream = 'orders'`, [c.id]);
    expect(cursor.cursor).toBeDefined();
    // The vendor serves the very same five orders again (a backfill over the same window).
    servePages(['1001', '1002', '1003'], ['1004', '1005']);
    const rerun = await s.sync.runner.run(c.id, { stream: 'orders', trigger: 'MANUAL', since: new Date(Date.now() - 24 * 3600_000) });
    expect(rerun).toMatchObject({ status: 'SUCCEEDED', created: 0, failed: 0 });
    expect(rerun.updated + rerun.skipped).toBe(5);
    const [{ n: again }] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM orders WHERE channel = 'shop-main'`);
    expect(again).toBe(5);
    const runs = await t.db.dataSource.query(`SELECT status, created FROM sync_run WHERE connection_id = $1 ORDER BY started_at`, [c.id]);
    expect(runs).toEqual([{ status: 'SUCCEEDED', created: 5 }, { status: 'SUCCEEDED', created: 0 }]);
    await assertStockInvariants(t.db.dataSource);
  });

  test('an order the hub cannot take is quarantined with the reason; the rest of the page lands', async () => {
    const c = await shopifyConnection('shop-quarantine');
    const bad = restOrderToGql(restOrder('2002', minutesAgo(60)));
    bad.lineItems.nodes[0].sku = 'NO-SUCH-SKU';
    nock(HOST).post(GQL).reply(200, gqlPage([restOrderToGql(restOrder('2001', minutesAgo(60))), bad], null));
    const run = await s.sync.runner.run(c.id, { stream: 'orders', trigger: 'MANUAL' });
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 1, failed: 1 });
    const q = await t.db.dataSource.query(`SELECT record_id, reason FROM sync_quarantine WHERE connection_id = $1`, [c.id]);
    expect(q).toEqual([{ record_id: '2002', reason: expect.stringContaining('NO-SUCH-SKU') }]);
    const lines = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM order_line ol JOIN orders o ON o.id = ol.order_id WHERE o.channel = 'shop-quarantine'`);
    expect(lines[0].n).toBe(1); // nothing half-applied
  });
});

// The fault matrix (throttle, 500, 503, timeout, connection reset, malformed JSON, truncated page) through the
// table-driven helper every connector shares (the other five are in sync-faults.test.ts).
describeSyncFaults('Shopify orders', {
  kind: 'shopify', stream: 'orders', entity: 'ORDER',
  config: { shop: 'sync-test', baseUrl: HOST },
  at: (baseUrl) => ({ baseUrl }),
  credentials: { accessToken: 'shpat_secret_token', webhookSecret: SECRET },
  record: (id, updatedAt) => restOrderToGql(restOrder(id, updatedAt)),
  broken: (id) => ({ id: `gid://shopify/Order/${id}`, updatedAt: minutesAgo(30) }),
  token: 'page-2',
  request: (page) => nock(HOST).post(GQL, (b) => (page ? b.variables?.after === 'page-2' : b.variables?.after == null)),
  reply: (_page, nodes, more) => [200, gqlPage(nodes, more ? 'page-2' : null)],
  throttle: (i) => {
    i.reply(429, { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' }, { 'retry-after': '2.0' });
    return { waitMs: 2000 };
  },
  errorBody: () => ({ errors: 'Internal Server Error' }),
}, () => t);

describe('webhooks', () => {
  const sign = (body: string) => hmacSha256(SECRET, body).toString('base64');
  const delivery = (topic: string, eventId: string, order: Record<string, unknown>) => {
    const body = JSON.stringify(order);
    return { rawBody: Buffer.from(body), headers: { 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': sign(body), 'x-shopify-event-id': eventId } };
  };

  test('deliveries × replays, shuffled, with stale versions → no duplicate, none lost, no stale overwrite; forged → none accepted', async () => {
    const c = await shopifyConnection('shop-hooks');
    const N = 60;
    const all: ReturnType<typeof delivery>[] = [];
    const cancelled = new Set<string>();
    for (let i = 0; i < N; i++) {
      const id = String(500_000 + i);
      const v1 = delivery('orders/create', `evt-${id}-1`, restOrder(id, '2026-01-01T10:00:00Z'));
      all.push(v1, v1, v1); // the vendor retries
      if (i % 10 === 0) {
        // A newer cancellation; the older create (above) arrives in any order around it: it must not undo it.
        cancelled.add(id);
        const v2 = delivery('orders/cancelled', `evt-${id}-2`, restOrder(id, '2026-01-01T11:00:00Z', { cancelled_at: '2026-01-01T11:00:00Z', cancel_reason: 'customer' }));
        all.push(v2, v2, v2);
      }
    }
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [all[i], all[j]] = [all[j], all[i]];
    }
    const statuses: Record<string, number> = {};
    for (const d of all) {
      const r = await s.sync.webhooks.receive('shop-hooks', d);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      // Process as we go, so that stale versions really arrive after newer ones.
      if (Math.random() < 0.3) await s.sync.queue.drain();
    }
    await s.sync.queue.drain();
    expect(statuses.accepted).toBe(N + cancelled.size);
    expect(statuses.duplicate).toBe(2 * (N + cancelled.size));

    const orders = await t.db.dataSource.query(`SELECT external_id, status FROM orders WHERE channel = 'shop-hooks'`);
    // Every order lands once; a cancellation seen before its create leaves a tombstone, so it is never placed at all.
    expect(orders.filter((o: { external_id: string }) => !cancelled.has(o.external_id))).toHaveLength(N - cancelled.size);
    for (const o of orders) expect(o.status === 'CANCELLED').toBe(cancelled.has(o.external_id));
    const pushedBack = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM outbox_event WHERE topic = 'order.cancel' AND connection_id = $1`, [c.id]);
    expect(pushedBack[0].n).toBe(0); // the channel cancelled them: nothing to tell it
    const receipts = await t.db.dataSource.query(`SELECT status, count(*)::int AS n FROM webhook_receipt WHERE connection_id = $1 GROUP BY status`, [c.id]);
    expect(receipts).toEqual([{ status: 'PROCESSED', n: N + cancelled.size }]);

    const before = await count(t.db.dataSource, 'webhook_receipt');
    let accepted = 0;
    for (let i = 0; i < 300; i++) {
      const d = delivery('orders/create', `forged-${i}`, restOrder(String(900_000 + i), '2026-01-01T10:00:00Z'));
      d.headers['x-shopify-hmac-sha256'] = i % 2 ? sign('something else') : hmacSha256('wrong-secret', d.rawBody.toString()).toString('base64');
      if ((await s.sync.webhooks.receive('shop-hooks', d)).status !== 'rejected') accepted++;
    }
    expect(accepted).toBe(0);
    expect(await count(t.db.dataSource, 'webhook_receipt')).toBe(before);
    await assertStockInvariants(t.db.dataSource);
  });

  test('a delivery that keeps failing goes to the dead letters and can be replayed', async () => {
    const c = await shopifyConnection('shop-dead');
    const d = delivery('orders/create', 'evt-dead-1', restOrder('777001', '2026-01-01T10:00:00Z'));
    expect((await s.sync.webhooks.receive('shop-dead', d)).status).toBe('accepted');
    await s.connections.setEnabled(c.id, false); // processing now fails (disabled connections are not opened for landing)
    await t.db.dataSource.query(`UPDATE sync_job SET max_attempts = 1 WHERE kind LIKE 'webhook.%' AND status = 'QUEUED'`);
    await t.db.dataSource.query(`UPDATE connection SET credentials_ciphertext = 'v1.k1.broken.broken' WHERE id = $1`, [c.id]);
    await s.sync.queue.drain();
    const [receipt] = await t.db.dataSource.query(`SELECT id, status FROM webhook_receipt WHERE delivery_id = 'evt-dead-1'`);
    expect(receipt.status).toBe('DEAD');
    await t.db.dataSource.query(`UPDATE connection SET credentials_ciphertext = $2, enabled = true WHERE id = $1`, [c.id,
      (await t.db.dataSource.query(`SELECT credentials_ciphertext FROM connection WHERE name = 'shop-hooks'`))[0].credentials_ciphertext]);
    expect(await s.sync.webhooks.replay(receipt.id)).toBe(true);
    await s.sync.queue.drain();
    const [after] = await t.db.dataSource.query(`SELECT status FROM webhook_receipt WHERE id = $1`, [receipt.id]);
    expect(after.status).toBe('PROCESSED');
    expect(await count(t.db.dataSource, `orders WHERE channel = 'shop-dead'`)).toBe(1);
  });
});

describe('schedules across hub instances', () => {
  const TICKS = 100; // the figure
  test(`3 instances × ${TICKS} ticks → every tick claimed and run exactly once`, async () => {
    const c = await shopifyConnection('shop-ticks');
    const hubs = [s, createServices(t.db.dataSource, s.config, createLogger('silent'), t.db.url), createServices(t.db.dataSource, s.config, createLogger('silent'), t.db.url)];
    for (const h of hubs) h.connections.openOptions = s.connections.openOptions;
    nock(HOST).persist().post(GQL).reply(200, { data: { locations: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } }, extensions: cost });
    const start = Date.parse('2026-02-01T00:00:00Z');
    let won = 0;
    for (let k = 0; k < TICKS; k++) {
      const at = new Date(start + k * 60_000 + Math.floor(Math.random() * 900)); // each instance's timer fires a little differently
      const claims = await Promise.all(hubs.map((h) => h.sync.scheduler.tick(c.id, 'locations', at)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      won++;
    }
    await Promise.all(hubs.map((h) => h.sync.queue.drain()));
    const jobs = await t.db.dataSource.query(`SELECT status, attempts FROM sync_job WHERE kind = 'sync.run' AND payload->>'connectionId' = $1`, [c.id]);
    expect(won).toBe(TICKS);
    expect(jobs).toHaveLength(TICKS);
    expect(jobs.every((j: { status: string; attempts: number }) => j.status === 'DONE' && j.attempts === 1)).toBe(true);
    const [{ runs }] = await t.db.dataSource.query(`SELECT count(*)::int AS runs FROM sync_run WHERE connection_id = $1`, [c.id]);
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(TICKS); // a tick that finds a run in progress is skipped, never run alongside
    const overlapping = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM sync_run a JOIN sync_run b ON a.connection_id = b.connection_id AND a.stream = b.stream AND a.id < b.id
      AND a.started_at < b.finished_at AND b.started_at < a.finished_at WHERE a.connection_id = $1`, [c.id]);
    expect(overlapping[0].n).toBe(0);
  });
});

describe('outbox', () => {
  test('a fulfilment order at a 3PL location and a hub-side cancellation are recorded in the same transaction', async () => {
    const threePl = await s.connections.create({ name: 'shipbob-main', kind: 'shipbob', config: { channelId: '1', baseUrl: 'https://shipbob.test' },
      credentials: { accessToken: 'pat' }, settings: { fulfilsLocations: ['WH-A', 'WH-B'] } });
    const shop = await shopifyConnection('shop-outbox');
    nock(HOST).post(GQL).reply(200, gqlPage([restOrderToGql(restOrder('3001', minutesAgo(60)))], null));
    await s.sync.runner.run(shop.id, { stream: 'orders', trigger: 'MANUAL' });
    const order = (await s.orders.findByExternalId('shop-outbox', '3001'))!;
    const created = await t.db.dataSource.query(`SELECT topic FROM outbox_event WHERE connection_id = $1 AND topic = 'fulfillment.create'
      AND aggregate_id IN (SELECT id::text FROM fulfillment_order WHERE order_id = $2)`, [threePl.id, order.id]);
    expect(created).toHaveLength(1);
    await s.orders.cancel(order.id, 'operator', 'test');
    const events = await t.db.dataSource.query(`SELECT topic, connection_id FROM outbox_event WHERE aggregate_id = $1::text OR aggregate_id IN (SELECT id::text FROM fulfillment_order WHERE order_id = $1::uuid) ORDER BY id`, [order.id]);
    expect(events.map((e: { topic: string }) => e.topic)).toEqual(['fulfillment.create', 'fulfillment.cancel', 'order.cancel']);
  });
});
