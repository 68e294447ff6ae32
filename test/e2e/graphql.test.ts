import type { Client } from 'graphql-ws';
import { TOPIC } from '../../src/events/hub-events';
import { ADMIN, count, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';
import { collect, gql, waitForSubscribers, wsClient } from '../support/graphql-client';

let t: TestHub;
let url: string;
let ws: Client | undefined;
beforeAll(async () => {
  t = await createTestHub({ serve: true });
  url = `http://127.0.0.1:${t.hub!.port}/graphql`;
  await seedSmallNetwork(t.services);
  await t.services.inventory.set({ sku: 'A', locationCode: 'WH-A', onHand: 20 }, 'test');
  await t.services.inventory.set({ sku: 'A', locationCode: 'ST-1', onHand: 3 }, 'test');
});
afterAll(async () => {
  await ws?.dispose();
  await t?.close();
});

const call = (query: string, variables?: Record<string, unknown>) => gql(url, query, variables, ADMIN);

const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
  __typename ... on Order { id externalId channel status lines { sku quantity unitPrice } fulfillmentOrders { locationCode status } }
  ... on PlaceOrderError { code message field } } }`;
const order = (externalId: string, patch: Record<string, unknown> = {}) => ({
  channel: 'web', externalId, lines: [{ sku: 'A', quantity: 1, unitPrice: '12.50' }], shipTo: { country: 'US', city: 'Chicago', latitude: 41.88, longitude: -87.63 }, ...patch,
});

describe('health', () => {
  it('answers /healthz and /readyz', async () => {
    const base = url.replace('/graphql', '');
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });
});

describe('queries over HTTP', () => {
  it('pages locations with Relay cursors', async () => {
    const first = await call(`{ locations(first: 2) { edges { cursor node { code type capabilities } } pageInfo { hasNextPage endCursor } } }`);
    expect(first.data.locations.edges.map((e: any) => e.node.code)).toEqual(['ST-1', 'WH-A']);
    expect(first.data.locations.pageInfo.hasNextPage).toBe(true);
    const next = await call(`query($after: String) { locations(first: 2, after: $after) { edges { node { code } } pageInfo { hasNextPage } } }`, { after: first.data.locations.pageInfo.endCursor });
    expect(next.data.locations).toEqual({ edges: [{ node: { code: 'WH-B' } }], pageInfo: { hasNextPage: false } });
  });

  it('answers availability near a point, sorted by distance, per method', async () => {
    const res = await call(`{ availability(skus: ["A", "UNKNOWN"], near: { latitude: 41.89, longitude: -87.68 }, method: PICKUP) { sku available locations { locationCode available distanceKm } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.availability).toEqual([
      { sku: 'A', available: 3, locations: [{ locationCode: 'ST-1', available: 3, distanceKm: expect.any(Number) }] },
      { sku: 'UNKNOWN', available: 0, locations: [] },
    ]);
    const ship = await call(`{ availability(skus: ["A"]) { available locations { locationCode } } }`);
    expect(ship.data.availability[0]).toEqual({ available: 23, locations: [{ locationCode: 'ST-1' }, { locationCode: 'WH-A' }] });
  });
});

describe('bad input gets a clear error and writes nothing', () => {
  const cases: [string, string, Record<string, unknown> | undefined, string, string | undefined][] = [
    ['malformed GraphQL', '{ locations(first: 2) { edges ', undefined, 'GRAPHQL_PARSE_FAILED', undefined],
    ['unknown field', '{ nothingHere }', undefined, 'GRAPHQL_VALIDATION_FAILED', undefined],
    ['wrong variable type', PLACE, { input: { ...order('X1'), lines: [{ sku: 'A', quantity: 'two' }] } }, 'BAD_USER_INPUT', undefined],
    ['unknown enum value', PLACE, { input: order('X2', { method: 'TELEPORT' }) }, 'BAD_USER_INPUT', undefined],
    ['zero quantity', PLACE, { input: order('X3', { lines: [{ sku: 'A', quantity: 0 }] }) }, 'BAD_USER_INPUT', 'input.lines[0].quantity'],
    ['negative quantity', PLACE, { input: order('X4', { lines: [{ sku: 'A', quantity: -1 }] }) }, 'BAD_USER_INPUT', 'input.lines[0].quantity'],
    ['unknown SKU', PLACE, { input: order('X5', { lines: [{ sku: 'NOPE', quantity: 1 }] }) }, 'NOT_FOUND', 'input.lines[0].sku'],
    ['bad cursor', '{ locations(after: "garbage") { edges { cursor } } }', undefined, 'BAD_USER_INPUT', 'after'],
    ['page too large', '{ products(first: 100000) { edges { cursor } } }', undefined, 'BAD_USER_INPUT', 'first'],
    ['unknown location', 'mutation { setLocationActive(code: "NOWHERE", active: false) { code } }', undefined, 'NOT_FOUND', 'code'],
    ['bad time zone', 'mutation { upsertLocation(input: { code: "X", name: "X", type: STORE, country: "US", latitude: 1, longitude: 1, timeZone: "Mars/Base" }) { code } }', undefined, 'BAD_USER_INPUT', 'input.timeZone'],
  ];
  it.each(cases)('%s', async (_name, query, variables, code, field) => {
    const before = await count(t.db.dataSource, 'orders');
    const res = await call(query, variables);
    expect(res.errors?.[0]?.extensions?.code).toBe(code);
    if (field) expect(res.errors![0].extensions!.field).toBe(field);
    expect(JSON.stringify(res)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
    expect(await count(t.db.dataSource, 'orders')).toBe(before);
  });

  it('a duplicate external id returns the existing order, not a second one', async () => {
    const a = await call(PLACE, { input: order('DUP-1') });
    const b = await call(PLACE, { input: order('DUP-1') });
    expect(a.data.placeOrder.__typename).toBe('Order');
    expect(b.data.placeOrder.id).toBe(a.data.placeOrder.id);
  });

  it('an invalid transition is a typed result', async () => {
    const placed = await call(PLACE, { input: order('CANCEL-TWICE') });
    const cancel = `mutation($id: ID!) { cancelOrder(id: $id, reason: "test") { __typename ... on Order { status } ... on TransitionError { code currentStatus requestedStatus message } } }`;
    expect((await call(cancel, { id: placed.data.placeOrder.id })).data.cancelOrder).toEqual({ __typename: 'Order', status: 'CANCELLED' });
    expect((await call(cancel, { id: placed.data.placeOrder.id })).data.cancelOrder).toMatchObject({ __typename: 'TransitionError', code: 'INVALID_TRANSITION', currentStatus: 'CANCELLED' });
  });

  it('cancelOrderLines: units off one line, the rest goes on; too many is refused by field', async () => {
    const placed = await call(PLACE, { input: order('LINES-1', { lines: [{ sku: 'A', quantity: 3, unitPrice: '12.50' }] }) });
    const id = placed.data.placeOrder.id;
    const lineId = (await call(`query($id: ID!) { order(id: $id) { lines { id } } }`, { id })).data.order.lines[0].id;
    const cancel = `mutation($id: ID!, $lines: [OrderLineCancelInput!]!) { cancelOrderLines(id: $id, lines: $lines, reason: "damaged") {
      __typename ... on Order { status totalAmount lines { quantity cancelledQuantity } fulfillmentOrders { status } } ... on TransitionError { code } } }`;
    const done = await call(cancel, { id, lines: [{ lineId, quantity: 2 }] });
    expect(done.errors).toBeUndefined();
    expect(done.data.cancelOrderLines).toMatchObject({ __typename: 'Order', status: 'ALLOCATED', totalAmount: '12.5000', lines: [{ quantity: 3, cancelledQuantity: 2 }] });
    expect(done.data.cancelOrderLines.fulfillmentOrders.map((f: { status: string }) => f.status).sort()).toEqual(['CANCELLED', 'PENDING']);
    const tooMany = await call(cancel, { id, lines: [{ lineId, quantity: 2 }] });
    expect(tooMany.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'lines[0].quantity' });
  });

  it('changeOrderShipTo: the order ships to the new address; a bad one is refused by field; a cancelled order keeps its own', async () => {
    const placed = await call(PLACE, { input: order('SHIP-TO-1') });
    const id = placed.data.placeOrder.id;
    const change = `mutation($id: ID!, $shipTo: AddressInput!) { changeOrderShipTo(id: $id, shipTo: $shipTo) {
      __typename ... on Order { status shipTo { line1 city postalCode country } transitions { toStatus reason } } ... on TransitionError { code message } } }`;
    const moved = await call(change, { id, shipTo: { line1: '1 Main St', city: 'Evanston', postalCode: '60201', country: 'US' } });
    expect(moved.errors).toBeUndefined();
    expect(moved.data.changeOrderShipTo).toMatchObject({ __typename: 'Order', status: 'ALLOCATED', shipTo: { line1: '1 Main St', city: 'Evanston', postalCode: '60201', country: 'US' } });
    expect(moved.data.changeOrderShipTo.transitions).toContainEqual({ toStatus: 'ALLOCATED', reason: 'ship-to changed: Chicago, US → 1 Main St, Evanston 60201, US' });
    const bad = await call(change, { id, shipTo: { city: 'Evanston', country: 'usa' } });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'shipTo.country' });
    await call(`mutation($id: ID!) { cancelOrder(id: $id) { __typename } }`, { id });
    expect((await call(change, { id, shipTo: { city: 'Skokie', country: 'US' } })).data.changeOrderShipTo).toMatchObject({ __typename: 'TransitionError', code: 'INVALID_TRANSITION' });
  });
});

describe('subscriptions over graphql-ws', () => {
  it('orderUpdated arrives after placeOrder commits', async () => {
    ws = wsClient(url, ADMIN);
    const before = t.services.events.subscriberCount(TOPIC.orderUpdated);
    const sub = collect(ws, `subscription { orderUpdated { id externalId status } }`);
    await waitForSubscribers(() => t.services.events.subscriberCount(TOPIC.orderUpdated), before + 1);
    const placed = await call(PLACE, { input: order('WS-1') });
    const [event] = await sub.next(1);
    // Created and routed in one transaction: the first committed state subscribers see is ALLOCATED.
    expect(event).toEqual({ orderUpdated: { id: placed.data.placeOrder.id, externalId: 'WS-1', status: 'ALLOCATED' } });
    sub.dispose();
  });

  it('inventoryChanged is filtered server-side by SKU and location', async () => {
    ws ??= wsClient(url, ADMIN);
    const before = t.services.events.subscriberCount(TOPIC.inventoryChanged);
    const sub = collect(ws, `subscription { inventoryChanged(skus: ["A"], locationCodes: ["WH-B"]) { sku locationCode onHand available } }`);
    await waitForSubscribers(() => t.services.events.subscriberCount(TOPIC.inventoryChanged), before + 1);
    const adjust = `mutation($sku: String!, $loc: String!) { adjustInventory(input: { sku: $sku, locationCode: $loc, delta: 5, reason: RECEIPT }) { onHand } }`;
    await call(adjust, { sku: 'B', loc: 'WH-B' }); // other SKU: filtered out
    await call(adjust, { sku: 'A', loc: 'WH-A' }); // other location: filtered out
    await call(adjust, { sku: 'A', loc: 'WH-B' });
    const events = await sub.next(1);
    expect(events).toEqual([{ inventoryChanged: { sku: 'A', locationCode: 'WH-B', onHand: 5, available: 5 } }]);
    sub.dispose();
  });
});

describe('subscriptions shared across many subscribers', () => {
  it('every subscriber gets exactly the events its own filter selects', async () => {
    ws ??= wsClient(url, ADMIN);
    // Earlier tests' subscriptions end asynchronously: let the count settle before taking it as the baseline.
    let before = -1;
    while (before !== t.services.events.subscriberCount(TOPIC.inventoryChanged)) {
      before = t.services.events.subscriberCount(TOPIC.inventoryChanged);
      await new Promise((r) => setTimeout(r, 150));
    }
    const many = Array.from({ length: 10 }, () => collect(ws!, `subscription { inventoryChanged(skus: ["C"]) { sku onHand } }`));
    const other = collect(ws, `subscription { inventoryChanged(skus: ["B"], locationCodes: ["ST-1"]) { sku locationCode onHand } }`);
    await waitForSubscribers(() => t.services.events.subscriberCount(TOPIC.inventoryChanged), before + 11);
    const adjust = `mutation($sku: String!, $loc: String!) { adjustInventory(input: { sku: $sku, locationCode: $loc, delta: 2, reason: RECEIPT }) { onHand } }`;
    await call(adjust, { sku: 'C', loc: 'WH-A' });
    await call(adjust, { sku: 'B', loc: 'ST-1' });
    for (const s of many) expect(await s.next(1)).toEqual([{ inventoryChanged: { sku: 'C', onHand: 2 } }]);
    expect(await other.next(1)).toEqual([{ inventoryChanged: { sku: 'B', locationCode: 'ST-1', onHand: 2 } }]);
    await new Promise((r) => setTimeout(r, 200));
    for (const s of many) expect(s.events).toHaveLength(1);
    expect(other.events).toHaveLength(1);
    for (const s of [...many, other]) s.dispose();
  });
});

describe('routing over GraphQL', () => {
  it('explainRouting tells where an order goes and why, in words', async () => {
    const placed = await call(PLACE, { input: order('EXPLAIN-1') });
    expect(placed.data.placeOrder.status).toBe('ALLOCATED');
    const res = await call(`query($id: ID!) { explainRouting(orderId: $id) { status ruleSetId shipments { locationCode lines { sku quantity } } candidates { locationCode excludedBy rank } explanation } }`, { id: placed.data.placeOrder.id });
    expect(res.errors).toBeUndefined();
    const d = res.data.explainRouting;
    expect(d.status).toBe('ROUTED');
    expect(d.shipments).toEqual([{ locationCode: placed.data.placeOrder.fulfillmentOrders[0].locationCode, lines: [{ sku: 'A', quantity: 1 }] }]);
    expect(d.candidates.find((c: any) => c.locationCode === d.shipments[0].locationCode)).toMatchObject({ excludedBy: null, rank: 1 });
    for (const c of d.candidates) expect(c.excludedBy !== null || c.rank !== null).toBe(true);
    expect(d.explanation).toMatch(/rule set/);
    expect(d.explanation).toContain(d.shipments[0].locationCode);
    const missing = await call(`{ explainRouting(orderId: "00000000-0000-0000-0000-000000000000") { status } }`);
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});
