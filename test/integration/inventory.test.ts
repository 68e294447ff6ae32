import { DomainError } from '../../src/errors';
import { StockMovementReason } from '../../src/model/enums';
import { assertStockInvariants, count, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
  await seedSmallNetwork(t.services);
});
afterAll(async () => { await t?.close(); });

async function expectDomainError(p: Promise<unknown>, code: string, field?: string) {
  const err = await p.then(() => undefined, (e) => e);
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).code).toBe(code);
  if (field) expect((err as DomainError).field).toBe(field);
}

describe('inventory changes', () => {
  it('adjusts with a reason and records the balance after in the ledger', async () => {
    const inv = t.services.inventory;
    expect(await inv.adjust({ sku: 'A', locationCode: 'WH-A', delta: 10, reason: StockMovementReason.RECEIPT }, 'test'))
      .toMatchObject({ onHand: 10, reserved: 0, available: 10 });
    expect(await inv.adjust({ sku: 'A', locationCode: 'WH-A', delta: -3, reason: StockMovementReason.DAMAGE }, 'test'))
      .toMatchObject({ onHand: 7 });
    const ledger = await t.db.dataSource.query(`SELECT reason, on_hand_delta, on_hand_after FROM stock_movement ORDER BY id`);
    expect(ledger).toEqual([
      { reason: 'RECEIPT', on_hand_delta: 10, on_hand_after: 10 },
      { reason: 'DAMAGE', on_hand_delta: -3, on_hand_after: 7 },
    ]);
    await assertStockInvariants(t.db.dataSource);
  });

  it('sets an absolute count, with compare-and-set', async () => {
    const inv = t.services.inventory;
    expect(await inv.set({ sku: 'B', locationCode: 'WH-A', onHand: 5 }, 'test')).toMatchObject({ onHand: 5 });
    await expectDomainError(inv.set({ sku: 'B', locationCode: 'WH-A', onHand: 9, expectedOnHand: 4 }, 'test'), 'STALE_VALUE', 'input.expectedOnHand');
    expect(await inv.set({ sku: 'B', locationCode: 'WH-A', onHand: 9, expectedOnHand: 5 }, 'test')).toMatchObject({ onHand: 9 });
    await assertStockInvariants(t.db.dataSource);
  });

  it('rejects bad input with a typed error and writes nothing', async () => {
    const inv = t.services.inventory;
    const before = await count(t.db.dataSource, 'stock_movement');
    await expectDomainError(inv.adjust({ sku: 'NOPE', locationCode: 'WH-A', delta: 1, reason: StockMovementReason.RECEIPT }, 'test'), 'NOT_FOUND', 'input.sku');
    await expectDomainError(inv.adjust({ sku: 'A', locationCode: 'NOPE', delta: 1, reason: StockMovementReason.RECEIPT }, 'test'), 'NOT_FOUND', 'input.locationCode');
    await expectDomainError(inv.adjust({ sku: 'A', locationCode: 'WH-A', delta: 0, reason: StockMovementReason.RECEIPT }, 'test'), 'BAD_USER_INPUT', 'input.delta');
    await expectDomainError(inv.adjust({ sku: 'A', locationCode: 'WH-A', delta: 2 ** 40, reason: StockMovementReason.RECEIPT }, 'test'), 'BAD_USER_INPUT', 'input.delta');
    await expectDomainError(inv.adjust({ sku: 'A', locationCode: 'WH-A', delta: -1000, reason: StockMovementReason.DAMAGE }, 'test'), 'INSUFFICIENT_STOCK', 'input.delta');
    await expectDomainError(inv.adjust({ sku: 'A', locationCode: 'WH-A', delta: 1, reason: StockMovementReason.RESERVE }, 'test'), 'BAD_USER_INPUT', 'input.reason');
    await expectDomainError(inv.set({ sku: 'A', locationCode: 'WH-A', onHand: -1 }, 'test'), 'BAD_USER_INPUT', 'input.onHand');
    expect(await count(t.db.dataSource, 'stock_movement')).toBe(before);
  });

  it('refuses to set on hand below what is reserved', async () => {
    const ds = t.db.dataSource;
    await t.services.inventory.set({ sku: 'C', locationCode: 'WH-B', onHand: 4 }, 'test');
    const item = await t.services.inventory.resolveItem(ds.manager, 'C', 'WH-B');
    await ds.transaction((em) => t.services.inventory.reserve(em, [{ productId: item.productId, locationId: item.locationId, quantity: 3 }], { actor: 'test' }));
    await expectDomainError(t.services.inventory.set({ sku: 'C', locationCode: 'WH-B', onHand: 2 }, 'test'), 'INSUFFICIENT_STOCK', 'input.onHand');
    await assertStockInvariants(ds);
  });
});

describe('database invariants hold even against direct SQL', () => {
  it('CHECK constraints reject negative stock and over-reservation', async () => {
    const ds = t.db.dataSource;
    await expect(ds.query(`UPDATE stock_level SET on_hand = -1`)).rejects.toThrow(/stock_on_hand_non_negative|stock_reserved_within_on_hand/);
    await expect(ds.query(`UPDATE stock_level SET reserved = on_hand + 1`)).rejects.toThrow(/stock_reserved_within_on_hand/);
  });

  it('the ledger is append-only', async () => {
    const ds = t.db.dataSource;
    await expect(ds.query(`UPDATE stock_movement SET on_hand_delta = 0`)).rejects.toThrow(/append-only/);
    await expect(ds.query(`DELETE FROM stock_movement`)).rejects.toThrow(/append-only/);
  });
});

describe('reservations under concurrency', () => {
  it.each([1, 50])('200 concurrent single-unit reservations against stock of %i: exactly that many succeed', async (stock) => {
    const ds = t.db.dataSource;
    const sku = `RACE-${stock}`;
    await t.services.products.upsert({ sku, name: 'race' });
    await t.services.inventory.set({ sku, locationCode: 'WH-A', onHand: stock }, 'test');
    const item = await t.services.inventory.resolveItem(ds.manager, sku, 'WH-A');
    const results = await Promise.allSettled(Array.from({ length: 200 }, () =>
      ds.transaction((em) => t.services.inventory.reserve(em, [{ productId: item.productId, locationId: item.locationId, quantity: 1 }], { actor: 'race' }))));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toBe(stock);
    for (const f of failures) expect((f.reason as DomainError).code).toBe('INSUFFICIENT_STOCK');
    const [row] = await ds.query(`SELECT on_hand, reserved FROM stock_level WHERE product_id = $1 AND location_id = $2`, [item.productId, item.locationId]);
    expect(row).toEqual({ on_hand: stock, reserved: stock });
    await assertStockInvariants(ds);
  });

  it('multi-line reservations in opposite orders neither deadlock nor half-apply', async () => {
    const ds = t.db.dataSource;
    const inv = t.services.inventory;
    await inv.set({ sku: 'A', locationCode: 'WH-B', onHand: 30 }, 'test');
    await inv.set({ sku: 'B', locationCode: 'WH-B', onHand: 30 }, 'test');
    const a = await inv.resolveItem(ds.manager, 'A', 'WH-B');
    const b = await inv.resolveItem(ds.manager, 'B', 'WH-B');
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => ds.transaction((em) => inv.reserve(em,
      i % 2 ? [{ ...a, quantity: 1 }, { ...b, quantity: 1 }] : [{ ...b, quantity: 1 }, { ...a, quantity: 1 }], { actor: 'pairs' }))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(30);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as DomainError).code).toBe('INSUFFICIENT_STOCK');
    await assertStockInvariants(ds);
  });
});

describe('inventory events', () => {
  it('are delivered after commit and never for a rolled-back change', async () => {
    const seen: string[] = [];
    const iterator = t.services.events.pubSub.subscribe('INVENTORY_CHANGED')[Symbol.asyncIterator]();
    const collect = (async () => {
      for (;;) {
        const { value, done } = await iterator.next();
        if (done) return;
        if (value.type !== 'inventoryChanged') continue;
        seen.push(`${value.sku}@${value.locationCode}:${value.onHand}`);
        if (value.sku === 'C' && value.onHand === 77) return;
      }
    })();
    const ds = t.db.dataSource;
    await ds.transaction(async (em) => {
      await em.query(`SELECT pg_notify('switchyard_events', $1)`, [JSON.stringify({ type: 'inventoryChanged', sku: 'ROLLED', locationCode: 'BACK', onHand: 1, reserved: 0, available: 1, reason: 'X', at: '' })]);
      throw new Error('abort');
    }).catch(() => undefined);
    await t.services.inventory.set({ sku: 'C', locationCode: 'WH-A', onHand: 77 }, 'test');
    await collect;
    await iterator.return?.();
    expect(seen).toEqual(['C@WH-A:77']);
  });
});
