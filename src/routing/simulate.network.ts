import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import { z } from 'zod';
import { DEMO_DEFAULTS, generateDemoNetwork, type DemoOptions } from '../db/seed/demo-network';
import { SimulationInputError } from './simulate.history';
import type { AtpSnapshot, RoutingLocation, RoutingNetwork } from './types';

/** A network with its starting stock, as the simulator replays against it. */
export interface SimulationNetwork {
  /** "demo" or the file it was read from. */
  source: string;
  network: RoutingNetwork;
  atp: AtpSnapshot;
  /** SKUs in popularity order where known (the demo's rank order), else in the order first seen. */
  skus: string[];
}

/**
 * The demo network (the one `seed --demo` loads) in memory: locations mapped exactly as the hub maps its rows for
 * routing (src/orders/routing-snapshot.ts), ATP = on hand − safety stock, product tags and weights.
 */
export function demoSimulationNetwork(opts: Partial<DemoOptions> = {}): SimulationNetwork {
  const demo = generateDemoNetwork({ ...DEMO_DEFAULTS, ...opts });
  const locations: RoutingLocation[] = demo.locations.map((l) => ({
    code: l.code,
    name: l.name,
    type: l.type,
    active: l.active ?? true,
    capabilities: l.capabilities ?? ['SHIP'],
    latitude: l.latitude,
    longitude: l.longitude,
    timeZone: l.timeZone ?? 'UTC',
    dailyOrderCapacity: l.dailyOrderCapacity ?? undefined,
    dailyLineCapacity: l.dailyLineCapacity ?? undefined,
    priority: l.priority ?? 10,
    shipBase: Number(l.shipBaseCost ?? 5),
    shipPerKm: Number(l.shipCostPerKm ?? 0.01),
    processingHours: l.processingHours ?? 24,
    cutoff: l.orderCutoff ?? '14:00',
  }));
  const available: AtpSnapshot['available'] = {};
  for (const s of demo.stock()) {
    const units = s.onHand - s.safetyStock;
    if (units > 0) (available[s.sku] ??= {})[s.locationCode] = units;
  }
  const products: NonNullable<RoutingNetwork['products']> = {};
  for (const p of demo.products) products[p.sku] = { tags: p.tags ?? [], ...(p.weightGrams != null ? { weightKg: p.weightGrams / 1000 } : {}) };
  return { source: 'demo', network: { locations, products }, atp: { available }, skus: demo.products.map((p) => p.sku) };
}

const locationType = z.enum(['WAREHOUSE', 'STORE', 'THREE_PL', 'DROPSHIP_VENDOR', 'MICRO_HUB']);
const validZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/**
 * Network file (JSON or YAML): the fields of `RoutingLocation` with the hub's defaults, products (optional) and
 * starting stock (available units per SKU and location).
 */
export const networkFileSchema = z
  .object({
    locations: z
      .array(
        z
          .object({
            code: z.string().min(1),
            name: z.string().optional(),
            type: locationType.default('WAREHOUSE'),
            active: z.boolean().default(true),
            capabilities: z.array(z.enum(['SHIP', 'PICKUP', 'CURBSIDE', 'RETURNS'])).default(['SHIP']),
            latitude: z.number().min(-90).max(90),
            longitude: z.number().min(-180).max(180),
            timeZone: z.string().refine(validZone, { message: 'must be an IANA time zone such as "America/Chicago"' }).default('UTC'),
            channels: z.array(z.string()).optional(),
            dailyOrderCapacity: z.number().int().min(0).optional(),
            dailyLineCapacity: z.number().int().min(0).optional(),
            priority: z.number().int().default(10),
            shipBase: z.number().min(0),
            shipPerKm: z.number().min(0),
            co2PerKm: z.number().min(0).optional(),
            processingHours: z.number().min(0).default(24),
            cutoff: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM').default('15:00'),
            tags: z.array(z.string()).optional(),
          })
          .strict(),
      )
      .min(1),
    products: z.record(z.string(), z.object({ tags: z.array(z.string()).optional(), weightKg: z.number().positive().optional() }).strict()).optional(),
    stock: z.array(z.object({ sku: z.string().min(1), location: z.string().min(1), qty: z.number().int().min(0) }).strict()),
  })
  .strict();

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

/** Parses a structured input file (JSON, or YAML for .yaml/.yml), naming the file on syntax errors. */
export function parseStructuredFile(text: string, file: string): unknown {
  try {
    return /\.ya?ml$/i.test(file) ? yaml.load(text) : JSON.parse(text);
  } catch (e) {
    throw new SimulationInputError(file, undefined, `cannot parse: ${(e as Error).message.split('\n')[0]}`);
  }
}

export function parseNetwork(data: unknown, file: string): SimulationNetwork {
  const r = networkFileSchema.safeParse(data);
  if (!r.success) {
    throw new SimulationInputError(file, undefined, r.error.issues.slice(0, 5).map((i) => `${formatPath(i.path)}: ${i.message}`).join('; '));
  }
  const codes = new Set<string>();
  r.data.locations.forEach((l, i) => {
    if (codes.has(l.code)) throw new SimulationInputError(file, undefined, `locations[${i}].code: duplicate location code "${l.code}"`);
    codes.add(l.code);
  });
  const available: AtpSnapshot['available'] = {};
  const skus: string[] = [];
  const seen = new Set<string>(Object.keys(r.data.products ?? {}));
  skus.push(...seen);
  r.data.stock.forEach((s, i) => {
    if (!codes.has(s.location)) throw new SimulationInputError(file, undefined, `stock[${i}].location: unknown location "${s.location}"`);
    const bySku = (available[s.sku] ??= {});
    bySku[s.location] = (bySku[s.location] ?? 0) + s.qty;
    if (!seen.has(s.sku)) {
      seen.add(s.sku);
      skus.push(s.sku);
    }
  });
  return { source: file, network: { locations: r.data.locations, products: r.data.products ?? {} }, atp: { available }, skus };
}

export function loadNetworkFile(file: string): SimulationNetwork {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw Object.assign(new Error(`cannot read ${file}: ${(e as Error).message}`), { io: true });
  }
  return parseNetwork(parseStructuredFile(text, file), file);
}
