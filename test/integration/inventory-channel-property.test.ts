import fc from 'fast-check';
import { channelAtp } from '../../src/inventory/atp';
import { queryAvailability } from '../../src/inventory/availability.query';
import { setChannelAllocation, setChannelSafetyStock } from '../../src/inventory/channel-allocation';
import { assertStockInvariants, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
  await seedSmallNetwork(t.services);
});
afterAll(async () => { await t?.close(); });

const CODES = ['WH-A', 'WH-B', 'ST-1'];

// The SQL read (rows from Postgres, rules from channel_allocation) agrees with the pure arithmetic of atp.ts.
test('per-channel availability from the database equals the ATP model', async () => {
  let run = 0;
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ onHand: fc.integer({ min: 0, max: 40 }), reserve: fc.integer({ min: 0, max: 40 }), safety: fc.integer({ min: 0, max: 10 }) }), { minLength: 3, maxLength: 3 }),
    fc.array(fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined }), { minLength: 3, maxLength: 3 }),
    fc.integer({ min: 0, max: 30 }),
    async (balances, buffers, safety) => {
      const sku = 'A';
      const channel = `ch-${run++}`;
      const ds = t.db.dataSource;
      await t.services.inventory.releaseReservations({ reference: 'prop' }, 'prop');
      await ds.query(`UPDATE stock_level SET safety_stock = 0`); // configuration, set per run below
      for (const [i, code] of CODES.entries()) {
        const b = balances[i];
        await t.services.inventory.set({ sku, locationCode: code, onHand: b.onHand }, 'prop');
        const reserve = Math.min(b.reserve, b.onHand);
        if (reserve) await t.services.inventory.reserveStock({ lines: [{ sku, locationCode: code, quantity: reserve }], reference: 'prop' }, 'prop');
        await ds.query(`UPDATE stock_level SET safety_stock = $1 WHERE product_id = (SELECT id FROM product WHERE sku = $2) AND location_id = (SELECT id FROM location WHERE code = $3)`, [b.safety, sku, code]);
        if (buffers[i] !== undefined) await setChannelAllocation(ds, { channel, locationCode: code, buffer: buffers[i] });
      }
      await setChannelSafetyStock(ds, { channel, safetyStock: safety });
      const [got] = await queryAvailability(ds, { skus: [sku], channel });
      const allocated = buffers.some((b) => b !== undefined);
      const model = channelAtp(CODES.map((code, i) => ({ locationCode: code, onHand: balances[i].onHand, reserved: Math.min(balances[i].reserve, balances[i].onHand), safetyStock: balances[i].safety })),
        { safetyStock: safety, allocations: allocated ? new Map(CODES.flatMap((c, i) => (buffers[i] === undefined ? [] : [[c, buffers[i]!] as [string, number]]))) : undefined });
      expect(got.available).toBe(model.total);
      expect(Object.fromEntries(got.locations.map((l) => [l.locationCode, l.available]))).toEqual(Object.fromEntries(model.byLocation));
    }), { numRuns: 25 });
  await assertStockInvariants(t.db.dataSource);
});
