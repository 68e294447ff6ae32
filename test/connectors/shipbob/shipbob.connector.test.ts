// Contract: ../shared/fixtures/shipbob/openapi-2026-01.json; signature vector: ../shared/fixtures/SOURCES.md (Standard Webhooks).
import nock from 'nock';
import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { MemoryReplayGuard, standardWebhookSignature, verifyStandardWebhook } from '../../../src/connectors/sdk/webhooks';
import { HOST, openShipBob, responseExample, shipbob } from './shipbob-fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const clock = () => new VirtualClock(Date.parse('2026-01-10T12:00:00Z'));

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

const cmd = {
  reference: 'fo-77', name: '#1001', channel: 'shopify', currency: 'USD', method: 'SHIP' as const, placedAt: '2026-01-10T09:00:00.000Z', externalLocationId: '10',
  customer: { email: 'john@example.com', name: 'John Doe' },
  shipTo: { name: 'John Doe', line1: '100 Nowhere Blvd', line2: 'Suite 100', city: 'Gotham City', region: 'NJ', postalCode: '07093', country: 'US', phone: '555-555-5555' },
  lines: [{ lineRef: '1', sku: 'TShirtBlueM', quantity: 2, unitPrice: '12.50', title: 'Blue T-Shirt M' }],
  idempotencyKey: 'k',
};

test('Standard Webhooks vector from SOURCES.md', () => {
  const sig = standardWebhookSignature('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', '{"test": 2432232314}');
  expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  const req = (s: string) => ({ rawBody: '{"test": 2432232314}', headers: { 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1614265330', 'webhook-signature': s } });
  expect(verifyStandardWebhook(req(`v1,bm90IGl0 ${sig}`), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(true); // rotation: any entry may match
  expect(verifyStandardWebhook(req('v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(false);
  expect(verifyStandardWebhook({ ...req(sig), headers: { ...req(sig).headers, 'webhook-timestamp': '1614265331' } }, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(false);
});

test('webhook: a delivery 6 minutes old is rejected, one 4 minutes old accepted; return topics map to returns', async () => {
  const c = clock();
  const conn = openShipBob(c);
  const ret = { ...responseExample('/2026-01/return', 'get').items[0], id: 91, status: 'Completed' };
  const body = JSON.stringify(ret);
  const signed = (id: string, ageS: number) => {
    const ts = String(Math.floor(c.now() / 1000) - ageS);
    return { rawBody: body, headers: { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': standardWebhookSignature('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', id, ts, body), 'x-webhook-topic': 'return.completed' } };
  };
  const replay = new MemoryReplayGuard();
  expect(await conn.webhook(signed('a', 360), { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', replay })).toMatchObject({ status: 'rejected', httpStatus: 401 });
  const ok = await conn.webhook(signed('b', 240), { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', replay });
  expect(ok).toMatchObject({ status: 'accepted', events: [{ type: 'return.upserted', ret: { externalId: '91', status: 'COMPLETED', lines: [{ sku: 'string', quantity: 0, restock: false }] } }] });
});

test('createOrder: looks up reference_id, posts a CreateOrderModel valid against the spec with shipbob_channel_id', async () => {
  let sent: Json;
  let channelHeader: unknown;
  nock(HOST).get('/2026-01/order').query({ ReferenceIds: 'fo-77' }).reply(200, []);
  nock(HOST).post('/2026-01/order', (b) => ((sent = b), true)).reply(function () {
    channelHeader = this.req.headers.shipbob_channel_id;
    return [201, { ...responseExample('/2026-01/order', 'post', '201'), id: 31337, reference_id: 'fo-77' }];
  });
  expect(await openShipBob(clock()).push('createOrder', cmd)).toEqual({ externalId: '31337' });
  expect(channelHeader).toBe('128944');
  expect(shipbob.errors(sent, shipbob.requestSchema('/2026-01/order', 'post'))).toEqual([]);
  expect(sent).toEqual({
    reference_id: 'fo-77', order_number: '#1001', type: 'DTC', shipping_method: 'Standard', purchase_date: '2026-01-10T09:00:00.000Z', location_id: 10,
    recipient: { name: 'John Doe', email: 'john@example.com', phone_number: '555-555-5555', address: { address1: '100 Nowhere Blvd', address2: 'Suite 100', city: 'Gotham City', state: 'NJ', zip_code: '07093', country: 'US' } },
    products: [{ reference_id: 'TShirtBlueM', name: 'Blue T-Shirt M', quantity: 2, external_line_id: 1, unit_price: 12.5 }],
    tags: [{ name: 'channel', value: 'shopify' }],
  });
  // the checker can fail: a body without recipient breaks the contract
  expect(shipbob.errors({ ...sent, recipient: undefined, type: 'Retail' }, shipbob.requestSchema('/2026-01/order', 'post'))).toEqual(expect.arrayContaining(['$.type: "Retail" not in enum']));
});

test('createOrder is idempotent by reference_id: existing order returned; a 422 on create is resolved by a second lookup', async () => {
  nock(HOST).get('/2026-01/order').query({ ReferenceIds: 'fo-77' }).reply(200, [{ id: 5, reference_id: 'fo-77' }]);
  expect(await openShipBob(clock()).push('createOrder', cmd)).toMatchObject({ externalId: '5' });
  nock(HOST).get('/2026-01/order').query({ ReferenceIds: 'fo-77' }).reply(200, []);
  nock(HOST).post('/2026-01/order').reply(422, { errors: ['Order with reference id fo-77 already exists'] });
  nock(HOST).get('/2026-01/order').query({ ReferenceIds: 'fo-77' }).reply(200, [{ id: 6, reference_id: 'fo-77' }]);
  expect(await openShipBob(clock()).push('createOrder', cmd)).toMatchObject({ externalId: '6' });
  expect(nock.isDone()).toBe(true);
});

test('createOrder: a 5xx is not resent blind (POST is not idempotent); 429 waits x-retry-after then succeeds', async () => {
  nock(HOST).get('/2026-01/order').query(true).reply(200, []);
  nock(HOST).post('/2026-01/order').reply(500, { message: 'boom' });
  await expect(openShipBob(clock()).push('createOrder', cmd)).rejects.toMatchObject({ code: 'HTTP', status: 500, retryable: false, record: 'fo-77' });
  const c = clock();
  nock(HOST).get('/2026-01/order').query(true).reply(200, []);
  nock(HOST).post('/2026-01/order').reply(429, {}, { 'x-retry-after': '12' });
  nock(HOST).post('/2026-01/order').reply(201, { id: 8 });
  expect(await openShipBob(c).push('createOrder', cmd)).toEqual({ externalId: '8' });
  expect(c.sleeps).toContain(12_000);
});

test('cancelOrder uses POST /2026-01/order/{orderId}:cancel (the spec path); Failure is a VENDOR error', async () => {
  expect(shipbob.doc.paths['/2026-01/order/{orderId}:cancel'].post).toBeDefined();
  const ex = responseExample('/2026-01/order/{orderId}:cancel', 'post');
  nock(HOST).post('/2026-01/order/31337:cancel').reply(200, { ...ex, status: 'Success', canceled_shipment_results: [{ action: 'Cancel', is_success: true, shipment_id: 1 }] });
  expect(await openShipBob(clock()).push('cancelOrder', { orderExternalId: '31337', idempotencyKey: 'c' })).toEqual({ accepted: true });
  nock(HOST).post('/2026-01/order/31338:cancel').reply(200, { ...ex, status: 'Failure', canceled_shipment_results: [{ action: 'Cancel', is_success: false, reason: 'Shipment already shipped', shipment_id: 2 }] });
  await expect(openShipBob(clock()).push('cancelOrder', { orderExternalId: '31338', idempotencyKey: 'c' })).rejects.toMatchObject({ code: 'VENDOR', record: '31338', message: expect.stringContaining('already shipped') });
});

test('updateShipTo: PUT /shipment/{id}:updateAddress (the spec body) on each shipment not labelled yet; none left is a VENDOR error for an operator', async () => {
  const listed = responseExample('/2026-01/order/{orderId}/shipment', 'get');
  const shipment = (id: number, status: string) => ({ ...listed[0], id, order_id: 31337, status });
  const update = { orderExternalId: '31337', reference: 'fo-77', customer: { name: 'Jane Roe', email: 'jane@example.com' },
    shipTo: { name: 'Jane Roe', line1: '200 Elm St', city: 'Springfield', region: 'IL', postalCode: '62701', country: 'US' }, idempotencyKey: 'a' };
  const sent: Json[] = [];
  nock(HOST).get('/2026-01/order/31337/shipment').reply(200, [shipment(1, 'Processing'), shipment(2, 'Completed'), shipment(3, 'OnHold'), shipment(4, 'LabeledCreated')]);
  for (const id of [1, 3]) {
    nock(HOST).put(`/2026-01/shipment/${id}:updateAddress`, (b) => (sent.push(b), true))
      .reply(200, { ...responseExample('/2026-01/shipment/{shipmentId}:updateAddress', 'put'), id, is_success: true, error: null });
  }
  expect(await openShipBob(clock()).push('updateShipTo', update)).toEqual({ externalId: '31337' });
  expect(nock.isDone()).toBe(true);
  expect(sent).toHaveLength(2);
  for (const b of sent) {
    expect(shipbob.errors(b, shipbob.requestSchema('/2026-01/shipment/{shipmentId}:updateAddress', 'put'))).toEqual([]);
    expect(b).toEqual({ recipient_name: 'Jane Roe', street_address1: '200 Elm St', city: 'Springfield', state: 'IL', zip_code: '62701', country_code: 'US', email: 'jane@example.com' });
  }

  // Everything labelled or shipped: nothing can change there any more; not retried.
  nock(HOST).get('/2026-01/order/31338/shipment').reply(200, [shipment(5, 'Completed')]);
  await expect(openShipBob(clock()).push('updateShipTo', { ...update, orderExternalId: '31338' }))
    .rejects.toMatchObject({ code: 'VENDOR', retryable: false, record: 'fo-77', message: expect.stringContaining('5: Completed') });
  // ShipBob answers 200 with is_success false when it refuses the address.
  nock(HOST).get('/2026-01/order/31339/shipment').reply(200, [shipment(6, 'Processing')]);
  nock(HOST).put('/2026-01/shipment/6:updateAddress').reply(200, { id: 6, is_success: false, error: { code: 'INVALID_PARAMETER', message: 'Address could not be validated' } });
  await expect(openShipBob(clock()).push('updateShipTo', { ...update, orderExternalId: '31339' }))
    .rejects.toMatchObject({ code: 'VENDOR', retryable: false, message: expect.stringContaining('Address could not be validated') });
});

test('updateShipTo under faults: a 503 on the read and a 429 on the PUT are retried (x-retry-after honoured); a malformed answer is a clear error', async () => {
  const listed = responseExample('/2026-01/order/{orderId}/shipment', 'get');
  const update = { orderExternalId: '41', reference: 'fo-41', shipTo: { line1: '1 Main St', city: 'Springfield', country: 'US' }, idempotencyKey: 'f' };
  nock(HOST).get('/2026-01/order/41/shipment').reply(503, { message: 'unavailable' });
  nock(HOST).get('/2026-01/order/41/shipment').reply(200, [{ ...listed[0], id: 9, status: 'Processing' }]);
  nock(HOST).put('/2026-01/shipment/9:updateAddress').reply(429, { message: 'slow down' }, { 'x-retry-after': '7' });
  nock(HOST).put('/2026-01/shipment/9:updateAddress').reply(200, { id: 9, is_success: true });
  const c = clock();
  expect(await openShipBob(c).push('updateShipTo', update)).toEqual({ externalId: '41' });
  expect(c.sleeps).toContain(7_000);
  expect(nock.isDone()).toBe(true);
  nock(HOST).get('/2026-01/order/42/shipment').reply(200, '[{"id": 9, "status": ', { 'content-type': 'application/json' });
  await expect(openShipBob(clock()).push('updateShipTo', { ...update, orderExternalId: '42' })).rejects.toMatchObject({ code: 'MALFORMED_PAYLOAD' });
});

test('inventory per fulfilment centre follows the next links to the end; returns too', async () => {
  const item = (id: number, loc: number, q: number) => ({ inventory_id: id, sku: `SKU-${id}`, name: 'x', locations: [{ location_id: loc, name: 'Cicero (IL)', fulfillable_quantity: q, on_hand_quantity: q + 1, committed_quantity: 1, awaiting_quantity: 0, internal_transfer_quantity: 0 }] });
  nock(HOST).get('/2026-01/inventory-level/locations').query({ PageSize: '2', IsActive: 'true' }).reply(200, { items: [item(1, 10, 5), item(2, 10, 0)], next: '/2026-01/inventory-level/locations?Cursor=abc', prev: null });
  nock(HOST).get('/2026-01/inventory-level/locations').query({ Cursor: 'abc' }).reply(200, { items: [item(3, 11, 7)], next: null });
  const { records, batches } = await openShipBob(clock()).readAll('inventory');
  expect(batches).toBe(2);
  expect(records).toEqual([
    { sku: 'SKU-1', externalItemId: '1', externalLocationId: '10', available: 5, onHand: 6 },
    { sku: 'SKU-2', externalItemId: '2', externalLocationId: '10', available: 0, onHand: 1 },
    { sku: 'SKU-3', externalItemId: '3', externalLocationId: '11', available: 7, onHand: 8 },
  ]);
  const ret = responseExample('/2026-01/return', 'get').items[0];
  nock(HOST).get('/2026-01/return').query(true).reply(200, { items: [{ ...ret, id: 1, status: 'AwaitingArrival' }], next: 'https://sandbox-api.shipbob.test/2026-01/return?Cursor=n2' });
  nock(HOST).get('/2026-01/return').query({ Cursor: 'n2' }).reply(200, { items: [{ ...ret, id: 2, status: 'Arrived' }], next: null });
  const returns = await openShipBob(clock()).readAll<{ status: string }>('returns');
  expect(returns.records.map((r) => r.status)).toEqual(['IN_TRANSIT', 'RECEIVED']);
});

test('shipments carry tracking and the order line; the 150/min budget spaces requests', async () => {
  const order = { ...responseExample('/2026-01/order', 'get')[0], id: 77, products: [{ reference_id: 'TShirtBlueM', external_line_id: 1, quantity: 1 }] };
  const ship = { ...order.shipments[0], id: 9, order_id: 77, status: 'Completed', delivery_date: null, location: { id: 10 }, last_update_at: '2026-01-10T10:00:00Z', last_tracking_update_at: '2026-01-10T10:00:00Z', tracking: { carrier: 'USPS', tracking_number: '9400', tracking_url: 'https://t/9400' }, products: [{ reference_id: 'TShirtBlueM', inventory_items: [{ quantity: 1 }] }] };
  nock(HOST).get('/2026-01/order').query(true).reply(200, [{ ...order, shipments: [ship] }]);
  const { records } = await openShipBob(clock()).readAll('shipments');
  expect(records).toEqual([{ externalId: '9', orderExternalId: '77', status: 'SHIPPED', carrier: 'USPS', trackingNumber: '9400', trackingUrl: 'https://t/9400', externalLocationId: '10', lines: [{ sku: 'TShirtBlueM', orderLineExternalId: '1', quantity: 1 }], createdAt: '2019-08-24T14:15:22.000Z', updatedAt: '2026-01-10T10:00:00.000Z' }]);
  const c = clock();
  const conn = openShipBob(c, { config: { requestsPerMinute: 2 } });
  nock(HOST).get('/2026-01/channel').query(true).times(3).reply(200, { items: [] });
  for (let i = 0; i < 3; i++) await conn.check();
  expect(c.slept).toBe(60_000);
});
