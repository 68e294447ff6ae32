import { DomainError } from '../../src/errors';
import { queryAvailability } from '../../src/inventory/availability.query';
import { setChannelAllocation, setChannelSafetyStock } from '../../src/inventory/channel-allocation';
import { inventoryHistory } from '../../src/inventory/ledger.query';
import { ReservationExpirySweeper } from '../../src/inventory/reservation-expiry.sweeper';
import { InventoryService } from '../../src/inventory/inventory.service';
import { FulfillmentMethod, LocationCapability, LocationType, StockMovementReason } from '../../src/model/enums';
import { assertStockInvariants, count, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
  await seedSmallNetwork(t.services);
});
afterAll(async () => { await t?.close(); });

const R = StockMovementReason;
async function errorOf(p: Promise<unknown>): Promise<DomainError> {
  const err = await p.then(() => undefined, (e) => e);
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}
async function ledgerCount(): Promise<number> { return count(t.db.dataSource, 'stock_movement'); }

describe('idempotency keys', () => {
  it('the same key and payload has one effect and returns the same result', async () => {
    const inv = t.services.inventory;
    const input = { sku: 'A', locationCode: 'WH-B', delta: 5, reason: R.RECEIPT };
    const first = await inv.adjust(input, 'test', { idempotencyKey: 'k-adjust-1' });
    const before = await ledgerCount();
    const again = await inv.adjust({ ...input }, 'test', { idempotencyKey: 'k-adjust-1' });
    expect(again).toEqual(first);
    expect(await ledgerCount()).toBe(before);
    // A new key is a new change.
    expect((await inv.adjust(input, 'test', { idempotencyKey: 'k-adjust-2' })).onHand).toBe(first.onHand + 5);
    await assertStockInvariants(t.db.dataSource);
  });

  it('the same key with a different payload is refused and writes nothing', async () => {
    const inv = t.services.inventory;
    await inv.adjust({ sku: 'A', locationCode: 'WH-B', delta: 1, reason: R.RECEIPT }, 'test', { idempotencyKey: 'k-reuse' });
    const before = await ledgerCount();
    const err = await errorOf(inv.adjust({ sku: 'A', locationCode: 'WH-B', delta: 2, reason: R.RECEIPT }, 'test', { idempotencyKey: 'k-reuse' }));
    expect(err.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(err.field).toBe('idempotencyKey');
    expect(await ledgerCount()).toBe(before);
  });

  it('a key still in flight answers CONFLICT; a failed attempt leaves the key free', async () => {
    const store = t.services.inventory.idempotency;
    let release!: () => void;
    let claimed!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const holding = new Promise<void>((r) => { claimed = r; });
    const slow = store.execute('test.slow', 'k-flight', { a: 1 }, async () => { claimed(); await gate; return { done: 1 }; });
    await holding; // the first caller now holds the key (its effect is running): a fixed sleep would race on a slow machine
    expect((await errorOf(store.execute('test.slow', 'k-flight', { a: 1 }, async () => ({ done: 2 })))).code).toBe('CONFLICT');
    release();
    expect(await slow).toEqual({ done: 1 });
    expect(await store.execute('test.slow', 'k-flight', { a: 1 }, async () => ({ done: 3 }))).toEqual({ done: 1 });

    await expect(store.execute('test.fail', 'k-fail', {}, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await store.execute('test.fail', 'k-fail', {}, async () => 'second')).toBe('second');
  });

  it('payload hashing ignores key order and omitted optional fields', async () => {
    const store = t.services.inventory.idempotency;
    await store.execute('test.hash', 'k-hash', { a: 1, b: 2, c: null }, async () => 'x');
    expect(await store.execute('test.hash', 'k-hash', { b: 2, a: 1 }, async () => 'y')).toBe('x');
  });

  it('two-phase claims, and purge keeps keys for at least 24 hours', async () => {
    const store = t.services.inventory.idempotency;
    expect(await store.claim('test.2p', 'k1', { x: 1 })).toEqual({ claimed: true });
    expect((await errorOf(store.claim('test.2p', 'k1', { x: 1 }))).code).toBe('CONFLICT');
    await store.complete('test.2p', 'k1', { ok: true });
    expect(await store.claim('test.2p', 'k1', { x: 1 })).toEqual({ claimed: false, result: { ok: true } });
    await store.claim('test.2p', 'k2', {});
    await store.abandon('test.2p', 'k2');
    expect(await store.claim('test.2p', 'k2', {})).toEqual({ claimed: true });

    await t.db.dataSource.query(`UPDATE idempotency_key SET created_at = now() - interval '25 hours' WHERE scope = 'test.2p' AND key = 'k1'`);
    expect(await store.purge(60_000)).toBe(1); // asked for 1 minute, still keeps the rest (< 24 h)
    expect(await count(t.db.dataSource, 'idempotency_key')).toBeGreaterThan(0);
  });

  it('concurrent retries of one keyed reservation reserve once', async () => {
    const inv = t.services.inventory;
    await t.services.products.upsert({ sku: 'IDEM', name: 'idem' });
    await inv.set({ sku: 'IDEM', locationCode: 'WH-A', onHand: 10 }, 'test');
    const input = { lines: [{ sku: 'IDEM', locationCode: 'WH-A', quantity: 2 }], reference: 'cart-idem' };
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => inv.reserveStock(input, 'test', { idempotencyKey: 'k-res' })));
    for (const r of results) if (r.status === 'rejected') expect((r.reason as DomainError).code).toBe('CONFLICT');
    const ok = results.filter((r): r is PromiseFulfilledResult<any> => r.status === 'fulfilled');
    expect(ok.length).toBeGreaterThan(0);
    const ids = new Set(ok.map((r) => r.value.reservations[0].id));
    expect(ids.size).toBe(1);
    const [{ reserved }] = await t.db.dataSource.query(`SELECT s.reserved FROM stock_level s JOIN product p ON p.id = s.product_id WHERE p.sku = 'IDEM'`);
    expect(reserved).toBe(2);
    await assertStockInvariants(t.db.dataSource);
  });
});

describe('coalesced reservations on a hot item', () => {
  it('mixed quantities: never oversold, and nothing refused that still fits', async () => {
    const inv = t.services.inventory;
    await t.services.products.upsert({ sku: 'HOTMIX', name: 'hot' });
    await inv.set({ sku: 'HOTMIX', locationCode: 'WH-A', onHand: 37 }, 'test');
    const quantities = Array.from({ length: 60 }, (_, i) => 1 + ((i * 7) % 4));
    const results = await Promise.allSettled(quantities.map((quantity) =>
      inv.reserveStock({ lines: [{ sku: 'HOTMIX', locationCode: 'WH-A', quantity }], reference: 'hot' }, 'test')));
    const granted = quantities.filter((_, i) => results[i].status === 'fulfilled');
    const refused = quantities.filter((_, i) => results[i].status === 'rejected');
    for (const r of results) if (r.status === 'rejected') expect((r.reason as DomainError).code).toBe('INSUFFICIENT_STOCK');
    const sum = granted.reduce((a, b) => a + b, 0);
    expect(sum).toBeLessThanOrEqual(37);
    expect(Math.min(...refused)).toBeGreaterThan(37 - sum);
    const ids = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.reservations.map((x) => x.id) : []));
    expect(new Set(ids).size).toBe(granted.length);
    await assertStockInvariants(t.db.dataSource);
    const ledger = await inventoryHistory(t.db.dataSource.manager, { sku: 'HOTMIX', limit: 200 });
    // One RESERVE row per reservation, each with the running balance after it.
    const reserves = ledger.filter((m) => m.reason === 'RESERVE');
    expect(reserves).toHaveLength(granted.length);
    let running = 0;
    for (const m of reserves) { running += m.reservedDelta; expect(m.reservedAfter).toBe(running); }
  });
});

describe('transfers', () => {
  it('leave the source at once, are in transit, and arrive on receipt', async () => {
    const inv = t.services.inventory;
    await inv.set({ sku: 'B', locationCode: 'WH-A', onHand: 20 }, 'test');
    const tr = await inv.transfer({ sku: 'B', fromLocationCode: 'WH-A', toLocationCode: 'ST-1', quantity: 8 }, 'test');
    expect(tr).toMatchObject({ status: 'IN_TRANSIT', quantity: 8, fromLocationCode: 'WH-A', toLocationCode: 'ST-1' });
    const [[src], inTransit] = await Promise.all([
      t.db.dataSource.query(`SELECT on_hand FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id WHERE p.sku = 'B' AND l.code = 'WH-A'`),
      inv.transfers(t.db.dataSource.manager, { status: 'IN_TRANSIT', sku: 'B' }),
    ]);
    expect(src.on_hand).toBe(12);
    expect(inTransit.map((x) => x.id)).toEqual([tr.id]);
    const received = await inv.receiveTransfer(tr.id, 'test', { idempotencyKey: 'recv-1' });
    expect(received.status).toBe('RECEIVED');
    expect(await inv.receiveTransfer(tr.id, 'test', { idempotencyKey: 'recv-1' })).toEqual(received);
    expect((await errorOf(inv.receiveTransfer(tr.id, 'test'))).code).toBe('INVALID_TRANSITION');
    const ledger = await inventoryHistory(t.db.dataSource.manager, { sku: 'B', limit: 100 });
    expect(ledger.filter((m) => m.reference === `transfer:${tr.id}`).map((m) => [m.reason, m.locationCode, m.onHandDelta]))
      .toEqual([['TRANSFER_OUT', 'WH-A', -8], ['TRANSFER_IN', 'ST-1', 8]]);
    await assertStockInvariants(t.db.dataSource);
  });

  it('a cancelled transfer returns to the source; reserved units cannot leave', async () => {
    const inv = t.services.inventory;
    await inv.set({ sku: 'C', locationCode: 'WH-A', onHand: 5 }, 'test');
    const tr = await inv.transfer({ sku: 'C', fromLocationCode: 'WH-A', toLocationCode: 'WH-B', quantity: 5 }, 'test');
    const back = await inv.cancelTransfer(tr.id, 'test');
    expect(back.status).toBe('CANCELLED');
    await inv.reserveStock({ lines: [{ sku: 'C', locationCode: 'WH-A', quantity: 3 }] }, 'test');
    const before = await ledgerCount();
    const err = await errorOf(inv.transfer({ sku: 'C', fromLocationCode: 'WH-A', toLocationCode: 'WH-B', quantity: 3 }, 'test'));
    expect([err.code, err.field]).toEqual(['INSUFFICIENT_STOCK', 'input.quantity']);
    expect(await ledgerCount()).toBe(before);
    await assertStockInvariants(t.db.dataSource);
  });
});

describe('cart reservations and expiry', () => {
  it('reserves all lines or none and releases by reference', async () => {
    const inv = t.services.inventory;
    await t.services.products.upsert({ sku: 'CART1', name: 'c1' });
    await t.services.products.upsert({ sku: 'CART2', name: 'c2' });
    await inv.set({ sku: 'CART1', locationCode: 'WH-A', onHand: 5 }, 'test');
    await inv.set({ sku: 'CART2', locationCode: 'WH-A', onHand: 1 }, 'test');
    const before = await ledgerCount();
    const err = await errorOf(inv.reserveStock({ lines: [{ sku: 'CART1', locationCode: 'WH-A', quantity: 2 }, { sku: 'CART2', locationCode: 'WH-A', quantity: 2 }], reference: 'cart-9' }, 'test'));
    expect([err.code, err.field]).toEqual(['INSUFFICIENT_STOCK', 'input.lines[1].quantity']);
    expect(await ledgerCount()).toBe(before);
    const ok = await inv.reserveStock({ lines: [{ sku: 'CART1', locationCode: 'WH-A', quantity: 2 }, { sku: 'CART2', locationCode: 'WH-A', quantity: 1 }], reference: 'cart-9', ttlSeconds: 600 }, 'test');
    expect(ok.reservations.map((r) => [r.sku, r.quantity])).toEqual([['CART1', 2], ['CART2', 1]]);
    expect(new Date(ok.reservations[0].expiresAt!).getTime()).toBeGreaterThan(Date.now() + 500_000);
    expect(await inv.releaseReservations({ reference: 'cart-9' }, 'test')).toEqual({ released: 2 });
    expect(await inv.releaseReservations({ reference: 'cart-9' }, 'test')).toEqual({ released: 0 });
    await assertStockInvariants(t.db.dataSource);
  });

  it('the sweeper expires due reservations once, even with several sweepers at once', async () => {
    const inv = t.services.inventory;
    await t.services.products.upsert({ sku: 'EXP', name: 'exp' });
    await inv.set({ sku: 'EXP', locationCode: 'WH-B', onHand: 100 }, 'test');
    for (let i = 0; i < 40; i++) await inv.reserveStock({ lines: [{ sku: 'EXP', locationCode: 'WH-B', quantity: 1 }], ttlSeconds: i < 30 ? 1 : 3600 }, 'test');
    await t.db.dataSource.query(`UPDATE reservation SET expires_at = now() - interval '1 second' WHERE expires_at < now() + interval '1 minute'`);
    const other = new InventoryService(t.db.dataSource);
    const sweepers = [new ReservationExpirySweeper(inv, { batchSize: 4 }), new ReservationExpirySweeper(other, { batchSize: 4 }), new ReservationExpirySweeper(inv, { batchSize: 7 })];
    const expired = await Promise.all(sweepers.map((s) => s.sweepOnce()));
    expect(expired.reduce((a, b) => a + b, 0)).toBe(30);
    const [{ reserved }] = await t.db.dataSource.query(`SELECT s.reserved FROM stock_level s JOIN product p ON p.id = s.product_id WHERE p.sku = 'EXP'`);
    expect(reserved).toBe(10);
    const [{ n }] = await t.db.dataSource.query(`SELECT coalesce(sum(-reserved_delta), 0)::int AS n FROM stock_movement m JOIN product p ON p.id = m.product_id WHERE p.sku = 'EXP' AND reason = 'EXPIRE'`);
    expect(n).toBe(30);
    await assertStockInvariants(t.db.dataSource);
  });

  it('a started sweeper releases an expiring reservation by itself and emits the change', async () => {
    const inv = t.services.inventory;
    await t.services.products.upsert({ sku: 'EXP2', name: 'exp2' });
    await inv.set({ sku: 'EXP2', locationCode: 'WH-A', onHand: 1 }, 'test');
    const events = t.services.events.pubSub.subscribe('INVENTORY_CHANGED')[Symbol.asyncIterator]();
    await inv.reserveStock({ lines: [{ sku: 'EXP2', locationCode: 'WH-A', quantity: 1 }], ttlSeconds: 1 }, 'test');
    const sweeper = new ReservationExpirySweeper(inv, { intervalMs: 200 });
    sweeper.start();
    try {
      for (;;) {
        const { value } = await events.next();
        if (value.type === 'inventoryChanged' && value.sku === 'EXP2' && value.reason === 'EXPIRE') {
          expect(value).toMatchObject({ onHand: 1, reserved: 0, available: 1 });
          break;
        }
      }
    } finally {
      await sweeper.stop();
      await events.return?.();
    }
    await assertStockInvariants(t.db.dataSource);
  });
});

describe('reads', () => {
  it('ATP as of a past time comes from the ledger', async () => {
    const inv = t.services.inventory;
    await t.services.products.upsert({ sku: 'ASOF', name: 'asof' });
    await inv.set({ sku: 'ASOF', locationCode: 'WH-A', onHand: 10 }, 'test');
    await new Promise((r) => setTimeout(r, 20));
    const [{ t1 }] = await t.db.dataSource.query(`SELECT clock_timestamp() AS t1`);
    await new Promise((r) => setTimeout(r, 20));
    await inv.reserveStock({ lines: [{ sku: 'ASOF', locationCode: 'WH-A', quantity: 4 }] }, 'test');
    await inv.adjust({ sku: 'ASOF', locationCode: 'WH-A', delta: 7, reason: R.RECEIPT }, 'test');
    const now = await queryAvailability(t.db.dataSource, { skus: ['ASOF'] });
    const then = await queryAvailability(t.db.dataSource, { skus: ['ASOF'], asOf: t1 });
    const before = await queryAvailability(t.db.dataSource, { skus: ['ASOF'], asOf: new Date('2000-01-01') });
    expect(now[0].available).toBe(13);
    expect(then[0]).toMatchObject({ available: 10, locations: [{ locationCode: 'WH-A', onHand: 10, reserved: 0 }] });
    expect(before[0].available).toBe(0);
  });

  it('inventory history filters by location and time', async () => {
    const all = await inventoryHistory(t.db.dataSource.manager, { sku: 'ASOF', limit: 100 });
    expect(all.map((m) => m.reason)).toEqual(['CYCLE_COUNT', 'RESERVE', 'RECEIPT']);
    const since = await inventoryHistory(t.db.dataSource.manager, { sku: 'ASOF', locationCode: 'WH-A', since: all[1].createdAt, limit: 100 });
    expect(since.map((m) => m.reason)).toEqual(['RESERVE', 'RECEIPT']);
    expect((await errorOf(inventoryHistory(t.db.dataSource.manager, { sku: 'NOPE', limit: 1 }))).field).toBe('sku');
    expect((await errorOf(inventoryHistory(t.db.dataSource.manager, { sku: 'ASOF', locationCode: 'NOPE', limit: 1 }))).field).toBe('locationCode');
  });

  it('per-channel ATP: allocated locations, buffers, channel safety stock; inactive locations excluded', async () => {
    const inv = t.services.inventory;
    const ds = t.db.dataSource;
    await t.services.locations.upsert({ code: 'ST-2', name: 'Store 2', type: LocationType.STORE, country: 'US', timeZone: 'America/Chicago', latitude: 41.95, longitude: -87.65,
      capabilities: [LocationCapability.SHIP, LocationCapability.PICKUP] });
    await t.services.products.upsert({ sku: 'CH', name: 'channel' });
    await inv.set({ sku: 'CH', locationCode: 'WH-A', onHand: 10 }, 'test');
    await inv.set({ sku: 'CH', locationCode: 'ST-1', onHand: 8 }, 'test');
    await inv.set({ sku: 'CH', locationCode: 'ST-2', onHand: 3 }, 'test');
    const total = async (channel?: string) => (await queryAvailability(ds, { skus: ['CH'], channel }))[0];
    expect((await total()).available).toBe(21);
    expect((await total('web')).available).toBe(21); // no allocation rows: every active location feeds it
    await setChannelAllocation(ds, { channel: 'amazon', locationCode: 'WH-A' });
    await setChannelAllocation(ds, { channel: 'amazon', locationCode: 'ST-1', buffer: 5 });
    await setChannelAllocation(ds, { channel: 'amazon', locationCode: 'ST-2', buffer: 5 });
    const amazon = await total('amazon');
    expect(amazon.locations.map((l) => [l.locationCode, l.available])).toEqual([['ST-1', 3], ['ST-2', 0], ['WH-A', 10]]);
    expect(amazon.available).toBe(13);
    await setChannelSafetyStock(ds, { channel: 'amazon', safetyStock: 4 });
    expect((await total('amazon')).available).toBe(9);
    await setChannelAllocation(ds, { channel: 'amazon', locationCode: 'WH-A', remove: true });
    expect((await total('amazon')).available).toBe(0);
    await t.services.locations.setActive('ST-1', false);
    expect((await total()).locations.map((l) => l.locationCode)).toEqual(['ST-2', 'WH-A']);
    await t.services.locations.setActive('ST-1', true);
    expect((await errorOf(setChannelAllocation(ds, { channel: 'amazon', locationCode: 'NOPE' }))).field).toBe('input.locationCode');
    expect((await errorOf(setChannelAllocation(ds, { channel: 'amazon', locationCode: 'WH-A', buffer: -1 }))).field).toBe('input.buffer');
  });

  it('pickup availability near a point, within a radius, sorted by distance', async () => {
    const near = { latitude: 41.9, longitude: -87.69 };
    const [all] = await queryAvailability(t.db.dataSource, { skus: ['CH'], near, method: FulfillmentMethod.PICKUP });
    expect(all.locations.map((l) => l.locationCode)).toEqual(['ST-1', 'ST-2']);
    expect(all.locations[0].distanceKm!).toBeLessThan(all.locations[1].distanceKm!);
    const [close] = await queryAvailability(t.db.dataSource, { skus: ['CH'], near: { ...near, radiusKm: 2 }, method: FulfillmentMethod.PICKUP });
    expect(close.locations.map((l) => l.locationCode)).toEqual(['ST-1']);
  });
});

describe('bad input: a typed error naming the field, nothing written', () => {
  const inv = () => t.services.inventory;
  const cases: [string, () => Promise<unknown>, string, string][] = [
    ['transfer unknown SKU', () => inv().transfer({ sku: 'NOPE', fromLocationCode: 'WH-A', toLocationCode: 'WH-B', quantity: 1 }, 't'), 'NOT_FOUND', 'input.sku'],
    ['transfer unknown source', () => inv().transfer({ sku: 'A', fromLocationCode: 'NOPE', toLocationCode: 'WH-B', quantity: 1 }, 't'), 'NOT_FOUND', 'input.fromLocationCode'],
    ['transfer unknown destination', () => inv().transfer({ sku: 'A', fromLocationCode: 'WH-A', toLocationCode: 'NOPE', quantity: 1 }, 't'), 'NOT_FOUND', 'input.toLocationCode'],
    ['transfer to itself', () => inv().transfer({ sku: 'A', fromLocationCode: 'WH-A', toLocationCode: 'WH-A', quantity: 1 }, 't'), 'BAD_USER_INPUT', 'input.toLocationCode'],
    ['transfer zero', () => inv().transfer({ sku: 'A', fromLocationCode: 'WH-A', toLocationCode: 'WH-B', quantity: 0 }, 't'), 'BAD_USER_INPUT', 'input.quantity'],
    ['transfer huge', () => inv().transfer({ sku: 'A', fromLocationCode: 'WH-A', toLocationCode: 'WH-B', quantity: 2 ** 31 }, 't'), 'BAD_USER_INPUT', 'input.quantity'],
    ['receive unknown transfer', () => inv().receiveTransfer('00000000-0000-0000-0000-000000000000', 't'), 'NOT_FOUND', 'id'],
    ['receive malformed id', () => inv().receiveTransfer('x', 't'), 'NOT_FOUND', 'id'],
    ['reserve nothing', () => inv().reserveStock({ lines: [] }, 't'), 'BAD_USER_INPUT', 'input.lines'],
    ['reserve negative', () => inv().reserveStock({ lines: [{ sku: 'A', locationCode: 'WH-A', quantity: -1 }] }, 't'), 'BAD_USER_INPUT', 'input.lines[0].quantity'],
    ['reserve fractional', () => inv().reserveStock({ lines: [{ sku: 'A', locationCode: 'WH-A', quantity: 1.5 }] }, 't'), 'BAD_USER_INPUT', 'input.lines[0].quantity'],
    ['reserve unknown SKU', () => inv().reserveStock({ lines: [{ sku: 'NOPE', locationCode: 'WH-A', quantity: 1 }] }, 't'), 'NOT_FOUND', 'input.lines[0].sku'],
    ['reserve unknown location (2nd line)', () => inv().reserveStock({ lines: [{ sku: 'A', locationCode: 'WH-A', quantity: 1 }, { sku: 'A', locationCode: 'NOPE', quantity: 1 }] }, 't'), 'NOT_FOUND', 'input.lines[1].locationCode'],
    ['reserve more than available', () => inv().reserveStock({ lines: [{ sku: 'A', locationCode: 'WH-A', quantity: 999_999 }] }, 't'), 'INSUFFICIENT_STOCK', 'input.lines[0].quantity'],
    ['reserve with a bad TTL', () => inv().reserveStock({ lines: [{ sku: 'A', locationCode: 'WH-A', quantity: 1 }], ttlSeconds: 0 }, 't'), 'BAD_USER_INPUT', 'input.ttlSeconds'],
    ['reserve a line twice', () => inv().reserveStock({ lines: [{ sku: 'A', locationCode: 'WH-A', quantity: 1 }, { sku: 'A', locationCode: 'WH-A', quantity: 1 }] }, 't'), 'BAD_USER_INPUT', 'input.lines[1]'],
    ['release nothing', () => inv().releaseReservations({}, 't'), 'BAD_USER_INPUT', 'input'],
    ['release a malformed id', () => inv().releaseReservations({ reservationIds: ['nope'] }, 't'), 'BAD_USER_INPUT', 'input.reservationIds[0]'],
    ['set below reserved', async () => {
      await inv().set({ sku: 'A', locationCode: 'ST-1', onHand: 3 }, 't');
      await inv().reserveStock({ lines: [{ sku: 'A', locationCode: 'ST-1', quantity: 2 }] }, 't');
      return inv().set({ sku: 'A', locationCode: 'ST-1', onHand: 1 }, 't');
    }, 'INSUFFICIENT_STOCK', 'input.onHand'],
    ['stale compare-and-set', () => inv().set({ sku: 'A', locationCode: 'ST-1', onHand: 9, expectedOnHand: 2 }, 't'), 'STALE_VALUE', 'input.expectedOnHand'],
    ['empty idempotency key', () => inv().adjust({ sku: 'A', locationCode: 'WH-A', delta: 1, reason: R.RECEIPT }, 't', { idempotencyKey: '' }), 'BAD_USER_INPUT', 'idempotencyKey'],
  ];
  it.each(cases)('%s', async (_name, call, code, field) => {
    const snapshot = async () => JSON.stringify(await t.db.dataSource.query(
      `SELECT (SELECT count(*) FROM stock_movement) AS m, (SELECT count(*) FROM reservation) AS r, (SELECT count(*) FROM inventory_transfer) AS tr, (SELECT count(*) FROM idempotency_key) AS k`));
    const setupDone = call === cases.find((c) => c[0] === 'set below reserved')![1];
    const before = setupDone ? undefined : await snapshot();
    const err = await errorOf(call());
    expect([err.code, err.field]).toEqual([code, field]);
    if (before) expect(await snapshot()).toBe(before);
    await assertStockInvariants(t.db.dataSource);
  });
});
