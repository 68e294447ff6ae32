import {
  addDeliveryDays, carrierServiceProblem, combine, parcelPrice, promiseShipment, readyAt, shipDate, transitBand, weekday,
  type CarrierService, type HolidayCalendar, type Origin,
} from '../../src/promise/promise.calc';
import { collectOptions, methodsRouteAlike } from '../../src/promise/promise.collect';
import { prng } from '../../src/db/seed/demo-network';
import { DEFAULT_RULE_SET, haversineKm, parseRuleSet, route, type AtpSnapshot, type LocationCapability, type RoutingLocation, type RuleSet } from '../../src/routing';

const GROUND: CarrierService = {
  code: 'GROUND', carrier: 'Parcel', name: 'Ground', serviceLevel: 'STANDARD', pickupCutoff: '17:00', saturdayDelivery: false,
  transit: [{ maxKm: 1000, minDays: 2, maxDays: 3 }, { maxKm: 300, minDays: 1, maxDays: 2 }],
  rates: [{ maxKm: 300, maxWeightKg: 5, price: 8.99 }, { maxKm: 1000, maxWeightKg: 5, price: 10.99 }, { maxKm: 1000, maxWeightKg: 30, price: 19.99 }],
  co2KgPerTonneKm: 0.2, currency: 'USD', active: true,
};
const SATURDAY: CarrierService = { ...GROUND, code: 'SAT', saturdayDelivery: true };
const US: HolidayCalendar = { US: new Set(['2025-07-04', '2025-11-27', '2025-12-25']) };

const CHICAGO: Origin = { timeZone: 'America/Chicago', country: 'US', cutoff: '14:00', processingHours: 2 };
const NEW_YORK: Origin = { timeZone: 'America/New_York', country: 'US', cutoff: '14:00', processingHours: 2 };
const LONDON: Origin = { timeZone: 'Europe/London', country: 'GB', cutoff: '14:00', processingHours: 2 };
const SYDNEY: Origin = { timeZone: 'Australia/Sydney', country: 'AU', cutoff: '14:00', processingHours: 2 };
const TOKYO: Origin = { timeZone: 'Asia/Tokyo', country: 'JP', cutoff: '14:00', processingHours: 2 };

/** The whole chain the delivery-options service runs for one parcel: ready time → collection day → delivery days. */
function promise(now: string, origin: Origin, service = GROUND, km = 200, destinationCountry = origin.country) {
  const p = promiseShipment(service, { readyBy: readyAt(new Date(now), origin), origin, distanceKm: km, weightKg: 1, destinationCountry }, US);
  if ('unavailable' in p) throw new Error(p.unavailable);
  return [p.shipDate, p.earliestDelivery, p.latestDelivery];
}

describe('delivery promise: cut-off, weekends, holidays and time zones', () => {
  it.each([
    // [case, now (UTC), origin, [ship date, earliest, latest]]
    ['Chicago summer (CDT), one minute before the 14:00 cut-off', '2025-07-15T18:59:00Z', CHICAGO, ['2025-07-15', '2025-07-16', '2025-07-17']],
    ['Chicago summer (CDT), at the cut-off: released next morning', '2025-07-15T19:00:00Z', CHICAGO, ['2025-07-16', '2025-07-17', '2025-07-18']],
    ['Chicago winter (CST), 13:59 local is an hour later in UTC', '2025-01-14T19:59:00Z', CHICAGO, ['2025-01-14', '2025-01-15', '2025-01-16']],
    ['Chicago winter (CST), 14:00 local', '2025-01-14T20:00:00Z', CHICAGO, ['2025-01-15', '2025-01-16', '2025-01-17']],
    ['before opening: released at 08:00, ready 10:00, same day', '2025-07-15T11:00:00Z', CHICAGO, ['2025-07-15', '2025-07-16', '2025-07-17']],
    ['Friday after cut-off: ready Saturday, collected Monday', '2025-07-11T20:00:00Z', CHICAGO, ['2025-07-14', '2025-07-15', '2025-07-16']],
    ['Friday before cut-off: delivery skips the weekend', '2025-07-11T15:00:00Z', CHICAGO, ['2025-07-11', '2025-07-14', '2025-07-15']],
    ['ordered on Saturday: collected Monday', '2025-07-12T15:00:00Z', CHICAGO, ['2025-07-14', '2025-07-15', '2025-07-16']],
    ['Thursday after cut-off, Friday is Independence Day', '2025-07-03T20:00:00Z', CHICAGO, ['2025-07-07', '2025-07-08', '2025-07-09']],
    ['delivery days skip Thanksgiving', '2025-11-26T15:00:00Z', CHICAGO, ['2025-11-26', '2025-11-28', '2025-12-01']],
    ['New York before DST (EST): 18:30Z is 13:30, before cut-off', '2025-03-07T18:30:00Z', NEW_YORK, ['2025-03-07', '2025-03-10', '2025-03-11']],
    ['New York after DST (EDT): 18:30Z is 14:30, after cut-off', '2025-03-10T18:30:00Z', NEW_YORK, ['2025-03-11', '2025-03-12', '2025-03-13']],
    ['New York on the DST Sunday itself: collected Monday', '2025-03-09T17:30:00Z', NEW_YORK, ['2025-03-10', '2025-03-11', '2025-03-12']],
    ['London after clocks go back (GMT): 13:30Z is 13:30, before cut-off', '2025-10-27T13:30:00Z', LONDON, ['2025-10-27', '2025-10-28', '2025-10-29']],
    ['London in summer (BST): 13:30Z is 14:30, after cut-off', '2025-10-24T13:30:00Z', LONDON, ['2025-10-27', '2025-10-28', '2025-10-29']],
    ['Sydney (southern summer, AEDT): 02:30Z is 13:30 local', '2025-12-02T02:30:00Z', SYDNEY, ['2025-12-02', '2025-12-03', '2025-12-04']],
    ['Tokyo: 23:00Z Tuesday is Wednesday 08:00 local', '2025-07-15T23:00:00Z', TOKYO, ['2025-07-16', '2025-07-17', '2025-07-18']],
  ])('%s', (_name, now, origin, expected) => {
    expect(promise(now, origin)).toEqual(expected);
  });

  it('ready after the carrier pick-up cut-off ships the next working day', () => {
    const late = { ...CHICAGO, cutoff: '18:00' };
    // 16:30 CDT + 2 h = 18:30, after the 17:00 collection.
    expect(promise('2025-07-15T21:30:00Z', late)).toEqual(['2025-07-16', '2025-07-17', '2025-07-18']);
  });

  it('Saturday delivery counts Saturday, never Sunday', () => {
    expect(promise('2025-07-11T15:00:00Z', CHICAGO, SATURDAY)).toEqual(['2025-07-11', '2025-07-12', '2025-07-14']);
  });

  it('transit band by distance, sorted whatever the input order', () => {
    expect(promise('2025-07-15T15:00:00Z', CHICAGO, GROUND, 800)).toEqual(['2025-07-15', '2025-07-17', '2025-07-18']);
    expect(transitBand(GROUND, 300)).toEqual({ maxKm: 300, minDays: 1, maxDays: 2 });
    expect(transitBand(GROUND, 1000.5)).toBeUndefined();
  });

  it('holidays of the destination country count, not those of the origin', () => {
    // Collected in Canada (no holiday listed) on Thursday 3 July; the US destination does not deliver on the 4th.
    const toronto: Origin = { timeZone: 'America/Toronto', country: 'CA', cutoff: '14:00', processingHours: 2 };
    expect(promise('2025-07-03T15:00:00Z', toronto, GROUND, 200, 'US')).toEqual(['2025-07-03', '2025-07-07', '2025-07-08']);
    expect(promise('2025-07-03T15:00:00Z', toronto, GROUND, 200, 'CA')).toEqual(['2025-07-03', '2025-07-04', '2025-07-07']);
  });
});

describe('carrier tables', () => {
  it('prices by the smallest distance and weight band that fits; nothing beyond the table', () => {
    expect(parcelPrice(GROUND, 100, 2)).toBe(8.99);
    expect(parcelPrice(GROUND, 400, 2)).toBe(10.99);
    expect(parcelPrice(GROUND, 400, 12)).toBe(19.99);
    expect(parcelPrice(GROUND, 400, 31)).toBeUndefined();
    const p = promiseShipment(GROUND, { readyBy: new Date('2025-07-15T15:00:00Z'), origin: CHICAGO, distanceKm: 1200, weightKg: 1, destinationCountry: 'US' }, US);
    expect(p).toEqual({ unavailable: 'GROUND does not serve 1200 km' });
  });

  it('emissions follow the factor, distance and weight', () => {
    const p = promiseShipment(GROUND, { readyBy: new Date('2025-07-15T15:00:00Z'), origin: CHICAGO, distanceKm: 500, weightKg: 4, destinationCountry: 'US' }, US);
    expect(p).toMatchObject({ co2Kg: 0.4, price: 10.99 });
  });

  it('a split order arrives with its last parcel and costs the sum', () => {
    const a = { readyBy: '2025-07-15T15:00:00.000Z', shipDate: '2025-07-15', earliestDelivery: '2025-07-16', latestDelivery: '2025-07-17', price: 8.99, co2Kg: 0.1 };
    const b = { readyBy: '2025-07-16T15:00:00.000Z', shipDate: '2025-07-16', earliestDelivery: '2025-07-18', latestDelivery: '2025-07-21', price: 10.99, co2Kg: 0.2 };
    expect(combine([a, b])).toEqual({ readyBy: b.readyBy, earliestDelivery: '2025-07-18', latestDelivery: '2025-07-21', price: 19.98, co2Kg: 0.3 });
  });

  it('calendar helpers', () => {
    expect(weekday('2025-07-12')).toBe(6);
    expect(addDeliveryDays('2025-12-24', 1, 'US', US, false)).toBe('2025-12-26');
    expect(addDeliveryDays('2025-12-24', 0, 'US', US, false)).toBe('2025-12-24');
    expect(shipDate(new Date('2025-12-25T15:00:00Z'), CHICAGO, '17:00', US)).toBe('2025-12-26');
  });

  it.each([
    [{ code: '' }, 'code'],
    [{ serviceLevel: 'TELEPORT' }, 'serviceLevel'],
    [{ pickupCutoff: '25:00' }, 'pickupCutoff'],
    [{ transit: [] }, 'transit'],
    [{ transit: [{ maxKm: 100, minDays: 3, maxDays: 2 }] }, 'transit[0].maxDays'],
    [{ transit: [{ maxKm: 100, minDays: 1, maxDays: 2 }, { maxKm: 100, minDays: 1, maxDays: 3 }] }, 'transit'],
    [{ rates: [{ maxKm: 100, maxWeightKg: 5, price: -1 }] }, 'rates[0].price'],
    [{ co2KgPerTonneKm: Number.NaN }, 'co2KgPerTonneKm'],
    [{ currency: 'usd' }, 'currency'],
  ])('rejects a bad carrier service (%j) naming %s', (patch, field) => {
    expect(carrierServiceProblem({ ...GROUND, ...patch } as Partial<CarrierService>)?.[0]).toBe(field);
  });

  it('accepts a valid carrier service', () => {
    expect(carrierServiceProblem(GROUND)).toBeNull();
  });
});

describe('pickup and curbside options are what route() plans at each store', () => {
  const NOW = new Date('2025-07-15T15:00:00Z');
  const CENTER = { latitude: 41.88, longitude: -87.63 };
  const SKUS = ['A', 'B', 'C', 'D'];

  /** A random network around CENTER: stores (some without shelves, capabilities, capacity or for one channel only) and DCs. */
  function network(seed: number) {
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
    const locations: RoutingLocation[] = [];
    const available: AtpSnapshot['available'] = {};
    for (let i = 0; i < 30; i++) {
      const store = i < 24;
      const code = store ? `ST${i}` : `DC${i}`;
      const spread = store ? 0.6 : 6;
      locations.push({
        code, type: store ? 'STORE' : 'WAREHOUSE', active: true,
        capabilities: store ? pick<LocationCapability[]>([['SHIP', 'PICKUP', 'CURBSIDE'], ['PICKUP', 'CURBSIDE'], ['PICKUP'], ['CURBSIDE'], ['SHIP']]) : ['SHIP'],
        latitude: CENTER.latitude + (rnd() - 0.5) * spread, longitude: CENTER.longitude + (rnd() - 0.5) * spread,
        timeZone: pick(['America/Chicago', 'America/New_York']), priority: 1 + Math.floor(rnd() * 3), shipBase: 3 + rnd() * 4, shipPerKm: 0.01,
        processingHours: pick([2, 4, 24]), cutoff: pick(['14:00', '09:00', '18:00']),
        channels: rnd() < 0.1 ? ['store-app'] : undefined,
        dailyOrderCapacity: rnd() < 0.1 ? 5 : undefined, usedToday: { date: '2025-07-15', orders: 5, lines: 10 },
      });
      for (const sku of SKUS) if (rnd() < (store ? 0.5 : 0.7)) (available[sku] ??= {})[code] = Math.floor(rnd() * 4);
    }
    const lines = SKUS.filter(() => rnd() < 0.6).map((sku) => ({ sku, quantity: 1 + Math.floor(rnd() * 3) }));
    return { network: { locations, products: { D: { tags: ['oversize'] } } }, atp: { available }, lines: lines.length ? lines : [{ sku: 'A', quantity: 1 }] };
  }

  /** The plain way: one route() per store and method, against the whole network and snapshot. */
  function reference(ruleSet: RuleSet, n: ReturnType<typeof network>, channel: string) {
    const out: string[] = [];
    for (const method of ['PICKUP', 'CURBSIDE'] as const) {
      for (const store of n.network.locations) {
        if (!store.capabilities.includes(method) || haversineKm(CENTER.latitude, CENTER.longitude, store.latitude, store.longitude) > 50) continue;
        const d = route({ id: 'ref', channel, method, pickupLocationCode: store.code, lines: n.lines, tags: [] }, n.atp, n.network, ruleSet, { now: NOW });
        if (d.status === 'ROUTED' && d.readyBy) out.push(`${method}@${store.code} ${d.readyBy} ${JSON.stringify(d.shipments.map((s) => [s.locationCode, s.lines, s.readyBy]))}`);
      }
    }
    return out.sort();
  }

  const RULES: [string, RuleSet][] = [
    ['the default rules', DEFAULT_RULE_SET],
    ['no transfers', parseRuleSet({ ...DEFAULT_RULE_SET, pickup: { allowTransfer: false } })],
    ['curbside may not draw on warehouses', parseRuleSet({ ...DEFAULT_RULE_SET, filters: [...DEFAULT_RULE_SET.filters, { type: 'locationType', methods: ['CURBSIDE'], deny: ['WAREHOUSE'] }] })],
    ['never split', parseRuleSet({ ...DEFAULT_RULE_SET, splitPolicy: 'NEVER', maxDistanceKm: 300 })],
    ['stock-balancing, split by rank', parseRuleSet({ ...DEFAULT_RULE_SET, splitPolicy: 'ALLOW', rankers: [{ type: 'stock', weight: 1 }, { type: 'distance', weight: 1 }] })],
  ];

  it.each(RULES)('%s: the same stores, ready times and transfer legs, over random networks', (_name, ruleSet) => {
    let offered = 0;
    let transfers = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const n = network(seed);
      const channel = seed % 5 === 0 ? 'store-app' : 'web';
      const ours = collectOptions({ ruleSet, ...n }, n.lines, channel, CENTER, 50, NOW)
        .map((o) => `${o.method}@${o.store.code} ${o.readyBy} ${JSON.stringify(o.shipments.map((s) => [s.locationCode, s.lines, s.readyBy]))}`);
      expect(ours.slice().sort()).toEqual(reference(ruleSet, n, channel));
      offered += ours.length;
      transfers += ours.filter((o) => o.includes('DC') || /"ST\d+".*"ST\d+"/.test(o)).length;
    }
    // The comparison is not vacuous: many offers, some needing transfers (when the rules allow them).
    expect(offered).toBeGreaterThan(100);
    if (ruleSet.pickup.allowTransfer) expect(transfers).toBeGreaterThan(10);
  });

  it('tells the methods apart only when a filter names one of them', () => {
    expect(methodsRouteAlike(DEFAULT_RULE_SET)).toBe(true);
    expect(methodsRouteAlike(parseRuleSet({ ...DEFAULT_RULE_SET, filters: [{ type: 'locationType', methods: ['PICKUP', 'CURBSIDE'], deny: ['STORE'] }] }))).toBe(true);
    expect(methodsRouteAlike(parseRuleSet({ ...DEFAULT_RULE_SET, filters: [{ type: 'locationType', methods: ['SHIP', 'CURBSIDE'], deny: ['STORE'] }] }))).toBe(false);
  });

  it('a store with nothing on the shelf and a DC that can send it: pickup, ready after the transfer', () => {
    const store: RoutingLocation = { code: 'ST', type: 'STORE', active: true, capabilities: ['PICKUP', 'CURBSIDE'], latitude: 41.85, longitude: -87.65,
      timeZone: 'America/Chicago', priority: 1, shipBase: 5, shipPerKm: 0.01, processingHours: 2, cutoff: '14:00' };
    const dc: RoutingLocation = { ...store, code: 'DC', type: 'WAREHOUSE', capabilities: ['SHIP'], latitude: 39.96, longitude: -83.0, timeZone: 'America/New_York', processingHours: 24 };
    const options = collectOptions({ ruleSet: DEFAULT_RULE_SET, network: { locations: [store, dc] }, atp: { available: { A: { DC: 5 } } } },
      [{ sku: 'A', quantity: 2 }], 'web', CENTER, 50, NOW);
    // Columbus ready Wednesday 15:00Z; 24 h handling and one day for about 440 km; two hours at the store.
    expect(options.map((o) => [o.method, o.store.code, o.readyBy, o.day, o.shipments.map((s) => [s.locationCode, s.kind, s.destinationCode])])).toEqual([
      ['PICKUP', 'ST', '2025-07-18T17:00:00.000Z', '2025-07-18', [['DC', 'TRANSFER', 'ST']]],
      ['CURBSIDE', 'ST', '2025-07-18T17:00:00.000Z', '2025-07-18', [['DC', 'TRANSFER', 'ST']]],
    ]);
  });
});
