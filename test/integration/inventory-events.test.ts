import { spawn } from 'node:child_process';
import path from 'node:path';
import type { InventoryChangedEvent } from '../../src/events/hub-events';
import { TOPIC } from '../../src/events/hub-events';
import { EventOutboxRelay } from '../../src/events/event-outbox';
import { ReservationBatch } from '../../src/inventory/reservation-batch';
import { StockMovementReason } from '../../src/model/enums';
import { count, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
  await seedSmallNetwork(t.services);
});
afterAll(async () => { await t?.close(); });

/** Collects the inventory events `keep` selects (at the source, like a GraphQL subscription) until `until` matches one. */
function watch(keep: (e: InventoryChangedEvent) => boolean, until: (e: InventoryChangedEvent) => boolean) {
  const seen: InventoryChangedEvent[] = [];
  const it = t.services.events.subscribe(TOPIC.inventoryChanged);
  const done = (async () => {
    for (;;) {
      const { value, done: end } = await it.next();
      if (end) return seen;
      if (value.type !== 'inventoryChanged' || !keep(value)) continue;
      seen.push(value);
      if (until(value)) { await it.return?.(); return seen; }
    }
  })();
  return { done };
}

const brief = (e: InventoryChangedEvent) => `${e.sku}@${e.locationCode}:${e.onHand}/${e.reserved}:${e.reason}`;

describe('inventory events are transactional (outbox)', () => {
  it('a change rolled back in the caller\'s transaction is never delivered; the committed one after it is', async () => {
    const inv = t.services.inventory;
    const ds = t.db.dataSource;
    await inv.set({ sku: 'A', locationCode: 'WH-A', onHand: 10 }, 'test');
    await inv.flushEvents();
    const w = watch((e) => e.sku === 'A' && (e.reason === 'RESERVE' || e.reason === 'RECEIPT'), (e) => e.reason === 'RECEIPT');
    const item = await inv.resolveItem(ds.manager, 'A', 'WH-A');
    // The reservation and its event are written, then the transaction fails: neither may survive.
    await expect(ds.transaction(async (em) => {
      await inv.reserve(em, [{ productId: item.productId, locationId: item.locationId, quantity: 4 }], { actor: 'test' });
      throw new Error('abort after reserving');
    })).rejects.toThrow('abort after reserving');
    await inv.adjust({ sku: 'A', locationCode: 'WH-A', delta: 1, reason: StockMovementReason.RECEIPT }, 'test');
    expect((await w.done).map(brief)).toEqual(['A@WH-A:11/0:RECEIPT']);
    // A committed reservation in the caller's transaction is delivered once that transaction commits.
    const w2 = watch((e) => e.sku === 'A' && e.reason === 'RESERVE', () => true);
    await ds.transaction((em) => inv.reserve(em, [{ productId: item.productId, locationId: item.locationId, quantity: 4 }], { actor: 'test' }));
    expect((await w2.done).map(brief)).toEqual(['A@WH-A:11/4:RESERVE']);
  });

  it('events left in the outbox (their writer died before relaying them) are delivered by the sweep', async () => {
    const w = watch((e) => e.sku.startsWith('ORPHAN-'), (e) => e.sku === 'ORPHAN-2');
    const orphan = (sku: string) => ({ type: 'inventoryChanged', sku, locationCode: 'WH-B', onHand: 1, reserved: 0, available: 1, reason: 'RECEIPT', at: new Date().toISOString() });
    await t.db.dataSource.query(`INSERT INTO hub_event_outbox (events) VALUES ($1::json)`, [JSON.stringify([orphan('ORPHAN-1'), orphan('ORPHAN-2')])]);
    expect((await w.done).map((e) => e.sku)).toEqual(['ORPHAN-1', 'ORPHAN-2']);
    await waitUntil(async () => (await count(t.db.dataSource, 'hub_event_outbox')) === 0);
  });

  it('a process killed right after its commit: its change is still delivered, through another process', async () => {
    await t.services.inventory.set({ sku: 'B', locationCode: 'WH-B', onHand: 5 }, 'test');
    await t.services.inventory.flushEvents();
    const w = watch((e) => e.sku === 'B' && e.reason === 'RESERVE', () => true);
    const child = spawn(process.execPath, [path.join(__dirname, 'inventory-race.child.js'), t.db.url, 'B', 'WH-B', '1', 'crash'], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdout.once('data', () => child.stdin.end('go\n'));
    const exit = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    expect((await w.done).map(brief)).toEqual(['B@WH-B:5/1:RESERVE']);
    expect(await exit).toBe('SIGKILL');
    const [{ reserved }] = await t.db.dataSource.query(`SELECT s.reserved FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id WHERE p.sku = 'B' AND l.code = 'WH-B'`);
    expect(reserved).toBe(1);
  }, 60000);
});

describe('the reservations of a synced page go through the outbox too (ReservationBatch)', () => {
  const page = (tag: string, quantities: number[]) => quantities.map((quantity, i) => ({
    channel: 'web', externalId: `${tag}-${i + 1}`, lines: [{ sku: 'C', quantity }], shipTo: { country: 'US', city: 'Chicago' },
  }));

  it('rolled back: nothing delivered; committed: one event per granted line, in grant order, with the balance after it', async () => {
    const ds = t.db.dataSource;
    await t.services.inventory.set({ sku: 'C', locationCode: 'WH-A', onHand: 50 }, 'test');
    await t.services.inventory.flushEvents();
    const batchWrite = jest.spyOn(ReservationBatch.prototype, 'write');
    const w = watch((e) => e.sku === 'C' && (e.reason === 'RESERVE' || e.reason === 'RECEIPT'), (e) => e.reason === 'RECEIPT');
    await expect(ds.transaction(async (em) => {
      await t.services.orders.placeOrdersIn(em, page('ROLLBACK', [4]), 'test');
      throw new Error('abort after the page');
    })).rejects.toThrow('abort after the page');
    await ds.transaction((em) => t.services.orders.placeOrdersIn(em, page('COMMIT', [2, 3]), 'test'));
    await t.services.inventory.adjust({ sku: 'C', locationCode: 'WH-A', delta: 1, reason: StockMovementReason.RECEIPT }, 'test');
    expect((await w.done).map(brief)).toEqual(['C@WH-A:50/2:RESERVE', 'C@WH-A:50/5:RESERVE', 'C@WH-A:51/5:RECEIPT']);
    expect(batchWrite).toHaveBeenCalledTimes(2); // the page path, not order-by-order reservations
    batchWrite.mockRestore();
  });

  it('committed, and its writer gone before relaying them: the events are in the outbox with the change and the sweep delivers them', async () => {
    const ds = t.db.dataSource;
    await t.services.inventory.flushEvents();
    // The state a crash right after the commit leaves: the outbox rows committed, nobody of this process relays them.
    const kick = jest.spyOn(EventOutboxRelay.of(ds), 'kick').mockImplementation(() => undefined);
    try {
      const w = watch((e) => e.sku === 'C' && e.reason === 'RESERVE', (e) => e.reserved === 8);
      await ds.transaction(async (em) => {
        await t.services.orders.placeOrdersIn(em, page('ORPHANED', [1, 2]), 'test');
        const [{ events }] = await em.query(`SELECT json_agg(e) AS events FROM hub_event_outbox, json_array_elements(events) e WHERE e->>'sku' = 'C'`);
        expect(events.map(brief)).toEqual(['C@WH-A:51/6:RESERVE', 'C@WH-A:51/8:RESERVE']);
      });
      expect((await w.done).map(brief)).toEqual(['C@WH-A:51/6:RESERVE', 'C@WH-A:51/8:RESERVE']);
      await waitUntil(async () => (await count(ds, 'hub_event_outbox')) === 0);
    } finally {
      kick.mockRestore();
    }
  });
});

async function waitUntil(cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
