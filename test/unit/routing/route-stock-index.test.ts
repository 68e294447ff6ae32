import fc from 'fast-check';
import { route } from '../../../src/routing/route';
import { NOW, atp, loc, net, north, order, rules } from './fixtures';

/**
 * route() reads the ATP snapshot SKU-first (a SKU is held at a few locations) and enumerates covers with bit masks;
 * the decision and its trace must be the same as reading every location: one trace entry per location, the first
 * failing filter as the reason, zero supply and OUT_OF_STOCK where nothing is held.
 */
describe('route over a large network with sparse stock', () => {
  const locations = Array.from({ length: 40 }, (_, i) =>
    loc(`L${String(i).padStart(2, '0')}`, { latitude: north(i * 7), active: i % 9 !== 4, type: i % 3 === 0 ? 'STORE' : 'WAREHOUSE' }),
  );
  const network = net(locations, { BIG: { tags: ['oversize'] } });
  const ruleSet = rules({
    splitPolicy: 'MINIMIZE',
    maxShipments: 3,
    filters: [{ type: 'productRestriction', productTag: 'oversize', allowedLocationTypes: ['WAREHOUSE'] }],
  });

  it('traces every location with the reason a naive scan would give', () => {
    const snapshot = atp([
      ['A', 'L03', 2],
      ['A', 'L04', 5], // inactive: INACTIVE, not OUT_OF_STOCK
      ['B', 'L07', 1],
      ['BIG', 'L06', 1], // a store: the oversize SKU is restricted there
      ['BIG', 'L08', 1],
    ]);
    const d = route(order({ lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }, { sku: 'BIG', quantity: 1 }] }), snapshot, network, ruleSet, { now: NOW });
    const t = new Map(d.trace.candidates.map((c) => [c.code, c]));
    expect(d.trace.candidates).toHaveLength(40);
    expect(t.get('L04')!.excluded?.code).toBe('INACTIVE');
    expect(t.get('L06')!.excluded?.code).toBe('PRODUCT_RESTRICTED');
    expect(t.get('L00')!.excluded?.code).toBe('PRODUCT_RESTRICTED'); // a store: restriction reported before stock
    expect(t.get('L01')!.excluded?.code).toBe('OUT_OF_STOCK');
    expect(t.get('L01')!.supply).toEqual({ A: 0, B: 0, BIG: 0 });
    expect(t.get('L03')!.supply).toEqual({ A: 1, B: 0, BIG: 0 });
    expect(d.status).toBe('ROUTED');
    expect(d.shipments.map((s) => s.locationCode).sort()).toEqual(['L03', 'L07', 'L08']);
  });

  it('finds the smallest cover whatever the stock layout', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('A', 'B', 'C', 'D'), fc.integer({ min: 0, max: 39 }), fc.integer({ min: 1, max: 2 })), { maxLength: 12 }),
        (entries) => {
          const snapshot = atp(entries.map(([sku, i, u]) => [sku, `L${String(i).padStart(2, '0')}`, u]));
          const lines = ['A', 'B', 'C', 'D'].map((sku) => ({ sku, quantity: 1 }));
          const d = route(order({ lines }), snapshot, network, ruleSet, { now: NOW });
          // Reference: brute force over the eligible locations for the fewest that hold every SKU.
          const eligible = d.trace.candidates.filter((c) => !c.excluded);
          const holds = eligible.map((c) => new Set(Object.entries(c.supply).filter(([, u]) => u > 0).map(([s]) => s)));
          let fewest = Infinity;
          const n = eligible.length;
          for (let a = 0; a < n; a++) {
            if (holds[a].size === 4) fewest = Math.min(fewest, 1);
            for (let b = a + 1; b < n; b++) {
              if (new Set([...holds[a], ...holds[b]]).size === 4) fewest = Math.min(fewest, 2);
              for (let c = b + 1; c < n && fewest > 2; c++) if (new Set([...holds[a], ...holds[b], ...holds[c]]).size === 4) fewest = 3;
            }
          }
          if (fewest <= 3 && d.status === 'ROUTED') expect(d.shipments).toHaveLength(fewest);
          if (fewest === 1 || fewest === 2) expect(d.status).toBe('ROUTED');
        },
      ),
      { numRuns: 200 },
    );
  });
});
