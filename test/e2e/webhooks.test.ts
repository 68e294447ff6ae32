// POST /webhooks/:connection over real HTTP on a served hub: a signed Shopify orders/create delivery lands its
// order; a bad signature is refused with 401 and stores nothing. Payloads: ../shared/fixtures/shopify/rest-2026-07/order-1.json
// and fulfillment-1.json.
import nock from 'nock';
import { hmacSha256 } from '../../src/connectors/sdk/webhooks';
import { fixtureJson } from '../connectors/fixtures';
import { restOrders } from '../connectors/shopify/shopify-fixtures';
import { count, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';
import { until } from '../support/until';

const SECRET = 'shopify_webhook_secret_e2e';
let t: TestHub;
let endpoint: string;

beforeAll(async () => {
  t = await createTestHub({ serve: true, config: { masterKey: 'webhooks-e2e-master-key-0123456789abcdef' } });
  await seedSmallNetwork(t.services);
  await t.services.inventory.set({ sku: 'A', locationCode: 'WH-A', onHand: 100 }, 'test');
  await t.services.connections.create({ name: 'shop-e2e', kind: 'shopify', config: { shop: 'e2e', baseUrl: 'https://e2e.myshopify.test' },
    credentials: { accessToken: 'shpat_unused', webhookSecret: SECRET } });
  endpoint = new URL('/webhooks/shop-e2e', t.hub!.url).toString();
});
afterAll(async () => {
  await t.close();
});

const base = restOrders('order-1.json')[0];
const orderBody = (id: number) => JSON.stringify({ ...base, id, name: `#${id}`, updated_at: '2026-03-01T10:00:00Z', cancelled_at: null, closed_at: null,
  fulfillment_status: null, line_items: [{ ...base.line_items[0], id: id * 10, sku: 'A', quantity: 2, current_quantity: 2 }] });

async function post(body: string, signature: string, eventId: string) {
  const res = await fetch(endpoint, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/create',
    'x-shopify-hmac-sha256': signature, 'x-shopify-event-id': eventId, 'x-shopify-shop-domain': 'e2e.myshopify.com' } });
  return { status: res.status, body: await res.json() };
}

test('a signed delivery is acknowledged, queued and lands its order; a replay changes nothing', async () => {
  const body = orderBody(710_001);
  const sig = hmacSha256(SECRET, body).toString('base64');
  expect(await post(body, sig, 'evt-e2e-1')).toEqual({ status: 200, body: { status: 'accepted' } });
  await t.services.sync.queue.drain(); // the hub's queue workers, run here rather than on their timer
  const order = await t.services.orders.findByExternalId('shop-e2e', '710001');
  expect(order).toMatchObject({ status: 'ALLOCATED' });
  const [{ units }] = await t.db.dataSource.query(`SELECT sum(quantity)::int AS units FROM order_line WHERE order_id = $1`, [order!.id]);
  expect(units).toBe(2);

  expect(await post(body, sig, 'evt-e2e-1')).toEqual({ status: 200, body: { status: 'duplicate' } });
  await t.services.sync.queue.drain();
  expect(await count(t.db.dataSource, `orders WHERE channel = 'shop-e2e'`)).toBe(1);
});

test('a bad signature → 401 and nothing stored; an unknown connection → 404', async () => {
  const receipts = await count(t.db.dataSource, 'webhook_receipt');
  const body = orderBody(710_002);
  const forged = hmacSha256('not-the-secret', body).toString('base64');
  const res = await post(body, forged, 'evt-e2e-2');
  expect(res).toEqual({ status: 401, body: { status: 'rejected', reason: 'invalid signature' } });
  const tampered = await post(orderBody(710_003), hmacSha256(SECRET, body).toString('base64'), 'evt-e2e-3');
  expect(tampered.status).toBe(401);
  await t.services.sync.queue.drain();
  expect(await count(t.db.dataSource, 'webhook_receipt')).toBe(receipts);
  expect(await t.services.orders.findByExternalId('shop-e2e', '710002')).toBeNull();
  expect(await t.services.orders.findByExternalId('shop-e2e', '710003')).toBeNull();

  const unknown = await fetch(new URL('/webhooks/no-such-connection', t.hub!.url), { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  expect(unknown.status).toBe(404);
});

test('syncRuns over GraphQL returns the run history of a connection, newest first', async () => {
  const { gql } = await import('../support/graphql-client');
  const { ADMIN } = await import('../support/test-hub');
  const conn = await t.services.connections.find('shop-e2e');
  // Two runs of a stream the connector reads in full (its vendor is not reachable here: both fail, and are recorded so).
  // Every request to the shop is answered 401 while this runs (persist: the served hub's own background workers may
  // call it too, and an unanswered request would surface as an unhandled error, not as a failed run).
  try {
    nock('https://e2e.myshopify.test').persist().post('/admin/api/2026-07/graphql.json').reply(401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    for (let i = 0; i < 2; i++) await t.services.sync.runner.run(conn!.id, { stream: 'locations', trigger: 'MANUAL' });
  } finally {
    nock.cleanAll();
  }
  const res = await gql(t.hub!.url, `query($c: ID!) { syncRuns(connection: $c, first: 1) { edges { node { stream trigger status pages created failed errors startedAt finishedAt } }
    pageInfo { hasNextPage endCursor } } }`, { c: 'shop-e2e' }, ADMIN);
  expect(res.errors).toBeUndefined();
  const page = res.data.syncRuns;
  expect(page.edges).toHaveLength(1);
  expect(page.edges[0].node).toMatchObject({ stream: 'locations', trigger: 'MANUAL', status: 'FAILED', pages: 0, created: 0 });
  expect(page.edges[0].node.errors.join(' ')).toMatch(/401/);
  expect(page.pageInfo.hasNextPage).toBe(true);
  const next = await gql(t.hub!.url, `query($c: ID!, $a: String) { syncRuns(connection: $c, first: 5, after: $a) { edges { node { status } } pageInfo { hasNextPage } } }`,
    { c: 'shop-e2e', a: page.pageInfo.endCursor }, ADMIN);
  expect(next.data.syncRuns.edges).toHaveLength(1);
  expect(next.data.syncRuns.pageInfo.hasNextPage).toBe(false);
});

test('with the hub\'s workers running, a delivery is processed as soon as its receipt commits (the queue is woken, not polled)', async () => {
  const queue = t.services.sync.queue;
  const wake = jest.spyOn(queue, 'wake'); // observed, not replaced
  queue.start();
  try {
    const body = orderBody(710_004);
    expect(await post(body, hmacSha256(SECRET, body).toString('base64'), 'evt-e2e-4')).toEqual({ status: 200, body: { status: 'accepted' } });
    await until('the delivery was processed', async () => !!(await t.services.orders.findByExternalId('shop-e2e', '710004')));
    expect(wake).toHaveBeenCalled();
  } finally {
    wake.mockRestore();
    await queue.stop();
  }
});

test('a new webhook secret applies from the next delivery, and a disabled connection is refused at once', async () => {
  const body = orderBody(710_005);
  const NEW = 'shopify_webhook_secret_e2e_rotated';
  expect((await post(body, hmacSha256(SECRET, body).toString('base64'), 'evt-e2e-5a')).status).toBe(200); // the verifier is now cached
  await t.services.connections.update('shop-e2e', { credentials: { accessToken: 'shpat_unused', webhookSecret: NEW } });
  expect(await post(body, hmacSha256(SECRET, body).toString('base64'), 'evt-e2e-5b')).toEqual({ status: 401, body: { status: 'rejected', reason: 'invalid signature' } });
  expect((await post(body, hmacSha256(NEW, body).toString('base64'), 'evt-e2e-5c')).status).toBe(200);

  await t.services.connections.setEnabled('shop-e2e', false);
  try {
    expect((await post(body, hmacSha256(NEW, body).toString('base64'), 'evt-e2e-5d')).status).toBe(404);
  } finally {
    await t.services.connections.update('shop-e2e', { credentials: { accessToken: 'shpat_unused', webhookSecret: SECRET } });
    await t.services.connections.setEnabled('shop-e2e', true);
  }
  await t.services.sync.queue.drain();
});

test('a delivery of order versions is queued to land in batches; any other delivery to be processed alone, beside them', async () => {
  const order = orderBody(710_006);
  expect((await post(order, hmacSha256(SECRET, order).toString('base64'), 'evt-e2e-6a')).status).toBe(200);
  // fulfillments/create carries the REST fulfillment (../shared/fixtures/shopify/rest-2026-07/fulfillment-1.json).
  const fulfillment = JSON.stringify({ ...fixtureJson('shopify/rest-2026-07/fulfillment-1.json').fulfillments[0], order_id: 710_006, status: 'success' });
  const res = await fetch(endpoint, { method: 'POST', body: fulfillment, headers: { 'content-type': 'application/json', 'x-shopify-topic': 'fulfillments/create',
    'x-shopify-hmac-sha256': hmacSha256(SECRET, fulfillment).toString('base64'), 'x-shopify-event-id': 'evt-e2e-6b', 'x-shopify-shop-domain': 'e2e.myshopify.com' } });
  expect(res.status).toBe(200);
  const kinds = await t.db.dataSource.query(`SELECT r.delivery_id, j.kind FROM webhook_receipt r JOIN sync_job j ON j.dedupe_key = 'webhook:' || r.id
    WHERE r.delivery_id IN ('evt-e2e-6a', 'evt-e2e-6b') ORDER BY r.delivery_id`);
  expect(kinds).toEqual([{ delivery_id: 'evt-e2e-6a', kind: 'webhook.orders' }, { delivery_id: 'evt-e2e-6b', kind: 'webhook.process' }]);
  await t.services.sync.queue.drain();
  expect(await t.services.orders.findByExternalId('shop-e2e', '710006')).toMatchObject({ status: 'ALLOCATED' });
});
