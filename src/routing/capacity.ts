import type { RuleSet } from './rule-set.schema';
import { locationMatches } from './strategy';
import { localDate } from './time';
import type { RoutingLocation } from './types';

export interface RemainingCapacity {
  /** Local day the figures apply to. */
  date: string;
  orders: number;
  lines: number;
  orderCap: number;
  lineCap: number;
}

/**
 * Capacity left today at a location. "Today" is the calendar day at `now` in the location's own time zone, so a
 * store in Los Angeles resets at its midnight, not the server's. Counters recorded for another day count as 0.
 * Rule-set capacity rules can only tighten the location's own limits (peak rules like "stores: 20 orders a day").
 */
export function remainingCapacity(loc: RoutingLocation, now: Date, ruleSet: Pick<RuleSet, 'capacityRules'>): RemainingCapacity {
  let orderCap = loc.dailyOrderCapacity ?? Infinity;
  let lineCap = loc.dailyLineCapacity ?? Infinity;
  for (const rule of ruleSet.capacityRules) {
    if (!locationMatches(loc, rule)) continue;
    if (rule.maxOrdersPerDay !== undefined) orderCap = Math.min(orderCap, rule.maxOrdersPerDay);
    if (rule.maxLinesPerDay !== undefined) lineCap = Math.min(lineCap, rule.maxLinesPerDay);
  }
  const date = localDate(now, loc.timeZone);
  const used = loc.usedToday && loc.usedToday.date === date ? loc.usedToday : { orders: 0, lines: 0 };
  return { date, orders: Math.max(0, orderCap - used.orders), lines: Math.max(0, lineCap - used.lines), orderCap, lineCap };
}
