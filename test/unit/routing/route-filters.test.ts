import { route } from '../../../src/routing/route';
import type { LocationFilter } from '../../../src/routing/strategy';
import type { RoutingLocation, RoutingOrder } from '../../../src/routing/types';
import { NOW, atp, loc, net, north, order, rules } from './fixtures';
import type { RuleSetInput } from '../../../src/routing/rule-set.schema';

interface FilterCase {
  name: string;
  location: Partial<RoutingLocation>;
  order?: Partial<RoutingOrder>;
  rules?: Partial<RuleSetInput>;
  products?: Record<string, { tags?: string[] }>;
  units?: number;
  /** Expected exclusion code for location X, or null when X must be used. */
  expected: string | null;
}

// Location X is nearest and otherwise best; Y (far, always eligible) is the fallback.
const cases: FilterCase[] = [
  { name: 'baseline: X is used', location: {}, expected: null },
  { name: 'inactive', location: { active: false }, expected: 'INACTIVE' },
  { name: 'no SHIP capability', location: { capabilities: ['PICKUP'] }, expected: 'NO_CAPABILITY' },
  { name: 'channel not allowed', location: { channels: ['amazon'] }, expected: 'CHANNEL_NOT_ALLOWED' },
  { name: 'channel allowed', location: { channels: ['amazon', 'shopify'] }, expected: null },
  { name: 'out of stock', location: {}, units: 0, expected: 'OUT_OF_STOCK' },
  {
    name: 'order capacity used up today',
    location: { dailyOrderCapacity: 5, usedToday: { date: '2025-06-10', orders: 5, lines: 0 } },
    expected: 'CAPACITY_ORDERS_FULL',
  },
  {
    name: 'line capacity used up today',
    location: { dailyLineCapacity: 5, usedToday: { date: '2025-06-10', orders: 1, lines: 5 } },
    expected: 'CAPACITY_LINES_FULL',
  },
  {
    name: 'capacity counters from yesterday do not count',
    location: { dailyOrderCapacity: 5, usedToday: { date: '2025-06-09', orders: 5, lines: 50 } },
    expected: null,
  },
  {
    name: 'rule-set capacity rule tightens stores',
    location: { type: 'STORE', usedToday: { date: '2025-06-10', orders: 20, lines: 20 } },
    rules: { capacityRules: [{ locationTypes: ['STORE'], maxOrdersPerDay: 20 }] },
    expected: 'CAPACITY_ORDERS_FULL',
  },
  { name: 'beyond maxDistanceKm', location: { latitude: north(300) }, rules: { maxDistanceKm: 250 }, expected: 'TOO_FAR' },
  { name: 'maxDistance filter spec', location: { latitude: north(150) }, rules: { filters: [{ type: 'maxDistance', km: 120 }] }, expected: 'TOO_FAR' },
  { name: 'within maxDistance', location: { latitude: north(30) }, rules: { maxDistanceKm: 50 }, expected: null },
  {
    name: 'oversize only from warehouses: store excluded',
    location: { type: 'STORE' },
    products: { A: { tags: ['oversize'] } },
    rules: { filters: [{ type: 'productRestriction', productTag: 'oversize', allowedLocationTypes: ['WAREHOUSE'] }] },
    expected: 'PRODUCT_RESTRICTED',
  },
  {
    name: 'restriction does not touch untagged products',
    location: { type: 'STORE' },
    rules: { filters: [{ type: 'productRestriction', productTag: 'oversize', allowedLocationTypes: ['WAREHOUSE'] }] },
    expected: null,
  },
  {
    name: 'location type denied',
    location: { type: 'DROPSHIP_VENDOR' },
    rules: { filters: [{ type: 'locationType', deny: ['DROPSHIP_VENDOR'] }] },
    expected: 'LOCATION_TYPE_NOT_ALLOWED',
  },
  {
    name: 'location type rule only for tagged orders (untagged order)',
    location: { type: 'STORE' },
    rules: { filters: [{ type: 'locationType', allow: ['WAREHOUSE'], whenOrderTag: 'vip' }] },
    expected: null,
  },
  {
    name: 'location type rule only for tagged orders (tagged order)',
    location: { type: 'STORE' },
    order: { tags: ['vip'] },
    rules: { filters: [{ type: 'locationType', allow: ['WAREHOUSE'], whenOrderTag: 'vip' }] },
    expected: 'LOCATION_TYPE_NOT_ALLOWED',
  },
  {
    name: 'express orders need express-capable locations',
    location: { tags: [] },
    order: { tags: ['express'] },
    rules: { filters: [{ type: 'tag', whenOrderTag: 'express', requireLocationTags: ['express'] }] },
    expected: 'MISSING_LOCATION_TAG',
  },
  {
    name: 'excluded location tag',
    location: { tags: ['closing-down'] },
    rules: { filters: [{ type: 'tag', excludeLocationTags: ['closing-down'] }] },
    expected: 'EXCLUDED_LOCATION_TAG',
  },
  { name: 'excluded by code', location: {}, rules: { filters: [{ type: 'excludeLocations', codes: ['X'] }] }, expected: 'EXCLUDED_BY_RULE' },
];

describe('route: filters', () => {
  it.each(cases)('$name', (c) => {
    const x = loc('X', { tags: ['express'], ...c.location });
    const y = loc('Y', { latitude: north(100), tags: ['express'] });
    const d = route(
      order(c.order),
      atp([
        ['A', 'X', c.units ?? 5],
        ['A', 'Y', 5],
      ]),
      net([x, y], c.products ?? {}),
      rules({ rankers: [{ type: 'distance', weight: 1 }], ...c.rules }),
      { now: NOW },
    );
    const tx = d.trace.candidates.find((t) => t.code === 'X')!;
    if (c.expected === null) {
      expect(tx.excluded).toBeUndefined();
      expect(d.shipments.map((s) => s.locationCode)).toEqual(['X']);
    } else {
      expect(tx.excluded?.code).toBe(c.expected);
      expect(d.shipments.map((s) => s.locationCode)).toEqual(['Y']);
    }
    expect(d.status).toBe('ROUTED');
  });

  it('excludes locations given for a re-route', () => {
    const d = route(order(), atp([['A', 'X', 5], ['A', 'Y', 5]]), net([loc('X'), loc('Y', { latitude: north(10) })]), rules(), {
      now: NOW,
      excludeLocations: ['X'],
    });
    expect(d.shipments[0].locationCode).toBe('Y');
    expect(d.trace.candidates.find((c) => c.code === 'X')!.excluded!.code).toBe('EXCLUDED_BY_REROUTE');
  });

  it('a product restriction only removes that line from a location, not the whole location', () => {
    const d = route(
      order({ lines: [{ sku: 'TV', quantity: 1 }, { sku: 'CABLE', quantity: 1 }] }),
      atp([['TV', 'S', 1], ['CABLE', 'S', 1], ['TV', 'W', 1]]),
      net([loc('S', { type: 'STORE' }), loc('W', { latitude: north(50) })], { TV: { tags: ['oversize'] } }),
      rules({ filters: [{ type: 'productRestriction', productTag: 'oversize', allowedLocationTypes: ['WAREHOUSE'] }] }),
      { now: NOW },
    );
    expect(d.shipments.map((s) => [s.locationCode, s.lines.map((l) => l.sku)])).toEqual([
      ['S', ['CABLE']],
      ['W', ['TV']],
    ]);
    expect(d.trace.candidates.find((c) => c.code === 'S')!.supply).toEqual({ TV: 0, CABLE: 1 });
  });

  it('runs custom filters from the extension point', () => {
    const noEvenCodes: LocationFilter = {
      name: 'custom',
      exclude: (c) => (c.location.code.endsWith('2') ? { code: 'EVEN' } : null),
    };
    const d = route(order(), atp([['A', 'L2', 5], ['A', 'L3', 5]]), net([loc('L2'), loc('L3', { latitude: north(40) })]), rules(), {
      now: NOW,
      extraFilters: [noEvenCodes],
    });
    expect(d.shipments[0].locationCode).toBe('L3');
    expect(d.trace.candidates[0].excluded).toEqual({ filter: 'custom', code: 'EVEN' });
  });

  it('reports the order as backordered when nothing is eligible', () => {
    const d = route(order(), atp([]), net([loc('X')]), rules(), { now: NOW });
    expect(d.status).toBe('BACKORDERED');
    expect(d.unfilled).toEqual([{ sku: 'A', quantity: 1, reason: 'NO_ELIGIBLE_LOCATION' }]);
  });
});
