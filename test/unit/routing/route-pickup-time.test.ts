import { remainingCapacity } from '../../../src/routing/capacity';
import { consumeDecision, ownPlanningInputs, route, takeDecision } from '../../../src/routing/route';
import { localDate, readyTime, zonedTimeToUtc } from '../../../src/routing/time';
import { NOW, atp, loc, net, north, order, rules } from './fixtures';

describe('time in the location time zone', () => {
  it('computes the local day per time zone', () => {
    const t = new Date('2025-06-10T02:30:00Z');
    expect(localDate(t, 'Europe/London')).toBe('2025-06-10');
    expect(localDate(t, 'America/Los_Angeles')).toBe('2025-06-09');
    expect(localDate(t, 'Asia/Tokyo')).toBe('2025-06-10');
  });

  it('converts local wall time to UTC across DST', () => {
    expect(zonedTimeToUtc('2025-01-15', '09:00', 'Europe/London').toISOString()).toBe('2025-01-15T09:00:00.000Z');
    expect(zonedTimeToUtc('2025-07-15', '09:00', 'Europe/London').toISOString()).toBe('2025-07-15T08:00:00.000Z');
    expect(zonedTimeToUtc('2025-07-15', '09:00', 'America/New_York').toISOString()).toBe('2025-07-15T13:00:00.000Z');
  });

  it('capacity resets at local midnight, not UTC midnight', () => {
    const la = loc('LA', { timeZone: 'America/Los_Angeles', dailyOrderCapacity: 3, usedToday: { date: '2025-06-09', orders: 3, lines: 3 } });
    // 05:00 UTC on the 10th is still the 9th in Los Angeles: full.
    expect(remainingCapacity(la, new Date('2025-06-10T05:00:00Z'), rules()).orders).toBe(0);
    // 08:00 UTC is 01:00 on the 10th in Los Angeles: a fresh day.
    expect(remainingCapacity(la, new Date('2025-06-10T08:00:00Z'), rules()).orders).toBe(3);
  });

  it('ready time: processing hours, next opening after the cutoff', () => {
    const l = { timeZone: 'Europe/London', cutoff: '16:00', processingHours: 2 };
    // 10:00 UTC = 11:00 BST, before cutoff
    expect(readyTime(new Date('2025-06-10T10:00:00Z'), l).toISOString()).toBe('2025-06-10T12:00:00.000Z');
    // 16:30 BST after cutoff → next day 08:00 BST (07:00Z) + 2 h
    expect(readyTime(new Date('2025-06-10T15:30:00Z'), l).toISOString()).toBe('2025-06-11T09:00:00.000Z');
    // 05:00 BST, before opening → 08:00 BST + 2 h
    expect(readyTime(new Date('2025-06-10T04:00:00Z'), l).toISOString()).toBe('2025-06-10T09:00:00.000Z');
  });

  it('consumeDecision uses up stock and capacity for the next order', () => {
    const n = net([loc('X', { dailyOrderCapacity: 1 }), loc('Y', { latitude: north(20) })]);
    const s = atp([['A', 'X', 5], ['A', 'Y', 5]]);
    const first = route(order(), s, n, rules(), { now: NOW });
    expect(first.shipments[0].locationCode).toBe('X');
    const next = consumeDecision(first, s, n, NOW);
    expect(next.atp.available.A.X).toBe(4);
    expect(s.available.A.X).toBe(5);
    const second = route(order({ id: 'O2' }), next.atp, next.network, rules(), { now: NOW });
    expect(second.shipments[0].locationCode).toBe('Y');
    expect(second.trace.candidates[0].excluded?.code).toBe('CAPACITY_ORDERS_FULL');
  });

  it('takeDecision does the same in place, on copies that leave the snapshot read untouched', () => {
    const n = net([loc('X', { dailyOrderCapacity: 2, usedToday: { date: '2025-06-10', orders: 1, lines: 1 } }), loc('Y', { latitude: north(20) })]);
    const s = atp([['A', 'X', 5], ['A', 'Y', 5], ['B', 'Y', 3]]);
    const own = ownPlanningInputs(s, n);
    const first = route(order({ lines: [{ sku: 'A', quantity: 2 }] }), own.atp, own.network, rules(), { now: NOW });
    takeDecision(first, own.atp, own.network, NOW);
    expect(own).toEqual(consumeDecision(first, s, n, NOW));
    expect(own.atp.available.A.X).toBe(3);
    expect(own.network.locations[0].usedToday).toEqual({ date: '2025-06-10', orders: 2, lines: 2 });
    // What was read stays as read: a re-plan (or the next page) starts from it.
    expect(s.available.A.X).toBe(5);
    expect(n.locations[0].usedToday).toEqual({ date: '2025-06-10', orders: 1, lines: 1 });
    const second = route(order({ id: 'O2' }), own.atp, own.network, rules(), { now: NOW });
    expect(second.shipments[0].locationCode).toBe('Y');
  });
});

describe('route: PICKUP and CURBSIDE', () => {
  const store = loc('S1', { type: 'STORE', latitude: north(5), processingHours: 1, capabilities: ['SHIP', 'PICKUP'] });
  const wh = loc('W1', { latitude: north(200), processingHours: 4 });
  const pickup = (over = {}) => order({ method: 'PICKUP', pickupLocationCode: 'S1', shipTo: undefined, ...over });

  it('reserves at the store when it has everything', () => {
    const d = route(pickup(), atp([['A', 'S1', 1], ['A', 'W1', 10]]), net([store, wh]), rules(), { now: NOW });
    expect(d.status).toBe('ROUTED');
    expect(d.shipments).toEqual([expect.objectContaining({ locationCode: 'S1', kind: 'PICKUP', lines: [{ sku: 'A', quantity: 1 }] })]);
    expect(d.readyBy).toBe('2025-06-10T11:00:00.000Z');
  });

  it('transfers what the store lacks, with a later ready-by time', () => {
    const d = route(pickup({ lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 2 }] }), atp([['A', 'S1', 1], ['B', 'W1', 10]]), net([store, wh]), rules(), {
      now: NOW,
    });
    expect(d.status).toBe('ROUTED');
    expect(d.shipments.map((s) => [s.kind, s.locationCode, s.destinationCode])).toEqual([
      ['PICKUP', 'S1', undefined],
      ['TRANSFER', 'W1', 'S1'],
    ]);
    // W1 ready 14:00Z, +24 h handling + 1 day transit (195 km), +1 h store processing.
    expect(d.shipments[1].readyBy).toBe('2025-06-12T15:00:00.000Z');
    expect(d.readyBy).toBe('2025-06-12T15:00:00.000Z');
  });

  it('without transfers the missing lines are unfilled', () => {
    const d = route(pickup({ lines: [{ sku: 'B', quantity: 1 }] }), atp([['B', 'W1', 10]]), net([store, wh]), rules({ pickup: { allowTransfer: false } }), { now: NOW });
    expect(d.status).toBe('BACKORDERED');
    expect(d.unfilled[0].reason).toBe('TRANSFER_NOT_ALLOWED');
  });

  it('CURBSIDE needs the CURBSIDE capability at the store', () => {
    const d = route(pickup({ method: 'CURBSIDE' }), atp([['A', 'S1', 1]]), net([store, wh]), rules(), { now: NOW });
    expect(d.status).toBe('BACKORDERED');
    expect(d.trace.steps).toContainEqual({ code: 'PICKUP_LOCATION_UNAVAILABLE', detail: { location: 'S1', reason: 'NO_CAPABILITY' } });
    const ok = route(pickup({ method: 'CURBSIDE' }), atp([['A', 'S1', 1]]), net([{ ...store, capabilities: ['CURBSIDE'] }, wh]), rules(), { now: NOW });
    expect(ok.shipments[0].kind).toBe('CURBSIDE');
  });

  it('an unknown pickup store backorders with a reason', () => {
    const d = route(pickup({ pickupLocationCode: 'NOPE' }), atp([]), net([store]), rules(), { now: NOW });
    expect(d.unfilled[0].reason).toBe('PICKUP_LOCATION_UNKNOWN');
  });
});
