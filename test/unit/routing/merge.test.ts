import { mergeOrders, splitMergedDecision } from '../../../src/routing/merge';
import { route } from '../../../src/routing/route';
import { NOW, atp, loc, net, order, rules } from './fixtures';

const addr = { latitude: 51.5, longitude: -0.1, country: 'GB', postalCode: 'SW1A 1AA', line1: '10 Downing St' };

describe('mergeOrders', () => {
  const a = order({ id: 'A', channel: 'shopify', customerKey: 'ann@example.com', shipTo: addr, placedAt: '2025-06-10T10:00:00Z', lines: [{ sku: 'X', quantity: 1 }] });
  const b = order({ id: 'B', channel: 'amazon', customerKey: 'ANN@example.com ', shipTo: { ...addr, postalCode: 'sw1a1aa', line1: '10 downing st.' }, placedAt: '2025-06-10T10:20:00Z', lines: [{ sku: 'X', quantity: 2 }, { sku: 'Y', quantity: 1 }] });
  const late = order({ id: 'C', customerKey: 'ann@example.com', shipTo: addr, placedAt: '2025-06-10T11:30:00Z' });
  const other = order({ id: 'D', customerKey: 'bob@example.com', shipTo: addr, placedAt: '2025-06-10T10:05:00Z' });
  const pickup = order({ id: 'E', method: 'PICKUP', pickupLocationCode: 'S', customerKey: 'ann@example.com', placedAt: '2025-06-10T10:06:00Z' });

  it('consolidates the same customer and address across channels inside the window', () => {
    const groups = mergeOrders([late, b, other, a, pickup], { windowMinutes: 60 });
    expect(groups.map((g) => g.orderIds)).toEqual([['A', 'B'], ['D'], ['E'], ['C']]);
    expect(groups[0].order).toMatchObject({ id: 'A', channel: 'shopify', lines: [{ sku: 'X', quantity: 3 }, { sku: 'Y', quantity: 1 }] });
  });

  it('splits the merged decision back per order', () => {
    const [g] = mergeOrders([a, b], { windowMinutes: 60 });
    const d = route(g.order, atp([['X', 'W', 5], ['Y', 'W', 5]]), net([loc('W')]), rules(), { now: NOW });
    expect(d.shipments).toHaveLength(1);
    const per = splitMergedDecision(g, d);
    expect(per.get('A')!.map((s) => [s.locationCode, s.lines])).toEqual([['W', [{ sku: 'X', quantity: 1 }]]]);
    expect(per.get('B')!.map((s) => [s.locationCode, s.lines])).toEqual([['W', [{ sku: 'X', quantity: 2 }, { sku: 'Y', quantity: 1 }]]]);
  });
});
