import fc from 'fast-check';
import { explainDecision } from '../../../src/routing/explain';
import { route } from '../../../src/routing/route';
import type { RoutingLocation } from '../../../src/routing/types';
import { NOW, atp, loc, net, north, order, rules } from './fixtures';

describe('explainDecision', () => {
  it('tells a store manager what ships where and why others were not used', () => {
    const d = route(
      order({ id: 'SO-1001', lines: [{ sku: 'MUG', quantity: 2 }] }),
      atp([['MUG', 'LDN', 5], ['MUG', 'MAN', 5]]),
      net([
        loc('LDN', { name: 'London DC', active: false }),
        loc('MAN', { name: 'Manchester DC', latitude: north(260) }),
        loc('BRS', { name: 'Bristol store', type: 'STORE', latitude: north(20) }),
      ]),
      rules({ name: 'Everyday', version: 7 }),
      { now: NOW },
    );
    const text = explainDecision(d);
    expect(text).toContain('Order SO-1001 was routed with rule set "Everyday" (rs v7)');
    expect(text).toContain('Ships 2 × MUG from Manchester DC (MAN), 260 km away');
    expect(text).toContain('It ranked #1: had everything in stock');
    expect(text).toContain('- London DC (LDN): it is switched off (inactive).');
    expect(text).toContain('- Bristol store (BRS): it has none of the items in stock.');
    expect(text).not.toMatch(/undefined|\[object/);
  });

  it('explains backorders and split refusals', () => {
    const d = route(
      order({ lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }] }),
      atp([['A', 'X', 1], ['B', 'Y', 1]]),
      net([loc('X'), loc('Y', { latitude: north(10) })]),
      rules({ splitPolicy: 'NEVER' }),
      { now: NOW },
    );
    const text = explainDecision(d);
    expect(text).toContain('No single location had everything.');
    expect(text).toContain('does not allow splitting');
    expect(text).toContain('backordered');
  });
});

describe('route: properties', () => {
  const skus = ['A', 'B', 'C', 'D'];
  const codes = ['L0', 'L1', 'L2', 'L3', 'L4', 'L5'];
  const arbLocation = (code: string) =>
    fc.record({
      active: fc.boolean(),
      km: fc.integer({ min: 0, max: 800 }),
      type: fc.constantFrom<RoutingLocation['type']>('WAREHOUSE', 'STORE', 'THREE_PL'),
      cap: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      lineCap: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      priority: fc.integer({ min: 1, max: 3 }),
    }).map((r) =>
      loc(code, {
        active: r.active,
        latitude: north(r.km),
        type: r.type,
        dailyOrderCapacity: r.cap,
        dailyLineCapacity: r.lineCap,
        priority: r.priority,
      }),
    );
  const arbNetwork = fc.tuple(...codes.map(arbLocation));
  const arbStock = fc.array(fc.tuple(fc.constantFrom(...skus), fc.constantFrom(...codes), fc.integer({ min: 0, max: 4 })), { maxLength: 20 });
  const arbLines = fc.array(fc.record({ sku: fc.constantFrom(...skus), quantity: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 4 });
  const arbRules = fc.record({
    splitPolicy: fc.constantFrom('NEVER' as const, 'ALLOW' as const, 'MINIMIZE' as const),
    maxShipments: fc.integer({ min: 1, max: 4 }),
    weights: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 })),
  });

  it('never allocates more than ATP, accounts for every ordered unit, and respects policy and limits', () => {
    fc.assert(
      fc.property(arbNetwork, arbStock, arbLines, arbRules, (locations, stock, lines, r) => {
        const snapshot = atp(stock);
        const rs = rules({
          splitPolicy: r.splitPolicy,
          maxShipments: r.maxShipments,
          rankers: [
            { type: 'distance', weight: r.weights[0] },
            { type: 'cost', weight: r.weights[1] },
            { type: 'priority', weight: r.weights[2] },
          ],
        });
        const d = route(order({ lines }), snapshot, net(locations), rs, { now: NOW });

        const used = new Map<string, number>();
        for (const s of d.shipments) for (const l of s.lines) used.set(`${l.sku}@${s.locationCode}`, (used.get(`${l.sku}@${s.locationCode}`) ?? 0) + l.quantity);
        for (const [key, units] of used) {
          const [sku, code] = key.split('@');
          expect(units).toBeLessThanOrEqual(snapshot.available[sku]?.[code] ?? 0);
        }
        for (const sku of new Set(lines.map((l) => l.sku))) {
          const ordered = lines.filter((l) => l.sku === sku).reduce((a, l) => a + l.quantity, 0);
          const shipped = d.shipments.flatMap((s) => s.lines).filter((l) => l.sku === sku).reduce((a, l) => a + l.quantity, 0);
          const unfilled = d.unfilled.filter((u) => u.sku === sku).reduce((a, u) => a + u.quantity, 0);
          expect(shipped + unfilled).toBe(ordered);
        }
        expect(d.shipments.length).toBeLessThanOrEqual(r.splitPolicy === 'NEVER' ? 1 : r.maxShipments);
        expect(new Set(d.shipments.map((s) => s.locationCode)).size).toBe(d.shipments.length);
        for (const s of d.shipments) {
          const l = locations.find((x) => x.code === s.locationCode)!;
          expect(l.active).toBe(true);
          if (l.dailyLineCapacity !== undefined) expect(s.lines.length).toBeLessThanOrEqual(l.dailyLineCapacity);
          if (l.dailyOrderCapacity !== undefined) expect(l.dailyOrderCapacity).toBeGreaterThan(0);
        }
        expect(d.status).toBe(d.unfilled.length === 0 ? 'ROUTED' : d.shipments.length ? 'PARTIAL' : 'BACKORDERED');
        // Deterministic: same inputs (even with the network listed backwards) give the same plan.
        const again = route(order({ lines }), snapshot, net([...locations].reverse()), rs, { now: NOW });
        expect(again.shipments).toEqual(d.shipments);
      }),
      { numRuns: 300 },
    );
  });

  it('MINIMIZE never uses more shipments than ALLOW when both fill the order', () => {
    fc.assert(
      fc.property(arbNetwork, arbStock, arbLines, fc.integer({ min: 2, max: 4 }), (locations, stock, lines, max) => {
        const snapshot = atp(stock);
        const n = net(locations.map((l) => ({ ...l, dailyLineCapacity: undefined })));
        const a = route(order({ lines }), snapshot, n, rules({ splitPolicy: 'ALLOW', maxShipments: max }), { now: NOW });
        const m = route(order({ lines }), snapshot, n, rules({ splitPolicy: 'MINIMIZE', maxShipments: max }), { now: NOW });
        if (a.status === 'ROUTED') {
          expect(m.status).toBe('ROUTED');
          expect(m.shipments.length).toBeLessThanOrEqual(a.shipments.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});
