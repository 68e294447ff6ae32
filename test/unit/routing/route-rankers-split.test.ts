import { route, reroute } from '../../../src/routing/route';
import type { RankerSpec } from '../../../src/routing/rule-set.schema';
import type { RoutingLocation } from '../../../src/routing/types';
import { NOW, atp, loc, net, north, order, rules } from './fixtures';

describe('route: rankers', () => {
  // P: near, expensive, dirty, low priority, store, little stock. Q: far, cheap, clean, high priority, warehouse, lots.
  const P = loc('P', { type: 'STORE', latitude: north(10), shipBase: 9, shipPerKm: 0.5, co2PerKm: 0.5, priority: 5 });
  const Q = loc('Q', { type: 'WAREHOUSE', latitude: north(80), shipBase: 1, shipPerKm: 0.01, co2PerKm: 0.01, priority: 1 });
  const stock = atp([
    ['A', 'P', 2],
    ['A', 'Q', 50],
  ]);
  const table: { ranker: RankerSpec; winner: string; metric: string }[] = [
    { ranker: { type: 'distance', weight: 1 }, winner: 'P', metric: 'distanceKm' },
    { ranker: { type: 'cost', weight: 1 }, winner: 'Q', metric: 'costEstimate' },
    { ranker: { type: 'co2', weight: 1 }, winner: 'Q', metric: 'co2Kg' },
    { ranker: { type: 'priority', weight: 1 }, winner: 'Q', metric: 'priority' },
    { ranker: { type: 'stock', weight: 1, mode: 'balance' }, winner: 'Q', metric: 'stockLeft' },
    { ranker: { type: 'stock', weight: 1, mode: 'clear' }, winner: 'P', metric: 'stockLeftClear' },
    { ranker: { type: 'locationType', weight: 1, order: ['STORE', 'WAREHOUSE'] }, winner: 'P', metric: 'locationTypeOrder' },
    { ranker: { type: 'locationType', weight: 1, order: ['WAREHOUSE'] }, winner: 'Q', metric: 'locationTypeOrder' },
  ];
  it.each(table)('$ranker.type $ranker picks $winner', ({ ranker, winner, metric }) => {
    const d = route(order({ lines: [{ sku: 'A', quantity: 1 }] }), stock, net([P, Q]), rules({ rankers: [ranker] }), { now: NOW });
    expect(d.shipments[0].locationCode).toBe(winner);
    const w = d.trace.candidates.find((c) => c.code === winner)!;
    expect(w.rank).toBe(1);
    expect(w.score).toBe(1);
    expect(w.metrics).toHaveProperty(metric);
  });

  it('weights trade rankers off against each other', () => {
    const distanceHeavy = rules({ rankers: [{ type: 'distance', weight: 3 }, { type: 'cost', weight: 1 }] });
    const costHeavy = rules({ rankers: [{ type: 'distance', weight: 1 }, { type: 'cost', weight: 3 }] });
    expect(route(order(), stock, net([P, Q]), distanceHeavy, { now: NOW }).shipments[0].locationCode).toBe('P');
    expect(route(order(), stock, net([P, Q]), costHeavy, { now: NOW }).shipments[0].locationCode).toBe('Q');
  });

  it('prices parcels from zone/weight rate tables', () => {
    const rs = rules({
      rankers: [{ type: 'cost', weight: 1 }],
      shippingRates: [
        {
          locationTypes: ['STORE'],
          zones: [{ name: 'local', maxKm: 50 }, { name: 'national', maxKm: 1000 }],
          rates: [
            { zone: 'local', maxWeightKg: 2, price: 0.5 },
            { zone: 'local', maxWeightKg: 30, price: 3 },
            { zone: 'national', maxWeightKg: 30, price: 8 },
          ],
        },
      ],
    });
    const light = route(order(), stock, net([P, Q], { A: { weightKg: 1 } }), rs, { now: NOW });
    expect(light.shipments[0]).toMatchObject({ locationCode: 'P', estimatedCost: 0.5 });
    const heavy = route(order({ lines: [{ sku: 'A', quantity: 2 }] }), stock, net([P, Q], { A: { weightKg: 10 } }), rs, { now: NOW });
    // 20 kg from the store costs 3 (rate table); from the warehouse 1 + 0.01 × 80 km.
    expect(heavy.shipments[0].locationCode).toBe('Q');
    expect(heavy.trace.candidates.find((c) => c.code === 'P')!.metrics!.costEstimate).toBe(3);
  });
});

describe('route: deterministic tie-breaks', () => {
  const same = (code: string, over: Partial<RoutingLocation> = {}) => loc(code, { latitude: north(10), ...over });
  it('equal scores: nearer wins', () => {
    const d = route(order(), atp([['A', 'B', 1], ['A', 'A1', 1]]), net([same('B'), same('A1', { latitude: north(11) })]), rules({ rankers: [{ type: 'priority', weight: 1 }] }), { now: NOW });
    expect(d.shipments[0].locationCode).toBe('B');
  });
  it('equal scores and distance: priority, then code', () => {
    const r = rules({ rankers: [{ type: 'cost', weight: 1 }] });
    const byPriority = route(order(), atp([['A', 'B', 1], ['A', 'C', 1]]), net([same('C', { priority: 1 }), same('B', { priority: 2 })]), r, { now: NOW });
    expect(byPriority.shipments[0].locationCode).toBe('C');
    const byCode = route(order(), atp([['A', 'B', 1], ['A', 'C', 1]]), net([same('C'), same('B')]), r, { now: NOW });
    expect(byCode.shipments[0].locationCode).toBe('B');
    const reversed = route(order(), atp([['A', 'B', 1], ['A', 'C', 1]]), net([same('B'), same('C')]), r, { now: NOW });
    expect(reversed.shipments).toEqual(byCode.shipments);
  });
});

describe('route: split policies', () => {
  // Order: 2×A, 2×B, 2×C.  N (nearest) has A; M has A+B; F (far) has B+C; G has C only; ALL (farthest) has everything.
  const locs = [
    loc('N', { latitude: north(1) }),
    loc('M', { latitude: north(2) }),
    loc('F', { latitude: north(3) }),
    loc('G', { latitude: north(4) }),
    loc('ALL', { latitude: north(500) }),
  ];
  const o = order({ lines: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 2 }, { sku: 'C', quantity: 2 }] });
  const withAll = atp([
    ['A', 'N', 2], ['A', 'M', 2], ['B', 'M', 2], ['B', 'F', 2], ['C', 'F', 2], ['C', 'G', 2],
    ['A', 'ALL', 5], ['B', 'ALL', 5], ['C', 'ALL', 5],
  ]);
  const noAll = atp([['A', 'N', 2], ['A', 'M', 2], ['B', 'M', 2], ['B', 'F', 2], ['C', 'F', 2], ['C', 'G', 2]]);
  const plan = (d: ReturnType<typeof route>) => d.shipments.map((s) => `${s.locationCode}:${s.lines.map((l) => l.sku + l.quantity).join('+')}`);

  it.each(['NEVER', 'ALLOW', 'MINIMIZE'] as const)('%s ships from one location when one has everything, even if far', (policy) => {
    const d = route(o, withAll, net(locs), rules({ splitPolicy: policy }), { now: NOW });
    expect(plan(d)).toEqual(['ALL:A2+B2+C2']);
    expect(d.trace.steps[0].code).toBe('SINGLE_LOCATION');
  });

  const table = [
    { policy: 'NEVER', max: 3, expected: [], status: 'BACKORDERED' },
    { policy: 'ALLOW', max: 3, expected: ['N:A2', 'M:B2', 'F:C2'], status: 'ROUTED' },
    { policy: 'ALLOW', max: 2, expected: ['N:A2', 'M:B2'], status: 'PARTIAL' },
    { policy: 'MINIMIZE', max: 3, expected: ['N:A2', 'F:B2+C2'], status: 'ROUTED' },
    { policy: 'MINIMIZE', max: 1, expected: [], status: 'BACKORDERED' },
  ] as const;
  it.each(table)('$policy with maxShipments $max', ({ policy, max, expected, status }) => {
    const d = route(o, noAll, net(locs), rules({ splitPolicy: policy, maxShipments: max }), { now: NOW });
    expect(plan(d)).toEqual(expected);
    expect(d.status).toBe(status);
    const shipped = d.shipments.flatMap((s) => s.lines).reduce((a, l) => a + l.quantity, 0);
    const unfilled = d.unfilled.reduce((a, u) => a + u.quantity, 0);
    expect(shipped + unfilled).toBe(6);
  });

  it('MINIMIZE falls back to greatest coverage when no cover fits', () => {
    const d = route(
      order({ lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }, { sku: 'C', quantity: 1 }] }),
      atp([['A', 'N', 1], ['B', 'F', 1], ['C', 'F', 1]]),
      net(locs),
      rules({ splitPolicy: 'MINIMIZE', maxShipments: 1 }),
      { now: NOW },
    );
    expect(d.status).toBe('BACKORDERED'); // maxShipments 1 means no split at all
    const d2 = route(
      order({ lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }, { sku: 'C', quantity: 1 }, { sku: 'D', quantity: 1 }] }),
      atp([['A', 'N', 1], ['B', 'F', 1], ['C', 'F', 1], ['D', 'G', 1]]),
      net(locs),
      rules({ splitPolicy: 'MINIMIZE', maxShipments: 2 }),
      { now: NOW },
    );
    expect(plan(d2)).toEqual(['F:B1+C1', 'N:A1']);
    expect(d2.unfilled).toEqual([{ sku: 'D', quantity: 1, reason: 'INSUFFICIENT_STOCK' }]);
    expect(d2.status).toBe('PARTIAL');
  });

  it('splits a single line across locations when no location has the quantity', () => {
    const d = route(order({ lines: [{ sku: 'A', quantity: 5 }] }), atp([['A', 'N', 3], ['A', 'M', 3]]), net(locs), rules({ splitPolicy: 'ALLOW' }), { now: NOW });
    expect(plan(d)).toEqual(['N:A3', 'M:A2']);
  });

  it('respects remaining line capacity when deciding what a location can take', () => {
    const capped = [loc('N', { latitude: north(1), dailyLineCapacity: 1 }), loc('M', { latitude: north(2) })];
    const d = route(
      order({ lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }] }),
      atp([['A', 'N', 1], ['B', 'N', 1], ['B', 'M', 1]]),
      net(capped),
      rules({ splitPolicy: 'ALLOW' }),
      { now: NOW },
    );
    expect(plan(d)).toEqual(['N:A1', 'M:B1']);
  });

  it('merges duplicate lines of the same SKU', () => {
    const d = route(order({ lines: [{ sku: 'A', quantity: 1 }, { sku: 'A', quantity: 1 }] }), atp([['A', 'N', 2]]), net(locs), rules(), { now: NOW });
    expect(plan(d)).toEqual(['N:A2']);
  });
});

describe('reroute', () => {
  it('routes only the remainder, away from the rejecting location', () => {
    const locs = [loc('N', { latitude: north(1) }), loc('M', { latitude: north(2) })];
    const stock = atp([['A', 'N', 5], ['A', 'M', 5]]);
    const first = route(order({ lines: [{ sku: 'A', quantity: 3 }] }), stock, net(locs), rules(), { now: NOW });
    expect(first.shipments[0].locationCode).toBe('N');
    const again = reroute(order({ lines: [{ sku: 'A', quantity: 3 }] }), [{ sku: 'A', quantity: 2 }], ['N'], stock, net(locs), rules(), { now: NOW });
    expect(again.shipments).toHaveLength(1);
    expect(again.shipments[0]).toMatchObject({ locationCode: 'M', lines: [{ sku: 'A', quantity: 2 }] });
    expect(again.trace.steps[0]).toEqual({ code: 'REROUTE', detail: { excluded: 'N' } });
  });
});
