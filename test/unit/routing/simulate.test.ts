import { prng } from '../../../src/db/seed/demo-network';
import { consumeDecision, route } from '../../../src/routing/route';
import { simulate, planSignature, type Scenario } from '../../../src/routing/simulate';
import { parseHistory, SimulationInputError, type HistoryOrder } from '../../../src/routing/simulate.history';
import { parseNetwork, type SimulationNetwork } from '../../../src/routing/simulate.network';
import type { RuleSet } from '../../../src/routing/rule-set.schema';
import { atp, loc, net, north, rules } from './fixtures';

/*
 * A tiny network checked by hand. W1 sits at the customer's door (10 km), W2 390 km north of the customer and
 * may ship 3 orders a day. Distance-ranked, MINIMIZE split. All orders on Monday 9 June 2025 at 10:0x London time,
 * before the 16:00 cut-off: ready the same day at 14:00, collected by the 17:00 ground pickup, delivered within
 * the band's maxDays (≤ 300 km: 2 delivery days → Wednesday; ≤ 1000 km: 3 → Thursday).
 */
const W1 = loc('W1', { latitude: north(0), co2PerKm: 0.001 });
const W2 = loc('W2', { latitude: north(400), co2PerKm: 0.001, dailyOrderCapacity: 3 });
const tiny = (): SimulationNetwork => ({
  source: 'tiny',
  network: net([W1, W2]),
  atp: atp([['A', 'W1', 2], ['A', 'W2', 10], ['B', 'W2', 5]]),
  skus: ['A', 'B'],
});
const to = { latitude: north(10), longitude: -0.1, country: 'GB' };
const at = (min: number) => `2025-06-09T09:0${min}:00.000Z`;
const ord = (id: string, min: number, lines: [string, number][]): HistoryOrder => ({
  id, placedAt: at(min), channel: 'web', method: 'SHIP', shipTo: to, lines: lines.map(([sku, quantity]) => ({ sku, quantity })),
});
const history = [
  ord('H1', 1, [['A', 1]]), //            A: W1 (10 km).              B: W2.
  ord('H2', 2, [['A', 2]]), //            A: W1 has 1 left → W2.      B: W2.
  ord('H3', 3, [['A', 1], ['B', 1]]), //  A: only W2 has B → W2.      B: W2 (its 3rd order: full for the day).
  ord('H4', 4, [['B', 10]]), //           A: W2 has 4 B → PARTIAL.    B: W2 full, W1 excluded → BACKORDERED.
].map((order, i) => ({ order, line: i + 1 }));

const byDistance: RuleSet = rules({ id: 'near', rankers: [{ type: 'distance', weight: 1 }], splitPolicy: 'MINIMIZE' });
const noW1: RuleSet = rules({ id: 'no-w1', rankers: [{ type: 'distance', weight: 1 }], splitPolicy: 'MINIMIZE', filters: [{ type: 'excludeLocations', codes: ['W1'] }] });
const A: Scenario = { name: 'A.json', ruleSets: [byDistance] };
const B: Scenario = { name: 'B.json', ruleSets: [noW1] };

test('metrics of a tiny history match the hand calculation', () => {
  const r = simulate(history, tiny(), [A]);
  const [a] = r.scenarios;
  expect(a).toMatchObject({
    orders: 4, routed: 3, partial: 1, backordered: 0, unfulfillable: 1, unfulfillableRate: 0.25,
    unitsOrdered: 15, unfilledUnits: 6, shippedOrders: 4, shipments: 4, shipmentsPerOrder: 1, splitRate: 0,
  });
  expect(a.shippingCost).toBeCloseTo(5.1 + 8.9 * 3, 2); // shipBase 5 + 0.01/km: 10 km once, 390 km three times
  expect(a.meanDistanceKm).toBeCloseTo((10 + 390 * 3) / 4, 0);
  expect(a.meanDeliveryDays).toBeCloseTo((2 + 3 + 3) / 3, 2); // the partial order never completes
  expect(a.co2Kg).toBeCloseTo(0.001 * (10 + 390 * 3), 2);
  const w1 = a.locations.find((l) => l.code === 'W1')!;
  const w2 = a.locations.find((l) => l.code === 'W2')!;
  expect(w1).toMatchObject({ shipments: 1, units: 1, share: 0.25, peakDay: '2025-06-09', peakDayOrders: 1, peakDayCapacity: null, daysAtCapacity: 0 });
  expect(w2).toMatchObject({ shipments: 3, units: 8, share: 0.75, peakDayOrders: 3, peakDayCapacity: 3, daysAtCapacity: 1 });
  expect(r.history).toEqual({ orders: 4, first: at(1), last: at(4), unknownSkuLines: 0 });
  expect(r.network).toEqual({ source: 'tiny', locations: 2, skus: 2, units: 17 });
});

test('--compare finds the changed decisions, their kinds, flows, and the direct effect of the rules', () => {
  const r = simulate(history, tiny(), [A, B]);
  const b = r.scenarios[1];
  expect(b).toMatchObject({ routed: 3, partial: 0, backordered: 1, shipments: 3, unfilledUnits: 10 });
  expect(b.locations.find((l) => l.code === 'W1')!.shipments).toBe(0);
  const [c] = r.comparisons;
  expect(c).toMatchObject({ base: 'A.json', other: 'B.json', changed: 2, changedRate: 0.5 });
  expect(c.byKind).toEqual({ fill: 1, shipmentCount: 0, locations: 1, quantities: 0 });
  expect(c.flows).toEqual([
    { from: 'W1', to: 'W2', orders: 1 },
    { from: 'W2', to: '(none)', orders: 1 },
  ]);
  expect(c.examples.map((e) => [e.id, e.line, e.kind])).toEqual([['H1', 1, 'locations'], ['H4', 4, 'fill']]);
  expect(c.examples[1].base.status).toBe('PARTIAL');
  expect(c.examples[1].other).toEqual({ status: 'BACKORDERED', cost: 0, shipments: [] });
  // H4 is backordered only because H1 used up W2's capacity earlier: on A's own state B's rules still ship it.
  expect(c.changedSameState).toBe(1);
  // Identical rule sets change nothing.
  expect(simulate(history, tiny(), [A, { ...A, name: 'A2' }]).comparisons[0]).toMatchObject({ changed: 0, changedSameState: 0 });
});

test('a rule-set file with a peak window switches rules by order time, even as DRAFT', () => {
  const peak = { ...noW1, id: 'peak', status: 'DRAFT' as const, validFrom: '2025-06-09T09:02:30Z', validTo: '2025-07-01' };
  const r = simulate(history, tiny(), [{ name: 'P', ruleSets: [byDistance, peak] }]);
  expect(r.scenarios[0].ruleSets.map((x) => [x.id, x.orders])).toEqual([['near', 2], ['peak', 2]]);
  // Outside every window is an error naming the file and line, not a silent default.
  const only = { name: 'peak.yaml', ruleSets: [peak] };
  expect(() => simulate(history, tiny(), [only], { file: 'h.jsonl' })).toThrow(/^h\.jsonl:1: no rule set of peak\.yaml is in force/);
});

test('pickups: shelf stock, else transfers as the rule set allows; ready day counts as delivery', () => {
  const store = loc('S1', { type: 'STORE', latitude: north(10), capabilities: ['SHIP', 'PICKUP'] });
  const base: SimulationNetwork = { ...tiny(), network: net([W1, W2, store]), atp: atp([['B', 'W2', 5], ['A', 'S1', 1]]) };
  const pickups = [
    { order: { ...ord('P1', 1, [['A', 1]]), method: 'PICKUP' as const, pickupLocationCode: 'S1' }, line: 1 }, // from the shelf
    { order: { ...ord('P2', 2, [['B', 1]]), method: 'PICKUP' as const, pickupLocationCode: 'S1' }, line: 2 }, // B only at W2
  ];
  const noTransfers = rules({ id: 'no-transfers', pickup: { allowTransfer: false } });
  const r = simulate(pickups, base, [{ name: 'T', ruleSets: [rules()] }, { name: 'N', ruleSets: [noTransfers] }]);
  const [t, n] = r.scenarios;
  expect(t).toMatchObject({ routed: 2, shipments: 2, unfulfillable: 0 });
  // Shelf: ready Monday (0 days). Transfer: W2 ready Mon 14:00 + 24 h handling + 1 day for 390 km + 4 h at the store = Wednesday.
  expect(t.meanDeliveryDays).toBeCloseTo((0 + 2) / 2, 2);
  expect(t.meanDistanceKm).toBeCloseTo(390, 0); // the transfer is a parcel; the shelf pickup moves nothing
  expect(t.locations.find((l) => l.code === 'W2')!.shipments).toBe(1);
  expect(n).toMatchObject({ routed: 1, backordered: 1, shipments: 1 });
  expect(r.comparisons[0]).toMatchObject({ changed: 1, byKind: { fill: 1, shipmentCount: 0, locations: 0, quantities: 0 } });
});

test('replay is the same as routing each order and consuming its decision (route + consumeDecision)', () => {
  const rnd = prng(99);
  const locs = Array.from({ length: 6 }, (_, i) => loc(`L${i}`, { latitude: 50 + rnd() * 4, longitude: -4 + rnd() * 4, dailyOrderCapacity: 4 + i, dailyLineCapacity: 12 }));
  const skus = ['A', 'B', 'C', 'D', 'E'];
  const rows: [string, string, number][] = [];
  for (const l of locs) for (const s of skus) if (rnd() < 0.6) rows.push([s, l.code, Math.floor(rnd() * 6)]);
  const base: SimulationNetwork = { source: 'random', network: net(locs), atp: atp(rows), skus };
  const orders = Array.from({ length: 60 }, (_, i) => ({
    order: {
      id: `R${i}`, placedAt: new Date(Date.UTC(2025, 5, 9 + Math.floor(i / 20), 8, i)).toISOString(), channel: 'web', method: 'SHIP' as const,
      shipTo: { latitude: 50 + rnd() * 4, longitude: -4 + rnd() * 4, country: 'GB' },
      lines: skus.filter(() => rnd() < 0.4).map((sku) => ({ sku, quantity: 1 + Math.floor(rnd() * 2) })),
    },
    line: i + 1,
  })).filter((o) => o.order.lines.length > 0);
  const rs = rules({ splitPolicy: 'ALLOW', maxShipments: 2 });

  let state = { atp: base.atp, network: base.network };
  let shipments = 0;
  let cost = 0;
  let unfilled = 0;
  const sigs: string[] = [];
  for (const { order } of orders) {
    const now = new Date(order.placedAt);
    const d = route(order, state.atp, state.network, rs, { now });
    shipments += d.shipments.length;
    cost += d.estimatedCost;
    unfilled += d.unfilled.reduce((a, u) => a + u.quantity, 0);
    sigs.push(planSignature(d));
    state = consumeDecision(d, state.atp, state.network, now);
  }
  const r = simulate(orders, base, [{ name: 'rs', ruleSets: [rs] }, { name: 'rs-again', ruleSets: [rs] }]);
  expect(r.scenarios[0]).toMatchObject({ orders: orders.length, shipments, unfilledUnits: unfilled });
  expect(r.scenarios[0].shippingCost).toBeCloseTo(cost, 2);
  expect(r.comparisons[0].changed).toBe(0);
  expect(new Set(sigs).size).toBeGreaterThan(5); // the instance is not trivial
  // The input network is never mutated.
  expect(base.network.locations.every((l) => l.usedToday === undefined)).toBe(true);
});

describe('bad input is refused naming the file and line', () => {
  const good = JSON.stringify(history[0].order);
  const cases: [string, string, RegExp][] = [
    ['not JSON', `${good}\n{"id": "H2",`, /^h\.jsonl:2: not valid JSON/],
    ['bad quantity', `${good}\n${JSON.stringify({ ...history[1].order, lines: [{ sku: 'A', quantity: 0 }] })}`, /^h\.jsonl:2: lines\[0\]\.quantity: must be at least 1 \(order H2\)/],
    ['no address', `\n${JSON.stringify({ ...history[1].order, shipTo: undefined })}`, /^h\.jsonl:2: shipTo: required for SHIP orders/],
    ['pickup without store', JSON.stringify({ ...history[1].order, method: 'PICKUP' }), /^h\.jsonl:1: pickupLocationCode: required for PICKUP/],
    ['bad time', JSON.stringify({ ...history[1].order, placedAt: 'yesterday' }), /^h\.jsonl:1: placedAt: must be an ISO date-time/],
    ['out of order', `${JSON.stringify(history[1].order)}\n${good}`, /^h\.jsonl:2: placedAt .* earlier than the order on line 1; sort the history/],
    ['duplicate id', `${good}\n${JSON.stringify({ ...history[1].order, id: 'H1' })}`, /^h\.jsonl:2: duplicate order id "H1" \(first on line 1\)/],
    ['array line', '[1, 2]', /^h\.jsonl:1: each line must be one order object/],
  ];
  test.each(cases)('%s', (_name, text, message) => {
    expect(() => parseHistory(text, 'h.jsonl')).toThrow(SimulationInputError);
    expect(() => parseHistory(text, 'h.jsonl')).toThrow(message);
  });

  test('an unknown pickup store is named with its line', () => {
    const o = { ...history[0].order, method: 'PICKUP' as const, pickupLocationCode: 'NOPE' };
    expect(() => simulate([{ order: o, line: 7 }], tiny(), [A], { file: 'h.jsonl' })).toThrow('h.jsonl:7: pickupLocationCode: "NOPE" is not a location of the network (tiny)');
  });

  test('network files: unknown locations and bad fields are named by path', () => {
    const locs = [{ code: 'W1', latitude: 51.5, longitude: -0.1, shipBase: 5, shipPerKm: 0.01 }];
    expect(() => parseNetwork({ locations: locs, stock: [{ sku: 'A', location: 'W9', qty: 1 }] }, 'net.json')).toThrow('net.json: stock[0].location: unknown location "W9"');
    expect(() => parseNetwork({ locations: [{ ...locs[0], timeZone: 'Mars/Base' }], stock: [] }, 'net.yaml')).toThrow(/^net\.yaml: locations\[0\]\.timeZone: must be an IANA time zone/);
    expect(() => parseNetwork({ locations: [...locs, ...locs], stock: [] }, 'net.json')).toThrow('duplicate location code "W1"');
    const ok = parseNetwork({ locations: locs, stock: [{ sku: 'A', location: 'W1', qty: 3 }, { sku: 'A', location: 'W1', qty: 2 }] }, 'net.json');
    expect(ok.atp.available.A.W1).toBe(5);
    expect(ok.network.locations[0]).toMatchObject({ type: 'WAREHOUSE', capabilities: ['SHIP'], timeZone: 'UTC', cutoff: '15:00' });
  });
});
