// Payloads: ../shared/fixtures/shopify/rest-2026-07/order-*.json, refund-1.json, inventory_level-4.json,
// fulfillment_order-3.json (ids), and the webhook signature vector from ../shared/fixtures/SOURCES.md.
import nock from 'nock';
import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { openConnection } from '../../../src/connectors/sdk/connector';
import { ConnectorError } from '../../../src/connectors/sdk/connector-error';
import { hmacSha256, MemoryReplayGuard } from '../../../src/connectors/sdk/webhooks';
import { shopifyConnector } from '../../../src/connectors/shopify/shopify.connector';
import { mapGqlOrder, mapRestOrder } from '../../../src/connectors/shopify/shopify.mapper';
import * as Q from '../../../src/connectors/shopify/shopify.queries';
import { fixtureJson, fixtureText } from '../fixtures';
import { coerceVariables } from './shopify-schema';
import { ORDER_FIXTURES, restOrders, restOrderToGql, THROTTLE_STATUS } from './shopify-fixtures';

const HOST = 'https://shop.test';
const GQL = '/admin/api/2026-07/graphql.json';
const cost = { cost: { requestedQueryCost: 10, actualQueryCost: 10, throttleStatus: THROTTLE_STATUS } };

function open(clock = new VirtualClock(Date.parse('2026-01-10T12:00:00Z'))) {
  return openConnection(shopifyConnector, {
    config: { shop: 'switchyard-test', baseUrl: HOST, startAt: '2026-01-09T00:00:00Z' },
    credentials: { accessToken: 'shpat_test', webhookSecret: 'test_secret_key' },
    clock,
    random: () => 0.5,
  });
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('mappers on vendor payloads', () => {
  test.each(ORDER_FIXTURES)('%s: the GraphQL shape and the webhook shape of the same order map identically', (file) => {
    for (const rest of restOrders(file)) expect(mapGqlOrder(restOrderToGql(rest))).toEqual(mapRestOrder(rest));
  });

  test('order-1.json maps to the expected canonical order', () => {
    const o = mapRestOrder(restOrders('order-1.json')[0]);
    expect(o).toMatchObject({
      externalId: '450789469',
      name: '#1001',
      currency: 'USD',
      totalPrice: '598.94',
      placedAt: '2008-01-10T16:00:00.000Z',
      updatedAt: '2025-04-02T16:31:21.000Z',
      method: 'SHIP',
      shipTo: { name: 'Bob Norman', line1: 'Chestnut Street 92', city: 'Louisville', region: 'KY', postalCode: '40202', country: 'US', latitude: 45.41634, longitude: -75.6868 },
      customer: { externalId: '207119551', email: 'bob.norman@mail.example.com', name: 'Bob Norman' },
    });
    expect(o.lines.map((l) => [l.externalId, l.sku, l.quantity, l.unitPrice])).toEqual([
      ['466157049', 'IPOD2008GREEN', 1, '199.00'],
      ['518995019', 'IPOD2008RED', 1, '199.00'],
      ['703073504', 'IPOD2008BLACK', 1, '199.00'],
    ]);
  });

  test('ids above 2^53 survive exactly (raw webhook text, not re-serialised)', () => {
    const text = fixtureText('shopify/rest-2026-07/order-1.json');
    const body = JSON.stringify(JSON.parse(text).order).replace('"id":450789469', '"id":820982911946154508');
    expect(body).toContain('820982911946154508');
    const sig = hmacSha256('s', body).toString('base64');
    const conn = open();
    const events = shopifyConnector.webhooks!.parse({ rawBody: body, headers: { 'x-shopify-topic': 'orders/create', 'x-shopify-hmac-sha256': sig } }, conn.ctx);
    expect(events[0]).toMatchObject({ type: 'order.upserted', order: { externalId: '820982911946154508' } });
    expect(String(JSON.parse(body).id)).not.toBe('820982911946154508'); // what plain JSON.parse would have done
  });

  test('a line item without a SKU still lands, flagged by its line id', () => {
    const rest = { ...restOrders('order-1.json')[0] };
    rest.line_items = [{ ...rest.line_items[0], sku: null }];
    expect(mapRestOrder(rest).lines[0].sku).toBe('shopify-line:466157049');
  });

  test('the mapper still refuses an order whose line items were not all read (the stream completes them first)', () => {
    const g = restOrderToGql(restOrders('order-1.json')[0]);
    g.lineItems.pageInfo.hasNextPage = true;
    expect(() => mapGqlOrder(g)).toThrow(/partial order/);
  });

  test('cancelled and fulfilment statuses', () => {
    const base = { ...restOrders('order-1.json')[0], cancelled_at: null };
    expect(mapRestOrder(restOrders('order-1.json')[0]).status).toBe('CANCELLED'); // order-1 was cancelled
    expect(mapRestOrder({ ...base, cancelled_at: '2025-04-02T11:00:00-05:00' })).toMatchObject({ status: 'CANCELLED', cancelledAt: '2025-04-02T16:00:00.000Z' });
    expect(mapRestOrder({ ...base, fulfillment_status: 'partial' }).status).toBe('PARTIALLY_FULFILLED');
    expect(mapRestOrder({ ...base, fulfillment_status: 'fulfilled', closed_at: null }).status).toBe('FULFILLED');
    expect(mapRestOrder({ ...base, fulfillment_status: null, financial_status: 'pending' }).status).toBe('PENDING');
  });
});

describe('webhooks', () => {
  test('SOURCES.md signature vector: secret test_secret_key over {"foo": "bar"}', () => {
    const req = { rawBody: '{"foo": "bar"}', headers: { 'X-Shopify-Hmac-Sha256': 'B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=' } };
    expect(shopifyConnector.webhooks!.verify(req, 'test_secret_key')).toBe(true);
    expect(shopifyConnector.webhooks!.verify(req, 'test_secret_kez')).toBe(false);
    expect(shopifyConnector.webhooks!.verify({ ...req, rawBody: '{"foo":"bar"}' }, 'test_secret_key')).toBe(false); // re-serialised body
    expect(shopifyConnector.webhooks!.verify({ ...req, headers: { 'X-Shopify-Hmac-Sha256': 'B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=AAAA' } }, 'test_secret_key')).toBe(false);
    expect(shopifyConnector.webhooks!.verify({ ...req, headers: {} }, 'test_secret_key')).toBe(false);
  });

  const deliver = async (topic: string, payload: unknown, id: string) => {
    const body = JSON.stringify(payload);
    const conn = open();
    return conn.webhook(
      { rawBody: body, headers: { 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': hmacSha256('test_secret_key', body).toString('base64'), 'x-shopify-event-id': id, 'x-shopify-triggered-at': '2026-01-10T11:59:00Z' } },
      { secret: 'test_secret_key', replay: new MemoryReplayGuard() },
    );
  };

  test('orders/cancelled → order.cancelled with the order', async () => {
    const order = { ...restOrders('order-1.json')[0], cancelled_at: '2025-04-02T11:00:00-05:00', cancel_reason: 'customer' };
    const out = await deliver('orders/cancelled', order, 'e1');
    expect(out).toMatchObject({ status: 'accepted', events: [{ type: 'order.cancelled', orderExternalId: '450789469', at: '2025-04-02T16:00:00.000Z', reason: 'customer' }] });
  });

  test('refunds/create (refund-1.json) → refund.created with restock lines', async () => {
    const out = await deliver('refunds/create', fixtureJson('shopify/rest-2026-07/refund-1.json').refunds[0], 'e2');
    expect(out.status).toBe('accepted');
    if (out.status !== 'accepted') return;
    expect(out.events[0]).toMatchObject({ type: 'refund.created', refund: { externalId: '509562969', orderExternalId: '450789469' } });
    const refund = (out.events[0] as { refund: { lines: unknown[] } }).refund;
    expect(refund.lines).toContainEqual({ orderLineExternalId: '703073504', sku: 'IPOD2008BLACK', quantity: 1, restock: true, externalLocationId: '487838322', amount: '195.66' });
  });

  test('inventory_levels/update (inventory_level-4.json) → stock.changed by item id', async () => {
    const out = await deliver('inventory_levels/update', fixtureJson('shopify/rest-2026-07/inventory_level-4.json').inventory_level, 'e3');
    expect(out).toMatchObject({ status: 'accepted', events: [{ type: 'stock.changed', level: { externalItemId: '808950810', externalLocationId: '655441491', available: 42 } }] });
  });

  test('an unknown topic or a payload missing fields is rejected with 400 and not remembered', async () => {
    expect(await deliver('products/create', { id: 1 }, 'e4')).toMatchObject({ status: 'rejected', httpStatus: 400, reason: expect.stringMatching(/unsupported topic/) });
    const { line_items: _x, ...noLines } = restOrders('order-1.json')[0];
    expect(await deliver('orders/create', noLines, 'e5')).toMatchObject({ status: 'rejected', httpStatus: 400, reason: expect.stringMatching(/450789469.*line_items/) });
  });
});

describe('pushes', () => {
  test('setStock sends inventorySetQuantities with changeFromQuantity and @idempotent, valid against the 2026 schema', async () => {
    let sent: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    nock(HOST)
      .post(GQL, (b) => ((sent = b), true))
      .reply(200, { data: { inventorySetQuantities: { inventoryAdjustmentGroup: { id: 'gid://shopify/InventoryAdjustmentGroup/77' }, userErrors: [] } }, extensions: cost });
    const res = await open().push('setStock', { sku: 'IPOD2008GREEN', externalItemId: '808950810', externalLocationId: '655441491', quantity: 42, expectedQuantity: 6, idempotencyKey: 'stock-1' });
    expect(res.externalId).toBe('77');
    expect(sent.query).toContain('@idempotent(key: $idempotencyKey)');
    expect(sent.variables.idempotencyKey).toBe('stock-1');
    expect(sent.variables.input.quantities).toEqual([{ inventoryItemId: 'gid://shopify/InventoryItem/808950810', locationId: 'gid://shopify/Location/655441491', quantity: 42, changeFromQuantity: 6 }]);
    expect(coerceVariables(sent.query, sent.variables)).toEqual([]);
  });

  test('setStock: a first level sends changeFromQuantity null; 503 is retried because the mutation is idempotent', async () => {
    const bodies: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
    nock(HOST).post(GQL, (b) => (bodies.push(b), true)).reply(503, 'busy');
    nock(HOST).post(GQL, (b) => (bodies.push(b), true)).reply(200, { data: { inventorySetQuantities: { inventoryAdjustmentGroup: { id: 'gid://shopify/InventoryAdjustmentGroup/78' }, userErrors: [] } } });
    await open().push('setStock', { sku: 'X', externalItemId: '1', externalLocationId: '2', quantity: 3, expectedQuantity: null, idempotencyKey: 'stock-2' });
    expect(bodies).toHaveLength(2);
    expect(bodies[1].variables.input.quantities[0].changeFromQuantity).toBeNull();
    expect(bodies[0].variables.idempotencyKey).toBe(bodies[1].variables.idempotencyKey);
  });

  test('setStock: a compare-and-set conflict comes back as a VENDOR error with the code', async () => {
    nock(HOST).post(GQL).reply(200, { data: { inventorySetQuantities: { inventoryAdjustmentGroup: null, userErrors: [{ field: ['input', 'quantities', '0', 'changeFromQuantity'], message: 'The quantity has changed', code: 'COMPARE_QUANTITY_STALE' }] } } });
    const err = await open().push('setStock', { sku: 'X', externalItemId: '1', externalLocationId: '2', quantity: 3, expectedQuantity: 1, idempotencyKey: 'k' }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ code: 'VENDOR', retryable: false });
    expect(err.message).toMatch(/COMPARE_QUANTITY_STALE/);
  });

  // Fulfilment order and line ids as in fulfillment_order-3.json / order-1.json.
  const fos = {
    data: {
      order: {
        id: 'gid://shopify/Order/450789469',
        fulfillmentOrders: {
          pageInfo: { hasNextPage: false, endCursor: null },
          nodes: [
            { id: 'gid://shopify/FulfillmentOrder/1046000784', status: 'CLOSED', assignedLocation: { location: { id: 'gid://shopify/Location/24826418' } }, lineItems: { nodes: [{ id: 'gid://shopify/FulfillmentOrderLineItem/1', remainingQuantity: 0, lineItem: { id: 'gid://shopify/LineItem/466157049', sku: 'IPOD2008GREEN' } }] } },
            { id: 'gid://shopify/FulfillmentOrder/1046000790', status: 'OPEN', assignedLocation: { location: { id: 'gid://shopify/Location/24826418' } }, lineItems: { nodes: [
              { id: 'gid://shopify/FulfillmentOrderLineItem/2', remainingQuantity: 1, lineItem: { id: 'gid://shopify/LineItem/518995019', sku: 'IPOD2008RED' } },
              { id: 'gid://shopify/FulfillmentOrderLineItem/3', remainingQuantity: 1, lineItem: { id: 'gid://shopify/LineItem/703073504', sku: 'IPOD2008BLACK' } },
            ] } },
          ],
        },
      },
    },
  };

  test('createShipment maps order lines onto open fulfilment orders and sends tracking', async () => {
    let sent: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    nock(HOST).post(GQL, (b) => /SwitchyardFulfillmentOrders/.test(b.query) && b.variables.id === 'gid://shopify/Order/450789469').reply(200, fos);
    nock(HOST).post(GQL, (b) => /SwitchyardFulfillmentCreate/.test(b.query) && ((sent = b), true)).reply(200, { data: { fulfillmentCreate: { fulfillment: { id: 'gid://shopify/Fulfillment/255858046', status: 'SUCCESS' }, userErrors: [] } } });
    const res = await open().push('createShipment', {
      orderExternalId: '450789469', externalLocationId: '24826418', carrier: 'UPS', trackingNumber: '1Z999', trackingUrl: 'https://ups.example/1Z999',
      shippedAt: '2026-01-10T12:00:00.000Z', lines: [{ orderLineExternalId: '518995019', quantity: 1 }], idempotencyKey: 'ship-1',
    });
    expect(res.externalId).toBe('255858046');
    expect(sent.variables.fulfillment).toEqual({
      notifyCustomer: true,
      trackingInfo: { company: 'UPS', number: '1Z999', url: 'https://ups.example/1Z999' },
      lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: 'gid://shopify/FulfillmentOrder/1046000790', fulfillmentOrderLineItems: [{ id: 'gid://shopify/FulfillmentOrderLineItem/2', quantity: 1 }] }],
    });
    expect(coerceVariables(sent.query, sent.variables)).toEqual([]);
  });

  test('createShipment refuses lines that are not open (nothing is sent) and is not resent on 5xx', async () => {
    nock(HOST).post(GQL).reply(200, fos);
    const err = await open().push('createShipment', { orderExternalId: '450789469', carrier: 'UPS', trackingNumber: '1', shippedAt: '2026-01-10T12:00:00.000Z', lines: [{ orderLineExternalId: '466157049', quantity: 1 }], idempotencyKey: 's' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'VENDOR', record: '466157049' });
    expect(nock.isDone()).toBe(true);

    nock(HOST).post(GQL).reply(200, fos);
    const create = nock(HOST).post(GQL).times(2).reply(502, 'bad gateway');
    const err2 = await open().push('createShipment', { orderExternalId: '450789469', carrier: 'UPS', trackingNumber: '1', shippedAt: '2026-01-10T12:00:00.000Z', lines: [{ orderLineExternalId: '518995019', quantity: 1 }], idempotencyKey: 's' }).catch((e) => e);
    expect(err2).toMatchObject({ code: 'HTTP', status: 502, retryable: false, attempts: 1 });
    expect(create.pendingMocks()).toHaveLength(1); // exactly one attempt
  });

  test('cancelOrder sends orderCancel and surfaces orderCancelUserErrors', async () => {
    let sent: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    nock(HOST).post(GQL, (b) => ((sent = b), true)).reply(200, { data: { orderCancel: { job: { id: 'gid://shopify/Job/9' }, orderCancelUserErrors: [] } } });
    expect(await open().push('cancelOrder', { orderExternalId: '450789469', reason: 'out of stock', idempotencyKey: 'c1' })).toEqual({ externalId: '9', accepted: true });
    expect(sent.variables).toMatchObject({ orderId: 'gid://shopify/Order/450789469', reason: 'OTHER', refund: true, restock: true, staffNote: 'out of stock' });
    expect(coerceVariables(sent.query, sent.variables)).toEqual([]);

    nock(HOST).post(GQL).reply(200, { data: { orderCancel: { job: null, orderCancelUserErrors: [{ field: ['orderId'], message: 'Order has already been cancelled', code: 'INVALID' }] } } });
    await expect(open().push('cancelOrder', { orderExternalId: '450789469', idempotencyKey: 'c2' })).rejects.toThrow(/already been cancelled/);
  });
});

describe('ship-to address', () => {
  test('updateShipTo sends orderUpdate with the shipping address (valid against the schema) and surfaces userErrors', async () => {
    let sent: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    nock(HOST).post(GQL, (b) => ((sent = b), true)).reply(200, { data: { orderUpdate: { order: { id: 'gid://shopify/Order/450789469' }, userErrors: [] } }, extensions: cost });
    const cmd = { orderExternalId: '450789469', reference: 'o-1', shipTo: { name: 'Bob van Norman', line1: '200 Elm Street', city: 'Springfield', region: 'IL', postalCode: '62701', country: 'US' }, idempotencyKey: 'a' };
    expect(await open().push('updateShipTo', cmd)).toEqual({ externalId: '450789469' });
    expect(sent.query).toBe(Q.ORDER_UPDATE_SHIPPING);
    expect(sent.variables).toEqual({ input: { id: 'gid://shopify/Order/450789469', shippingAddress: {
      firstName: 'Bob van', lastName: 'Norman', address1: '200 Elm Street', city: 'Springfield', provinceCode: 'IL', zip: '62701', countryCode: 'US' } } });
    expect(coerceVariables(sent.query, sent.variables)).toEqual([]);

    nock(HOST).post(GQL).reply(200, { data: { orderUpdate: { order: null, userErrors: [{ field: ['shippingAddress', 'provinceCode'], message: 'Province is invalid' }] } }, extensions: cost });
    await expect(open().push('updateShipTo', { ...cmd, shipTo: { ...cmd.shipTo, region: 'Illinoisx' } })).rejects.toThrow(/Province is invalid/);
  });
});

describe('streams, check and config', () => {
  test('locations and inventory streams read GraphQL pages to canonical DTOs', async () => {
    nock(HOST).post(GQL, (b) => /SwitchyardLocations/.test(b.query)).reply(200, {
      data: { locations: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [{ id: 'gid://shopify/Location/487838322', name: 'Fifth Avenue AppleStore', isActive: true, address: { address1: null, address2: null, city: null, province: null, provinceCode: null, zip: null, countryCode: 'US', latitude: null, longitude: null, phone: null } }] } },
    });
    nock(HOST).post(GQL, (b) => /SwitchyardInventory/.test(b.query)).reply(200, {
      data: { inventoryItems: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [
        { id: 'gid://shopify/InventoryItem/808950810', sku: 'IPOD2008GREEN', inventoryLevels: { pageInfo: { hasNextPage: false }, nodes: [
          { updatedAt: '2025-04-02T11:29:59-05:00', location: { id: 'gid://shopify/Location/487838322' }, quantities: [{ name: 'available', quantity: 9 }, { name: 'on_hand', quantity: 11 }] },
          { updatedAt: '2025-04-02T11:29:59-05:00', location: { id: 'gid://shopify/Location/655441491' }, quantities: [{ name: 'available', quantity: 1 }, { name: 'on_hand', quantity: 1 }] },
        ] } },
        { id: 'gid://shopify/InventoryItem/5', sku: null, inventoryLevels: { nodes: [] } },
      ] } },
    });
    const conn = open();
    expect((await conn.readAll('locations')).records).toEqual([{ externalId: '487838322', name: 'Fifth Avenue AppleStore', active: true, address: { name: 'Fifth Avenue AppleStore', country: 'US' } }]);
    expect((await conn.readAll('inventory')).records).toEqual([
      { sku: 'IPOD2008GREEN', externalLocationId: '487838322', externalItemId: '808950810', available: 9, onHand: 11, updatedAt: '2025-04-02T16:29:59.000Z' },
      { sku: 'IPOD2008GREEN', externalLocationId: '655441491', externalItemId: '808950810', available: 1, onHand: 1, updatedAt: '2025-04-02T16:29:59.000Z' },
    ]);
  });

  test('ordersBackfill runs a bulk operation, polls it, and rebuilds orders from JSONL', async () => {
    const g = restOrderToGql(restOrders('order-1.json')[0]);
    const { lineItems, fulfillmentOrders: _fo, ...orderFields } = g;
    const jsonl = [JSON.stringify(orderFields), ...lineItems.nodes.map((l: object) => JSON.stringify({ ...l, __parentId: g.id }))].join('\n') + '\n';
    let inner = '';
    nock(HOST).post(GQL, (b) => /SwitchyardBulkOrders/.test(b.query) && ((inner = b.variables.query), true)).reply(200, { data: { bulkOperationRunQuery: { bulkOperation: { id: 'gid://shopify/BulkOperation/1', status: 'CREATED' }, userErrors: [] } } });
    nock(HOST).post(GQL, (b) => /SwitchyardBulkStatus/.test(b.query)).reply(200, { data: { currentBulkOperation: { id: 'gid://shopify/BulkOperation/1', status: 'RUNNING', errorCode: null, objectCount: '1', url: null } } });
    nock(HOST).post(GQL, (b) => /SwitchyardBulkStatus/.test(b.query)).reply(200, { data: { currentBulkOperation: { id: 'gid://shopify/BulkOperation/1', status: 'COMPLETED', errorCode: null, objectCount: '4', url: 'https://storage.test/bulk/1.jsonl' } } });
    nock('https://storage.test').get('/bulk/1.jsonl').reply(200, jsonl, { 'content-type': 'application/jsonl' });
    const clock = new VirtualClock(Date.parse('2026-01-10T12:00:00Z'));
    const { records } = await open(clock).readAll('ordersBackfill');
    expect(records).toEqual([mapRestOrder(restOrders('order-1.json')[0])]);
    expect(inner).toContain("updated_at:<'2026-01-10T12:00:00.000Z'");
    expect(clock.sleeps).toEqual([1000]);
  });

  test('check: ok with a valid token; AUTH error on 401', async () => {
    nock(HOST).post(GQL).reply(200, { data: { shop: { name: 'Switchyard test' } }, extensions: cost });
    expect(await open().check()).toEqual({ ok: true });
    nock(HOST).post(GQL).reply(401, { errors: '[API] Invalid API key or access token' }, { 'x-request-id': 'r-401' });
    const res = await open().check();
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error).toMatchObject({ code: 'AUTH', status: 401, requestId: 'r-401', retryable: false });
  });

  test('the cost bucket waits before a query the bucket cannot afford', async () => {
    const clock = new VirtualClock(Date.parse('2026-01-10T12:00:00Z'));
    nock(HOST).post(GQL).reply(200, { data: { shop: { name: 's' } }, extensions: { cost: { requestedQueryCost: 1, actualQueryCost: 1, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 0, restoreRate: 100 } } } });
    nock(HOST).post(GQL).reply(200, { data: { orders: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] } } });
    const conn = open(clock);
    await conn.check();
    await conn.readAll('orders');
    expect(clock.sleeps[0]).toBe(Math.ceil((Q.ORDERS_QUERY_COST / 100) * 1000));
  });

  test('config and credentials are validated', () => {
    expect(() => openConnection(shopifyConnector, { config: { shop: 'not a shop!' }, credentials: { accessToken: 'x' } })).toThrow(/invalid shopify config: shop/);
    expect(() => openConnection(shopifyConnector, { config: { shop: 'ok' }, credentials: {} })).toThrow(/invalid shopify credentials: accessToken/);
  });
});
