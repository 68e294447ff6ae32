import { explainDecision } from '../../../src/routing/explain';
import { route } from '../../../src/routing/route';
import { candidateCodes, expandDecision, packDecision, type LocationLabel, type StoredDecision } from '../../../src/routing/trace-store';
import type { RoutingNetwork } from '../../../src/routing/types';
import { NOW, atp, loc, net, north, order, rules } from './fixtures';

const labelsOf = (network: RoutingNetwork) => new Map<string, LocationLabel>(network.locations.map((l) => [l.code, { name: l.name, type: l.type }]));
/** Through the database: a JSON document. */
const stored = (d: ReturnType<typeof packDecision>) => JSON.parse(JSON.stringify(d)) as StoredDecision;

describe('stored routing decisions', () => {
  const network = net([
    loc('LDN', { name: 'London DC', active: false }),
    loc('MAN', { name: 'Manchester DC', latitude: north(260) }),
    loc('BRS', { name: 'Bristol store', type: 'STORE', latitude: north(20) }),
    loc('LDS', { name: 'Leeds DC', latitude: north(300), dailyOrderCapacity: 1, usedToday: { date: '2025-06-10', orders: 1, lines: 0 } }),
    loc('YRK', { name: 'York DC', latitude: north(330) }),
  ]);
  const decision = route(order({ id: 'SO-1', lines: [{ sku: 'MUG', quantity: 2 }, { sku: 'CUP', quantity: 1 }] }),
    atp([['MUG', 'LDN', 5], ['MUG', 'MAN', 5], ['CUP', 'MAN', 1], ['MUG', 'YRK', 1], ['CUP', 'LDS', 3]]), network, rules({ name: 'Everyday', version: 7 }), { now: NOW });

  it('explain reads the same from the compact form as from the decision routing returned', () => {
    const back = expandDecision(stored(packDecision(decision)), labelsOf(network));
    expect(explainDecision(back)).toBe(explainDecision(decision));
    expect(back.shipments).toEqual(decision.shipments);
    expect(back.trace.candidates.map(({ supply: _s, coversAll, ...c }) => ({ ...c, coversAll: !!coversAll })))
      .toEqual(decision.trace.candidates.map(({ supply: _s, coversAll, ...c }) => ({ ...c, coversAll: !!coversAll })));
  });

  it('keeps what is stored beside the trace, and reads decisions stored whole (before the compact form) as they are', () => {
    const packed = stored(packDecision({ ...decision, geocodePrecision: 'city' }));
    expect(packed).toMatchObject({ geocodePrecision: 'city', status: decision.status, trace: { decidedAt: decision.trace.decidedAt, ruleSetName: 'Everyday' } });
    expect(candidateCodes(packed)).toEqual(decision.trace.candidates.map((c) => c.code));
    const whole = JSON.parse(JSON.stringify(decision)) as StoredDecision;
    expect(expandDecision(whole, new Map())).toEqual(decision);
    expect(candidateCodes(whole)).toEqual(decision.trace.candidates.map((c) => c.code));
  });

  it('is a fraction of the size of the full trace', () => {
    expect(JSON.stringify(packDecision(decision)).length).toBeLessThan(JSON.stringify(decision).length * 0.7);
  });
});
