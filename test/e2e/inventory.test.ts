import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { createDataSource } from '../../src/db/data-source';
import { TOPIC } from '../../src/events/hub-events';
import { createLogger } from '../../src/logger';
import { startHub, type Hub } from '../../src/server';
import { createServices, type Services } from '../../src/services';
import { assertStockInvariants, count, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';
import { collect, gql as rawGql, waitForSubscribers, wsClient } from '../support/graphql-client';

/** As the bootstrap admin when the hub is configured with one (API security), anonymous otherwise. */
let auth: Record<string, string> = {};
const gql = (url: string, query: string, variables?: Record<string, unknown>) => rawGql(url, query, variables, auth);

/** Hub A and hub B: two hub servers, each with its own pool and LISTEN connection, on one database. */
let t: TestHub;
let urlA: string;
let urlB: string;
let servicesB: Services;
let hubB: Hub;
let ws: Client | undefined;
beforeAll(async () => {
  t = await createTestHub({ serve: true });
  urlA = `http://127.0.0.1:${t.hub!.port}/graphql`;
  const adminKey = (t.services.config as { adminKey?: string }).adminKey;
  if (adminKey) auth = { authorization: `Bearer ${adminKey}` };
  await seedSmallNetwork(t.services);
  const dsB = createDataSource(t.db.url, { poolSize: 4, applicationName: 'hub-b' });
  await dsB.initialize();
  servicesB = createServices(dsB, { ...t.services.config }, createLogger('silent'), t.db.url);
  hubB = await startHub(servicesB, { port: 0, host: '127.0.0.1' });
  urlB = `http://127.0.0.1:${hubB.port}/graphql`;
  await t.services.inventory.set({ sku: 'A', locationCode: 'WH-A', onHand: 20 }, 'test');
});
afterAll(async () => {
  await ws?.dispose();
  await hubB?.close();
  await servicesB?.dataSource.destroy();
  await t?.close();
});

const ADJUST = `mutation($input: AdjustInventoryInput!, $key: String) { adjustInventory(input: $input, idempotencyKey: $key) { sku locationCode onHand reserved available inTransit } }`;

describe('idempotent mutations over HTTP', () => {
  it('the same key returns the same result once; another payload under it is refused', async () => {
    const input = { sku: 'B', locationCode: 'WH-A', delta: 4, reason: 'RECEIPT' };
    const first = await gql(urlA, ADJUST, { input, key: 'gql-1' });
    expect(first.data.adjustInventory).toEqual({ sku: 'B', locationCode: 'WH-A', onHand: 4, reserved: 0, available: 4, inTransit: 0 });
    const movements = await count(t.db.dataSource, 'stock_movement');
    // A retry may land on another hub process: same answer, no second effect.
    const retry = await gql(urlB, ADJUST, { input, key: 'gql-1' });
    expect(retry.data).toEqual(first.data);
    expect(await count(t.db.dataSource, 'stock_movement')).toBe(movements);
    const reused = await gql(urlA, ADJUST, { input: { ...input, delta: 5 }, key: 'gql-1' });
    expect(reused.errors?.[0].extensions).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'idempotencyKey' });
    expect(await count(t.db.dataSource, 'stock_movement')).toBe(movements);
  });

  it('setInventory with a stale expected value is refused naming the field', async () => {
    const res = await gql(urlA, `mutation { setInventory(input: { sku: "B", locationCode: "WH-A", onHand: 9, expectedOnHand: 3 }) { onHand } }`);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'STALE_VALUE', field: 'input.expectedOnHand', onHand: 4 });
  });
});

describe('transfers, reservations and reads over GraphQL', () => {
  it('a transfer is visible in transit and lands on receipt', async () => {
    const tr = await gql(urlA, `mutation { transferInventory(input: { sku: "A", fromLocationCode: "WH-A", toLocationCode: "ST-1", quantity: 5 }, idempotencyKey: "tr-1")
      { id status quantity fromLocationCode toLocationCode } }`);
    expect(tr.data.transferInventory).toMatchObject({ status: 'IN_TRANSIT', quantity: 5 });
    const id = tr.data.transferInventory.id;
    const levels = await gql(urlA, `{ stockLevels(filter: { skus: ["A"], inTransitOnly: true }) { edges { node { locationCode onHand inTransit } } } }`);
    expect(levels.data.stockLevels.edges.map((e: any) => e.node)).toEqual([{ locationCode: 'ST-1', onHand: 0, inTransit: 5 }]);
    const transit = await gql(urlA, `{ inventoryTransfers(filter: { status: "IN_TRANSIT" }) { edges { node { id sku } } } }`);
    expect(transit.data.inventoryTransfers.edges.map((e: any) => e.node.id)).toEqual([id]);
    const got = await gql(urlA, `mutation($id: ID!) { receiveTransfer(id: $id) { status closedAt } }`, { id });
    expect(got.data.receiveTransfer.status).toBe('RECEIVED');
    const again = await gql(urlA, `mutation($id: ID!) { receiveTransfer(id: $id) { status } }`, { id });
    expect(again.errors?.[0].extensions?.code).toBe('INVALID_TRANSITION');
    const history = await gql(urlA, `{ inventoryHistory(sku: "A", locationCode: "ST-1") { edges { node { reason onHandDelta onHandAfter } } } }`);
    expect(history.data.inventoryHistory.edges.map((e: any) => e.node)).toEqual([{ reason: 'TRANSFER_IN', onHandDelta: 5, onHandAfter: 5 }]);
  });

  it('reserveInventory answers a typed result; releaseReservation frees it by reference', async () => {
    const RESERVE = `mutation($input: ReserveInventoryInput!) { reserveInventory(input: $input) {
      __typename ... on ReservedInventory { reservations { id sku locationCode quantity expiresAt } }
      ... on ReserveInventoryError { code field sku locationCode } } }`;
    const ok = await gql(urlA, RESERVE, { input: { lines: [{ sku: 'A', locationCode: 'ST-1', quantity: 2 }], ttlSeconds: 900, reference: 'cart-e2e' } });
    expect(ok.data.reserveInventory.__typename).toBe('ReservedInventory');
    expect(ok.data.reserveInventory.reservations[0]).toMatchObject({ sku: 'A', locationCode: 'ST-1', quantity: 2, expiresAt: expect.any(String) });
    const short = await gql(urlA, RESERVE, { input: { lines: [{ sku: 'A', locationCode: 'ST-1', quantity: 4 }] } });
    expect(short.data.reserveInventory).toEqual({ __typename: 'ReserveInventoryError', code: 'INSUFFICIENT_STOCK', field: 'input.lines[0].quantity', sku: 'A', locationCode: 'ST-1' });
    const bad = await gql(urlA, RESERVE, { input: { lines: [{ sku: 'NOPE', locationCode: 'ST-1', quantity: 1 }] } });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.lines[0].sku' });
    const released = await gql(urlA, `mutation { releaseReservation(input: { reference: "cart-e2e" }, idempotencyKey: "rel-1") { released } }`);
    expect(released.data.releaseReservation.released).toBe(1);
    await assertStockInvariants(t.db.dataSource);
  });

  it('availability per channel and as of a past time', async () => {
    await gql(urlA, `mutation { setChannelAllocation(input: { channel: "amazon", locationCode: "ST-1", buffer: 2 }) { channel } }`);
    const policy = await gql(urlA, `mutation { setChannelSafetyStock(input: { channel: "amazon", safetyStock: 1 }) { safetyStock allocations { locationCode buffer } } }`);
    expect(policy.data.setChannelSafetyStock).toEqual({ safetyStock: 1, allocations: [{ locationCode: 'ST-1', buffer: 2 }] });
    const res = await gql(urlA, `{ web: availability(skus: ["A"]) { available } amazon: availability(skus: ["A"], channel: "amazon") { available locations { locationCode available } }
      past: availability(skus: ["A"], asOf: "2001-01-01T00:00:00Z") { available } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.web[0].available).toBe(20);
    expect(res.data.amazon[0]).toEqual({ available: 2, locations: [{ locationCode: 'ST-1', available: 3 }] });
    expect(res.data.past[0].available).toBe(0);
  });
});

describe('live changes across hub processes', () => {
  it('a subscriber on hub B sees a change made through hub A, and one made by another OS process', async () => {
    ws = wsClient(urlB, auth);
    const before = servicesB.events.subscriberCount(TOPIC.inventoryChanged);
    const sub = collect(ws, `subscription { inventoryChanged(skus: ["C"]) { sku locationCode onHand reserved available reason } }`);
    await waitForSubscribers(() => servicesB.events.subscriberCount(TOPIC.inventoryChanged), before + 1);

    // Rolled back: the first line reserves, the second cannot, so the whole change (and its event) is undone.
    await t.services.inventory.set({ sku: 'C', locationCode: 'WH-B', onHand: 3 }, 'test');
    await sub.next(1);
    const failed = await gql(urlA, `mutation { reserveInventory(input: { lines: [{ sku: "C", locationCode: "WH-B", quantity: 1 }, { sku: "C", locationCode: "ST-1", quantity: 1 }] }) { __typename } }`);
    expect(failed.data.reserveInventory.__typename).toBe('ReserveInventoryError');
    await gql(urlA, ADJUST, { input: { sku: 'C', locationCode: 'WH-B', delta: 1, reason: 'RECEIPT' } });
    const events = await sub.next(2);
    expect(events.map((e: any) => e.inventoryChanged)).toEqual([
      { sku: 'C', locationCode: 'WH-B', onHand: 3, reserved: 0, available: 3, reason: 'CYCLE_COUNT' },
      { sku: 'C', locationCode: 'WH-B', onHand: 4, reserved: 0, available: 4, reason: 'RECEIPT' },
    ]);

    const child = spawn(process.execPath, [path.join(__dirname, '../integration/inventory-race.child.js'), t.db.url, 'C', 'WH-B', '1'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // The child compiles the inventory service on start, which takes long on a busy machine: time only the event.
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.stdin.end('go\n');
    const third = await sub.next(3, 20000);
    expect(third[2].inventoryChanged).toEqual({ sku: 'C', locationCode: 'WH-B', onHand: 4, reserved: 1, available: 3, reason: 'RESERVE' });
    expect(await exited).toBe(0);
    sub.dispose();
  }, 120_000);
});
