import type { Client } from 'graphql-ws';
import type { HubEvent, InventoryChangedEvent } from '../../src/events/hub-events';
import { TOPIC } from '../../src/events/hub-events';
import { StockMovementReason } from '../../src/model/enums';
import WebSocket from 'ws';
import { collect, gql, waitForSubscribers, wsClient } from '../support/graphql-client';
import { ADMIN, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

/**
 * The WebSocket fan-out: each event is executed and serialised once per subscription shape and written straight to
 * the sockets (shared-subscribe.ts, EventBus deliverTo). Each subscriber still gets exactly its own events, in
 * order, with exactly the fields it selected.
 */
let t: TestHub;
let url: string;
const clients: Client[] = [];
beforeAll(async () => {
  t = await createTestHub({ serve: true });
  url = t.hub!.url;
  await seedSmallNetwork(t.services);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await t?.close();
});

const receipt = (sku: string, locationCode: string, delta: number) =>
  t.services.inventory.adjust({ sku, locationCode, delta, reason: StockMovementReason.RECEIPT }, 'test');

describe('inventoryChanged over WebSockets', () => {
  it('subscribers with different selection sets, filters and variables each receive exactly their events', async () => {
    // The subscriptions below must take the direct path, not graphql-ws's per-subscriber one.
    const probe = t.services.events.subscribe('probe');
    const deliverTo = jest.spyOn(Object.getPrototypeOf(probe), 'deliverTo');
    await probe.return?.();

    const one = wsClient(url, ADMIN);
    const two = wsClient(url, ADMIN);
    clients.push(one, two);
    const before = t.services.events.subscriberCount(TOPIC.inventoryChanged);
    const bySku = collect(one, `subscription { inventoryChanged(skus: ["A"]) { sku onHand } }`);
    // Same shape as bySku on another socket: shares its execution and serialisation.
    const bySkuToo = collect(two, `subscription { inventoryChanged(skus: ["A"]) { sku onHand } }`);
    const byLocation = collect(two, `subscription { inventoryChanged(locationCodes: ["WH-B"]) { locationCode sku reserved available reason } }`);
    const byVariables = collect(one, `subscription($skus: [String!]) { inventoryChanged(skus: $skus, locationCodes: ["WH-A"]) { sku available } }`, { skus: ['B', 'C'] });
    await waitForSubscribers(() => t.services.events.subscriberCount(TOPIC.inventoryChanged), before + 4);
    expect(deliverTo).toHaveBeenCalledTimes(4);
    deliverTo.mockRestore();

    await receipt('A', 'WH-A', 1); // bySku
    await receipt('B', 'WH-B', 2); // byLocation
    await receipt('C', 'WH-A', 3); // byVariables
    await receipt('B', 'ST-1', 4); // nobody
    await receipt('A', 'WH-B', 5); // bySku and byLocation
    await receipt('B', 'WH-A', 6); // byVariables
    await receipt('C', 'ST-1', 7); // nobody

    // Each subscriber's last expected event arrives after all the others it would get (per-subscriber order).
    expect(await bySku.next(2)).toEqual([{ inventoryChanged: { sku: 'A', onHand: 1 } }, { inventoryChanged: { sku: 'A', onHand: 5 } }]);
    expect(await bySkuToo.next(2)).toEqual(bySku.events);
    expect(await byLocation.next(2)).toEqual([
      { inventoryChanged: { locationCode: 'WH-B', sku: 'B', reserved: 0, available: 2, reason: 'RECEIPT' } },
      { inventoryChanged: { locationCode: 'WH-B', sku: 'A', reserved: 0, available: 5, reason: 'RECEIPT' } },
    ]);
    expect(await byVariables.next(2)).toEqual([{ inventoryChanged: { sku: 'C', available: 3 } }, { inventoryChanged: { sku: 'B', available: 6 } }]);

    // One more change each subscription wants: anything else it was wrongly sent would have arrived before it.
    await Promise.all([receipt('A', 'WH-B', 1), receipt('B', 'WH-A', 1)]);
    await Promise.all([bySku.next(3), bySkuToo.next(3), byLocation.next(3), byVariables.next(3)]);
    expect(bySku.events.map((e) => e.inventoryChanged.onHand)).toEqual([1, 5, 6]);
    expect(bySkuToo.events).toEqual(bySku.events);
    expect(byLocation.events.map((e) => `${e.inventoryChanged.sku}:${e.inventoryChanged.available}`)).toEqual(['B:2', 'A:5', 'A:6']);
    expect(byVariables.events.map((e) => `${e.inventoryChanged.sku}:${e.inventoryChanged.available}`)).toEqual(['C:3', 'B:6', 'B:7']);
    for (const s of [bySku, bySkuToo, byLocation, byVariables]) expect(s.errors).toEqual([]);

    // Completing one subscription on a socket leaves the other one on it running.
    bySku.dispose();
    await waitForSubscribers(() => before + 4 - t.services.events.subscriberCount(TOPIC.inventoryChanged), 1);
    await receipt('A', 'WH-A', 1);
    await receipt('C', 'WH-A', 1);
    expect((await byVariables.next(4))[3]).toEqual({ inventoryChanged: { sku: 'C', available: 4 } });
    expect(bySku.events).toHaveLength(3);
    for (const s of [bySkuToo, byLocation, byVariables]) s.dispose();
  });
});

describe('a key revoked while its socket is open', () => {
  it('gets no further events: the next delivery after the re-check interval re-checks the key and closes the socket with 4403', async () => {
    const created = await gql(url, `mutation { createApiKey(input: { name: "fanout-viewer", role: VIEWER }) { key apiKey { id } } }`, undefined, ADMIN);
    const key = created.data.createApiKey.key as string;
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const frames: { type: string; id?: string; payload?: any }[] = [];
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    let arrived: (() => void) | undefined;
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data));
      frames.push(msg);
      if (msg.type === 'connection_ack') socket.send(JSON.stringify({ id: 'r1', type: 'subscribe', payload: { query: 'subscription { inventoryChanged(skus: ["C"], locationCodes: ["WH-B"]) { onHand } }' } }));
      arrived?.();
    });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } })));
    const nextFrames = (n: number) => new Promise<void>((resolve) => {
      arrived = () => { if (frames.filter((f) => f.type === 'next').length >= n) resolve(); };
      arrived();
    });
    const before = t.services.events.subscriberCount(TOPIC.inventoryChanged);
    await waitForSubscribers(() => t.services.events.subscriberCount(TOPIC.inventoryChanged), before + 1);
    await receipt('C', 'WH-B', 1);
    await nextFrames(1);
    expect(frames.filter((f) => f.type === 'next')).toEqual([{ id: 'r1', type: 'next', payload: { data: { inventoryChanged: { onHand: 1 } } } }]);

    await gql(url, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, { id: created.data.createApiKey.apiKey.id }, ADMIN);
    // Past the socket's re-check interval and the authenticator's cache: the next delivery asks the database.
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now + 120_000);
    try {
      await receipt('C', 'WH-B', 1);
      expect(await closed).toBe(4403);
    } finally {
      clock.mockRestore();
    }
    expect(frames.filter((f) => f.type === 'next')).toHaveLength(1);
  });
});

describe('EventBus direct delivery', () => {
  const change = (sku: string): InventoryChangedEvent => ({
    type: 'inventoryChanged', sku, locationCode: 'WH-A', onHand: 1, reserved: 0, available: 1, reason: 'RECEIPT', at: new Date().toISOString(),
  });

  it('hands over the events queued before it, then each one as it is published, until the subscription ends', async () => {
    const bus = t.services.events;
    const sub = bus.subscribe('direct-test', (e) => e.type === 'inventoryChanged' && e.sku !== 'skip') as AsyncIterableIterator<HubEvent> & { deliverTo(sink: (e: HubEvent) => void): Promise<void> };
    bus.pubSub.publish('direct-test', change('queued-1'));
    bus.pubSub.publish('direct-test', change('skip'));
    bus.pubSub.publish('direct-test', change('queued-2'));
    const seen: string[] = [];
    const ended = sub.deliverTo((e) => { seen.push((e as InventoryChangedEvent).sku); });
    expect(seen).toEqual(['queued-1', 'queued-2']);
    bus.pubSub.publish('direct-test', change('live'));
    expect(seen).toEqual(['queued-1', 'queued-2', 'live']); // synchronously, while the bus walks its subscribers
    await sub.return?.();
    await expect(ended).resolves.toBeUndefined();
    bus.pubSub.publish('direct-test', change('after'));
    expect(seen).toEqual(['queued-1', 'queued-2', 'live']);
    expect(bus.subscriberCount('direct-test')).toBe(0);
  });

  it('a sink that fails ends only its own subscription, with its error', async () => {
    const bus = t.services.events;
    const failing = bus.subscribe('direct-fail') as AsyncIterableIterator<HubEvent> & { deliverTo(sink: (e: HubEvent) => void): Promise<void> };
    const healthy = bus.subscribe('direct-fail') as typeof failing;
    const seen: string[] = [];
    const failed = failing.deliverTo(() => { throw new Error('socket fell behind'); });
    const fine = healthy.deliverTo((e) => { seen.push((e as InventoryChangedEvent).sku); });
    bus.pubSub.publish('direct-fail', change('x'));
    await expect(failed).rejects.toThrow('socket fell behind');
    bus.pubSub.publish('direct-fail', change('y'));
    expect(seen).toEqual(['x', 'y']);
    expect(bus.subscriberCount('direct-fail')).toBe(1);
    await healthy.return?.();
    await expect(fine).resolves.toBeUndefined();
  });
});
