// A customer corrects the shipping address after ordering (Shopify orders/updated carries the new shipping_address):
// the hub ships the units not shipped yet there, the 3PL or ERP holding the fulfilment order is sent the new address
// (ShipBob: PUT /shipment/{id}:updateAddress; Odoo: a delivery contact as the sale order's partner_shipping_id), and
// nothing changes once the goods are gone. Payloads: the REST order of ../shared/fixtures/shopify/rest-2026-07/
// order-1.json, signed as Shopify signs its webhooks; ShipBob's answers are the examples of
// ../shared/fixtures/shipbob/openapi-2026-01.json; Odoo is scripted as in test/connectors/odoo (no vendor fixture).
import nock from 'nock';
import { FulfillmentOrderStatus as FO } from '../../src/model/enums';
import { TransitionRejected } from '../../src/orders/order.service';
import { HOST as ODOO, odooServer } from '../connectors/odoo/odoo-fixtures';
import { responseExample, shipbob } from '../connectors/shipbob/shipbob-fixtures';
import { restOrders } from '../connectors/shopify/shopify-fixtures';
import { deliverShopifyOrder } from '../support/shopify-webhook';
import { assertStockInvariants, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const SECRET = 'shopify_webhook_secret_ship_to';
const CHANNEL = 'shop-ship-to';
const SHIPBOB = 'https://shipbob-ship-to.test';
const base = restOrders('order-1.json')[0];
const OLD = base.shipping_address;
const NEW = { ...OLD, address1: '200 Elm Street', city: 'Springfield', zip: '62701', province: 'Illinois', province_code: 'IL', latitude: 39.7817, longitude: -89.6501 };

let t: TestHub;
let shipbobId: string;
let odooId: string;
beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  t = await createTestHub({ config: { masterKey: 'ship-to-master-key-0123456789abcdefghijkl' } });
  await seedSmallNetwork(t.services);
  await t.services.inventory.set({ sku: 'A', locationCode: 'WH-A', onHand: 100 }, 'test');
  await t.services.inventory.set({ sku: 'C', locationCode: 'WH-B', onHand: 100 }, 'test');
  await t.services.inventory.set({ sku: 'B', locationCode: 'ST-1', onHand: 100 }, 'test');
  await t.services.connections.create({ name: CHANNEL, kind: 'shopify', config: { shop: 'ship-to', baseUrl: 'https://ship-to.myshopify.test' },
    credentials: { accessToken: 'shpat_unused', webhookSecret: SECRET } });
  shipbobId = (await t.services.connections.create({ name: 'shipbob-ship-to', kind: 'shipbob', config: { channelId: '1', baseUrl: SHIPBOB },
    credentials: { accessToken: 'pat' }, settings: { fulfilsLocations: ['WH-A'] } })).id;
  odooId = (await t.services.connections.create({ name: 'odoo-ship-to', kind: 'odoo', config: { url: ODOO, baseUrl: ODOO },
    credentials: { apiKey: 'key' }, settings: { fulfilsLocations: ['WH-B'] } })).id;
});
afterAll(async () => {
  await t.close();
  nock.cleanAll();
  nock.enableNetConnect();
});

async function deliver(topic: string, id: number, updatedAt: string, sku: string, address: Json) {
  const order = { ...base, id, name: `#${id}`, updated_at: updatedAt, cancelled_at: null, closed_at: null, fulfillment_status: null, shipping_address: address,
    line_items: [{ ...base.line_items[0], id: id * 10 + 1, sku, quantity: 1, current_quantity: 1, fulfillable_quantity: 1 }] };
  await deliverShopifyOrder(t, { name: CHANNEL, secret: SECRET }, topic, order);
}

async function state(externalId: number) {
  const ds = t.db.dataSource;
  const [order] = await ds.query(`SELECT id, status, version, ship_to FROM orders WHERE channel = $1 AND external_id = $2`, [CHANNEL, String(externalId)]);
  const fos = await ds.query(`SELECT id, status FROM fulfillment_order WHERE order_id = $1 ORDER BY created_at`, [order.id]);
  const history = (await ds.query(`SELECT from_status, to_status, reason FROM order_transition WHERE order_id = $1 AND from_status = to_status ORDER BY id`, [order.id]))
    .map((h: { reason: string }) => h.reason);
  const outbox = await ds.query(`SELECT topic, connection_id, status, last_error FROM outbox_event WHERE aggregate_id = ANY($1) ORDER BY id`, [fos.map((f: { id: string }) => f.id)]);
  return { id: order.id as string, status: order.status as string, version: order.version as number, shipTo: order.ship_to, fos, history, outbox };
}

test('a new address from the channel: the order ships there, ShipBob is sent it once per change, and a stale or repeated update changes nothing', async () => {
  await deliver('orders/create', 500, '2026-01-01T10:00:00Z', 'A', OLD);
  const placed = await state(500);
  expect(placed).toMatchObject({ status: 'ALLOCATED', shipTo: { line1: 'Chestnut Street 92', city: 'Louisville', region: 'KY' }, history: [] });
  // The fulfilment order reaches ShipBob (looked up by reference first, then created).
  const fo = placed.fos[0].id;
  nock(SHIPBOB).get('/2026-01/order').query({ ReferenceIds: fo }).reply(200, []);
  nock(SHIPBOB).post('/2026-01/order').reply(201, { ...responseExample('/2026-01/order', 'post', '201'), id: 9001, reference_id: fo });
  await t.services.sync.outbox.drain();

  await deliver('orders/updated', 500, '2026-01-01T11:00:00Z', 'A', NEW);
  const moved = await state(500);
  expect(moved).toMatchObject({ status: 'ALLOCATED', version: placed.version + 1,
    shipTo: { name: 'Bob Norman', line1: '200 Elm Street', city: 'Springfield', region: 'IL', postalCode: '62701', country: 'US', latitude: 39.7817, longitude: -89.6501 } });
  expect(moved.history).toEqual([`ship-to changed in ${CHANNEL}: Chestnut Street 92, Louisville KY 40202, US → 200 Elm Street, Springfield IL 62701, US`]);
  expect(moved.fos).toEqual(placed.fos); // the stock stays where it is reserved
  expect(moved.outbox.map((e: Json) => [e.topic, e.status])).toEqual([['fulfillment.create', 'SENT'], ['fulfillment.address', 'PENDING']]);

  // ShipBob keeps the address per shipment: the one not labelled yet gets it, in the spec's shape.
  const sent: Json[] = [];
  const listed = responseExample('/2026-01/order/{orderId}/shipment', 'get');
  nock(SHIPBOB).get('/2026-01/order/9001/shipment').reply(200, [{ ...listed[0], id: 77, order_id: 9001, status: 'Processing' }]);
  nock(SHIPBOB).put('/2026-01/shipment/77:updateAddress', (b) => (sent.push(b), true)).reply(200, { id: 77, is_success: true });
  await t.services.sync.outbox.drain();
  expect(nock.isDone()).toBe(true);
  expect(sent).toEqual([expect.objectContaining({ recipient_name: 'Bob Norman', street_address1: '200 Elm Street', city: 'Springfield', state: 'IL', zip_code: '62701', country_code: 'US' })]);
  expect(shipbob.errors(sent[0], shipbob.requestSchema('/2026-01/shipment/{shipmentId}:updateAddress', 'put'))).toEqual([]);
  expect((await state(500)).outbox.map((e: Json) => e.status)).toEqual(['SENT', 'SENT']);

  // The same view again under a new event id, an older one with the old address, and one without the street (a
  // redacted view, not a correction): nothing moves.
  await deliver('orders/updated', 500, '2026-01-01T12:00:00Z', 'A', NEW);
  await deliver('orders/updated', 500, '2026-01-01T10:30:00Z', 'A', OLD);
  await deliver('orders/updated', 500, '2026-01-01T12:30:00Z', 'A', { ...NEW, address1: null, name: null, first_name: null, last_name: null });
  const again = await state(500);
  expect(again).toMatchObject({ version: moved.version, shipTo: moved.shipTo, history: moved.history });
  expect(again.outbox).toHaveLength(2);
  // The channel made the change: nothing goes back to it.
  expect(await t.db.dataSource.query(`SELECT topic FROM outbox_event WHERE aggregate_id = $1`, [again.id])).toEqual([]);

  // A detail added, then removed again (no apartment after all): both are the customer's corrections.
  nock(SHIPBOB).get('/2026-01/order/9001/shipment').times(2).reply(200, [{ ...listed[0], id: 77, order_id: 9001, status: 'Processing' }]);
  nock(SHIPBOB).put('/2026-01/shipment/77:updateAddress').times(2).reply(200, { id: 77, is_success: true });
  await deliver('orders/updated', 500, '2026-01-01T13:00:00Z', 'A', { ...NEW, address2: 'Apt 4' });
  expect((await state(500)).shipTo).toMatchObject({ line2: 'Apt 4' });
  await deliver('orders/updated', 500, '2026-01-01T14:00:00Z', 'A', NEW);
  const last = await state(500);
  expect(last.shipTo.line2 ?? null).toBeNull();
  expect(last.history).toHaveLength(3);
  await t.services.sync.outbox.drain();
  expect(nock.isDone()).toBe(true);
  await assertStockInvariants(t.db.dataSource);
});

test('once the goods have shipped, a later address from the channel is not applied, and the rest of the update still lands', async () => {
  await deliver('orders/create', 510, '2026-01-01T10:00:00Z', 'A', OLD);
  const placed = await state(510);
  nock(SHIPBOB).get('/2026-01/order').query({ ReferenceIds: placed.fos[0].id }).reply(200, []);
  nock(SHIPBOB).post('/2026-01/order').reply(201, { ...responseExample('/2026-01/order', 'post', '201'), id: 9002, reference_id: placed.fos[0].id });
  await t.services.sync.outbox.drain();
  expect(nock.isDone()).toBe(true);
  for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED, FO.SHIPPED]) await t.services.orders.transitionFulfillment(placed.fos[0].id, to, 'wh');
  // (The tracking that goes back to the shop is not this test's business: the shop turns it away at once.)
  nock('https://ship-to.myshopify.test').post(/graphql/).reply(403, { errors: 'not in this test' });
  await t.services.sync.outbox.drain();
  const shipped = await state(510);
  expect(shipped.status).toBe('SHIPPED');

  await deliver('orders/updated', 510, '2026-01-01T11:00:00Z', 'A', NEW);
  const after = await state(510);
  expect(after).toMatchObject({ status: 'SHIPPED', version: shipped.version, shipTo: shipped.shipTo, history: [] });
  expect(after.outbox.map((e: Json) => e.topic)).not.toContain('fulfillment.address');
  // The delivery was processed (not quarantined): the channel's version is remembered.
  const [ref] = await t.db.dataSource.query(`SELECT source_updated_at FROM external_ref WHERE entity_type = 'ORDER' AND external_id = '510'`);
  expect(new Date(ref.source_updated_at).toISOString()).toBe('2026-01-01T11:00:00.000Z');
  // An operator cannot either.
  const rejected = await t.services.orders.changeShipTo(after.id, { line1: '1 Other Rd', city: 'Chicago', country: 'US' }, 'ops');
  expect(rejected).toBeInstanceOf(TransitionRejected);
  expect((rejected as TransitionRejected).message).toContain('can no longer change');
});

test('an operator corrects the address; the ERP holding the order is sent it; one that has nothing left to ship keeps the event as a dead letter that says so', async () => {
  // SKU C is stocked at WH-B only, which the ERP fulfils: the fulfilment order goes to Odoo, shipping to a delivery
  // contact with the order's address.
  const contacts: Json[] = [];
  let open = [{ id: 5 }];
  const calls = odooServer({
    'sale.order.search_read': (body: Json) => (body.domain[0][0] === 'client_order_ref' ? [] : [{ id: 42, state: 'sale', name: 'S00042', partner_id: [3, 'Bob Norman'] }]),
    'product.product.search_read': [{ id: 7, default_code: 'C' }],
    'res.partner.search_read': (body: Json) => (body.domain[0][0] === 'email' ? [{ id: 3 }] : []),
    'res.country.search_read': [{ id: 233 }],
    'res.partner.create': (body: Json) => (contacts.push(body.vals_list[0]), [60 + contacts.length]),
    'sale.order.create': [42], 'sale.order.action_confirm': true,
    'stock.picking.search_read': () => open, 'sale.order.write': true, 'stock.picking.write': true,
  });
  await deliver('orders/create', 520, '2026-01-01T10:00:00Z', 'C', OLD);
  const placed = await state(520);
  await t.services.sync.outbox.drain();
  expect(calls.find((c) => c.model === 'sale.order' && c.method === 'create')!.body.vals_list[0]).toMatchObject({ client_order_ref: placed.fos[0].id, partner_shipping_id: 61 });
  expect(contacts[0]).toMatchObject({ parent_id: 3, type: 'delivery', street: 'Chestnut Street 92', city: 'Louisville' });

  // Bad input is refused with the field named, and nothing changes.
  await expect(t.services.orders.changeShipTo(placed.id, { line1: '1 Main St', city: 'Springfield', country: 'USA' }, 'ops'))
    .rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'shipTo.country' });
  expect((await state(520)).version).toBe(placed.version);

  // (The shop takes each correction too; that is the next test's business.)
  nock('https://ship-to.myshopify.test').post(/graphql/).times(2).reply(200, { data: { orderUpdate: { order: { id: 'gid://shopify/Order/520' }, userErrors: [] } } });
  const order = await t.services.orders.changeShipTo(placed.id, { name: 'Bob Norman', line1: '1 Main St', city: 'Springfield', region: 'IL', postalCode: '62701', country: 'US' }, 'ops');
  expect(order).not.toBeInstanceOf(TransitionRejected);
  expect((await state(520)).history).toEqual(['ship-to changed: Chestnut Street 92, Louisville KY 40202, US → 1 Main St, Springfield IL 62701, US']);
  await t.services.sync.outbox.drain();
  expect(contacts[1]).toMatchObject({ parent_id: 3, type: 'delivery', street: '1 Main St', city: 'Springfield', zip: '62701' });
  expect(calls.filter((c) => c.method === 'write').map((c) => [c.model, c.body])).toEqual([
    ['sale.order', { ids: [42], vals: { partner_shipping_id: 62 } }], ['stock.picking', { ids: [5], vals: { partner_id: 62 } }]]);

  // The ERP has shipped everything meanwhile (the hub has not heard yet): the next change cannot be made there.
  open = [];
  await t.services.orders.changeShipTo(placed.id, { line1: '9 Oak Ave', city: 'Springfield', region: 'IL', postalCode: '62704', country: 'US' }, 'ops');
  await t.services.sync.outbox.drain();
  const dead = (await state(520)).outbox.filter((e: Json) => e.topic === 'fulfillment.address');
  expect(dead.map((e: Json) => [e.connection_id, e.status])).toEqual([[odooId, 'SENT'], [odooId, 'DEAD']]);
  expect(dead[1].last_error).toContain('sale order S00042 has no delivery left to ship: its address cannot change in Odoo');
  // Nothing else is left to send, to anyone.
  expect(await t.db.dataSource.query(`SELECT topic FROM outbox_event WHERE status = 'PENDING'`)).toEqual([]);
  expect(nock.isDone()).toBe(true);
  await assertStockInvariants(t.db.dataSource);
});

test('an operator\'s correction goes back to the shop, and the shop\'s next update, still showing the old address, does not undo it', async () => {
  // SKU B ships from the store, which no connection fulfils: only the shop is told.
  await deliver('orders/create', 530, '2026-01-01T10:00:00Z', 'B', OLD);
  const placed = await state(530);
  const corrected = { name: 'Bob Norman', line1: '5 Corrected Way', city: 'Louisville', region: 'KY', postalCode: '40203', country: 'US' };
  await t.services.orders.changeShipTo(placed.id, corrected, 'ops');
  let sent: Json;
  nock('https://ship-to.myshopify.test').post(/graphql/, (b) => ((sent = b), true))
    .reply(200, { data: { orderUpdate: { order: { id: 'gid://shopify/Order/530' }, userErrors: [] } } });
  await t.services.sync.outbox.drain();
  expect(nock.isDone()).toBe(true);
  expect(sent.variables.input).toEqual({ id: 'gid://shopify/Order/530', shippingAddress: {
    firstName: 'Bob', lastName: 'Norman', address1: '5 Corrected Way', city: 'Louisville', provinceCode: 'KY', zip: '40203', countryCode: 'US', phone: expect.any(String) } });
  const orderEvents = async () => t.db.dataSource.query(`SELECT topic, status FROM outbox_event WHERE aggregate_id = $1 ORDER BY id`, [placed.id]);
  expect(await orderEvents()).toEqual([{ topic: 'order.address', status: 'SENT' }]);

  // An update the shop sent before it took the correction (a tag, say) still shows the old address: kept as corrected.
  await deliver('orders/updated', 530, '2026-01-01T11:00:00Z', 'B', OLD);
  expect((await state(530)).shipTo).toMatchObject({ line1: '5 Corrected Way', postalCode: '40203' });
  // The shop now shows the correction: nothing to do. Then the customer changes it again in the shop: that counts.
  const shopShows = { ...OLD, address1: '5 Corrected Way', zip: '40203', latitude: null, longitude: null };
  await deliver('orders/updated', 530, '2026-01-01T12:00:00Z', 'B', shopShows);
  await deliver('orders/updated', 530, '2026-01-01T13:00:00Z', 'B', NEW);
  const last = await state(530);
  expect(last.shipTo).toMatchObject({ line1: '200 Elm Street', city: 'Springfield' });
  expect(last.history).toEqual([
    'ship-to changed: Chestnut Street 92, Louisville KY 40202, US → 5 Corrected Way, Louisville KY 40203, US',
    `ship-to changed in ${CHANNEL}: 5 Corrected Way, Louisville KY 40203, US → 200 Elm Street, Springfield IL 62701, US`,
  ]);
  expect(await orderEvents()).toEqual([{ topic: 'order.address', status: 'SENT' }]); // the shop's own change is not echoed
});
