// The sync engine's fault matrix for Amazon, Magento, Odoo, Square and ShipBob (Shopify's is in sync.test.ts), on
// the vendors' own payloads: ../shared/fixtures/amazon/orders_2026-01-01.json (spOrder), the Magento 2.4.9 admin
// schema (magentoOrder), ../shared/fixtures/square/api.json (squareOrder), ../shared/fixtures/shipbob/openapi-2026-01.json
// (shipbobOrder), and Odoo 19's documented stock.picking shape (picking) — see each connector's fixtures module.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { odooDatetime } from '../../src/connectors/odoo/odoo.mapper';
import { HttpClient } from '../../src/connectors/sdk/http-client';
import { VirtualClock } from '../../src/connectors/sdk/clock';
import { CostBucketLimiter } from '../../src/connectors/sdk/rate-limit';
import { spOrder, HOST as SP_HOST } from '../connectors/amazon/amazon-fixtures';
import { magentoOrder, zoneless } from '../connectors/magento/magento-fixtures';
import { HOST as ODOO_HOST, picking } from '../connectors/odoo/odoo-fixtures';
import { HOST as SHIPBOB_HOST, shipbobOrder } from '../connectors/shipbob/shipbob-fixtures';
import { CATALOG_SKUS, HOST as SQUARE_HOST, squareOrder } from '../connectors/square/square-fixtures';
import { createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';
import { describeSyncFaults, fulfilmentOrderSentAs } from './sync-fault-matrix';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub({ config: { masterKey: 'sync-faults-master-key-0123456789abcdef0' } });
  await seedSmallNetwork(t.services);
  await t.services.inventory.set({ sku: 'A', locationCode: 'WH-A', onHand: 1000 }, 'test');
});
afterAll(async () => {
  await t.close();
});
const hub = () => t;

const LWA = 'https://lwa.sync-faults.test';
describeSyncFaults('Amazon SP-API orders', {
  kind: 'amazon', stream: 'orders', entity: 'ORDER',
  config: { endpoint: SP_HOST, lwaTokenUrl: `${LWA}/auth/o2/token`, sellerId: 'A3TH9S8BH6GOGM', marketplaceIds: ['ATVPDKIKX0DER'] },
  at: (url) => ({ endpoint: url }),
  credentials: { clientId: 'amzn1.application-oa2-client.test', clientSecret: 'secret', refreshToken: 'Atzr|refresh' },
  setup: () => { nock(LWA).post('/auth/o2/token').reply(200, { access_token: 'Atza|test', token_type: 'bearer', expires_in: 3600 }).persist(); },
  // The sandbox example is a shipped order (landed as a tombstone); open ones are what an import brings.
  record: (id, updatedAt) => { const o = spOrder(id, updatedAt); return { ...o, fulfillment: { ...o.fulfillment, fulfillmentStatus: 'UNSHIPPED' } }; },
  broken: (id) => { const { fulfillment: _x, ...rest } = spOrder(id, new Date().toISOString()); return rest; },
  token: 'token-2',
  request: (page) => nock(SP_HOST).get('/orders/2026-01-01/orders').query((q) => (q.paginationToken ?? undefined) === (page ? 'token-2' : undefined)),
  reply: (_page, orders, more) => [200, { orders, ...(more ? { pagination: { nextToken: 'token-2' } } : {}) }, { 'x-amzn-RateLimit-Limit': '0.0167', 'x-amzn-RequestId': 'req-1' }],
  // SP-API's 429 names no wait: the operation's token bucket decides it.
  throttle: (i) => { i.reply(429, { errors: [{ code: 'QuotaExceeded', message: 'You exceeded your quota for the requested resource.' }] }); return {}; },
  errorBody: () => ({ errors: [{ code: 'InternalFailure', message: 'We encountered an internal error. Please try again.' }] }),
}, hub);

const MAGENTO = 'https://magento.sync-faults.test';
const F2 = 'searchCriteria[filterGroups][2][filters][0][value]';
describeSyncFaults('Magento orders', {
  kind: 'magento', stream: 'orders', entity: 'ORDER',
  config: { storeUrl: MAGENTO },
  at: (url) => ({ storeUrl: url }),
  credentials: { type: 'oauth1', consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'ats' },
  record: (id, updatedAt) => magentoOrder(Number(id), zoneless(updatedAt)),
  broken: (id) => ({ ...magentoOrder(Number(id), zoneless(new Date().toISOString())), grand_total: 'lots' }),
  token: '1002',
  request: (page) => nock(MAGENTO).get('/rest/default/V1/orders').query((q) => q[F2] === (page ? '1002' : undefined)),
  reply: (_page, items, more) => [200, { items, search_criteria: {}, total_count: items.length + (more ? 1 : 0) }],
  throttle: (i) => { i.reply(429, { message: 'Too Many Requests' }, { 'Retry-After': '3' }); return { waitMs: 3000 }; },
  errorBody: () => ({ message: 'Internal Error. Details are available in Magento log file. Report ID: webapi-6571' }),
}, hub);

const tokenOf = (body: Json): string | undefined => {
  const c = (body.domain as Json[]).find((d) => Array.isArray(d) && d[0] === 'id' && d[1] === '>');
  return c ? String(c[2]) : undefined;
};
describeSyncFaults('Odoo delivery orders (shipments)', {
  kind: 'odoo', stream: 'shipments', entity: 'SHIPMENT',
  config: { url: ODOO_HOST, database: 'prod', pageSize: 2 },
  at: (url) => ({ url }),
  credentials: { apiKey: 'k' },
  // The delivery of the sale order the hub booked as `id`.
  record: (id, updatedAt) => ({ ...picking(Number(id), updatedAt), sale_id: { id: Number(id), name: `S${id}`, client_order_ref: false } }),
  broken: (id) => ({ ...picking(Number(id), new Date().toISOString()), sale_id: false, origin: false }),
  token: '1002',
  request: (page) => nock(ODOO_HOST).post('/json/2/stock.picking/web_search_read', (b: Json) => tokenOf(b) === (page ? '1002' : undefined)),
  reply: (_page, records, more) => [200, { length: records.length + (more ? 1 : 0), records }],
  // Odoo itself does not throttle; odoo.sh and reverse proxies answer 429 with Retry-After.
  throttle: (i) => { i.reply(429, 'Too Many Requests', { 'Retry-After': '2' }); return { waitMs: 2000 }; },
  errorBody: () => ({ name: 'odoo.exceptions.ServiceUnavailable', message: 'Service Unavailable', arguments: ['Service Unavailable'], context: {}, debug: '' }),
  prepare: fulfilmentOrderSentAs,
}, hub);

describeSyncFaults('Square orders', {
  kind: 'square', stream: 'orders', entity: 'ORDER',
  at: (baseUrl) => ({ baseUrl }),
  config: { baseUrl: SQUARE_HOST, locationIds: ['057P5VYJ4A5X1', '18YC4JDH91E1H'], catalogSkus: CATALOG_SKUS },
  credentials: { accessToken: 'EAAAl-token', webhookSignatureKey: 'signature-key' },
  settings: { locations: { '057P5VYJ4A5X1': 'ST-1', '18YC4JDH91E1H': 'ST-1' } },
  skus: Object.values(CATALOG_SKUS),
  // An online pickup order (the example is a counter sale, which lands as stock movements, not an order).
  record: (id, updatedAt) => ({ ...squareOrder(id, updatedAt), state: 'OPEN',
    fulfillments: [{ uid: `f-${id}`, type: 'PICKUP', state: 'PROPOSED', pickup_details: { recipient: { display_name: 'Jaiden Urie' } } }] }),
  broken: (id) => ({ ...squareOrder(id, new Date().toISOString()), total_money: { amount: '61.76', currency: 'USD' } }),
  token: 'cursor-2',
  request: (page) => nock(SQUARE_HOST).post('/v2/orders/search', (b: Json) => b.cursor === (page ? 'cursor-2' : undefined)),
  reply: (_page, orders, more) => [200, { orders, ...(more ? { cursor: 'cursor-2' } : {}) }],
  // Square's 429 RATE_LIMITED names no wait: backoff.
  throttle: (i) => { i.reply(429, { errors: [{ category: 'RATE_LIMIT_ERROR', code: 'RATE_LIMITED', detail: 'Rate limited' }] }); return {}; },
  errorBody: (status) => ({ errors: [{ category: 'API_ERROR', code: status === 503 ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_SERVER_ERROR', detail: 'Service unavailable' }] }),
}, hub);

describeSyncFaults('ShipBob orders (shipments)', {
  kind: 'shipbob', stream: 'shipments', entity: 'SHIPMENT',
  config: { baseUrl: SHIPBOB_HOST, channelId: '128944', pageSize: 2 },
  at: (baseUrl) => ({ baseUrl }),
  credentials: { accessToken: 'pat-token', webhookSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
  record: (id, updatedAt) => shipbobOrder(id, updatedAt),
  broken: (id) => { const o = shipbobOrder(id, new Date().toISOString()); return { ...o, shipments: [{ ...o.shipments[0], status: 'Teleported' }] }; },
  token: '2',
  request: (page) => nock(SHIPBOB_HOST).get('/2026-01/order').matchHeader('shipbob_channel_id', '128944').query((q) => q.Page === String(page + 1)),
  reply: (page, orders, more) => [200, orders, { 'Total-Pages': String(page + 1 + (more ? 1 : 0)), 'Page-Number': String(page + 1) }],
  throttle: (i) => { i.reply(429, { message: 'API calls quota exceeded! maximum admitted 150 per 1m.' }, { 'x-retry-after': '7' }); return { waitMs: 7000 }; },
  errorBody: () => ({ message: 'upstream error' }),
  prepare: fulfilmentOrderSentAs,
}, hub);

describe('SDK retry budget', () => {
  afterEach(() => nock.cleanAll());
  test('limiter waits count: 5xx on a costly Shopify page stays within budgetMs and keeps its attempts', async () => {
    // Before the fix, each failed 852-point attempt drained the cost bucket and the next acquire slept ~6.5 s
    // outside the budget. Now a 5xx gives the points back, and whatever the limiter adds is inside budgetMs.
    const clock = new VirtualClock(Date.now());
    const http = new HttpClient({ baseUrl: 'https://budget.test', clock, random: () => 0.5, limiter: new CostBucketLimiter({ maximumAvailable: 2000, restoreRate: 100 }),
      retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 5, budgetMs: 2000 } });
    nock('https://budget.test').post('/q').times(5).reply(500, 'oops');
    await expect(http.request({ method: 'POST', path: '/q', body: {}, operation: 'q', cost: 852, idempotent: true })).rejects.toMatchObject({ status: 500, attempts: 5 });
    expect(clock.slept).toBeLessThanOrEqual(2000);

    // Connection resets (a real socket dropped) carry no cost data: the bucket runs dry, and the client gives up rather
    // than wait past the budget.
    const server = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    nock.enableNetConnect('127.0.0.1');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/q`;
      const before = clock.slept;
      const err = await http.request({ method: 'POST', path: url, body: {}, operation: 'q', cost: 852, idempotent: true }).catch((e) => e);
      expect(err).toMatchObject({ code: 'NETWORK' });
      expect(err.attempts).toBeGreaterThanOrEqual(2);
      expect(err.attempts).toBeLessThan(5);
      expect(clock.slept - before).toBeLessThanOrEqual(2000);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
