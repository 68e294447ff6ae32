// Contract and examples: ../shared/fixtures/square/api.json; signature vector: ../shared/fixtures/SOURCES.md.
import nock from 'nock';
import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { MemoryReplayGuard } from '../../../src/connectors/sdk/webhooks';
import { squareSignature } from '../../../src/connectors/square/square.connector';
import { mapSquareOrder, moneyFromMinor, moneyToMinor } from '../../../src/connectors/square/square.mapper';
import { CATALOG_SKUS, example, HOST, openSquare, square, squareOrder } from './square-fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const clock = () => new VirtualClock(Date.parse('2026-01-10T12:00:00Z'));

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

test('signature vector from SOURCES.md: base64(HMAC-SHA256(key, URL + body))', () => {
  expect(squareSignature('signature-key', 'https://webhook.site/webhooks', '{"data":{"type":"webhooks","id":"fake_id"}}').toString('base64')).toBe('W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA=');
});

test('webhooks: the URL is part of the signed text; inventory.count.updated becomes stock.changed', async () => {
  const conn = openSquare(clock());
  const ev = { ...example('InventoryCountUpdatedEvent'), created_at: '2026-01-10T11:59:00Z' };
  const body = JSON.stringify(ev);
  const url = 'https://hub.example.com/webhooks/square';
  const sig = squareSignature('signature-key', url, body).toString('base64');
  const replay = new MemoryReplayGuard();
  expect(await conn.webhook({ rawBody: body, url: 'https://attacker.example/x', headers: { 'x-square-hmacsha256-signature': sig } }, { secret: 'signature-key', replay })).toMatchObject({ status: 'rejected' });
  const ok = await conn.webhook({ rawBody: body, url, headers: { 'x-square-hmacsha256-signature': sig } }, { secret: 'signature-key', replay });
  expect(ok).toMatchObject({ status: 'accepted', deliveryId: 'df5f3813-a913-45a1-94e9-fdc3f7d5e3b6', events: [{ type: 'stock.changed', level: { sku: 'TEA-BLACK', externalItemId: 'FGQ5JJWT2PYTHF35CKZ2DSKP', externalLocationId: 'YYQR03DGCTXA4', available: 10, onHand: 10 } }] });
});

test('orders/search: body valid against SearchOrdersRequest, 72 h overlap on the second run, Square-Version pinned', async () => {
  const bodies: Json[] = [];
  const versions: unknown[] = [];
  nock(HOST).post('/v2/orders/search', (b) => (bodies.push(b), true)).times(2).reply(function () {
    versions.push(this.req.headers['square-version']);
    return [200, { orders: [squareOrder('A1', '2026-01-10T08:00:00.000Z')] }];
  });
  const c = clock();
  const first = await openSquare(c).readAll('orders');
  expect(first.records).toHaveLength(1);
  c.advance(3_600_000);
  const second = await openSquare(c).readAll('orders', first.state);
  expect(second.records).toHaveLength(0); // the same version re-read in the overlap is not emitted twice
  expect(versions).toEqual(['2026-05-20', '2026-05-20']);
  for (const b of bodies) expect(square.errors(b, square.ref('SearchOrdersRequest'))).toEqual([]);
  expect(bodies[1].query.filter.date_time_filter.updated_at.start_at).toBe(new Date(Date.parse(first.state.cursor!) - 72 * 3_600_000).toISOString());
  expect(bodies[0]).toMatchObject({ location_ids: ['057P5VYJ4A5X1', '18YC4JDH91E1H'], query: { sort: { sort_field: 'UPDATED_AT', sort_order: 'ASC' } } });
});

test('order mapping: minor units, catalog skus, counter sale vs pickup, custom-amount lines left out', () => {
  const o = mapSquareOrder(example('CreateOrderResponse').order, CATALOG_SKUS);
  expect(o).toMatchObject({ externalId: 'CAISENgvlJ6jLWAzERDzjyHVybY', name: 'my-order-001', status: 'OPEN', currency: 'USD', totalPrice: '61.76', method: 'PICKUP', tags: ['pos-location:057P5VYJ4A5X1', 'source:My App'] });
  expect(o.lines).toEqual([{ externalId: 'v8ZuEXpOJpb0bazLuvrLDB', sku: 'STEAK-NY-L', quantity: 2, unitPrice: '22.00', title: 'New York Steak — Larger' }]);
  const pickup = mapSquareOrder({ ...example('CreateOrderResponse').order, state: 'OPEN', fulfillments: [{ uid: 'f', type: 'PICKUP', state: 'PREPARED', pickup_details: { recipient: { display_name: 'Jane' } } }] }, CATALOG_SKUS);
  expect(pickup).toMatchObject({ method: 'PICKUP', tags: ['pickup-location:057P5VYJ4A5X1', 'square-fulfillment:PREPARED', 'source:My App'], customer: { name: 'Jane' } });
  expect(moneyFromMinor(1599, 'USD')).toBe('15.99');
  expect(moneyFromMinor(500, 'JPY')).toBe('500');
  expect(moneyFromMinor(-5, 'KWD')).toBe('-0.005');
  expect(moneyToMinor('149.50', 'EUR')).toBe(14950);
  expect(() => moneyToMinor('1.005', 'USD')).toThrow();
});

test('stock writes: PHYSICAL_COUNT and ADJUSTMENT valid against BatchChangeInventoryRequest, with idempotency keys', async () => {
  const bodies: Json[] = [];
  nock(HOST).post('/v2/inventory/changes/batch-create', (b) => (bodies.push(b), true)).times(2).reply(200, example('BatchChangeInventoryResponse'));
  const conn = openSquare(clock());
  await conn.push('setStock', { sku: 'COFFEE-BEANS-1KG', externalLocationId: 'C6W5YS5QM06F5', quantity: 53, idempotencyKey: 'count-1' });
  await conn.push('adjustStock', { sku: 'COFFEE-BEANS-1KG', externalLocationId: 'C6W5YS5QM06F5', delta: -2, reason: 'damaged', idempotencyKey: 'adj-1' });
  for (const b of bodies) expect(square.errors(b, square.requestSchema('/v2/inventory/changes/batch-create', 'post'))).toEqual([]);
  expect(bodies[0]).toEqual({ idempotency_key: 'count-1', ignore_unchanged_counts: true, changes: [{ type: 'PHYSICAL_COUNT', physical_count: { reference_id: 'count-1', catalog_object_id: 'W62UWFY35CWMYGVWK6TWJDNI', state: 'IN_STOCK', location_id: 'C6W5YS5QM06F5', quantity: '53', occurred_at: '2026-01-10T12:00:00.000Z' } }] });
  expect(bodies[1].changes[0]).toEqual({ type: 'ADJUSTMENT', adjustment: { reference_id: 'adj-1', catalog_object_id: 'W62UWFY35CWMYGVWK6TWJDNI', from_state: 'IN_STOCK', to_state: 'WASTE', location_id: 'C6W5YS5QM06F5', quantity: '2', occurred_at: '2026-01-10T12:00:00.000Z' } });
  // errors inside a 200 are VENDOR errors; unknown skus are looked up in the catalog first
  nock(HOST).post('/v2/catalog/search', (b) => b.query.exact_query.attribute_value === 'NEW-SKU').reply(200, { objects: [{ id: 'VAR1', type: 'ITEM_VARIATION', item_variation_data: { sku: 'NEW-SKU' } }] });
  nock(HOST).post('/v2/inventory/changes/batch-create').reply(200, { errors: [{ category: 'INVALID_REQUEST_ERROR', code: 'INVALID_VALUE', detail: 'bad location' }] });
  await expect(conn.push('setStock', { sku: 'NEW-SKU', externalLocationId: 'X', quantity: 1, idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'VENDOR', record: 'NEW-SKU' });
});

test('compare-and-set: expectedQuantity is checked against batch-retrieve counts before writing', async () => {
  nock(HOST).post('/v2/inventory/counts/batch-retrieve', (b) => square.errors(b, square.requestSchema('/v2/inventory/counts/batch-retrieve', 'post')).length === 0).reply(200, example('BatchRetrieveInventoryCountsResponse'));
  await expect(openSquare(clock()).push('setStock', { sku: 'COFFEE-BEANS-1KG', externalLocationId: '59TNP9SA8VGDA', quantity: 10, expectedQuantity: 70, idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'VENDOR', details: { actual: 79 } });
});

test('pickup order: CreateOrderRequest valid against the spec, PICKUP fulfilment, state read back; cancel at the current version', async () => {
  let sent: Json;
  nock(HOST).post('/v2/orders', (b) => ((sent = b), true)).reply(200, { order: { ...example('CreateOrderResponse').order, id: 'PICK1' } });
  const conn = openSquare(clock());
  const res = await conn.push('createOrder', {
    reference: 'hub-fo-9', channel: 'shopify', currency: 'USD', method: 'PICKUP', externalLocationId: '057P5VYJ4A5X1', pickupAt: '2026-01-11T15:00:00.000Z',
    customer: { name: 'Jane Doe', email: 'jane@example.com', phone: '+15555550100' },
    lines: [{ lineRef: 'line-1', sku: 'STEAK-NY-L', quantity: 2, unitPrice: '22.00' }], idempotencyKey: 'fo-9-create',
  });
  expect(res).toEqual({ externalId: 'PICK1' });
  expect(square.errors(sent, square.requestSchema('/v2/orders', 'post'))).toEqual([]);
  expect(sent.order.fulfillments).toEqual([{ type: 'PICKUP', state: 'PROPOSED', pickup_details: { recipient: { display_name: 'Jane Doe', email_address: 'jane@example.com', phone_number: '+15555550100' }, schedule_type: 'SCHEDULED', pickup_at: '2026-01-11T15:00:00.000Z' } }]);
  expect(sent).toMatchObject({ idempotency_key: 'fo-9-create', order: { location_id: '057P5VYJ4A5X1', reference_id: 'hub-fo-9', line_items: [{ catalog_object_id: 'BEMYCSMIJL46OCDV4KYIKXIB', quantity: '2', base_price_money: { amount: 2200, currency: 'USD' } }] } });

  const placed = { ...example('RetrieveOrderResponse').order, id: 'PICK1', version: 3, fulfillments: [{ uid: 'ful-1', type: 'PICKUP', state: 'PREPARED' }] };
  nock(HOST).get('/v2/orders/PICK1').times(2).reply(200, { order: placed });
  expect(await conn.lookupOrder('PICK1')).toMatchObject({ externalId: 'PICK1', status: 'OPEN', tags: expect.arrayContaining(['square-fulfillment:PREPARED']) });
  let update: Json;
  nock(HOST).put('/v2/orders/PICK1', (b) => ((update = b), true)).reply(200, { order: { ...placed, state: 'CANCELED' } });
  expect(await conn.push('cancelOrder', { orderExternalId: 'PICK1', idempotencyKey: 'cx' })).toEqual({ accepted: true });
  expect(square.errors(update, square.requestSchema('/v2/orders/{order_id}', 'put'))).toEqual([]);
  expect(update).toEqual({ idempotency_key: 'cx', order: { location_id: 'D7AVYMEAPJ3A3', version: 3, state: 'CANCELED', fulfillments: [{ uid: 'ful-1', state: 'CANCELED' }] } });
});

test('inventory stream: IN_STOCK counts, unknown catalog ids resolved once through batch-retrieve', async () => {
  nock(HOST).post('/v2/inventory/counts/batch-retrieve').reply(200, { counts: [{ catalog_object_id: 'NEWVAR', catalog_object_type: 'ITEM_VARIATION', location_id: '057P5VYJ4A5X1', quantity: '4', state: 'IN_STOCK', calculated_at: '2026-01-10T10:00:00Z' }], cursor: 'c2' });
  nock(HOST).post('/v2/inventory/counts/batch-retrieve', (b) => b.cursor === 'c2').reply(200, { counts: [{ catalog_object_id: 'NEWVAR', catalog_object_type: 'ITEM_VARIATION', location_id: '18YC4JDH91E1H', quantity: '-1', state: 'IN_STOCK', calculated_at: '2026-01-10T10:00:00Z' }] });
  nock(HOST).post('/v2/catalog/batch-retrieve', (b) => b.object_ids.join() === 'NEWVAR').once().reply(200, { objects: [{ id: 'NEWVAR', type: 'ITEM_VARIATION', item_variation_data: { sku: 'MUG-1' } }] });
  const { records } = await openSquare(clock()).readAll('inventory');
  expect(records).toEqual([
    { sku: 'MUG-1', externalItemId: 'NEWVAR', externalLocationId: '057P5VYJ4A5X1', available: 4, onHand: 4, updatedAt: '2026-01-10T10:00:00.000Z' },
    { sku: 'MUG-1', externalItemId: 'NEWVAR', externalLocationId: '18YC4JDH91E1H', available: 0, onHand: -1, updatedAt: '2026-01-10T10:00:00.000Z' },
  ]);
  expect(nock.isDone()).toBe(true);
});
