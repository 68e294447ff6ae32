/**
 * Available-to-promise arithmetic, kept pure so that it can be property-tested; the SQL reads only fetch rows.
 *
 * - Location ATP = on hand − reserved − safety stock, never below 0.
 * - A sales channel is fed by the locations allocated to it (all active locations when it has no allocation rows).
 *   At each location it sees only what is above its buffer ("Amazon sees stock only above 5 units at a store"):
 *   max(0, location ATP − buffer).
 * - The channel's total holds back its own safety stock: max(0, Σ channel location ATP − channel safety stock).
 */
export interface Balance { onHand: number; reserved: number; safetyStock: number }

export function locationAtp(b: Balance, buffer = 0): number {
  return Math.max(0, b.onHand - b.reserved - b.safetyStock - buffer);
}

export interface ChannelRules {
  /** location code → buffer; undefined means every location feeds the channel with no buffer. */
  allocations?: ReadonlyMap<string, number>;
  safetyStock?: number;
}

/** Which locations a channel sees and what each contributes, plus the channel's total. */
export function channelAtp(locations: readonly (Balance & { locationCode: string })[], rules: ChannelRules = {}): { total: number; byLocation: Map<string, number> } {
  const byLocation = new Map<string, number>();
  let sum = 0;
  for (const l of locations) {
    if (rules.allocations && !rules.allocations.has(l.locationCode)) continue;
    const atp = locationAtp(l, rules.allocations?.get(l.locationCode) ?? 0);
    byLocation.set(l.locationCode, atp);
    sum += atp;
  }
  return { total: Math.max(0, sum - (rules.safetyStock ?? 0)), byLocation };
}
