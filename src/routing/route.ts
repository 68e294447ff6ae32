import { allocate, type Assignment } from './allocate';
import { evaluateCandidates, round3 } from './candidates';
import type { RuleSet } from './rule-set.schema';
import { shippingCost } from './shipping-cost';
import {
  coreFilters,
  filterFromSpec,
  maxDistanceFilter,
  rankerFromSpec,
  type LocationFilter,
  type RoutingContext,
  type WeightedRanker,
} from './strategy';
import { localDate, readyTime } from './time';
import type {
  AtpSnapshot,
  CandidateTrace,
  DecisionStatus,
  PlannedShipment,
  RoutingDecision,
  RoutingLocation,
  RoutingNetwork,
  RoutingOrder,
  RoutingOrderLine,
  TraceStep,
  UnfilledLine,
} from './types';

export interface RouteOptions {
  /** The decision instant. Defaults to the current time; pass it to make decisions reproducible. */
  now?: Date;
  /** Location codes that must not be used (re-routing after a rejection or short pick). */
  excludeLocations?: readonly string[];
  /** Custom filters, run after the built-in and rule-set filters. */
  extraFilters?: readonly LocationFilter[];
  /** Custom rankers, weighted together with the rule set's rankers. */
  extraRankers?: readonly WeightedRanker[];
}

/** Thrown for orders that cannot be routed because the input itself is malformed (not for lack of stock). */
export class RoutingInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RoutingInputError';
  }
}

function demandOf(lines: readonly RoutingOrderLine[]): Map<string, number> {
  const demand = new Map<string, number>();
  for (const l of lines) {
    if (!Number.isInteger(l.quantity) || l.quantity <= 0) throw new RoutingInputError(`line ${l.sku}: quantity must be a positive integer`);
    demand.set(l.sku, (demand.get(l.sku) ?? 0) + l.quantity);
  }
  return demand;
}

function filtersFor(ruleSet: RuleSet, opts: RouteOptions): LocationFilter[] {
  const fs: LocationFilter[] = [...coreFilters];
  if (ruleSet.maxDistanceKm !== undefined) fs.push(maxDistanceFilter(ruleSet.maxDistanceKm));
  for (const spec of ruleSet.filters) fs.push(filterFromSpec(spec));
  fs.push(...(opts.extraFilters ?? []));
  return fs;
}

function rankersFor(ruleSet: RuleSet, opts: RouteOptions): WeightedRanker[] {
  return [...ruleSet.rankers.map((spec) => ({ ranker: rankerFromSpec(spec), weight: spec.weight })), ...(opts.extraRankers ?? [])];
}

function linesOf(take: ReadonlyMap<string, number>): RoutingOrderLine[] {
  return [...take].map(([sku, quantity]) => ({ sku, quantity }));
}

function weightOf(take: ReadonlyMap<string, number>, network: RoutingNetwork, ruleSet: RuleSet): number {
  let w = 0;
  for (const [sku, q] of take) w += q * (network.products?.[sku]?.weightKg ?? ruleSet.defaultWeightKg);
  return w;
}

function shipmentFor(a: Assignment, kind: PlannedShipment['kind'], ctx: RoutingContext, readyBy: Date, destinationCode?: string): PlannedShipment {
  const loc = a.candidate.location;
  const km = a.candidate.distanceKm;
  return {
    locationCode: loc.code,
    kind,
    lines: linesOf(a.take),
    ...(destinationCode ? { destinationCode } : {}),
    distanceKm: round3(km),
    estimatedCost: round3(shippingCost(loc, km, weightOf(a.take, ctx.network, ctx.ruleSet), ctx.ruleSet)),
    co2Kg: round3((loc.co2PerKm ?? 0) * km),
    readyBy: readyBy.toISOString(),
  };
}

function statusOf(shipments: PlannedShipment[], unfilled: UnfilledLine[]): DecisionStatus {
  if (unfilled.length === 0) return 'ROUTED';
  return shipments.length > 0 ? 'PARTIAL' : 'BACKORDERED';
}

function unfilledOf(rest: ReadonlyMap<string, number>, reason: string): UnfilledLine[] {
  return [...rest].filter(([, q]) => q > 0).map(([sku, quantity]) => ({ sku, quantity, reason }));
}

/**
 * Decides where an order ships from. Pure: no I/O, and the only time it reads is `opts.now`.
 *
 * The caller reserves the planned quantities afterwards; if a reservation fails (stock moved), route again with a
 * fresh snapshot, or use `reroute` to route the remainder elsewhere.
 */
export function route(
  order: RoutingOrder,
  atp: AtpSnapshot,
  network: RoutingNetwork,
  ruleSet: RuleSet,
  opts: RouteOptions = {},
): RoutingDecision {
  const now = opts.now ?? new Date();
  const demand = demandOf(order.lines);
  const steps: TraceStep[] = [];
  const filters = filtersFor(ruleSet, opts);
  const rankers = rankersFor(ruleSet, opts);
  const excludedLocations = new Set(opts.excludeLocations ?? []);
  if (excludedLocations.size > 0) steps.push({ code: 'REROUTE', detail: { excluded: [...excludedLocations].sort().join(', ') } });

  const base = {
    orderId: order.id,
    trace: {
      ruleSetId: ruleSet.id,
      ruleSetVersion: ruleSet.version,
      ruleSetName: ruleSet.name,
      method: order.method,
      splitPolicy: ruleSet.splitPolicy,
      maxShipments: ruleSet.maxShipments,
      decidedAt: now.toISOString(),
      candidates: [] as CandidateTrace[],
      steps,
    },
  };
  if (demand.size === 0) {
    steps.push({ code: 'EMPTY_ORDER' });
    return { ...base, status: 'ROUTED', shipments: [], unfilled: [], estimatedCost: 0 };
  }

  if (order.method === 'SHIP') {
    if (!order.shipTo) throw new RoutingInputError(`order ${order.id}: SHIP needs a shipTo address with coordinates`);
    const ctx: RoutingContext = {
      order,
      ruleSet,
      network,
      atp,
      now,
      requiredCapability: 'SHIP',
      destination: order.shipTo,
      demand,
      excludedLocations,
    };
    const ev = evaluateCandidates(network.locations, ctx, filters, rankers);
    base.trace.candidates = ev.traces;
    const alloc = allocate(ev.ranked, demand, ruleSet.splitPolicy, ruleSet.maxShipments, steps, ev.scores);
    const shipments = alloc.assignments.map((a) => shipmentFor(a, 'SHIP', ctx, readyTime(now, a.candidate.location)));
    const unfilled = unfilledOf(alloc.unfilled, ev.ranked.length === 0 ? 'NO_ELIGIBLE_LOCATION' : ruleSet.splitPolicy === 'NEVER' && shipments.length === 0 ? 'NO_SINGLE_LOCATION' : 'INSUFFICIENT_STOCK');
    return finish(base, shipments, unfilled);
  }
  return routePickup(order, atp, network, ruleSet, demand, filters, rankers, excludedLocations, now, base);
}

function finish(
  base: { orderId: string; trace: RoutingDecision['trace'] },
  shipments: PlannedShipment[],
  unfilled: UnfilledLine[],
  readyBy?: string,
): RoutingDecision {
  const estimatedCost = round3(shipments.reduce((a, s) => a + s.estimatedCost, 0));
  // Built field by field: spreading `base` and a conditional `{ readyBy }` cost about as much as the rest of a
  // one-store pickup decision (delivery promises make one per store).
  const decision: RoutingDecision = { orderId: base.orderId, trace: base.trace, status: statusOf(shipments, unfilled), shipments, unfilled, estimatedCost };
  if (readyBy) decision.readyBy = readyBy;
  return decision;
}

/**
 * PICKUP / CURBSIDE: the customer collects at `pickupLocationCode`. What the store has is reserved there; the rest
 * is transferred in from other locations (ranked as if shipping to the store) when the rule set allows transfers.
 * The order is ready when the last transfer has arrived and been processed at the store.
 */
function routePickup(
  order: RoutingOrder,
  atp: AtpSnapshot,
  network: RoutingNetwork,
  ruleSet: RuleSet,
  demand: Map<string, number>,
  filters: LocationFilter[],
  rankers: WeightedRanker[],
  excludedLocations: Set<string>,
  now: Date,
  base: { orderId: string; trace: RoutingDecision['trace'] },
): RoutingDecision {
  const steps = base.trace.steps;
  if (!order.pickupLocationCode) throw new RoutingInputError(`order ${order.id}: ${order.method} needs pickupLocationCode`);
  const store = network.locations.find((l) => l.code === order.pickupLocationCode);
  if (!store) {
    steps.push({ code: 'PICKUP_LOCATION_UNKNOWN', detail: { location: order.pickupLocationCode } });
    return finish(base, [], unfilledOf(demand, 'PICKUP_LOCATION_UNKNOWN'));
  }
  const storeCtx: RoutingContext = {
    order,
    ruleSet,
    network,
    atp,
    now,
    requiredCapability: order.method,
    destination: store,
    demand,
    excludedLocations,
  };
  // The pickup store only passes the location-level core filters: product restrictions and distance rules are
  // about shipping, and a store may always hand over what is on its own shelf.
  const storeEv = evaluateCandidates([store], storeCtx, coreFilters, []);
  const storeTrace = storeEv.traces[0];
  const storeExcluded = storeTrace.excluded && storeTrace.excluded.code !== 'OUT_OF_STOCK' ? storeTrace.excluded : undefined;
  if (storeExcluded) {
    base.trace.candidates = storeEv.traces;
    steps.push({ code: 'PICKUP_LOCATION_UNAVAILABLE', detail: { location: store.code, reason: storeExcluded.code } });
    return finish(base, [], unfilledOf(demand, 'PICKUP_LOCATION_UNAVAILABLE'));
  }

  const shipments: PlannedShipment[] = [];
  const need = new Map(demand);
  const storeReady = readyTime(now, store);
  let readyBy = storeReady;
  const atStore = storeEv.ranked[0];
  if (atStore) {
    const take = new Map([...atStore.supply].filter(([, u]) => u > 0));
    for (const [sku, u] of take) need.set(sku, (need.get(sku) ?? 0) - u);
    shipments.push(shipmentFor({ candidate: atStore, take }, order.method, storeCtx, storeReady));
    steps.push({ code: 'PICKUP_FROM_SHELF', detail: { location: store.code, units: [...take.values()].reduce((a, b) => a + b, 0) } });
  }
  const rest = new Map([...need].filter(([, q]) => q > 0));
  if (rest.size === 0) {
    base.trace.candidates = storeEv.traces;
    return finish(base, shipments, [], readyBy.toISOString());
  }
  if (!ruleSet.pickup.allowTransfer) {
    base.trace.candidates = storeEv.traces;
    steps.push({ code: 'TRANSFER_NOT_ALLOWED' });
    return finish(base, shipments, unfilledOf(rest, 'TRANSFER_NOT_ALLOWED'), shipments.length ? readyBy.toISOString() : undefined);
  }

  const transferCtx: RoutingContext = {
    ...storeCtx,
    requiredCapability: 'SHIP',
    demand: rest,
    excludedLocations: new Set([...excludedLocations, store.code]),
  };
  const sources = network.locations.filter((l) => l.code !== store.code);
  const ev = evaluateCandidates(sources, transferCtx, filters, rankers);
  base.trace.candidates = [...storeEv.traces, ...ev.traces];
  const alloc = allocate(ev.ranked, rest, ruleSet.splitPolicy, Math.max(1, ruleSet.maxShipments - shipments.length), steps, ev.scores);
  for (const a of alloc.assignments) {
    const srcReady = readyTime(now, a.candidate.location);
    const transitDays = Math.max(1, Math.ceil(a.candidate.distanceKm / ruleSet.pickup.transferKmPerDay));
    const arrives = new Date(srcReady.getTime() + (ruleSet.pickup.transferHandlingHours + transitDays * 24) * 3_600_000);
    const ready = new Date(arrives.getTime() + store.processingHours * 3_600_000);
    if (ready > readyBy) readyBy = ready;
    shipments.push(shipmentFor(a, 'TRANSFER', transferCtx, ready, store.code));
  }
  if (alloc.assignments.length > 0) steps.push({ code: 'TRANSFER_TO_STORE', detail: { location: store.code, transfers: alloc.assignments.length } });
  const unfilled = unfilledOf(alloc.unfilled, ev.ranked.length === 0 ? 'NO_ELIGIBLE_LOCATION' : 'INSUFFICIENT_STOCK');
  return finish(base, shipments, unfilled, shipments.length ? readyBy.toISOString() : undefined);
}

/**
 * Routes what is left of an order after a location rejected or short-picked it: `remaining` lines only, never from
 * `excludeLocations` (plus any already excluded in `opts`).
 */
export function reroute(
  order: RoutingOrder,
  remaining: readonly RoutingOrderLine[],
  excludeLocations: readonly string[],
  atp: AtpSnapshot,
  network: RoutingNetwork,
  ruleSet: RuleSet,
  opts: RouteOptions = {},
): RoutingDecision {
  return route({ ...order, lines: [...remaining] }, atp, network, ruleSet, {
    ...opts,
    excludeLocations: [...(opts.excludeLocations ?? []), ...excludeLocations],
  });
}

/**
 * Applies a decision to the inputs of the next one: ATP drops by the planned units and each used location's
 * counters for today go up by one order and its lines. Returns new objects; the inputs are not mutated.
 * Used by simulation and batch loops; the live hub gets the same effect from reservations in the database.
 */
export function consumeDecision(
  decision: RoutingDecision,
  atp: AtpSnapshot,
  network: RoutingNetwork,
  now: Date,
): { atp: AtpSnapshot; network: RoutingNetwork } {
  const own = ownPlanningInputs(atp, network);
  takeDecision(decision, own.atp, own.network, now);
  return own;
}

/**
 * Copies of `atp` and `network` that `takeDecision` may change: the per-SKU stock records and the locations are
 * new objects, everything else is shared. A loop that plans many orders against one snapshot copies it once and
 * takes each decision off it in place, instead of copying the whole snapshot per order.
 */
export function ownPlanningInputs(atp: AtpSnapshot, network: RoutingNetwork): { atp: AtpSnapshot; network: RoutingNetwork } {
  const available: AtpSnapshot['available'] = {};
  for (const sku in atp.available) available[sku] = { ...atp.available[sku] };
  return { atp: { available }, network: { ...network, locations: network.locations.map((loc) => ({ ...loc })) } };
}

/** consumeDecision in place, on inputs the caller owns (see ownPlanningInputs). */
export function takeDecision(decision: RoutingDecision, atp: AtpSnapshot, network: RoutingNetwork, now: Date): void {
  const touched = new Map<string, number>();
  for (const s of decision.shipments) {
    for (const l of s.lines) {
      const bySku = (atp.available[l.sku] ??= {});
      bySku[s.locationCode] = Math.max(0, (bySku[s.locationCode] ?? 0) - l.quantity);
    }
    touched.set(s.locationCode, (touched.get(s.locationCode) ?? 0) + s.lines.length);
  }
  if (!touched.size) return;
  for (const loc of network.locations) {
    const lines = touched.get(loc.code);
    if (lines === undefined) continue;
    const today = localDate(now, loc.timeZone);
    const used = loc.usedToday && loc.usedToday.date === today ? loc.usedToday : { date: today, orders: 0, lines: 0 };
    loc.usedToday = { date: today, orders: used.orders + 1, lines: used.lines + lines };
  }
}
