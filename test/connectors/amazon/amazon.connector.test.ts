// Replays the x-amzn-api-sandbox examples of ../shared/fixtures/amazon/{orders_2026-01-01,ordersV0,
// listingsItems_2021-08-01,feeds_2021-06-30}.json (request and response), the JSON_LISTINGS_FEED example
// (listings-feed-schema-v2.example.json) and the ORDER_CHANGE example (OrderChangeNotification.json).
import nock from 'nock';
import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { ConnectorError } from '../../../src/connectors/sdk/connector-error';
import { openConnection } from '../../../src/connectors/sdk/connector';
import { MemoryReplayGuard } from '../../../src/connectors/sdk/webhooks';
import {
  amazonConnector, buildListingsFeed, confirmShipment, createFeed, createFeedDocument, getOrder, handleAmazonNotification, packageReferenceId, patchListingsItem, searchOrders,
} from '../../../src/connectors/amazon/amazon.connector';
import { mapSpOrder } from '../../../src/connectors/amazon/amazon.mapper';
import { fixtureJson, fixtureText } from '../fixtures';
import { openAmazon, queryOf, sandboxCases } from './amazon-fixtures';

const HOST = 'https://sp.test';
const clock = () => new VirtualClock(Date.parse('2026-01-10T12:00:00Z'));

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('sandbox replay: Orders v2026-01-01', () => {
  test.each(sandboxCases('orders_2026-01-01.json', 'searchOrders').map((c, i) => [i + 1, c.status, c] as const))('searchOrders example %i (%s)', async (_i, status, c) => {
    const p = Object.fromEntries(Object.entries(c.request).map(([k, v]) => [k, v.value]));
    nock(HOST).get('/orders/2026-01-01/orders').query(queryOf(c.request)).reply(Number(status), c.response, { 'x-amzn-RequestId': 'sandbox' });
    const conn = openAmazon(clock());
    if (status === '200') {
      const page = await searchOrders(conn.ctx, p as Parameters<typeof searchOrders>[1]);
      expect(page).toEqual(c.response);
      for (const o of page.orders) expect(mapSpOrder(o).externalId).toBe((o as { orderId: string }).orderId);
    } else {
      const err = await searchOrders(conn.ctx, p as Parameters<typeof searchOrders>[1]).catch((e) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ code: 'HTTP', status: 400, retryable: false, requestId: 'sandbox', details: c.response });
    }
    expect(nock.isDone()).toBe(true);
  });

  test.each(sandboxCases('orders_2026-01-01.json', 'getOrder').filter((c) => c.status === '200').map((c) => [c.request.orderId.value, c] as const))('getOrder %s', async (orderId, c) => {
    nock(HOST).get(`/orders/2026-01-01/orders/${orderId}`).query(queryOf(c.request, ['orderId'])).reply(200, c.response);
    const order = await getOrder(openAmazon(clock()).ctx, orderId, c.request.includedData.value);
    expect(order).toEqual(mapSpOrder(c.response.order));
    expect(order.externalId).toBe(orderId);
  });

  test('the JP example maps money as strings, FBA tagged, address and items exact', () => {
    const c = sandboxCases('orders_2026-01-01.json', 'searchOrders')[0];
    expect(mapSpOrder(c.response.orders[0])).toEqual({
      externalId: '250-1234567-8901234', name: '250-1234567-8901234', status: 'FULFILLED', currency: 'JPY', totalPrice: '19940',
      placedAt: '2024-12-25T02:30:00.000Z', updatedAt: '2024-12-25T06:45:00.000Z', method: 'SHIP',
      customer: { name: 'John Smith', email: 'buyer-email@marketplace.amazon.co.jp' },
      shipTo: { name: 'John Smith', line1: '123 Business Park', line2: 'Suite 456', city: 'Tokyo', postalCode: '150-0002', country: 'JP' },
      lines: [
        { externalId: '25012345678901', sku: 'ECHO-DOT-4-JP-CHARCOAL', quantity: 1, quantityFulfilled: 1, unitPrice: '5980', title: expect.stringContaining('Echo Dot') },
        { externalId: '25012345678902', sku: 'FIRE-TV-4K-MAX-JP', quantity: 2, quantityFulfilled: 2, unitPrice: '6980', title: expect.stringContaining('Fire TV') },
      ],
      tags: ['program:PRIME', 'fulfilled-by:AMAZON', 'marketplace:A1VC38T7YXB528'],
    });
  });
});

describe('LWA', () => {
  test('refresh token is exchanged once and sent as x-amz-access-token; a 401 triggers one refresh', async () => {
    const forms: string[] = [];
    nock('https://lwa.test').post('/auth/o2/token', (b) => (forms.push(b), true)).times(2).reply(200, () => ({ access_token: `Atza|${forms.length}`, expires_in: 3600 }));
    const conn = openConnection(amazonConnector, {
      config: { endpoint: HOST, lwaTokenUrl: 'https://lwa.test/auth/o2/token', sellerId: 'S', marketplaceIds: ['ATVPDKIKX0DER'] },
      credentials: { clientId: 'c', clientSecret: 's', refreshToken: 'Atzr|refresh' },
      clock: clock(),
    });
    const seen: string[] = [];
    nock(HOST).get('/orders/2026-01-01/orders').query(true).reply(function () { seen.push(String(this.req.headers['x-amz-access-token'])); return [200, { orders: [] }]; });
    nock(HOST).get('/orders/2026-01-01/orders').query(true).reply(function () { seen.push(String(this.req.headers['x-amz-access-token'])); return [401, { errors: [{ code: 'Unauthorized', message: 'expired' }] }]; });
    nock(HOST).get('/orders/2026-01-01/orders').query(true).reply(function () { seen.push(String(this.req.headers['x-amz-access-token'])); return [200, { orders: [] }]; });
    await searchOrders(conn.ctx, { marketplaceIds: ['ATVPDKIKX0DER'] });
    await searchOrders(conn.ctx, { marketplaceIds: ['ATVPDKIKX0DER'] });
    expect(seen).toEqual(['Atza|1', 'Atza|1', 'Atza|2']);
    expect(forms).toHaveLength(2);
    expect(new URLSearchParams(forms[0]).get('grant_type')).toBe('refresh_token');
    expect(new URLSearchParams(forms[0]).get('refresh_token')).toBe('Atzr|refresh');
  });

  test('a rejected refresh token is an AUTH error, not retried as a 5xx', async () => {
    nock('https://lwa.test').post('/auth/o2/token').reply(400, { error: 'invalid_grant', error_description: 'The request has an invalid grant parameter' });
    const conn = openConnection(amazonConnector, {
      config: { endpoint: HOST, lwaTokenUrl: 'https://lwa.test/auth/o2/token', sellerId: 'S', marketplaceIds: ['ATVPDKIKX0DER'] },
      credentials: { clientId: 'c', clientSecret: 's', refreshToken: 'bad' },
      clock: clock(),
    });
    const res = await conn.check();
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error).toMatchObject({ code: 'AUTH', status: 400, retryable: false });
  });
});

describe('rate limits', () => {
  test('the searchOrders bucket follows x-amzn-RateLimit-Limit and spaces calls once the burst is spent', async () => {
    const c = clock();
    const conn = openAmazon(c);
    nock(HOST).get('/orders/2026-01-01/orders').query(true).times(25).reply(200, { orders: [] }, { 'x-amzn-RateLimit-Limit': '0.5' });
    for (let i = 0; i < 22; i++) await searchOrders(conn.ctx, { marketplaceIds: ['ATVPDKIKX0DER'] });
    // burst 20 free, then one token every 2 s at the advertised 0.5 rps (not the 0.0167 default)
    expect(c.sleeps.filter((s) => s > 0)).toEqual([2000, 2000]);
  });
});

describe('sandbox replay: confirmShipment (Orders v0)', () => {
  const cases = sandboxCases('ordersV0.json', 'confirmShipment');
  test.each(cases.map((c) => [c.status, c] as const))('example answering %s', async (status, c) => {
    nock(HOST).post(`/orders/v0/orders/${c.request.orderId.value}/shipmentConfirmation`, c.request.body.value).reply(Number(status), status === '204' ? undefined : c.response);
    const conn = openAmazon(clock());
    const p = confirmShipment(conn.ctx, c.request.orderId.value, c.request.body.value);
    if (status === '204') await expect(p).resolves.toBeUndefined();
    else await expect(p).rejects.toMatchObject({ code: 'HTTP', status: 400, retryable: false });
    expect(nock.isDone()).toBe(true);
  });

  test('createShipment builds the model\'s PackageDetail; unknown carriers go as Other + name; a 500 is not resent', async () => {
    const model = fixtureJson('amazon/ordersV0.json');
    const required: string[] = model.definitions.PackageDetail.required;
    let sent: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    nock(HOST).post('/orders/v0/orders/902-1106328-1059050/shipmentConfirmation', (b) => ((sent = b), true)).reply(204);
    const conn = openAmazon(clock());
    await conn.push('createShipment', { orderExternalId: '902-1106328-1059050', carrier: 'Speedy Couriers', trackingNumber: 'SC1', shippedAt: '2026-01-10T12:00:00.000Z', lines: [{ orderLineExternalId: '79039765272157', quantity: 1 }], idempotencyKey: 'ship-9' });
    expect(sent.marketplaceId).toBe('ATVPDKIKX0DER');
    for (const k of required) expect(sent.packageDetail).toHaveProperty(k);
    expect(sent.packageDetail).toMatchObject({ carrierCode: 'Other', carrierName: 'Speedy Couriers', packageReferenceId: packageReferenceId('ship-9') });
    expect(Number(sent.packageDetail.packageReferenceId)).toBeGreaterThan(0);

    const once = nock(HOST).post('/orders/v0/orders/1/shipmentConfirmation').times(2).reply(500, { errors: [] });
    await expect(conn.push('createShipment', { orderExternalId: '1', carrier: 'UPS', trackingNumber: '1Z', shippedAt: '2026-01-10T12:00:00.000Z', lines: [], idempotencyKey: 'x' })).rejects.toMatchObject({ status: 500, attempts: 1 });
    expect(once.pendingMocks()).toHaveLength(1);
  });
});

describe('sandbox replay: Listings Items patchListingsItem', () => {
  const cases = sandboxCases('listingsItems_2021-08-01.json', 'patchListingsItem');
  test.each(cases.filter((c) => c.request.sku).map((c) => [c.request.sku.value, c.status, c] as const))('sku %s answers %s', async (sku, status, c) => {
    const q = queryOf(c.request, ['sku', 'body', 'sellerId']);
    nock(HOST).patch(`/listings/2021-08-01/items/A3TH9S8BH6GOGM/${sku}`).query(q).reply(Number(status), c.response);
    const conn = openAmazon(clock());
    const p = patchListingsItem(conn.ctx, sku, { productType: 'PRODUCT', patches: [] }, {
      marketplaceIds: c.request.marketplaceIds?.value ?? [], includedData: c.request.includedData?.value, mode: c.request.mode?.value,
    });
    if (status === '200') expect(await p).toMatchObject(c.response);
    else await expect(p).rejects.toMatchObject({ code: 'HTTP', status: 400 });
  });

  test('setStock patches fulfillment_availability; ACCEPTED resolves, INVALID (sandbox response) is a VENDOR error', async () => {
    const [accepted] = cases;
    const invalid = cases.find((c) => c.request.sku?.value === 'VALIDATION_INVALID')!;
    let sent: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    nock(HOST).patch('/listings/2021-08-01/items/A3TH9S8BH6GOGM/GM-ZDPI-9B4E', (b) => ((sent = b), true)).query({ marketplaceIds: 'ATVPDKIKX0DER', issueLocale: 'en_US' }).reply(200, accepted.response);
    const conn = openAmazon(clock());
    expect(await conn.push('setStock', { sku: 'GM-ZDPI-9B4E', externalLocationId: 'DEFAULT', quantity: 7, idempotencyKey: 'k' })).toMatchObject({ externalId: 'f1dc2914-75dd-11ea-bc55-0242ac130003', accepted: true });
    expect(sent).toEqual({ productType: 'PRODUCT', patches: [{ op: 'replace', path: '/attributes/fulfillment_availability', value: [{ fulfillment_channel_code: 'DEFAULT', quantity: 7 }] }] });

    nock(HOST).patch('/listings/2021-08-01/items/A3TH9S8BH6GOGM/VALIDATION_INVALID').query(true).reply(200, invalid.response);
    await expect(conn.push('setStock', { sku: 'VALIDATION_INVALID', externalLocationId: 'DEFAULT', quantity: 1, idempotencyKey: 'k2' })).rejects.toMatchObject({ code: 'VENDOR', record: 'VALIDATION_INVALID', message: expect.stringMatching(/90000900/) });
  });
});

describe('sandbox replay: Feeds and JSON_LISTINGS_FEED', () => {
  test.each(sandboxCases('feeds_2021-06-30.json', 'createFeedDocument').map((c) => [c.status, c] as const))('createFeedDocument answering %s', async (status, c) => {
    nock(HOST).post('/feeds/2021-06-30/documents', c.request.body.value).reply(Number(status), c.response);
    const p = createFeedDocument(openAmazon(clock()).ctx, c.request.body.value.contentType);
    if (status === '201') expect(await p).toEqual(c.response);
    else await expect(p).rejects.toMatchObject({ status: 400 });
  });

  test.each(sandboxCases('feeds_2021-06-30.json', 'createFeed').map((c) => [c.status, c] as const))('createFeed answering %s', async (status, c) => {
    nock(HOST).post('/feeds/2021-06-30/feeds', c.request.body.value).reply(Number(status), c.response);
    const p = createFeed(openAmazon(clock()).ctx, c.request.body.value);
    if (status === '202') expect(await p).toEqual(c.response);
    else await expect(p).rejects.toMatchObject({ status: 400 });
  });

  test('the feed document has the shape of the published JSON_LISTINGS_FEED example (PATCH message)', () => {
    const example = fixtureJson('amazon/listings-feed-schema-v2.example.json');
    const feed = buildListingsFeed('AXXXXXXXXXXXX', [{ sku: 'My-SKU-D', externalLocationId: '', quantity: 10, idempotencyKey: 'a' }], 'LUGGAGE', 'DEFAULT');
    const patchExample = example.messages.find((m: { messageId: number }) => m.messageId === 4);
    expect(feed.messages[0]).toEqual({ ...patchExample, messageId: 1 });
    expect(feed.header).toMatchObject({ sellerId: example.header.sellerId, version: example.header.version });
  });

  test('setStockBatch: document → pre-signed upload (no token) → createFeed', async () => {
    let uploaded = '';
    let uploadToken: unknown = 'unset';
    nock(HOST).post('/feeds/2021-06-30/documents', { contentType: 'application/json; charset=UTF-8' }).reply(201, { feedDocumentId: 'doc-1', url: 'https://s3.test/upload/doc-1?sig=abc' });
    nock('https://s3.test').put('/upload/doc-1').query({ sig: 'abc' }).reply(function (_u: string, body: unknown) { uploaded = typeof body === 'string' ? body : JSON.stringify(body); uploadToken = this.req.headers['x-amz-access-token']; return [200, '']; });
    nock(HOST).post('/feeds/2021-06-30/feeds', { feedType: 'JSON_LISTINGS_FEED', marketplaceIds: ['ATVPDKIKX0DER'], inputFeedDocumentId: 'doc-1' }).reply(202, { feedId: '3485934' });
    const res = await openAmazon(clock()).push('setStockBatch', [
      { sku: 'A', externalLocationId: 'DEFAULT', quantity: 1, idempotencyKey: '1' },
      { sku: 'B', externalLocationId: 'DEFAULT', quantity: 0, idempotencyKey: '2' },
    ]);
    expect(res).toEqual({ externalId: '3485934', accepted: true });
    expect(JSON.parse(uploaded).messages.map((m: { sku: string }) => m.sku)).toEqual(['A', 'B']);
    expect(uploadToken).toBeUndefined();
  });
});

describe('ORDER_CHANGE notifications', () => {
  const example = () => fixtureJson('amazon/OrderChangeNotification.json').examples[0];

  test('the schema example parses to order.changed, and a redelivery is a duplicate', async () => {
    const replay = new MemoryReplayGuard();
    const body = JSON.stringify(example());
    expect(await handleAmazonNotification(body, replay)).toEqual({
      status: 'accepted',
      events: [{ type: 'order.changed', orderExternalId: '903-8868176-2219830', at: '2022-11-29T19:42:04.284Z', reason: 'Buyer Requested Cancel' }],
    });
    expect(await handleAmazonNotification(body, replay)).toEqual({ status: 'duplicate', events: [] });
  });

  test('a canceled summary is an order.cancelled; other notification types are ignored; broken ones name the problem', async () => {
    const n = example();
    n.Payload.OrderChangeNotification.Summary.OrderStatus = 'Canceled';
    n.NotificationMetadata.NotificationId = 'other';
    const out = await handleAmazonNotification(JSON.stringify(n), new MemoryReplayGuard());
    expect(out.events[0]).toMatchObject({ type: 'order.cancelled', orderExternalId: '903-8868176-2219830' });
    expect(await handleAmazonNotification('{"NotificationType":"ANY_OFFER_CHANGED"}', new MemoryReplayGuard())).toEqual({ status: 'ignored', events: [] });
    delete n.Payload.OrderChangeNotification.AmazonOrderId;
    await expect(handleAmazonNotification(JSON.stringify(n), new MemoryReplayGuard())).rejects.toThrow(/AmazonOrderId/);
    await expect(handleAmazonNotification(fixtureText('amazon/OrderChangeNotification.json').slice(0, 100), new MemoryReplayGuard())).rejects.toMatchObject({ code: 'MALFORMED_PAYLOAD' });
  });
});
