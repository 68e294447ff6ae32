import { parseRuleSet, type RuleSet, type RuleSetInput } from '../../../src/routing/rule-set.schema';
import type { AtpSnapshot, RoutingLocation, RoutingNetwork, RoutingOrder } from '../../../src/routing/types';

export const NOW = new Date('2025-06-10T10:00:00Z');

export function loc(code: string, over: Partial<RoutingLocation> = {}): RoutingLocation {
  return {
    code,
    name: `Loc ${code}`,
    type: 'WAREHOUSE',
    active: true,
    capabilities: ['SHIP', 'PICKUP', 'CURBSIDE'],
    latitude: 51.5,
    longitude: -0.1,
    timeZone: 'Europe/London',
    priority: 10,
    shipBase: 5,
    shipPerKm: 0.01,
    co2PerKm: 0.001,
    processingHours: 4,
    cutoff: '16:00',
    ...over,
  };
}

export function order(over: Partial<RoutingOrder> = {}): RoutingOrder {
  return {
    id: 'O1',
    channel: 'shopify',
    method: 'SHIP',
    shipTo: { latitude: 51.5, longitude: -0.1, country: 'GB' },
    lines: [{ sku: 'A', quantity: 1 }],
    tags: [],
    ...over,
  };
}

export function rules(over: Partial<RuleSetInput> = {}): RuleSet {
  return parseRuleSet({ id: 'rs', version: 1, name: 'Test rules', status: 'PUBLISHED', ...over });
}

export function atp(entries: [sku: string, location: string, units: number][]): AtpSnapshot {
  const available: AtpSnapshot['available'] = {};
  for (const [sku, l, u] of entries) (available[sku] ??= {})[l] = u;
  return { available };
}

export function net(locations: RoutingLocation[], products: RoutingNetwork['products'] = {}): RoutingNetwork {
  return { locations, products };
}

/** Degrees of latitude for roughly `km` kilometres north. */
export const north = (km: number) => 51.5 + km / 111.19;
