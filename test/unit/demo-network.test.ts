import { generateDemoNetwork } from '../../src/db/seed/demo-network';
import { LocationType } from '../../src/model/enums';
import { isValidTimeZone } from '../../src/catalog/location.service';

describe('demo network generator', () => {
  const network = generateDemoNetwork();

  it('has the advertised shape: 3 warehouses, a 3PL, a drop-ship vendor, 30 stores, 2,000 SKUs', () => {
    const byType = (t: LocationType) => network.locations.filter((l) => l.type === t).length;
    expect(byType(LocationType.WAREHOUSE)).toBe(3);
    expect(byType(LocationType.THREE_PL)).toBe(1);
    expect(byType(LocationType.DROPSHIP_VENDOR)).toBe(1);
    expect(byType(LocationType.STORE)).toBe(30);
    expect(network.products).toHaveLength(2000);
    expect(new Set(network.locations.map((l) => l.code)).size).toBe(network.locations.length);
    expect(new Set(network.products.map((p) => p.sku)).size).toBe(2000);
  });

  it('places locations at real US coordinates with valid time zones', () => {
    const chicago = network.locations.find((l) => l.code === 'ST-CHICAGO-IL')!;
    expect(chicago.latitude).toBeCloseTo(41.85, 1);
    expect(chicago.longitude).toBeCloseTo(-87.65, 1);
    for (const l of network.locations) {
      expect(l.latitude).toBeGreaterThan(18);
      expect(l.latitude).toBeLessThan(72);
      expect(isValidTimeZone(l.timeZone!)).toBe(true);
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const again = generateDemoNetwork();
    expect(again.products.slice(0, 50)).toEqual(network.products.slice(0, 50));
    expect([...again.stock()].slice(0, 500)).toEqual([...network.stock()].slice(0, 500));
    const other = generateDemoNetwork({ seed: 7 });
    expect(other.products.map((p) => p.name)).not.toEqual(network.products.map((p) => p.name));
  });

  it('spreads stock the way retailers hold it: deep DCs, shallow stores carrying the popular head', () => {
    const rows = [...network.stock()];
    const at = (code: string) => rows.filter((r) => r.locationCode === code);
    const dc = at('WH-COLUMBUS');
    const store = at('ST-CHICAGO-IL');
    expect(dc.length).toBeGreaterThan(1500);
    expect(store.length).toBeLessThan(400);
    const mean = (xs: { onHand: number }[]) => xs.reduce((s, x) => s + x.onHand, 0) / xs.length;
    expect(mean(dc)).toBeGreaterThan(5 * mean(store));
    for (const r of rows) {
      expect(r.onHand).toBeGreaterThan(0);
      expect(r.safetyStock).toBeLessThanOrEqual(r.onHand);
    }
  });

  it('scales (locations and SKUs are parameters)', () => {
    const big = generateDemoNetwork({ locations: 500, skus: 5000 });
    expect(big.locations).toHaveLength(500);
    expect(big.products).toHaveLength(5000);
  });
});
