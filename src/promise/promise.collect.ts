/**
 * PICKUP and CURBSIDE promises, pure: for every store within the radius, what `route()` would plan for an order
 * collected there now (its own shelf first, the rest transferred in from other locations when the rule set allows
 * it), turned into an option with routing's ready-by time. No database, no clock.
 *
 * It calls `route()` itself, once per store rather than once per store and method: the two methods are routed
 * alike unless a rule-set filter tells them apart (see `methodsRouteAlike`), and a store that holds the whole cart
 * never gets as far as those filters.
 */
import { haversineKm, localDate, route, type AtpSnapshot, type RoutingDecision, type RoutingLocation, type RoutingNetwork, type RoutingOrderLine, type RuleSet } from '../routing';

export type CollectMethod = 'PICKUP' | 'CURBSIDE';
export const COLLECT_METHODS: readonly CollectMethod[] = ['PICKUP', 'CURBSIDE'];

export interface CollectOption {
  method: CollectMethod;
  store: RoutingLocation;
  distanceKm: number;
  readyBy: string;
  /** The local day of `readyBy` at the store: the day the shopper can collect. */
  day: string;
  /** Routing's plan: the store's shelf and, if any, one TRANSFER leg per sending location. */
  shipments: RoutingDecision['shipments'];
}

export interface CollectInput {
  ruleSet: RuleSet;
  network: RoutingNetwork;
  atp: AtpSnapshot;
}

/**
 * Whether routing plans PICKUP and CURBSIDE orders at the same store identically. The method reaches routing only
 * through the store's capability (checked per method by the caller) and through rule-set filters that name
 * methods; every filter type below is known not to read it, and any other (a new type) counts as telling them apart.
 */
export function methodsRouteAlike(ruleSet: Pick<RuleSet, 'filters'>): boolean {
  return ruleSet.filters.every((f) => {
    switch (f.type) {
      case 'maxDistance': case 'excludeLocations': case 'tag': case 'productRestriction': return true;
      case 'locationType': return !f.methods || f.methods.includes('PICKUP') === f.methods.includes('CURBSIDE');
      default: return false;
    }
  });
}

/**
 * Every store within `radiusKm` of `point` that routing would fill the whole cart at, per method it offers, best
 * first (earliest ready, then nearest, then code): PICKUP options, then CURBSIDE options.
 */
export function collectOptions(s: CollectInput, lines: RoutingOrderLine[], channel: string, point: { latitude: number; longitude: number },
  radiusKm: number, now: Date): CollectOption[] {
  const alike = methodsRouteAlike(s.ruleSet);
  // A cart the network as a whole cannot cover is not routed whole at any store; a shelf short of it can only be
  // topped up by transfers, which the rule set may forbid. Either way such a store is skipped before routing.
  const transfersCanFill = s.ruleSet.pickup.allowTransfer && lines.every((l) => unitsAnywhere(s.atp, l.sku) >= l.quantity);
  // Transfer sources: routing ranks only locations holding some of the cart (the rest it drops as out of stock, and
  // they take no part in scoring), so they are all the network a store short of the cart needs.
  const holders = transfersCanFill ? s.network.locations.filter((l) => lines.some((line) => (s.atp.available[line.sku]?.[l.code] ?? 0) > 0)) : [];
  const byMethod: Record<CollectMethod, CollectOption[]> = { PICKUP: [], CURBSIDE: [] };
  // Local days of ready times, per zone (most stores are ready at the same instant in the same zone).
  const days = new Map<string, string>();
  for (const store of s.network.locations) {
    const methods = COLLECT_METHODS.filter((m) => store.capabilities.includes(m));
    if (!methods.length) continue;
    const km = haversineKm(point.latitude, point.longitude, store.latitude, store.longitude);
    if (km > radiusKm) continue;
    const onShelf = lines.every((l) => (s.atp.available[l.sku]?.[store.code] ?? 0) >= l.quantity);
    if (!onShelf && !transfersCanFill) continue;
    // With the whole cart on its shelf routing takes it from there and looks no further: the store and its own
    // shelf are all it needs (routing indexes every location holding a SKU on each call). Otherwise it ranks the
    // holders as transfer sources.
    const atp = onShelf ? shelfOf(s.atp, lines, store.code) : s.atp;
    const locations = onShelf ? [store] : holders.includes(store) ? holders : [store, ...holders];
    const network = { locations, products: s.network.products };
    let decision: RoutingDecision | undefined;
    for (const method of methods) {
      if (!decision || !(onShelf || alike)) {
        decision = route({ id: 'delivery-promise', channel, method, pickupLocationCode: store.code, lines, tags: [] }, atp, network, s.ruleSet, { now });
      }
      if (decision.status !== 'ROUTED' || !decision.readyBy) continue;
      const dayKey = `${decision.readyBy}|${store.timeZone}`;
      let day = days.get(dayKey);
      if (day === undefined) days.set(dayKey, (day = localDate(new Date(decision.readyBy), store.timeZone)));
      byMethod[method].push({ method, store, distanceKm: Math.round(km * 1000) / 1000, readyBy: decision.readyBy, day, shipments: decision.shipments });
    }
  }
  const best = (a: CollectOption, b: CollectOption) => a.readyBy.localeCompare(b.readyBy) || a.distanceKm - b.distanceKm || a.store.code.localeCompare(b.store.code);
  return [...byMethod.PICKUP.sort(best), ...byMethod.CURBSIDE.sort(best)];
}

function unitsAnywhere(atp: AtpSnapshot, sku: string): number {
  let units = 0;
  for (const code in atp.available[sku] ?? {}) units += Math.max(0, atp.available[sku][code]);
  return units;
}

function shelfOf(atp: AtpSnapshot, lines: RoutingOrderLine[], code: string): AtpSnapshot {
  const available: AtpSnapshot['available'] = {};
  for (const l of lines) available[l.sku] = { [code]: atp.available[l.sku][code] };
  return { available };
}
