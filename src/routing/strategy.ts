import type { FilterSpec, RankerSpec, RuleSet } from './rule-set.schema';
import type { AtpSnapshot, ExclusionReason, FulfillmentMethod, RoutingLocation, RoutingNetwork, RoutingOrder } from './types';
import { shippingCost } from './shipping-cost';

/**
 * # Routing strategies: the extension point
 *
 * Routing is a waterfall. Every location in the network is a *candidate*; *filters* remove candidates (or remove
 * single SKUs from what a candidate may supply); *rankers* order the survivors; the allocator then turns the ranked
 * list into shipments according to the rule set's split policy.
 *
 * Built-in filters and rankers are created from rule-set data (`FilterSpec`, `RankerSpec`). Code can add its own by
 * passing `extraFilters` / `extraRankers` to `route()`; they run after the built-ins, in the order given.
 *
 * ## Contract
 * - Strategies are **pure**: they read the `RoutingContext` and the `Candidate` and return a value. They must not
 *   mutate either, perform I/O, or read the clock (use `ctx.now`).
 * - They must be **deterministic**: the same inputs give the same output, so decisions can be replayed and
 *   explained. Ties between candidates are broken by the engine (distance, then priority, then code), never by
 *   iteration order.
 * - A filter's `name` appears in the decision trace as the reason a candidate was dropped; its `code` values are
 *   rendered into plain words by `explain.ts` (unknown codes are shown verbatim with their detail).
 */
export interface RoutingContext {
  order: RoutingOrder;
  ruleSet: RuleSet;
  network: RoutingNetwork;
  atp: AtpSnapshot;
  /** The decision instant; "today" for capacity and ready-by times is derived from it. */
  now: Date;
  /** Capability a candidate needs: SHIP for shipping and for transfer sources, PICKUP/CURBSIDE for the pickup store. */
  requiredCapability: FulfillmentMethod;
  /** Where the parcel goes: the customer's address, or the pickup store for transfers. */
  destination: { latitude: number; longitude: number };
  /** Ordered quantity per SKU (duplicate lines merged), in the order's line order. */
  demand: ReadonlyMap<string, number>;
  /** Locations excluded by a re-route (they rejected or short-picked this order). */
  excludedLocations: ReadonlySet<string>;
}

/** A location as seen by strategies while an order is being routed. */
export interface Candidate {
  location: RoutingLocation;
  distanceKm: number;
  /** Orders this location may still accept today (after capacity rules). */
  remainingOrders: number;
  /** Order lines this location may still accept today. */
  remainingLines: number;
  /** Units of each demanded SKU this location may supply (ATP capped by demand, after line filters). */
  supply: Map<string, number>;
}

export type FilterVerdict = Omit<ExclusionReason, 'filter'> | null;

export interface LocationFilter {
  /** Short identifier shown in the trace, e.g. "maxDistance". */
  readonly name: string;
  /** Whole-location test. Return a verdict to exclude the candidate, or null to keep it. */
  exclude?(candidate: Candidate, ctx: RoutingContext): FilterVerdict;
  /**
   * Per-SKU test: return a verdict to forbid this location from supplying `sku` (the location may still ship the
   * other lines). A candidate left with nothing it may supply is excluded with the first such verdict.
   */
  restrictSku?(candidate: Candidate, sku: string, ctx: RoutingContext): FilterVerdict;
}

export interface Ranker {
  /** Identifier used as the metric name in the trace, e.g. "distanceKm". */
  readonly name: string;
  /** Whether a lower or a higher metric is better. */
  readonly better: 'lower' | 'higher';
  /** Raw metric for one eligible candidate. The engine min-max normalises it across candidates to [0, 1]. */
  metric(candidate: Candidate, ctx: RoutingContext): number;
}

export interface WeightedRanker {
  ranker: Ranker;
  weight: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Built-in filters

function selects(loc: RoutingLocation, sel: { locationTypes?: string[]; locationCodes?: string[] }): boolean {
  if (sel.locationTypes && !sel.locationTypes.includes(loc.type)) return false;
  if (sel.locationCodes && !sel.locationCodes.includes(loc.code)) return false;
  return true;
}
export { selects as locationMatches };

/** Filters every rule set gets, before its own: without them routing would oversell or use closed locations. */
export const coreFilters: readonly LocationFilter[] = [
  {
    name: 'reroute',
    exclude: (c, ctx) => (ctx.excludedLocations.has(c.location.code) ? { code: 'EXCLUDED_BY_REROUTE' } : null),
  },
  { name: 'active', exclude: (c) => (c.location.active ? null : { code: 'INACTIVE' }) },
  {
    name: 'capability',
    exclude: (c, ctx) =>
      c.location.capabilities.includes(ctx.requiredCapability) ? null : { code: 'NO_CAPABILITY', detail: { capability: ctx.requiredCapability } },
  },
  {
    name: 'channel',
    exclude: (c, ctx) => {
      const ch = c.location.channels;
      return !ch || ch.length === 0 || ch.includes(ctx.order.channel) ? null : { code: 'CHANNEL_NOT_ALLOWED', detail: { channel: ctx.order.channel } };
    },
  },
  {
    name: 'capacity',
    exclude: (c) =>
      c.remainingOrders <= 0
        ? { code: 'CAPACITY_ORDERS_FULL' }
        : c.remainingLines <= 0
          ? { code: 'CAPACITY_LINES_FULL' }
          : null,
  },
];

export function filterFromSpec(spec: FilterSpec): LocationFilter {
  switch (spec.type) {
    case 'maxDistance':
      return {
        name: 'maxDistance',
        exclude: (c) => (c.distanceKm > spec.km ? { code: 'TOO_FAR', detail: { km: round1(c.distanceKm), maxKm: spec.km } } : null),
      };
    case 'excludeLocations':
      return { name: 'excludeLocations', exclude: (c) => (spec.codes.includes(c.location.code) ? { code: 'EXCLUDED_BY_RULE' } : null) };
    case 'locationType':
      return {
        name: 'locationType',
        exclude: (c, ctx) => {
          if (spec.whenOrderTag && !(ctx.order.tags ?? []).includes(spec.whenOrderTag)) return null;
          if (spec.methods && !spec.methods.includes(ctx.order.method)) return null;
          const t = c.location.type;
          if ((spec.allow && !spec.allow.includes(t)) || (spec.deny && spec.deny.includes(t)))
            return { code: 'LOCATION_TYPE_NOT_ALLOWED', detail: { locationType: t, ...(spec.whenOrderTag ? { orderTag: spec.whenOrderTag } : {}) } };
          return null;
        },
      };
    case 'tag':
      return {
        name: 'tag',
        exclude: (c, ctx) => {
          if (spec.whenOrderTag && !(ctx.order.tags ?? []).includes(spec.whenOrderTag)) return null;
          const tags = c.location.tags ?? [];
          const missing = (spec.requireLocationTags ?? []).find((t) => !tags.includes(t));
          if (missing) return { code: 'MISSING_LOCATION_TAG', detail: { tag: missing } };
          const banned = (spec.excludeLocationTags ?? []).find((t) => tags.includes(t));
          if (banned) return { code: 'EXCLUDED_LOCATION_TAG', detail: { tag: banned } };
          return null;
        },
      };
    case 'productRestriction':
      return {
        name: 'productRestriction',
        restrictSku: (c, sku, ctx) => {
          const tags = ctx.network.products?.[sku]?.tags ?? [];
          if (!tags.includes(spec.productTag) || spec.allowedLocationTypes.includes(c.location.type)) return null;
          return { code: 'PRODUCT_RESTRICTED', detail: { sku, productTag: spec.productTag, locationType: c.location.type } };
        },
      };
  }
}

/** The rule set's `maxDistanceKm` shorthand, as a filter. */
export function maxDistanceFilter(km: number): LocationFilter {
  return filterFromSpec({ type: 'maxDistance', km });
}

// ---------------------------------------------------------------------------------------------------------------
// Built-in rankers

export function parcelWeightKg(c: Candidate, ctx: RoutingContext): number {
  let w = 0;
  for (const [sku, units] of c.supply) w += units * (ctx.network.products?.[sku]?.weightKg ?? ctx.ruleSet.defaultWeightKg);
  return w;
}

export function rankerFromSpec(spec: RankerSpec): Ranker {
  switch (spec.type) {
    case 'distance':
      return { name: 'distanceKm', better: 'lower', metric: (c) => c.distanceKm };
    case 'cost':
      return {
        name: 'costEstimate',
        better: 'lower',
        metric: (c, ctx) => shippingCost(c.location, c.distanceKm, parcelWeightKg(c, ctx), ctx.ruleSet),
      };
    case 'co2':
      return { name: 'co2Kg', better: 'lower', metric: (c) => (c.location.co2PerKm ?? 0) * c.distanceKm };
    case 'priority':
      return { name: 'priority', better: 'lower', metric: (c) => c.location.priority };
    case 'stock':
      // Units left at the location after it ships what it can of this order: "balance" keeps stock spread out by
      // preferring well-stocked locations; "clear" drains small remnants so they stop causing splits later.
      return {
        name: spec.mode === 'clear' ? 'stockLeftClear' : 'stockLeft',
        better: spec.mode === 'clear' ? 'lower' : 'higher',
        metric: (c, ctx) => {
          let left = 0;
          for (const [sku, units] of c.supply) left += Math.max(0, (ctx.atp.available[sku]?.[c.location.code] ?? 0) - units);
          return left;
        },
      };
    case 'locationType':
      return {
        name: 'locationTypeOrder',
        better: 'lower',
        metric: (c) => {
          const i = spec.order.indexOf(c.location.type);
          return i < 0 ? spec.order.length : i;
        },
      };
  }
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
