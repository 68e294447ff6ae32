/**
 * Input and output types of the routing engine.
 *
 * These are plain data, deliberately independent of the TypeORM entities: the services map database rows to
 * these shapes, read an ATP snapshot, call `route()`, then reserve and persist. Nothing in `src/routing` reads
 * the database or the clock unless the caller leaves `now` out.
 */

export type FulfillmentMethod = 'SHIP' | 'PICKUP' | 'CURBSIDE';
export type LocationType = 'WAREHOUSE' | 'STORE' | 'THREE_PL' | 'DROPSHIP_VENDOR' | 'MICRO_HUB';
export type LocationCapability = 'SHIP' | 'PICKUP' | 'CURBSIDE' | 'RETURNS';

export const LOCATION_TYPES: readonly LocationType[] = ['WAREHOUSE', 'STORE', 'THREE_PL', 'DROPSHIP_VENDOR', 'MICRO_HUB'];
export const FULFILLMENT_METHODS: readonly FulfillmentMethod[] = ['SHIP', 'PICKUP', 'CURBSIDE'];

export interface RoutingAddress {
  latitude: number;
  longitude: number;
  country: string;
  name?: string;
  line1?: string;
  city?: string;
  region?: string;
  postalCode?: string;
}

export interface RoutingOrderLine {
  sku: string;
  quantity: number;
}

export interface RoutingOrder {
  id: string;
  channel: string;
  method: FulfillmentMethod;
  /** Required for PICKUP and CURBSIDE: the store the customer collects from. */
  pickupLocationCode?: string;
  /** For SHIP the destination; for PICKUP/CURBSIDE optional (the pickup store's position is used). */
  shipTo?: RoutingAddress;
  lines: RoutingOrderLine[];
  tags?: string[];
  /** Stable customer identity across channels (e.g. normalised e-mail); used by merge. */
  customerKey?: string;
  /** ISO time the order was placed; used by merge windows and simulation. */
  placedAt?: string;
}

export interface LocationUsage {
  /** Local calendar day (YYYY-MM-DD, in the location's time zone) these counters belong to. A different day means 0. */
  date: string;
  orders: number;
  lines: number;
}

export interface RoutingLocation {
  code: string;
  name?: string;
  type: LocationType;
  active: boolean;
  capabilities: LocationCapability[];
  latitude: number;
  longitude: number;
  /** IANA time zone, e.g. "Europe/London". */
  timeZone: string;
  /** Channels this location may serve; undefined or empty means every channel. */
  channels?: string[];
  dailyOrderCapacity?: number;
  dailyLineCapacity?: number;
  usedToday?: LocationUsage;
  /** Lower number = preferred (1 is the first choice). */
  priority: number;
  shipBase: number;
  shipPerKm: number;
  /** kg CO2 per parcel-km. */
  co2PerKm?: number;
  /** Hours from release to ready-to-ship / ready-for-pickup. */
  processingHours: number;
  /** Local "HH:mm" after which work starts the next local day. */
  cutoff: string;
  /** Free-form labels that tag filters can require or exclude (e.g. "express", "cold-chain"). */
  tags?: string[];
}

export interface ProductInfo {
  /** e.g. "oversize", "hazmat". */
  tags?: string[];
  weightKg?: number;
}

export interface RoutingNetwork {
  locations: RoutingLocation[];
  /** Product restrictions and weights, by SKU. Missing SKUs have no restriction and the default weight. */
  products?: Record<string, ProductInfo>;
}

/** Available-to-promise units per SKU, then per location code. Missing entries mean 0. */
export interface AtpSnapshot {
  available: Record<string, Record<string, number>>;
}

export function atpFromRows(rows: Iterable<{ sku: string; locationCode: string; available: number }>): AtpSnapshot {
  const available: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    const bySku = (available[r.sku] ??= {});
    bySku[r.locationCode] = (bySku[r.locationCode] ?? 0) + Math.max(0, r.available);
  }
  return { available };
}

export function atpOf(atp: AtpSnapshot, sku: string, locationCode: string): number {
  return Math.max(0, atp.available[sku]?.[locationCode] ?? 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Decisions

export type ShipmentKind = 'SHIP' | 'PICKUP' | 'CURBSIDE' | 'TRANSFER';

export interface PlannedShipment {
  /** Where stock is reserved and picked. */
  locationCode: string;
  kind: ShipmentKind;
  lines: RoutingOrderLine[];
  /** TRANSFER only: the store the goods move to for collection. */
  destinationCode?: string;
  distanceKm: number;
  estimatedCost: number;
  co2Kg: number;
  /** ISO time the goods are expected ready (to ship, or for collection at the destination). */
  readyBy: string;
}

export type DecisionStatus = 'ROUTED' | 'PARTIAL' | 'BACKORDERED';

export interface UnfilledLine {
  sku: string;
  quantity: number;
  reason: string;
}

export interface ExclusionReason {
  /** Filter that excluded the location (the first one in waterfall order that failed). */
  filter: string;
  /** Machine-readable code, e.g. INACTIVE, NO_CAPABILITY, OUT_OF_STOCK. */
  code: string;
  /** Parameters for rendering ("312 km > 250 km"). */
  detail?: Record<string, string | number | boolean>;
}

export interface CandidateTrace {
  code: string;
  name?: string;
  type: LocationType;
  distanceKm: number;
  excluded?: ExclusionReason;
  /** Units this location could supply of each ordered SKU. */
  supply: Record<string, number>;
  /** Raw ranker metrics (distanceKm, costEstimate, ...). */
  metrics?: Record<string, number>;
  /** Weighted score in [0, 1]; higher is better. */
  score?: number;
  /** 1-based rank among eligible candidates. */
  rank?: number;
  /** True when the candidate could ship the whole order alone. */
  coversAll?: boolean;
}

export interface RoutingTrace {
  ruleSetId: string;
  ruleSetVersion: number;
  ruleSetName: string;
  method: FulfillmentMethod;
  splitPolicy: SplitPolicy;
  maxShipments: number;
  decidedAt: string;
  candidates: CandidateTrace[];
  /** Ordered notes on how the plan was built, as structured steps (rendered by explain). */
  steps: TraceStep[];
}

export interface TraceStep {
  code: string;
  detail?: Record<string, string | number | boolean>;
}

export interface RoutingDecision {
  orderId: string;
  status: DecisionStatus;
  shipments: PlannedShipment[];
  unfilled: UnfilledLine[];
  /** Total estimated shipping cost of the plan. */
  estimatedCost: number;
  /** PICKUP/CURBSIDE: when the whole order is expected ready for collection. */
  readyBy?: string;
  trace: RoutingTrace;
}

// ---------------------------------------------------------------------------------------------------------------
// Rule sets (the zod schema in rule-set.schema.ts is the source of truth; these types are inferred from it)

export type SplitPolicy = 'NEVER' | 'ALLOW' | 'MINIMIZE';
export type { RuleSet, FilterSpec, RankerSpec, CapacityRule, ShippingRateTable } from './rule-set.schema';
