import type { OptimizeInstanceInput } from '../../src/routing/optimize.instance';
import { prng } from '../../src/db/seed/demo-network';

/** Instance sets are reproducible from their seed alone (the demo network's PRNG). */
export const mulberry32 = prng;

export interface GenerateOptions {
  seed: number;
  orders: number;
  locations: number;
  skus?: number;
  splitPenalty?: number;
  /** Fraction of SKUs each location carries. */
  assortment?: number;
  /** Orders a location may ship, as a multiple of orders ÷ locations (undefined: no caps). */
  capacitySlack?: number;
}

/**
 * A synthetic batch on a UK-sized map: locations and customers spread over a 6°×6° box, SKU popularity Zipf-like,
 * baskets of 1–4 lines, stock sized so most but not all orders can be served from one place.
 */
export function generateInstance(o: GenerateOptions): OptimizeInstanceInput {
  const rnd = mulberry32(o.seed);
  const nSku = o.skus ?? 200;
  const assortment = o.assortment ?? 0.35;
  const skus = Array.from({ length: nSku }, (_, i) => `SKU${String(i).padStart(4, '0')}`);
  const zipf = skus.map((_, i) => 1 / (i + 1));
  const zsum = zipf.reduce((a, b) => a + b, 0);
  const pickSku = () => {
    let r = rnd() * zsum;
    for (let i = 0; i < nSku; i++) if ((r -= zipf[i]) <= 0) return skus[i];
    return skus[nSku - 1];
  };
  const cap = o.capacitySlack ? Math.ceil((o.orders / o.locations) * o.capacitySlack) : undefined;
  const locations = Array.from({ length: o.locations }, (_, i) => ({
    code: `L${String(i).padStart(3, '0')}`,
    lat: 50 + rnd() * 6,
    lng: -5 + rnd() * 6,
    shipBase: Math.round((3 + rnd() * 4) * 100) / 100,
    shipPerKm: Math.round((0.005 + rnd() * 0.02) * 1000) / 1000,
    ...(cap !== undefined ? { capacityOrders: cap } : {}),
  }));
  const orders = Array.from({ length: o.orders }, (_, i) => {
    const n = 1 + Math.floor(rnd() ** 2 * 4);
    const lines = new Map<string, number>();
    for (let k = 0; k < n; k++) lines.set(pickSku(), 1 + Math.floor(rnd() ** 3 * 3));
    return { id: `O${String(i).padStart(5, '0')}`, lat: 50 + rnd() * 6, lng: -5 + rnd() * 6, lines: [...lines].map(([sku, qty]) => ({ sku, qty })) };
  });
  // Stock: each location carries a random assortment; quantities follow popularity so top sellers are deep.
  const demandBySku = new Map<string, number>();
  for (const ord of orders) for (const l of ord.lines) demandBySku.set(l.sku, (demandBySku.get(l.sku) ?? 0) + l.qty);
  const stock: OptimizeInstanceInput['stock'] = [];
  for (const loc of locations) {
    for (const sku of skus) {
      if (rnd() > assortment) continue;
      const d = demandBySku.get(sku) ?? 0;
      const qty = Math.floor((d / (o.locations * assortment)) * (0.5 + rnd() * 1.5)) + (rnd() < 0.5 ? 1 : 0);
      if (qty > 0) stock.push({ sku, location: loc.code, qty });
    }
  }
  return { locations, stock, orders, splitPenalty: o.splitPenalty ?? 5 };
}
