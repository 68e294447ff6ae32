import type { CandidateTrace, ExclusionReason, PlannedShipment, RoutingDecision, TraceStep } from './types';

type Detail = Record<string, string | number | boolean> | undefined;

const km = (x: number | string | boolean | undefined) => `${Math.round(Number(x ?? 0))} km`;

const EXCLUSION_WORDS: Record<string, (d: Detail) => string> = {
  EXCLUDED_BY_REROUTE: () => 'it already turned this order down, so it was skipped on re-routing',
  INACTIVE: () => 'it is switched off (inactive)',
  NO_CAPABILITY: (d) => `it does not offer ${String(d?.capability ?? '').toLowerCase().replace('ship', 'shipping')}`,
  CHANNEL_NOT_ALLOWED: (d) => `it does not serve the ${d?.channel} channel`,
  CAPACITY_ORDERS_FULL: () => 'it has already taken all the orders it can handle today',
  CAPACITY_LINES_FULL: () => 'it has already picked all the lines it can handle today',
  TOO_FAR: (d) => `it is too far away (${km(d?.km)}, the limit is ${km(d?.maxKm)})`,
  EXCLUDED_BY_RULE: () => 'the rule set excludes it',
  LOCATION_TYPE_NOT_ALLOWED: (d) =>
    `the rule set does not allow ${humanType(String(d?.locationType))} locations${d?.orderTag ? ` for orders tagged "${d.orderTag}"` : ''}`,
  MISSING_LOCATION_TAG: (d) => `it is not marked "${d?.tag}"`,
  EXCLUDED_LOCATION_TAG: (d) => `it is marked "${d?.tag}", which the rule set excludes`,
  PRODUCT_RESTRICTED: (d) => `${d?.sku} is ${d?.productTag} and may not ship from a ${humanType(String(d?.locationType))}`,
  OUT_OF_STOCK: () => 'it has none of the items in stock',
};

const STEP_WORDS: Record<string, (d: Detail) => string | null> = {
  REROUTE: (d) => `This is a re-route; not using: ${d?.excluded}.`,
  SINGLE_LOCATION: () => null,
  NO_SINGLE_LOCATION: () => 'No single location had everything.',
  SPLIT_NOT_ALLOWED: () => 'The rule set does not allow splitting the order, so it waits for stock.',
  MINIMUM_SPLIT: (d) => `The order was split over the fewest locations possible (${d?.shipments}).`,
  RANKED_SPLIT: (d) => `The order was split in ranking order over ${d?.shipments} location(s).`,
  NO_FULL_COVER: (d) => `Even ${d?.maxShipments} shipments could not cover the whole order.`,
  PICKUP_LOCATION_UNKNOWN: (d) => `The pickup store ${d?.location} is not in the network.`,
  PICKUP_LOCATION_UNAVAILABLE: (d) => `The pickup store ${d?.location} cannot take this order: ${exclusionWords({ filter: '', code: String(d?.reason) })}.`,
  PICKUP_FROM_SHELF: (d) => `${d?.units} unit(s) are taken from the shelf at ${d?.location}.`,
  TRANSFER_TO_STORE: (d) => `The rest is transferred to ${d?.location} (${d?.transfers} transfer(s)).`,
  TRANSFER_NOT_ALLOWED: () => 'The rule set does not allow transfers to the pickup store.',
  EMPTY_ORDER: () => 'The order has no lines.',
};

function humanType(t: string): string {
  return (
    { WAREHOUSE: 'warehouse', STORE: 'store', THREE_PL: '3PL', DROPSHIP_VENDOR: 'drop-ship vendor', MICRO_HUB: 'micro-hub' }[t] ?? t.toLowerCase()
  );
}

export function exclusionWords(r: ExclusionReason): string {
  const f = EXCLUSION_WORDS[r.code];
  return f ? f(r.detail) : `${r.code}${r.detail ? ` ${JSON.stringify(r.detail)}` : ''}`;
}

function label(c: Pick<CandidateTrace, 'code' | 'name'> | undefined, code: string): string {
  return c?.name ? `${c.name} (${code})` : code;
}

function itemList(s: PlannedShipment): string {
  return s.lines.map((l) => `${l.quantity} × ${l.sku}`).join(', ');
}

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, ' UTC');
}

/**
 * The decision in plain words for a store manager: what ships from where and why, then why the other locations
 * were not used. One sentence per line.
 */
export function explainDecision(decision: RoutingDecision, opts: { maxExcluded?: number } = {}): string {
  const t = decision.trace;
  const byCode = new Map(t.candidates.map((c) => [c.code, c]));
  const out: string[] = [];
  out.push(`Order ${decision.orderId} was routed with rule set "${t.ruleSetName}" (${t.ruleSetId} v${t.ruleSetVersion}) on ${when(t.decidedAt)}.`);

  for (const step of t.steps.filter((s) => s.code === 'REROUTE')) out.push(stepWords(step));
  for (const s of decision.shipments) {
    const c = byCode.get(s.locationCode);
    const where = label(c, s.locationCode);
    const why = c?.rank ? ` It ranked #${c.rank}${reasonsFor(c)}.` : '';
    if (s.kind === 'SHIP') out.push(`Ships ${itemList(s)} from ${where}, ${km(s.distanceKm)} away, ready to leave by ${when(s.readyBy)}.${why}`);
    else if (s.kind === 'TRANSFER')
      out.push(`Transfers ${itemList(s)} from ${where} to ${s.destinationCode} (${km(s.distanceKm)}), in the store by ${when(s.readyBy)}.${why}`);
    else out.push(`${itemList(s)} ${s.lines.length === 1 ? 'is' : 'are'} reserved at ${where} for ${s.kind === 'CURBSIDE' ? 'curbside pickup' : 'pickup'}.`);
  }
  for (const step of t.steps.filter((s) => s.code !== 'REROUTE')) {
    const w = stepWords(step);
    if (w) out.push(w);
  }
  if (decision.readyBy) out.push(`The customer can collect from ${when(decision.readyBy)}.`);
  for (const u of decision.unfilled) out.push(`Not available now: ${u.quantity} × ${u.sku} (${unfilledWords(u.reason)}).`);
  if (decision.shipments.length === 0 && decision.unfilled.length > 0) out.push('The order is backordered and will be retried when stock arrives.');

  const excluded = t.candidates.filter((c) => c.excluded);
  const max = opts.maxExcluded ?? 10;
  if (excluded.length > 0) {
    out.push('Locations not used:');
    for (const c of excluded.slice(0, max)) out.push(`- ${label(c, c.code)}: ${exclusionWords(c.excluded!)}.`);
    if (excluded.length > max) out.push(`- … and ${excluded.length - max} more.`);
  }
  const unusedEligible = t.candidates.filter((c) => !c.excluded && !decision.shipments.some((s) => s.locationCode === c.code));
  if (unusedEligible.length > 0) {
    const shown = [...unusedEligible].sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0)).slice(0, 3);
    out.push(`Also possible but ranked lower: ${shown.map((c) => `${label(c, c.code)} (#${c.rank})`).join(', ')}${unusedEligible.length > 3 ? ', …' : ''}.`);
  }
  return out.join('\n');
}

function stepWords(step: TraceStep): string {
  return STEP_WORDS[step.code]?.(step.detail) ?? (STEP_WORDS[step.code] ? '' : step.code);
}

function unfilledWords(reason: string): string {
  return (
    {
      NO_ELIGIBLE_LOCATION: 'no location may ship it',
      NO_SINGLE_LOCATION: 'no one location has everything and splitting is off',
      INSUFFICIENT_STOCK: 'not enough stock within the shipment limit',
      PICKUP_LOCATION_UNKNOWN: 'unknown pickup store',
      PICKUP_LOCATION_UNAVAILABLE: 'the pickup store cannot take it',
      TRANSFER_NOT_ALLOWED: 'not on the shelf and transfers are off',
    }[reason] ?? reason
  );
}

function reasonsFor(c: CandidateTrace): string {
  const parts: string[] = [];
  if (c.coversAll) parts.push('had everything in stock');
  const m = c.metrics ?? {};
  if (m.costEstimate !== undefined) parts.push(`estimated shipping ${m.costEstimate.toFixed(2)}`);
  if (m.co2Kg !== undefined && m.co2Kg > 0) parts.push(`${m.co2Kg.toFixed(2)} kg CO₂`);
  return parts.length ? `: ${parts.join(', ')}` : '';
}
