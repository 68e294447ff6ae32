import { DomainError } from '../../src/errors';
import { StockMovementReason } from '../../src/model/enums';
import { assertStockInvariants, type TestHub } from '../support/test-hub';
import { createTestDatabase } from '../support/test-db';
import { createServices } from '../../src/services';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { LocationType } from '../../src/model/enums';

/**
 * 10,000 random inventory operations at concurrency 32 over a small, hot set of items (so they collide), with
 * the database's invariants checked after every batch. Only business refusals may reach a caller: never a
 * deadlock, a constraint violation or an internal error.
 */
const TOTAL_OPS = 10_000;
const CONCURRENCY = 32;
const BATCH = 1_000;
const SKUS = ['S0', 'S1', 'S2', 'S3', 'S4', 'S5'];
const LOCATIONS = ['L0', 'L1', 'L2', 'L3'];
const EXPECTED_REFUSALS = new Set(['INSUFFICIENT_STOCK', 'STALE_VALUE', 'INVALID_TRANSITION', 'CONFLICT', 'IDEMPOTENCY_KEY_REUSED']);

let t: TestHub;
beforeAll(async () => {
  // A pool as wide as the concurrency, so that operations really overlap in the database.
  const db = await createTestDatabase(CONCURRENCY + 4);
  const services = createServices(db.dataSource, { ...loadConfig({}), port: 0, host: '127.0.0.1' }, createLogger('silent'), db.url);
  t = { db, services, async close() { await db.drop(); } };
  for (const [i, code] of LOCATIONS.entries()) {
    await services.locations.upsert({ code, name: code, type: LocationType.WAREHOUSE, country: 'US', timeZone: 'UTC', latitude: 40 + i, longitude: -90 });
  }
  for (const sku of SKUS) {
    await services.products.upsert({ sku, name: sku });
    for (const code of LOCATIONS) await services.inventory.set({ sku, locationCode: code, onHand: 20 }, 'seed');
  }
  // Some safety stock, so that reservations must respect it (set as configuration, not a stock movement).
  await db.dataSource.query(`UPDATE stock_level SET safety_stock = 2 WHERE location_id IN (SELECT id FROM location WHERE code IN ('L0', 'L1'))`);
}, 60000);
afterAll(async () => { await t?.close(); });

function mulberry32(seed: number) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let r = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

test(`${TOTAL_OPS} random operations at concurrency ${CONCURRENCY} keep ledger, balances and reservations consistent`, async () => {
  const inv = t.services.inventory;
  const ds = t.db.dataSource;
  const rnd = mulberry32(20261123);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const live: string[][] = []; // reservation id groups that may still be active
  const inTransit: string[] = [];
  const counts: Record<string, number> = {};
  const unexpected: string[] = [];
  let opNo = 0;

  const operations: [number, () => Promise<unknown>][] = [
    [3, () => inv.adjust({ sku: pick(SKUS), locationCode: pick(LOCATIONS), delta: rnd() < 0.6 ? int(1, 10) : -int(1, 8), reason: rnd() < 0.6 ? StockMovementReason.RECEIPT : StockMovementReason.DAMAGE }, 'fuzz',
      { idempotencyKey: rnd() < 0.2 ? `adj-${int(0, 300)}` : undefined })],
    [1, async () => {
      const sku = pick(SKUS); const code = pick(LOCATIONS);
      const expected = rnd() < 0.5 ? (await ds.query(`SELECT on_hand FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id WHERE p.sku = $1 AND l.code = $2`, [sku, code]))[0]?.on_hand : undefined;
      return inv.set({ sku, locationCode: code, onHand: int(0, 30), expectedOnHand: expected }, 'fuzz');
    }],
    [1, async () => {
      const from = pick(LOCATIONS); const to = pick(LOCATIONS.filter((l) => l !== from));
      const tr = await inv.transfer({ sku: pick(SKUS), fromLocationCode: from, toLocationCode: to, quantity: int(1, 5) }, 'fuzz');
      inTransit.push(tr.id);
    }],
    [1, () => {
      const id = inTransit.length ? inTransit.splice(Math.floor(rnd() * inTransit.length), 1)[0] : undefined;
      if (!id) return Promise.resolve();
      return rnd() < 0.8 ? inv.receiveTransfer(id, 'fuzz') : inv.cancelTransfer(id, 'fuzz');
    }],
    [5, async () => {
      const n = int(1, 3);
      const lines = [...new Set(Array.from({ length: n }, () => `${pick(SKUS)}|${pick(LOCATIONS)}`))].map((k) => ({ sku: k.split('|')[0], locationCode: k.split('|')[1], quantity: int(1, 3) }));
      const ttlSeconds = rnd() < 0.3 ? 1 : undefined;
      const res = await inv.reserveStock({ lines, ttlSeconds }, 'fuzz', { idempotencyKey: rnd() < 0.1 ? `res-${int(0, 200)}` : undefined });
      // Half the carts with a TTL are abandoned: nobody releases them, the expiry does.
      if (!ttlSeconds || rnd() < 0.5) live.push(res.reservations.map((r) => r.id));
    }],
    [2, () => {
      const ids = live.length ? live.splice(Math.floor(rnd() * live.length), 1)[0] : undefined;
      return ids ? inv.releaseReservations({ reservationIds: ids }, 'fuzz') : Promise.resolve();
    }],
    [2, () => {
      const ids = live.length ? live.splice(Math.floor(rnd() * live.length), 1)[0] : undefined;
      return ids ? ds.transaction((em) => inv.consumeReservations(em, ids, 'fuzz')) : Promise.resolve();
    }],
    [1, () => inv.expireDue(50)],
  ];
  const weights = operations.reduce((a, [w]) => a + w, 0);
  const nextOp = () => {
    let x = rnd() * weights;
    for (const [i, [w, op]] of operations.entries()) { if ((x -= w) < 0) return { i, op }; }
    return { i: 0, op: operations[0][1] };
  };

  for (let done = 0; done < TOTAL_OPS; done += BATCH) {
    const worker = async () => {
      while (opNo < done + BATCH) {
        opNo++;
        const { i, op } = nextOp();
        try {
          await op();
          counts[`op${i}:ok`] = (counts[`op${i}:ok`] ?? 0) + 1;
        } catch (err) {
          if (err instanceof DomainError && EXPECTED_REFUSALS.has(err.code)) counts[`op${i}:${err.code}`] = (counts[`op${i}:${err.code}`] ?? 0) + 1;
          else unexpected.push(`op${i}: ${String(err)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(unexpected).toEqual([]);
    await assertStockInvariants(ds);
    // Never promised below zero: no reservation left ATP negative, and no balance is outside its bounds.
    const [bad] = await ds.query(`
      SELECT (SELECT count(*) FROM stock_movement m JOIN stock_level s USING (product_id, location_id)
               WHERE m.reason = 'RESERVE' AND m.on_hand_after - m.reserved_after - s.safety_stock < 0)::int AS promised_below_zero,
             (SELECT count(*) FROM stock_level WHERE reserved < 0 OR reserved > on_hand OR on_hand < 0)::int AS out_of_bounds`);
    expect(bad).toEqual({ promised_below_zero: 0, out_of_bounds: 0 });
    // In-transit units are accounted for: every TRANSFER_OUT is matched by a TRANSFER_IN once closed.
    const [transit] = await ds.query(`
      SELECT count(*)::int AS n FROM inventory_transfer t
       WHERE (SELECT coalesce(sum(on_hand_delta), 0) FROM stock_movement m WHERE m.reference = 'transfer:' || t.id)
             <> CASE WHEN t.status = 'IN_TRANSIT' THEN -t.quantity ELSE 0 END`);
    expect(transit.n).toBe(0);
    // Reservations with a 1 s TTL must expire during the run, racing the other operations. A batch can end before
    // any is due: then wait until the first one is, so that the next batch's expire operations find it (only until
    // something has expired).
    const [{ expired, dueInMs }] = await ds.query(`
      SELECT (SELECT count(*) FROM reservation WHERE status = 'EXPIRED')::int AS expired,
             (SELECT extract(epoch FROM min(expires_at) - now()) * 1000 FROM reservation WHERE status = 'ACTIVE' AND expires_at IS NOT NULL)::float8 AS "dueInMs"`);
    if (expired === 0 && dueInMs !== null && done + BATCH < TOTAL_OPS) await new Promise((r) => setTimeout(r, Math.max(0, dueInMs) + 50));
  }
  // Every kind of operation both succeeded and was refused at some point: the run exercised contention.
  for (const [i] of operations.entries()) expect(counts[`op${i}:ok`]).toBeGreaterThan(0);
  expect(counts['op4:INSUFFICIENT_STOCK']).toBeGreaterThan(0);
  const [{ expired }] = await ds.query(`SELECT count(*)::int AS expired FROM reservation WHERE status = 'EXPIRED'`);
  expect(expired).toBeGreaterThan(0);
}, 600_000); // 10,000 operations: minutes on a loaded 2-core machine
