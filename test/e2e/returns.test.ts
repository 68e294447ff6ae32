import { FulfillmentOrderStatus as FO, LocationCapability as Cap, LocationType } from '../../src/model/enums';
import { ADMIN, createTestHub, type TestHub } from '../support/test-hub';
import { gql } from '../support/graphql-client';

/** Checkout to return over HTTP: options, order, promise, shipping, a return at a store that never shipped it. */
let t: TestHub;
let url: string;
beforeAll(async () => {
  t = await createTestHub({ serve: true });
  url = `http://127.0.0.1:${t.hub!.port}/graphql`;
  const s = t.services;
  await s.locations.upsert({ code: 'WH-CHI', name: 'Chicago DC', type: LocationType.WAREHOUSE, country: 'US', latitude: 41.85, longitude: -87.65, timeZone: 'America/Chicago', capabilities: [Cap.SHIP] });
  await s.locations.upsert({ code: 'ST-EVANSTON', name: 'Evanston', type: LocationType.STORE, country: 'US', latitude: 42.05, longitude: -87.68, timeZone: 'America/Chicago', capabilities: [Cap.PICKUP, Cap.RETURNS] });
  await s.products.upsert({ sku: 'JACKET', name: 'Jacket' });
  await s.inventory.set({ sku: 'JACKET', locationCode: 'WH-CHI', onHand: 10 }, 'test');
});
afterAll(async () => { await t?.close(); });

const call = (query: string, variables?: Record<string, unknown>, headers = ADMIN) => gql(url, query, variables, headers);
const DESTINATION = { country: 'US', city: 'Chicago', region: 'IL', latitude: 41.88, longitude: -87.63 };

it('from delivery options to a graded return and a kept promise', async () => {
  const opts = await call(`query($lines: [OrderLineInput!]!, $destination: AddressInput!) {
    deliveryOptions(lines: $lines, destination: $destination, channel: "web") {
      method serviceLevel carrierServiceCode locationCode earliestDelivery latestDelivery readyBy price split shipments { locationCode lines { sku quantity } shipDate } } }`,
  { lines: [{ sku: 'JACKET', quantity: 2 }], destination: DESTINATION });
  expect(opts.errors).toBeUndefined();
  const ground = opts.data.deliveryOptions.find((o: any) => o.carrierServiceCode === 'PARCEL-GROUND');
  expect(ground).toMatchObject({ method: 'SHIP', serviceLevel: 'STANDARD', locationCode: 'WH-CHI', split: false, shipments: [{ locationCode: 'WH-CHI', lines: [{ sku: 'JACKET', quantity: 2 }] }] });

  const placed = await call(`mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { ... on Order { id status fulfillmentOrders { id locationCode } } } }`,
    { input: { channel: 'web', externalId: 'E2E-RET-1', lines: [{ sku: 'JACKET', quantity: 2, unitPrice: '80.00' }], shipTo: DESTINATION } });
  const order = placed.data.placeOrder;
  expect(order.fulfillmentOrders.map((f: any) => f.locationCode)).toEqual([ground.locationCode]);
  const promise = await call(`mutation($input: DeliveryPromiseInput!) { recordDeliveryPromise(input: $input) { orderId serviceLevel timeZone } }`,
    { input: { orderId: order.id, carrierServiceCode: ground.carrierServiceCode, earliestDelivery: ground.earliestDelivery, latestDelivery: '2099-12-31' } });
  expect(promise.data.recordDeliveryPromise).toEqual({ orderId: order.id, serviceLevel: 'STANDARD', timeZone: 'America/Chicago' });

  const fo = order.fulfillmentOrders[0].id;
  for (const step of ['acceptFulfillmentOrder', 'pickFulfillmentOrder', 'packFulfillmentOrder', 'shipFulfillmentOrder', 'confirmFulfillmentOrderDelivered']) {
    const r = await call(`mutation($id: ID!) { ${step}(id: $id) { __typename } }`, { id: fo });
    expect(r.errors).toBeUndefined();
  }
  const accuracy = await call(`{ promiseAccuracy { promised delivered kept keptShare byServiceLevel { serviceLevel keptShare } } }`);
  expect(accuracy.data.promiseAccuracy).toEqual({ promised: 1, delivered: 1, kept: 1, keptShare: 1, byServiceLevel: [{ serviceLevel: 'STANDARD', keptShare: 1 }] });

  const RETURN = `id rma status method locationCode refundAmount lines { sku quantity receivedQuantity } units { sku condition quantity locationCode restocked }`;
  const over = await call(`mutation($input: CreateReturnInput!) { createReturn(input: $input) { id } }`,
    { input: { orderId: order.id, method: 'IN_STORE', locationCode: 'ST-EVANSTON', lines: [{ sku: 'JACKET', quantity: 3 }] } });
  expect(over.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.lines[0].quantity' });

  const created = await call(`mutation($input: CreateReturnInput!) { createReturn(input: $input) { ${RETURN} } }`,
    { input: { orderId: order.id, method: 'IN_STORE', locationCode: 'ST-EVANSTON', reason: 'changed mind', lines: [{ sku: 'JACKET', quantity: 2 }] } });
  expect(created.errors).toBeUndefined();
  expect(created.data.createReturn).toMatchObject({ status: 'REQUESTED', method: 'IN_STORE', locationCode: 'ST-EVANSTON' });

  const received = await call(`mutation($input: ReceiveReturnInput!) { receiveReturn(input: $input) { ${RETURN} } }`,
    { input: { returnId: created.data.createReturn.id, units: [{ sku: 'JACKET', condition: 'RESELLABLE', quantity: 1 }, { sku: 'JACKET', condition: 'REFURBISH', quantity: 1 }] } });
  expect(received.errors).toBeUndefined();
  expect(received.data.receiveReturn).toMatchObject({ status: 'COMPLETED', refundAmount: '160.00', lines: [{ sku: 'JACKET', quantity: 2, receivedQuantity: 2 }],
    units: [{ condition: 'RESELLABLE', restocked: true, locationCode: 'ST-EVANSTON' }, { condition: 'REFURBISH', restocked: false }] });

  const after = await call(`query($id: ID!, $sku: String!) { order(id: $id) { status } returns(orderId: $id) { status } availability(skus: [$sku]) { locations { locationCode available } } }`,
    { id: order.id, sku: 'JACKET' }, ADMIN);
  expect(after.data.order.status).toBe('RETURNED');
  expect(after.data.returns).toEqual([{ status: 'COMPLETED' }]);
  // Evanston has no SHIP capability, so ship availability does not list it; the ledger does.
  const [{ on_hand }] = await t.db.dataSource.query(`SELECT on_hand FROM stock_level s JOIN location l ON l.id = s.location_id WHERE l.code = 'ST-EVANSTON'`);
  expect(on_hand).toBe(1);
});

it('carriers are editable through GraphQL, by operators only', async () => {
  const input = { code: 'E2E-POST', carrier: 'Post', name: 'Letter post', serviceLevel: 'ECONOMY', pickupCutoff: '11:00',
    transit: [{ maxKm: 3000, minDays: 3, maxDays: 7 }], rates: [{ maxKm: 3000, maxWeightKg: 2, price: 3.2 }], co2KgPerTonneKm: 0.1 };
  const saved = await call(`mutation($input: CarrierServiceInput!) { upsertCarrierService(input: $input) { code serviceLevel active transit { maxKm minDays maxDays } } }`, { input });
  expect(saved.data.upsertCarrierService).toEqual({ code: 'E2E-POST', serviceLevel: 'ECONOMY', active: true, transit: [{ maxKm: 3000, minDays: 3, maxDays: 7 }] });
  const bad = await call(`mutation($input: CarrierServiceInput!) { upsertCarrierService(input: $input) { code } }`, { input: { ...input, serviceLevel: 'WARP' } });
  expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.serviceLevel' });

  const key = await call(`mutation { createApiKey(input: { name: "viewer", role: VIEWER }) { key } }`);
  const viewer = { authorization: `Bearer ${key.data.createApiKey.key}` };
  const list = await call(`{ carrierServices { code } holidays(country: "US", year: 2026) { date name } }`, undefined, viewer);
  expect(list.data.carrierServices.map((c: any) => c.code)).toContain('E2E-POST');
  expect(list.data.holidays).toContainEqual({ date: '2026-11-26', name: 'Thanksgiving Day' });
  const denied = await call(`mutation($input: CarrierServiceInput!) { upsertCarrierService(input: $input) { code } }`, { input }, viewer);
  expect(denied.errors?.[0].extensions?.code).toBe('FORBIDDEN');
});

it('closeReturn over GraphQL: operators close a partly received return with what arrived; viewers may not', async () => {
  const { order: placed } = await t.services.orders.placeOrder({ channel: 'web', externalId: 'E2E-CLOSE-1', lines: [{ sku: 'JACKET', quantity: 2, unitPrice: '80.00' }], shipTo: DESTINATION }, 'test');
  const orderId = placed.id;
  for (const { id } of await t.db.dataSource.query(`SELECT id FROM fulfillment_order WHERE order_id = $1`, [orderId])) {
    for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED, FO.SHIPPED]) await t.services.orders.transitionFulfillment(id, to, 'test');
  }
  const ret = await t.services.returns.create({ orderId, lines: [{ sku: 'JACKET', quantity: 2 }], method: 'IN_STORE', locationCode: 'ST-EVANSTON' }, 'clerk');
  await t.services.returns.receive({ returnId: ret.id, units: [{ sku: 'JACKET', condition: 'RESELLABLE', quantity: 1 }] }, 'clerk');

  const key = await call(`mutation { createApiKey(input: { name: "viewer-close", role: VIEWER }) { key } }`);
  const CLOSE = `mutation($id: ID!, $reason: String!) { closeReturn(returnId: $id, reason: $reason) {
    status refundAmount closedReason lines { sku receivedQuantity notReceivedQuantity notReceivedReason } history { fromStatus toStatus reason } } }`;
  const denied = await call(CLOSE, { id: ret.id, reason: 'lost' }, { authorization: `Bearer ${key.data.createApiKey.key}` });
  expect(denied.errors?.[0].extensions?.code).toBe('FORBIDDEN');

  const closed = await call(CLOSE, { id: ret.id, reason: 'second jacket lost in the post' });
  expect(closed.errors).toBeUndefined();
  expect(closed.data.closeReturn).toMatchObject({ status: 'COMPLETED', refundAmount: '80.00', closedReason: 'second jacket lost in the post',
    lines: [{ sku: 'JACKET', receivedQuantity: 1, notReceivedQuantity: 1, notReceivedReason: 'second jacket lost in the post' }] });
  expect(closed.data.closeReturn.history.map((h: any) => h.toStatus)).toEqual(['REQUESTED', 'RECEIVED', 'COMPLETED']);
  expect((await call(CLOSE, { id: ret.id, reason: 'again' })).data.closeReturn).toEqual(closed.data.closeReturn);
  const order = await call(`query($id: ID!) { order(id: $id) { status } }`, { id: orderId });
  expect(order.data.order.status).toBe('PARTIALLY_RETURNED');
  const bad = await call(CLOSE, { id: ret.id, reason: '' });
  expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
});
