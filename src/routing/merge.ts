import type { PlannedShipment, RoutingDecision, RoutingOrder, RoutingOrderLine } from './types';

export interface MergeOptions {
  /** Orders placed within this many minutes of a group's first order join it. */
  windowMinutes: number;
}

export interface MergeGroup {
  /** Customer + normalised address. */
  key: string;
  /** Member orders, oldest first. */
  orderIds: string[];
  /** One order to route for the whole group (SKU quantities summed, tags united; id and channel of the oldest). */
  order: RoutingOrder;
  /** Each member's own lines, to split the decision back per order. */
  members: { orderId: string; lines: RoutingOrderLine[] }[];
}

function norm(s: string | undefined): string {
  return (s ?? '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

/** Same customer and same place: postcode + first address line when known, else coordinates to ~10 m. */
export function mergeKey(o: RoutingOrder): string | undefined {
  if (o.method !== 'SHIP' || !o.customerKey || !o.shipTo) return undefined;
  const a = o.shipTo;
  const where =
    a.postalCode || a.line1
      ? `${norm(a.country)}|${norm(a.postalCode).replace(/ /g, '')}|${norm(a.line1)}`
      : `${norm(a.country)}|${a.latitude.toFixed(4)},${a.longitude.toFixed(4)}`;
  return `${o.customerKey.trim().toLowerCase()}|${where}`;
}

/**
 * Groups orders from the same customer to the same address, across channels, placed within the window of the
 * group's first order. Orders that cannot merge (pickup, no customer key, no address) come back as groups of one.
 * Pure and deterministic: groups are ordered by their first order's time, then id.
 */
export function mergeOrders(orders: readonly RoutingOrder[], opts: MergeOptions): MergeGroup[] {
  const time = (o: RoutingOrder) => (o.placedAt ? Date.parse(o.placedAt) : 0);
  const sorted = [...orders].sort((a, b) => time(a) - time(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const windowMs = opts.windowMinutes * 60_000;
  const open = new Map<string, { start: number; members: RoutingOrder[] }>();
  const groups: RoutingOrder[][] = [];
  for (const o of sorted) {
    const key = mergeKey(o);
    const g = key ? open.get(key) : undefined;
    if (key && g && time(o) - g.start <= windowMs) {
      g.members.push(o);
      continue;
    }
    const members = [o];
    groups.push(members);
    if (key) open.set(key, { start: time(o), members });
  }
  return groups.map((members) => {
    const first = members[0];
    const qty = new Map<string, number>();
    for (const m of members) for (const l of m.lines) qty.set(l.sku, (qty.get(l.sku) ?? 0) + l.quantity);
    return {
      key: mergeKey(first) ?? `single|${first.id}`,
      orderIds: members.map((m) => m.id),
      order: {
        ...first,
        lines: [...qty].map(([sku, quantity]) => ({ sku, quantity })),
        tags: [...new Set(members.flatMap((m) => m.tags ?? []))],
      },
      members: members.map((m) => ({ orderId: m.id, lines: m.lines.map((l) => ({ ...l })) })),
    };
  });
}

/**
 * Splits a merged order's decision back onto its member orders: each shipment's units go to the oldest member still
 * needing that SKU. The shipments keep their location (that is the consolidation); each member gets its share.
 */
export function splitMergedDecision(group: MergeGroup, decision: RoutingDecision): Map<string, PlannedShipment[]> {
  const need = group.members.map((m) => {
    const n = new Map<string, number>();
    for (const l of m.lines) n.set(l.sku, (n.get(l.sku) ?? 0) + l.quantity);
    return { orderId: m.orderId, need: n };
  });
  const out = new Map<string, PlannedShipment[]>(group.members.map((m) => [m.orderId, []]));
  for (const s of decision.shipments) {
    const per = new Map<string, RoutingOrderLine[]>();
    for (const line of s.lines) {
      let left = line.quantity;
      for (const m of need) {
        if (left <= 0) break;
        const take = Math.min(left, m.need.get(line.sku) ?? 0);
        if (take <= 0) continue;
        m.need.set(line.sku, (m.need.get(line.sku) ?? 0) - take);
        left -= take;
        (per.get(m.orderId) ?? per.set(m.orderId, []).get(m.orderId)!).push({ sku: line.sku, quantity: take });
      }
    }
    for (const [orderId, lines] of per) out.get(orderId)!.push({ ...s, lines });
  }
  return out;
}
