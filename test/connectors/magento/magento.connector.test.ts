// Contract: ../shared/fixtures/magento/admin-schema-2.4.9.yaml — payloads and request bodies are checked against it.
import nock from 'nock';
import { oauth1Header } from '../../../src/connectors/sdk/auth';
import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { openConnection } from '../../../src/connectors/sdk/connector';
import { magentoConnector } from '../../../src/connectors/magento/magento.connector';
import { mapMagentoOrder } from '../../../src/connectors/magento/magento.mapper';
import { bodySchema, contractErrors, def, magentoOrder } from './magento-fixtures';

const HOST = 'https://magento.test';
const clock = () => new VirtualClock(Date.parse('2026-01-10T12:00:00Z'));
const oauth = { type: 'oauth1', consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'ats' } as const;
const open = (credentials: object = oauth, c = clock()) => openConnection(magentoConnector, { config: { storeUrl: HOST, pageSize: 2 }, credentials, clock: c, random: () => 0.5 });

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('payloads follow the 2.4.9 contract', () => {
  test('the test order is a valid sales-data-order-interface', () => {
    expect(contractErrors(magentoOrder(7, '2026-01-09 10:00:00'), def('sales-data-order-interface'))).toEqual([]);
    expect(contractErrors({ ...magentoOrder(7, 'x'), grand_total: 'x' }, def('sales-data-order-interface'))).toEqual(['$.grand_total: expected number']);
  });

  test('order mapping: zone-less timestamps are UTC, configurable children are not double-counted, money is a string', () => {
    const o = mapMagentoOrder(magentoOrder(7, '2026-01-09 10:00:00'));
    expect(o).toEqual({
      externalId: '7', name: '00007', status: 'OPEN', currency: 'EUR', totalPrice: '139.90',
      placedAt: '2026-01-08T09:15:02.000Z', updatedAt: '2026-01-09T10:00:00.000Z', method: 'SHIP',
      customer: { email: 'roni_cost@example.com', externalId: '1', name: 'Veronica Costello' },
      shipTo: { name: 'Veronica Costello', line1: 'Hauptstraße 1', line2: '2. OG', city: 'Berlin', region: 'BE', postalCode: '10115', country: 'DE', phone: '+49 30 1234567' },
      lines: [
        { externalId: '71', sku: 'MH01-XS-Black', quantity: 2, quantityFulfillable: 2, unitPrice: '52.00', title: 'Chaz Kangeroo Hoodie' },
        { externalId: '73', sku: '24-MB01', quantity: 1, quantityFulfillable: 1, unitPrice: '34.00', title: 'Joust Duffle Bag' },
      ],
    });
  });

  test('states, in-store pickup, and unknown states', () => {
    const base = magentoOrder(7, '2026-01-09 10:00:00');
    expect(mapMagentoOrder({ ...base, state: 'canceled' }).status).toBe('CANCELLED');
    expect(mapMagentoOrder({ ...base, state: 'complete' }).status).toBe('FULFILLED');
    expect(mapMagentoOrder({ ...base, state: 'pending_payment' }).status).toBe('PENDING');
    expect(mapMagentoOrder({ ...base, items: base.items.map((i: object) => ({ ...i, qty_shipped: 1 })) }).status).toBe('PARTIALLY_FULFILLED');
    expect(mapMagentoOrder({ ...base, extension_attributes: { pickup_location_code: 'berlin' } })).toMatchObject({ method: 'PICKUP', tags: ['pickup-location:berlin'] });
    expect(() => mapMagentoOrder({ ...base, state: 'mystery' })).toThrow(/unknown order state/);
  });
});

describe('auth', () => {
  test('OAuth 1.0a base string and signature match RFC 5849 §1.2 (HMAC-SHA1 vector)', () => {
    const { signature } = oauth1Header(
      { method: 'GET', url: 'http://photos.example.net/photos', params: [['file', 'vacation.jpg'], ['size', 'original']] },
      { consumerKey: 'dpf43f3p2l4k3l03', consumerSecret: 'kd94hf93k423kf44', token: 'nnch734d00sl2jdk', tokenSecret: 'pfkkdhi9sl3r4s00' },
      { timestamp: 1191242096, nonce: 'kllo9940pd9333jh', signatureMethod: 'HMAC-SHA1' },
    );
    expect(signature).toBe('tR3+Ty81lMeYAr/Fid0kMTYa/WM=');
  });

  test('every request carries an HMAC-SHA256 OAuth header that verifies over the searchCriteria query', async () => {
    let auth = '';
    let path = '';
    nock(HOST).get('/rest/default/V1/inventory/sources').query(true).reply(function (uri: string) { auth = String(this.req.headers.authorization); path = uri; return [200, { items: [], search_criteria: {}, total_count: 0 }]; });
    expect(await open().check()).toEqual({ ok: true });
    const fields = Object.fromEntries([...auth.replace(/^OAuth /, '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], decodeURIComponent(m[2])]));
    expect(fields).toMatchObject({ oauth_signature_method: 'HMAC-SHA256', oauth_consumer_key: 'ck', oauth_token: 'at', oauth_version: '1.0', oauth_timestamp: String(Date.parse('2026-01-10T12:00:00Z') / 1000) });
    const u = new URL(path, HOST);
    const recomputed = oauth1Header(
      { method: 'GET', url: `${HOST}${u.pathname}`, params: [...u.searchParams.entries()] },
      { consumerKey: 'ck', consumerSecret: 'cs', token: 'at', tokenSecret: 'ats' },
      { timestamp: Number(fields.oauth_timestamp), nonce: fields.oauth_nonce },
    );
    expect(fields.oauth_signature).toBe(recomputed.signature);
    expect(u.searchParams.get('searchCriteria[pageSize]')).toBe('1');
  });

  test('admin token: fetched once with the contract body, sent as Bearer, re-fetched after a 401', async () => {
    const bodies: unknown[] = [];
    nock(HOST).post('/rest/V1/integration/admin/token', (b) => (bodies.push(b), true)).times(2).reply(200, () => JSON.stringify(`tok-${bodies.length}`));
    const seen: string[] = [];
    const reply = (status: number) => function (this: { req: { headers: Record<string, unknown> } }) { seen.push(String(this.req.headers.authorization)); return [status, status === 200 ? { items: [], search_criteria: {}, total_count: 0 } : { message: 'The consumer isn\'t authorized to access %resources.' }] as [number, object]; };
    nock(HOST).get('/rest/default/V1/inventory/sources').query(true).reply(reply(200));
    nock(HOST).get('/rest/default/V1/inventory/sources').query(true).reply(reply(401));
    nock(HOST).get('/rest/default/V1/inventory/sources').query(true).reply(reply(200));
    const conn = open({ type: 'admin', username: 'admin', password: 'admin123' });
    await conn.check();
    await conn.check();
    expect(seen).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
    expect(contractErrors(bodies[0], bodySchema('/V1/integration/admin/token', 'post'))).toEqual([]);
    expect(bodies[0]).toEqual({ username: 'admin', password: 'admin123' });
  });
});

describe('MSI and pushes', () => {
  test('source items: offset pages stop on total_count although Magento would repeat the last page', async () => {
    const items = [
      { sku: '24-MB01', source_code: 'berlin', quantity: 12, status: 1 },
      { sku: '24-MB01', source_code: 'munich', quantity: 3, status: 0 },
      { sku: 'MH01-XS-Black', source_code: 'berlin', quantity: 5, status: 1 },
    ];
    for (const it of items) expect(contractErrors(it, def('inventory-api-data-source-item-interface'))).toEqual([]);
    const pages: string[] = [];
    nock(HOST).get('/rest/default/V1/inventory/source-items').query(true).times(5).reply(function (uri: string) {
      const p = Number(new URL(uri, HOST).searchParams.get('searchCriteria[currentPage]'));
      pages.push(String(p));
      const last = Math.min(p, 2); // past the end Magento returns the last page again
      return [200, { items: items.slice((last - 1) * 2, last * 2), search_criteria: {}, total_count: 3 }];
    });
    const { records } = await open().readAll('inventory');
    expect(pages).toEqual(['1', '2']);
    expect(records).toEqual([
      { sku: '24-MB01', externalLocationId: 'berlin', available: 12, onHand: 12 },
      { sku: '24-MB01', externalLocationId: 'munich', available: 0, onHand: 3 },
      { sku: 'MH01-XS-Black', externalLocationId: 'berlin', available: 5, onHand: 5 },
    ]);
  });

  test('setStockBatch posts source items valid against the contract, and is retried on 5xx', async () => {
    const sent: unknown[] = [];
    nock(HOST).post('/rest/default/V1/inventory/source-items', (b) => (sent.push(b), true)).reply(503, { message: 'busy' });
    nock(HOST).post('/rest/default/V1/inventory/source-items', (b) => (sent.push(b), true)).reply(200, '[]');
    await open().push('setStockBatch', [
      { sku: '24-MB01', externalLocationId: 'berlin', quantity: 4, idempotencyKey: 'a' },
      { sku: '24-MB01', externalLocationId: 'munich', quantity: 0, idempotencyKey: 'b' },
    ]);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual({ sourceItems: [{ sku: '24-MB01', source_code: 'berlin', quantity: 4, status: 1 }, { sku: '24-MB01', source_code: 'munich', quantity: 0, status: 0 }] });
    expect(contractErrors(sent[1], bodySchema('/V1/inventory/source-items', 'post'))).toEqual([]);
  });

  test('createShipment sends items, tracks and source_code as the contract defines, and returns the shipment id', async () => {
    let sent: unknown;
    nock(HOST).post('/rest/default/V1/order/7/ship', (b) => ((sent = b), true)).reply(200, '42');
    const res = await open().push('createShipment', { orderExternalId: '7', externalLocationId: 'berlin', carrier: 'DHL Express', trackingNumber: 'JD014600', shippedAt: '2026-01-10T12:00:00.000Z', lines: [{ orderLineExternalId: '71', quantity: 2 }], idempotencyKey: 's' });
    expect(res).toEqual({ externalId: '42' });
    expect(sent).toEqual({ items: [{ order_item_id: 71, qty: 2 }], notify: true, tracks: [{ track_number: 'JD014600', title: 'DHL Express', carrier_code: 'dhl' }], arguments: { extension_attributes: { source_code: 'berlin' } } });
    expect(contractErrors(sent, bodySchema('/V1/order/{orderId}/ship', 'post'))).toEqual([]);
  });

  test('cancelOrder: true resolves, false is a VENDOR error naming the order', async () => {
    nock(HOST).post('/rest/default/V1/orders/7/cancel').reply(200, 'true');
    expect(await open().push('cancelOrder', { orderExternalId: '7', idempotencyKey: 'c' })).toEqual({ accepted: true });
    nock(HOST).post('/rest/default/V1/orders/8/cancel').reply(200, 'false');
    await expect(open().push('cancelOrder', { orderExternalId: '8', idempotencyKey: 'c' })).rejects.toMatchObject({ code: 'VENDOR', record: '8' });
  });

  test('updateShipTo saves the order\'s shipping address (PUT /V1/orders/{parent_id}, valid against the contract); a completed order is permanent', async () => {
    const order = magentoOrder(7, '2026-01-10 11:00:00');
    order.extension_attributes.shipping_assignments[0].shipping.address.entity_id = 14;
    nock(HOST).get('/rest/default/V1/orders/7').reply(200, order);
    let sent: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    nock(HOST).put('/rest/default/V1/orders/7', (b) => ((sent = b), true)).reply(200, (_u, b: any) => b.entity); // eslint-disable-line @typescript-eslint/no-explicit-any
    const cmd = { orderExternalId: '7', reference: 'o-7', shipTo: { name: 'Veronica Costello', line1: 'Friedrichstraße 5', city: 'Berlin', postalCode: '10117', country: 'DE' }, idempotencyKey: 'a' };
    expect(await open().push('updateShipTo', cmd)).toEqual({ externalId: '7' });
    expect(sent.entity).toMatchObject({ entity_id: 14, parent_id: 7, address_type: 'shipping', firstname: 'Veronica', lastname: 'Costello', street: ['Friedrichstraße 5'],
      city: 'Berlin', postcode: '10117', country_id: 'DE', telephone: '+49 30 1234567' });
    expect(contractErrors(sent, bodySchema('/V1/orders/{parent_id}', 'put'))).toEqual([]);

    nock(HOST).get('/rest/default/V1/orders/8').reply(200, { ...magentoOrder(8, '2026-01-10 11:00:00'), state: 'complete' });
    await expect(open().push('updateShipTo', { ...cmd, orderExternalId: '8' })).rejects.toMatchObject({ code: 'VENDOR', retryable: false, record: 'o-7' });
  });

  test('orders: the window is sent as zone-less UTC and a non-integer quantity fails the record', async () => {
    let q: URLSearchParams | undefined;
    nock(HOST).get('/rest/default/V1/orders').query(true).reply(function (uri: string) {
      q = new URL(uri, HOST).searchParams;
      return [200, { items: [{ ...magentoOrder(9, '2026-01-09 10:00:00'), items: [{ item_id: 91, sku: 'X', qty_ordered: 1.5, price: 1 }] }], search_criteria: {}, total_count: 1 }];
    });
    const conn = openConnection(magentoConnector, { config: { storeUrl: HOST, startAt: '2026-01-09T00:00:00Z' }, credentials: oauth, clock: clock() });
    await expect(conn.readAll('orders')).rejects.toMatchObject({ code: 'MAPPING', stream: 'orders', record: '9 (#00009)' });
    expect(q!.get('searchCriteria[filterGroups][0][filters][0][value]')).toBe('2026-01-09 00:00:00');
    expect(q!.get('searchCriteria[filterGroups][1][filters][0][value]')).toBe('2026-01-10 11:59:55');
  });
});
