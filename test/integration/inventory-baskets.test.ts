// Multi-line reservations arriving together are granted together (BasketCoalescer): each basket stays all or
// nothing, a basket the group cannot grant gets its own exact answer, and the books balance afterwards.
import { DomainError } from '../../src/errors';
import { assertStockInvariants, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

let t: TestHub;
const q = (sql: string, params: unknown[] = []) => t.db.dataSource.query(sql, params);
const reserved = async (sku: string) => (await q(`SELECT s.reserved FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id
                                                   WHERE p.sku = $1 AND l.code = 'WH-A'`, [sku]))[0].reserved as number;

beforeAll(async () => {
  t = await createTestHub();
  await seedSmallNetwork(t.services);
});
afterAll(async () => { await t?.close(); });

it('baskets sent at once: the scarce line decides exactly, failed baskets leave nothing reserved, errors are precise', async () => {
  await t.services.inventory.set({ sku: 'A', locationCode: 'WH-A', onHand: 100 }, 'test');
  await t.services.inventory.set({ sku: 'B', locationCode: 'WH-A', onHand: 3 }, 'test');
  await t.services.inventory.set({ sku: 'C', locationCode: 'WH-A', onHand: 50 }, 'test');
  const baskets = [
    ...Array.from({ length: 8 }, () => [{ sku: 'A', locationCode: 'WH-A', quantity: 2 }, { sku: 'B', locationCode: 'WH-A', quantity: 1 }]),
    ...Array.from({ length: 6 }, () => [{ sku: 'A', locationCode: 'WH-A', quantity: 1 }, { sku: 'C', locationCode: 'WH-A', quantity: 3 }]),
    [{ sku: 'C', locationCode: 'WH-A', quantity: 1 }, { sku: 'NO-SUCH', locationCode: 'WH-A', quantity: 1 }],
    [{ sku: 'A', locationCode: 'WH-A', quantity: 1 }, { sku: 'C', locationCode: 'NOWHERE', quantity: 1 }],
  ];
  // All issued in one turn of the event loop, so they reach the coalescer together.
  const results = await Promise.allSettled(baskets.map((lines, i) => t.services.inventory.reserveStock({ lines, reference: `basket-${i}` }, 'checkout')));

  const withB = results.slice(0, 8);
  expect(withB.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
  for (const r of withB.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
    expect(r.reason).toBeInstanceOf(DomainError);
    expect(r.reason).toMatchObject({ code: 'INSUFFICIENT_STOCK', field: 'input.lines[1].quantity' });
  }
  expect(results.slice(8, 14).every((r) => r.status === 'fulfilled')).toBe(true);
  const [unknownSku, unknownLocation] = results.slice(14) as PromiseRejectedResult[];
  expect(unknownSku.status).toBe('rejected');
  expect(unknownSku.reason.message).toMatch(/NO-SUCH/);
  expect(unknownSku.reason.field).toBe('input.lines[1].sku');
  expect(unknownLocation.status).toBe('rejected');
  expect(unknownLocation.reason.message).toMatch(/NOWHERE/);

  // All or nothing: A is reserved only for the granted baskets (3 × 2 + 6 × 1), C only for the six.
  expect(await reserved('A')).toBe(12);
  expect(await reserved('B')).toBe(3);
  expect(await reserved('C')).toBe(18);
  for (const r of results) {
    if (r.status === 'fulfilled') expect(r.value.reservations.map((x) => x.status)).toEqual(['ACTIVE', 'ACTIVE']);
  }
  const ids = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.reservations.map((x) => x.id) : []));
  expect(new Set(ids).size).toBe(18);
  expect(await q(`SELECT count(*)::int AS n FROM reservation WHERE id = ANY($1::uuid[])`, [ids])).toEqual([{ n: 18 }]);
  expect(await q(`SELECT count(*)::int AS n FROM reservation WHERE reference LIKE 'basket-%'`)).toEqual([{ n: 18 }]);
  await assertStockInvariants(t.db.dataSource);
});

it('many rounds of contended baskets never oversell and keep the ledger equal to the balances', async () => {
  await t.services.inventory.set({ sku: 'B', locationCode: 'WH-B', onHand: 20 }, 'test');
  await t.services.inventory.set({ sku: 'C', locationCode: 'WH-B', onHand: 7 }, 'test');
  let granted = { B: 0, C: 0 };
  for (let round = 0; round < 10; round++) {
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => t.services.inventory.reserveStock({
      lines: [{ sku: 'B', locationCode: 'WH-B', quantity: 1 + (i % 2) }, ...(i % 3 === 0 ? [{ sku: 'C', locationCode: 'WH-B', quantity: 1 }] : [])],
    }, 'checkout')));
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        granted = { B: granted.B + 1 + (i % 2), C: granted.C + (i % 3 === 0 ? 1 : 0) };
      } else expect(r.reason.code).toBe('INSUFFICIENT_STOCK');
    });
  }
  const [b] = await q(`SELECT s.on_hand, s.reserved FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id WHERE p.sku = 'B' AND l.code = 'WH-B'`);
  const [c] = await q(`SELECT s.on_hand, s.reserved FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id WHERE p.sku = 'C' AND l.code = 'WH-B'`);
  expect(b.reserved).toBe(granted.B);
  expect(c.reserved).toBe(granted.C);
  expect(b.reserved).toBeLessThanOrEqual(20);
  expect(c.reserved).toBeLessThanOrEqual(7);
  expect(b.reserved).toBeGreaterThanOrEqual(19); // demand far exceeds stock: at most one unit can be left over
  await assertStockInvariants(t.db.dataSource);
});
