import type { RuleSet } from './rule-set.schema';
import type { RoutingLocation } from './types';

function applies(loc: RoutingLocation, t: { locationTypes?: string[]; locationCodes?: string[] }): boolean {
  return (!t.locationTypes || t.locationTypes.includes(loc.type)) && (!t.locationCodes || t.locationCodes.includes(loc.code));
}

/**
 * Estimated cost of one parcel. The first rate table in the rule set that applies to the location prices it by zone
 * (distance band) and weight band; without a matching table, or beyond its last band, the location's own
 * `shipBase + shipPerKm × km` applies (the same formula the batch optimiser uses).
 */
export function shippingCost(loc: RoutingLocation, km: number, weightKg: number, ruleSet: Pick<RuleSet, 'shippingRates'>): number {
  for (const table of ruleSet.shippingRates) {
    if (!applies(loc, table)) continue;
    const zone = [...table.zones].sort((a, b) => a.maxKm - b.maxKm).find((z) => km <= z.maxKm);
    if (!zone) break;
    const rate = table.rates
      .filter((r) => r.zone === zone.name)
      .sort((a, b) => a.maxWeightKg - b.maxWeightKg)
      .find((r) => weightKg <= r.maxWeightKg);
    if (rate) return rate.price;
    break;
  }
  return loc.shipBase + loc.shipPerKm * km;
}
