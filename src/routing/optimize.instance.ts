import { z } from 'zod';
import { haversineKm } from './geo';

/**
 * Batch-optimisation instance (the "Instance file" format, shared with benchmarks and anyone comparing solvers).
 *
 * Cost of a plan = Σ over shipments (one per order × location used) of `shipBase + shipPerKm × km`
 *   (+ `co2Weight × co2PerKm × km` when both are given)
 * + `splitPenalty × (shipments − 1)` per order that ships at all
 * + `unfilledPenalty` (default 1000) per ordered unit not allocated.
 * km is the haversine distance with Earth radius 6,371 km. `capacityOrders` caps how many orders a location ships.
 */
export const instanceSchema = z.object({
  locations: z
    .array(
      z.object({
        code: z.string().min(1),
        lat: z.number().min(-90).max(90),
        lng: z.number().min(-180).max(180),
        capacityOrders: z.number().int().min(0).optional(),
        shipBase: z.number().min(0),
        shipPerKm: z.number().min(0),
        co2PerKm: z.number().min(0).optional(),
      }),
    )
    .min(1),
  stock: z.array(z.object({ sku: z.string().min(1), location: z.string().min(1), qty: z.number().int().min(0) })),
  orders: z.array(
    z.object({
      id: z.string().min(1),
      lat: z.number().min(-90).max(90),
      lng: z.number().min(-180).max(180),
      lines: z.array(z.object({ sku: z.string().min(1), qty: z.number().int().min(1) })).min(1),
    }),
  ),
  splitPenalty: z.number().min(0).default(0),
  unfilledPenalty: z.number().min(0).default(1000),
  /** Cost per kg of CO2 (optional third objective term). */
  co2Weight: z.number().min(0).default(0),
});

export type OptimizeInstance = z.output<typeof instanceSchema>;
export type OptimizeInstanceInput = z.input<typeof instanceSchema>;

export interface PlanLine {
  sku: string;
  qty: number;
}
export interface PlanShipment {
  location: string;
  lines: PlanLine[];
}
export interface OrderPlan {
  id: string;
  shipments: PlanShipment[];
}

export class InstanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InstanceError';
  }
}

/** Validates an instance and checks references (unknown locations in stock, duplicate codes or order ids). */
export function parseInstance(input: unknown): OptimizeInstance {
  const r = instanceSchema.safeParse(input);
  if (!r.success) {
    throw new InstanceError(
      'Invalid instance:\n' +
        r.error.issues.map((i) => `  - ${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)'}: ${i.message}`).join('\n'),
    );
  }
  const inst = r.data;
  const codes = new Set<string>();
  for (const l of inst.locations) {
    if (codes.has(l.code)) throw new InstanceError(`Invalid instance: duplicate location code "${l.code}"`);
    codes.add(l.code);
  }
  inst.stock.forEach((s, i) => {
    if (!codes.has(s.location)) throw new InstanceError(`Invalid instance: stock[${i}].location: unknown location "${s.location}"`);
  });
  const ids = new Set<string>();
  for (const o of inst.orders) {
    if (ids.has(o.id)) throw new InstanceError(`Invalid instance: duplicate order id "${o.id}"`);
    ids.add(o.id);
  }
  return inst;
}

/** Pre-computed view of an instance shared by the greedy, MIP and brute-force solvers. */
export interface PreparedInstance {
  inst: OptimizeInstance;
  /** stock[locationIndex].get(sku) */
  stock: Map<string, number>[];
  /** Aggregated demand per order (duplicate SKU lines summed), in first-seen line order. */
  demand: Map<string, number>[];
  /** shipCost[orderIndex][locationIndex], excluding the split penalty. */
  shipCost: number[][];
  capacity: number[];
}

export function prepare(inst: OptimizeInstance): PreparedInstance {
  const index = new Map(inst.locations.map((l, i) => [l.code, i]));
  const stock = inst.locations.map(() => new Map<string, number>());
  for (const s of inst.stock) {
    const m = stock[index.get(s.location)!];
    m.set(s.sku, (m.get(s.sku) ?? 0) + s.qty);
  }
  const demand = inst.orders.map((o) => {
    const d = new Map<string, number>();
    for (const l of o.lines) d.set(l.sku, (d.get(l.sku) ?? 0) + l.qty);
    return d;
  });
  const shipCost = inst.orders.map((o) =>
    inst.locations.map((l) => {
      const km = haversineKm(o.lat, o.lng, l.lat, l.lng);
      return l.shipBase + l.shipPerKm * km + inst.co2Weight * (l.co2PerKm ?? 0) * km;
    }),
  );
  const capacity = inst.locations.map((l) => l.capacityOrders ?? Infinity);
  return { inst, stock, demand, shipCost, capacity };
}

export interface PlanEvaluation {
  cost: number;
  shipments: number;
  unfilledUnits: number;
  /** Empty when the plan respects stock, capacity and ordered quantities. */
  violations: string[];
}

/** Scores a plan with the instance cost definition and lists every constraint it breaks. */
export function evaluatePlan(p: PreparedInstance, plan: readonly OrderPlan[]): PlanEvaluation {
  const { inst } = p;
  const violations: string[] = [];
  const locIndex = new Map(inst.locations.map((l, i) => [l.code, i]));
  const byId = new Map(plan.map((o) => [o.id, o]));
  const used = inst.locations.map(() => new Map<string, number>());
  const ordersAt = inst.locations.map(() => 0);
  let cost = 0;
  let shipments = 0;
  let unfilledUnits = 0;
  for (const [id] of byId) if (!inst.orders.some((o) => o.id === id)) violations.push(`unknown order ${id}`);
  inst.orders.forEach((o, oi) => {
    const op = byId.get(o.id);
    const got = new Map<string, number>();
    const seen = new Set<number>();
    for (const s of op?.shipments ?? []) {
      const li = locIndex.get(s.location);
      if (li === undefined) {
        violations.push(`order ${o.id}: unknown location ${s.location}`);
        continue;
      }
      const units = s.lines.reduce((a, l) => a + l.qty, 0);
      if (units <= 0) continue;
      if (seen.has(li)) violations.push(`order ${o.id}: two shipments from ${s.location}`);
      seen.add(li);
      for (const l of s.lines) {
        if (!Number.isInteger(l.qty) || l.qty < 0) violations.push(`order ${o.id}: bad quantity ${l.qty}`);
        got.set(l.sku, (got.get(l.sku) ?? 0) + l.qty);
        used[li].set(l.sku, (used[li].get(l.sku) ?? 0) + l.qty);
      }
    }
    for (const li of seen) {
      cost += p.shipCost[oi][li];
      ordersAt[li]++;
    }
    shipments += seen.size;
    if (seen.size > 1) cost += inst.splitPenalty * (seen.size - 1);
    for (const [sku, q] of p.demand[oi]) {
      const g = got.get(sku) ?? 0;
      if (g > q) violations.push(`order ${o.id}: ${g} × ${sku} allocated, ${q} ordered`);
      unfilledUnits += Math.max(0, q - g);
    }
    for (const sku of got.keys()) if (!p.demand[oi].has(sku)) violations.push(`order ${o.id}: ${sku} was not ordered`);
  });
  used.forEach((m, li) => {
    for (const [sku, u] of m) {
      const have = p.stock[li].get(sku) ?? 0;
      if (u > have) violations.push(`${inst.locations[li].code}: ${u} × ${sku} allocated, ${have} in stock`);
    }
    if (ordersAt[li] > p.capacity[li]) violations.push(`${inst.locations[li].code}: ships ${ordersAt[li]} orders, capacity ${p.capacity[li]}`);
  });
  cost += unfilledUnits * inst.unfilledPenalty;
  return { cost, shipments, unfilledUnits, violations };
}
