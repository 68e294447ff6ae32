import { createHash } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import {
  execute, type ExecutionResult, type FieldNode, type FragmentDefinitionNode, GraphQLError, type GraphQLResolveInfo, Kind, type OperationDefinitionNode, parse,
  valueFromASTUntyped, validate,
} from 'graphql';
import { generateDemoNetwork } from '../../../db/seed/demo-network';
import { CostBucket } from '../rate-limits';
import { listen, type OrderState, type PushLog, type SandboxBaseOptions, type SandboxStats, SandboxStore, type ShipmentRecord } from '../sandbox-store';
import { actualCost, requestedCost } from './shopify-cost';
import { shopifySandboxSchema } from './shopify-sandbox.schema';

export interface ShopifySandboxOptions extends SandboxBaseOptions {
  /** Sent by the connector as X-Shopify-Access-Token. Default `shpat_sandbox`. */
  accessToken?: string;
  shop?: string;
  /** Demo-network locations the shop has (default 5: the DCs, the 3PL and the drop-ship vendor). */
  locations?: number;
  /** Inventory items: the first N demo SKUs (default 200), stocked from the demo network's stock. */
  inventorySkus?: number;
  /** Standard plan: bucket 2000 points, restoring 100 points/s. */
  bucket?: { maximumAvailable: number; restoreRate: number };
  /** Shopify refuses a single query whose requested cost exceeds 1000 (MAX_COST_EXCEEDED). */
  maxQueryCost?: number;
  /**
   * How a query is admitted to the bucket. `requested` (default) is Shopify's rule: the bucket must hold the
   * requested cost before the query runs, and the difference to the actual cost is refunded. `actual` runs
   * queries first and admits them on their actual cost (no single-query maximum): a compatibility mode for
   * clients whose page queries request more than a bucket holds. Mutations are always admitted on requested cost.
   */
  costAdmission?: 'requested' | 'actual';
}

export interface ShopifySandboxLocation {
  id: string;
  gid: string;
  code: string;
  name: string;
  city: string;
  region: string;
  latitude: number;
  longitude: number;
}

export interface ShopifySandbox {
  vendor: 'shopify';
  baseUrl: string;
  store: SandboxStore;
  /** Pushes the hub made (stock sets, fulfilments with tracking, cancellations). */
  pushes: PushLog;
  /** Refunds created through `refundCreate`, in order (a resend under the same idempotency key adds none). */
  refunds: ShopifySandboxRefund[];
  locations: ShopifySandboxLocation[];
  /** Inventory item id (numeric string) of a SKU, for setStock's `externalItemId`. */
  inventoryItemId(sku: string): string | undefined;
  /** Current `available` of a SKU at a location id (numeric string); null when not stocked there. */
  available(sku: string, locationId: string): number | null;
  /** Shopify's order id (numeric string) of the n-th generated order. */
  orderId(seq: number): string;
  /** Every order placed so far, as the connector's canonical id → generated order. */
  orders(): OrderState[];
  stats(): SandboxStats;
  /** Requested and charged cost of every query the bucket admitted, in order (for the connector-budget bench). */
  admitted: Array<{ requested: number; charged: number }>;
  /** `openConnection(shopifyConnector, { ...sandbox.connection, clock })`. */
  connection: { config: { shop: string; baseUrl: string; startAt: string }; credentials: { accessToken: string } };
  close(): Promise<void>;
}

export interface ShopifySandboxRefund {
  id: string;
  at: string;
  orderSeq: number;
  orderId: string;
  lines: Array<{ lineId: string; sku: string; quantity: number; restockType: string }>;
  /** Money moved back to the customer (sum of the refund transactions), decimal string. */
  amount: string;
  note: string | null;
  idempotencyKey: string;
}

/** The sandbox's payment gateway (Shopify's test gateway is called "bogus"). */
const GATEWAY = 'bogus';
const TRANSACTION_BASE = 7_100_000_000;
const ORDER_BASE = 5_100_000_000;
const FO_BASE = 6_100_000_000;
const ITEM_BASE = 43_000_000_000;
const LOCATION_BASE = 61_000_000_000;
const VALID_REASONS = new Set(['correction', 'cycle_count_available', 'damaged', 'movement_created', 'movement_received', 'movement_updated', 'other', 'promotion', 'quality_control', 'received', 'reservation_created', 'reservation_deleted', 'reservation_updated', 'restock', 'safety_stock', 'shrinkage']);
const MAX_PAGE = 250;

const gid = (type: string, id: string | number) => `gid://shopify/${type}/${id}`;
const idOf = (g: unknown) => {
  const m = /^gid:\/\/shopify\/[A-Za-z]+\/(\d+)$/.exec(String(g));
  return m ? m[1] : undefined;
};
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const unb64 = (s: string): unknown => {
  try {
    return JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    throw new GraphQLError(`Invalid cursor for current pagination: ${s}`, { extensions: { code: 'BAD_REQUEST' } });
  }
};

interface PageArgs { first?: number | null; after?: string | null; last?: number | null; before?: string | null; reverse?: boolean }

/** A connection over an in-memory list (cursor = position). */
function connection<T>(items: T[], args: PageArgs) {
  const size = pageSize(args);
  const list = args.reverse ? [...items].reverse() : items;
  const from = args.after ? Number(unb64(args.after)) + 1 : 0;
  const nodes = list.slice(from, from + size);
  const edges = nodes.map((node, i) => ({ node, cursor: b64(from + i) }));
  return {
    nodes,
    edges,
    pageInfo: { hasNextPage: from + size < list.length, hasPreviousPage: from > 0, startCursor: edges[0]?.cursor ?? null, endCursor: edges[edges.length - 1]?.cursor ?? null },
  };
}

function pageSize(args: PageArgs): number {
  const size = args.first ?? args.last;
  if (size === undefined || size === null) throw new GraphQLError('you must provide one of first or last', { extensions: { code: 'BAD_REQUEST' } });
  if (size < 0 || size > MAX_PAGE) throw new GraphQLError(`The first argument must be between 0 and ${MAX_PAGE}`, { extensions: { code: 'BAD_REQUEST' } });
  return size;
}

/** Shopify's search syntax, the part the hub uses: `updated_at:>='…' AND updated_at:<'…'` (and created_at). */
export function parseOrderSearch(q: string | null | undefined): Array<{ field: 'updated_at' | 'created_at'; op: string; at: number }> {
  const out: Array<{ field: 'updated_at' | 'created_at'; op: string; at: number }> = [];
  if (!q) return out;
  const re = /(updated_at|created_at):(>=|<=|>|<)?\s*'?"?([0-9T:.\-+Z ]+?)'?"?(?=\s+AND\s+|\s+OR\s+|\s*$)/gi;
  for (const m of q.matchAll(re)) {
    const at = Date.parse(m[3].trim());
    if (Number.isNaN(at)) throw new GraphQLError(`Invalid search date ${m[3]}`, { extensions: { code: 'BAD_REQUEST' } });
    out.push({ field: m[1].toLowerCase() as 'updated_at', op: m[2] ?? '=', at });
  }
  return out;
}

function matches(v: number, op: string, at: number): boolean {
  switch (op) {
    case '>=': return v >= at;
    case '>': return v > at;
    case '<=': return v <= at;
    case '<': return v < at;
    default: return v === at;
  }
}

/**
 * An in-process Shopify Admin GraphQL API (2026-07 subset). Documents are parsed and validated with graphql-js
 * against the published schema subset, executed against sandbox state, and charged to a cost bucket reported in
 * `extensions.cost.throttleStatus`; THROTTLED when the bucket is short.
 */
export async function startShopifySandbox(opts: ShopifySandboxOptions): Promise<ShopifySandbox> {
  const store = new SandboxStore(opts);
  const token = opts.accessToken ?? 'shpat_sandbox';
  const shop = opts.shop ?? 'switchyard-sandbox';
  const schema = shopifySandboxSchema();
  const bucketSpec = opts.bucket ?? { maximumAvailable: 2000, restoreRate: 100 };
  const bucket = new CostBucket(bucketSpec.maximumAvailable, bucketSpec.restoreRate, store.now());
  const maxQueryCost = opts.maxQueryCost ?? 1000;
  const admission = opts.costAdmission ?? 'requested';
  const limited = opts.rateLimits !== false;

  const network = generateDemoNetwork({ seed: opts.seed, skus: opts.skus ?? 2000, locations: Math.max(6, opts.locations ?? 5) });
  const locations: ShopifySandboxLocation[] = network.locations.slice(0, opts.locations ?? 5).map((l, i) => ({
    id: String(LOCATION_BASE + i + 1), gid: gid('Location', LOCATION_BASE + i + 1), code: l.code, name: l.name, city: l.city ?? '', region: l.region ?? '',
    latitude: l.latitude, longitude: l.longitude,
  }));
  const locationById = new Map(locations.map((l) => [l.id, l]));
  const itemSkus = network.products.slice(0, opts.inventorySkus ?? 200).map((p) => p.sku);
  const itemIdBySku = new Map(itemSkus.map((sku, i) => [sku, String(ITEM_BASE + i + 1)]));
  const skuByItemId = new Map([...itemIdBySku.entries()].map(([s, id]) => [id, s]));
  const byCode = new Map(locations.map((l) => [l.code, l]));
  const levelUpdatedAt = new Map<string, number>();
  for (const row of network.stock()) {
    const loc = byCode.get(row.locationCode);
    if (loc && itemIdBySku.has(row.sku)) store.setStock(row.sku, loc.id, row.onHand);
  }
  const idempotency = new Map<string, { hash: string; result: unknown }>();
  let adjustmentGroups = 0;
  let fulfillments = 0;
  let jobs = 0;

  /** The location a fulfilment order is assigned to: the nearest of the shop's locations. */
  const assigned = (o: OrderState) => {
    let best = locations[0];
    let bestD = Number.POSITIVE_INFINITY;
    for (const l of locations) {
      const d = (l.latitude - o.gen.shipTo.latitude) ** 2 + (l.longitude - o.gen.shipTo.longitude) ** 2;
      if (d < bestD) {
        bestD = d;
        best = l;
      }
    }
    return best;
  };

  const money = (amount: string) => ({ shopMoney: { amount, currencyCode: 'USD' }, presentmentMoney: { amount, currencyCode: 'USD' } });
  const orderId = (seq: number) => String(ORDER_BASE + seq);
  const lineId = (seq: number, index: number) => String((ORDER_BASE + seq) * 10 + index);
  const foId = (seq: number) => String(FO_BASE + seq);
  const foLineId = (seq: number, index: number) => String((FO_BASE + seq) * 10 + index);
  const locationView = (l: ShopifySandboxLocation) => ({
    id: l.gid, name: l.name, isActive: true,
    address: { address1: null, address2: null, city: l.city, province: l.region, provinceCode: l.region, zip: null, countryCode: 'US', latitude: l.latitude, longitude: l.longitude, phone: null },
  });

  function lineView(o: OrderState, i: number) {
    const l = o.gen.lines[i];
    return {
      id: gid('LineItem', lineId(o.gen.seq, l.index)), sku: l.sku, title: l.title, quantity: l.quantity,
      currentQuantity: l.quantity - o.cancelled[i], unfulfilledQuantity: l.quantity - o.shipped[i], originalUnitPriceSet: money(l.unitPrice),
    };
  }

  function fulfillmentStatus(o: OrderState): string {
    const shipped = o.shipped.reduce((a, b) => a + b, 0);
    const open = o.gen.lines.reduce((a, _l, i) => a + store.open(o, i), 0);
    if (shipped === 0) return 'UNFULFILLED';
    return open === 0 ? 'FULFILLED' : 'PARTIALLY_FULFILLED';
  }

  function fulfillmentOrderView(o: OrderState) {
    const open = o.gen.lines.reduce((a, _l, i) => a + store.open(o, i), 0);
    const shipped = o.shipped.reduce((a, b) => a + b, 0);
    const status = o.cancelledAt ? 'CANCELLED' : open === 0 ? 'CLOSED' : shipped > 0 ? 'IN_PROGRESS' : 'OPEN';
    const loc = assigned(o);
    const lines = o.gen.lines.map((l, i) => ({ id: gid('FulfillmentOrderLineItem', foLineId(o.gen.seq, l.index)), remainingQuantity: store.open(o, i), totalQuantity: l.quantity, lineItem: lineView(o, i) }));
    return {
      id: gid('FulfillmentOrder', foId(o.gen.seq)), status,
      assignedLocation: { name: loc.name, location: locationView(loc) },
      deliveryMethod: { id: gid('DeliveryMethod', foId(o.gen.seq)), methodType: 'SHIPPING' },
      lineItems: (args: PageArgs) => connection(lines, args),
    };
  }

  function shippingAddressOf(a: OrderState['gen']['shipTo']) {
    return { name: a.name, address1: a.line1, address2: null, city: a.city, province: a.region, provinceCode: a.region, zip: null, countryCodeV2: 'US', latitude: a.latitude, longitude: a.longitude, phone: a.phone };
  }

  function orderView(o: OrderState) {
    const g = o.gen;
    const lines = g.lines.map((_l, i) => lineView(o, i));
    return {
      id: gid('Order', orderId(g.seq)),
      name: `#${1000 + g.seq}`,
      createdAt: iso(g.placedAt),
      updatedAt: iso(o.updatedAt),
      processedAt: iso(g.placedAt),
      cancelledAt: o.cancelledAt ? iso(o.cancelledAt) : null,
      cancelReason: o.cancelledAt ? o.cancelReason ?? 'OTHER' : null,
      closed: false,
      displayFinancialStatus: o.cancelledAt ? 'REFUNDED' : financialStatus(o),
      displayFulfillmentStatus: fulfillmentStatus(o),
      currencyCode: g.currency,
      email: g.customer.email,
      phone: g.customer.phone,
      tags: ['sandbox'],
      totalPriceSet: money(g.total),
      customer: { id: gid('Customer', 7_000_000_000 + g.seq), email: g.customer.email, displayName: `${g.customer.firstName} ${g.customer.lastName}`, phone: g.customer.phone },
      shippingAddress: o.shippingAddress ?? shippingAddressOf(o.shipTo ?? g.shipTo),
      shippingLine: { title: 'Standard Shipping' },
      fulfillmentOrders: (args: PageArgs) => connection([fulfillmentOrderView(o)], args),
      lineItems: (args: PageArgs) => connection(lines, args),
      suggestedRefund: (args: { refundLineItems?: RefundLineItemArg[] | null; suggestFullRefund?: boolean }) => suggestedRefund(o, args),
    };
  }

  // --- refunds: one captured sale per order (its total, through the test gateway); refunds draw it down -------------

  type RefundLineItemArg = { lineItemId: string; quantity: number; restockType?: string | null };
  const refunds: ShopifySandboxRefund[] = [];
  const refundedUnits = new Map<number, number[]>();
  const refundedCents = new Map<number, number>();
  const cents = (amount: string) => Math.round(Number(amount) * 100);
  const decimal = (c: number) => (c / 100).toFixed(2);
  const saleId = (seq: number) => String(TRANSACTION_BASE + seq * 100);
  const unitsRefunded = (o: OrderState) => refundedUnits.get(o.gen.seq) ?? o.gen.lines.map(() => 0);
  const refundableCents = (o: OrderState) => cents(o.gen.total) - (refundedCents.get(o.gen.seq) ?? 0);

  function financialStatus(o: OrderState): string {
    // Units the customer took back before they shipped were refunded too.
    const takenBack = o.gen.lines.reduce((sum, l, i) => sum + o.takenBack[i] * cents(l.unitPrice), 0);
    const refunded = (refundedCents.get(o.gen.seq) ?? 0) + takenBack;
    if (!refunded) return 'PAID';
    return refunded >= cents(o.gen.total) ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
  }

  /**
   * Each requested line at its unit price (the sandbox charges no tax and gives no discounts). `cap`: quantities
   * beyond what is left are reduced to it (as the suggestion does), else refused.
   */
  function refundPlan(o: OrderState, items: RefundLineItemArg[], field: string[], cap = false) {
    const errors: Array<{ field: string[]; message: string }> = [];
    const done = unitsRefunded(o);
    const lines: Array<{ i: number; quantity: number; restockType: string }> = [];
    items.forEach((it, k) => {
      const i = o.gen.lines.findIndex((l) => lineId(o.gen.seq, l.index) === idOf(it.lineItemId));
      if (i < 0) return void errors.push({ field: [...field, String(k), 'lineItemId'], message: `Line item ${it.lineItemId} does not belong to the order.` });
      const left = o.gen.lines[i].quantity - done[i] - lines.filter((x) => x.i === i).reduce((a, x) => a + x.quantity, 0);
      if (cap && it.quantity > 0) return void (Math.min(it.quantity, left) > 0 && lines.push({ i, quantity: Math.min(it.quantity, left), restockType: it.restockType ?? 'RETURN' }));
      if (it.quantity <= 0 || it.quantity > left) return void errors.push({ field: [...field, String(k), 'quantity'], message: `Quantity cannot refund more items than were purchased (${left} left on ${it.lineItemId}).` });
      // CANCEL takes unfulfilled units off the order: there must be that many left to fulfil.
      if (it.restockType === 'CANCEL' && it.quantity > store.open(o, i)) return void errors.push({ field: [...field, String(k), 'restockType'], message: `Only ${store.open(o, i)} unfulfilled item(s) of ${it.lineItemId} can be cancelled.` });
      lines.push({ i, quantity: it.quantity, restockType: it.restockType ?? 'RETURN' });
    });
    const amount = Math.min(refundableCents(o), lines.reduce((a, l) => a + cents(o.gen.lines[l.i].unitPrice) * l.quantity, 0));
    return { errors, lines, amount };
  }

  function suggestedRefund(o: OrderState, args: { refundLineItems?: RefundLineItemArg[] | null; suggestFullRefund?: boolean }) {
    const items = args.suggestFullRefund
      ? o.gen.lines.map((l, i) => ({ lineItemId: gid('LineItem', lineId(o.gen.seq, l.index)), quantity: l.quantity - unitsRefunded(o)[i] })).filter((x) => x.quantity > 0)
      : args.refundLineItems ?? [];
    const plan = refundPlan(o, items, ['refundLineItems'], true);
    if (plan.errors.length) throw new GraphQLError(plan.errors[0].message, { extensions: { code: 'BAD_REQUEST' } });
    const amount = decimal(plan.amount);
    return {
      amountSet: money(amount),
      suggestedTransactions: plan.amount > 0 ? [{
        amountSet: money(amount), gateway: GATEWAY, kind: 'SUGGESTED_REFUND',
        parentTransaction: { id: gid('OrderTransaction', saleId(o.gen.seq)), gateway: GATEWAY, kind: 'SALE', amountSet: money(o.gen.total) },
      }] : [],
    };
  }

  /**
   * `refundCreate`, with the `@idempotent(key:)` directive mandatory (API 2026-04): the same key for the same refund
   * (order and line items) returns the first refund, for another refund it is refused. Transactions are left out of
   * that comparison: a client resending after a lost answer asks `suggestedRefund` again first, which by then
   * suggests nothing more to pay. Line items and transactions are checked against
   * what is left of the order; a refusal is `userErrors` and records nothing.
   */
  function refundCreate(args: { input: { orderId: string; note?: string | null; refundLineItems?: RefundLineItemArg[] | null; transactions?: Array<{ amount: string; gateway: string; kind: string; orderId: string; parentId?: string | null }> | null } }, _ctx: unknown, info: GraphQLResolveInfo) {
    const key = idempotencyKey(info, 'refundCreate');
    const hash = createHash('sha256').update(JSON.stringify([args.input.orderId, args.input.refundLineItems ?? []])).digest('hex');
    const seen = idempotency.get(key);
    if (seen) {
      if (seen.hash !== hash) throw new GraphQLError(`idempotency key ${key} was used with different input`, { extensions: { code: 'BAD_REQUEST' } });
      return seen.result;
    }
    const input = args.input;
    const o = findOrder(input.orderId);
    const refuse = (errors: Array<{ field: string[]; message: string }>) => ({ order: null, refund: null, userErrors: errors });
    if (!o) return refuse([{ field: ['input', 'orderId'], message: 'Order does not exist' }]);
    const plan = refundPlan(o, input.refundLineItems ?? [], ['input', 'refundLineItems']);
    const errors = [...plan.errors];
    let moved = 0;
    (input.transactions ?? []).forEach((t, k) => {
      const field = ['input', 'transactions', String(k)];
      if (t.kind !== 'REFUND') errors.push({ field: [...field, 'kind'], message: `Transaction kind ${t.kind} cannot be used in a refund.` });
      if (t.gateway !== GATEWAY) errors.push({ field: [...field, 'gateway'], message: `Gateway ${t.gateway} was not used for this order.` });
      if (idOf(t.orderId) !== orderId(o.gen.seq)) errors.push({ field: [...field, 'orderId'], message: 'Transaction belongs to another order.' });
      if (t.parentId && idOf(t.parentId) !== saleId(o.gen.seq)) errors.push({ field: [...field, 'parentId'], message: `Parent transaction ${t.parentId} does not exist.` });
      if (!(cents(t.amount) > 0)) errors.push({ field: [...field, 'amount'], message: 'Amount must be greater than zero.' });
      moved += cents(t.amount);
    });
    if (moved > refundableCents(o)) errors.push({ field: ['input', 'transactions'], message: `Refund amount ${decimal(moved)} is greater than the refundable amount ${decimal(refundableCents(o))}.` });
    if (!errors.length && !plan.lines.length && !moved) errors.push({ field: ['input'], message: 'A refund needs line items or transactions.' });
    let result: unknown;
    if (errors.length) {
      result = refuse(errors);
    } else {
      const done = unitsRefunded(o);
      for (const l of plan.lines) done[l.i] += l.quantity;
      for (const l of plan.lines) if (l.restockType === 'CANCEL') o.cancelled[l.i] += l.quantity; // current_quantity drops
      refundedUnits.set(o.gen.seq, done);
      refundedCents.set(o.gen.seq, (refundedCents.get(o.gen.seq) ?? 0) + moved);
      const id = String(9_500_000_000 + refunds.length + 1);
      const at = store.nowIso();
      refunds.push({
        id, at, orderSeq: o.gen.seq, orderId: orderId(o.gen.seq), amount: decimal(moved), note: input.note ?? null, idempotencyKey: key,
        lines: plan.lines.map((l) => ({ lineId: lineId(o.gen.seq, o.gen.lines[l.i].index), sku: o.gen.lines[l.i].sku, quantity: l.quantity, restockType: l.restockType })),
      });
      store.touch(o);
      result = { order: orderView(o), refund: { id: gid('Refund', id), note: input.note ?? null, createdAt: iso(store.now()), totalRefundedSet: money(decimal(moved)) }, userErrors: [] };
    }
    idempotency.set(key, { hash, result });
    return result;
  }

  function idempotencyKey(info: GraphQLResolveInfo, field: string): string {
    const directive = info.fieldNodes[0].directives?.find((d) => d.name.value === 'idempotent');
    if (!directive) throw new GraphQLError(`${field} requires the @idempotent directive (API 2026-04 and later)`, { extensions: { code: 'BAD_REQUEST' } });
    const keyArg = directive.arguments?.find((a) => a.name.value === 'key');
    const key = keyArg ? String(valueFromASTUntyped(keyArg.value, info.variableValues)) : '';
    if (!key) throw new GraphQLError('@idempotent needs a non-empty key', { extensions: { code: 'BAD_REQUEST' } });
    return `${field}:${key}`;
  }

  function findOrder(id: unknown): OrderState | undefined {
    const n = Number(idOf(id));
    return Number.isFinite(n) ? store.order(n - ORDER_BASE) : undefined;
  }

  function ordersConnection(args: PageArgs & { sortKey?: string; query?: string | null }) {
    const size = pageSize(args);
    const filters = parseOrderSearch(args.query);
    const key = args.sortKey === 'UPDATED_AT' ? (o: OrderState) => o.updatedAt : args.sortKey === 'ID' ? (o: OrderState) => o.gen.seq : (o: OrderState) => o.gen.placedAt;
    const base = args.sortKey === 'UPDATED_AT' ? store.byUpdatedAt() : store.orders();
    let list = base.filter((o) => filters.every((f) => matches(f.field === 'updated_at' ? o.updatedAt : o.gen.placedAt, f.op, f.at)));
    if (args.reverse) list = [...list].reverse();
    const cmp = (o: OrderState, k: [number, number]) => (key(o) - k[0] || o.gen.seq - k[1]) * (args.reverse ? -1 : 1);
    let from = 0;
    if (args.after) {
      const k = unb64(args.after) as [number, number];
      while (from < list.length && cmp(list[from], k) <= 0) from++;
    }
    const page = list.slice(from, from + size);
    const edges = page.map((o) => ({ node: orderView(o), cursor: b64([key(o), o.gen.seq]) }));
    return {
      nodes: edges.map((e) => e.node),
      edges,
      pageInfo: { hasNextPage: from + size < list.length, hasPreviousPage: from > 0, startCursor: edges[0]?.cursor ?? null, endCursor: edges[edges.length - 1]?.cursor ?? null },
    };
  }

  function inventoryItemView(sku: string) {
    const itemId = itemIdBySku.get(sku)!;
    const levels = locations
      .filter((l) => store.getStock(sku, l.id) !== null)
      .map((l) => {
        const q = store.getStock(sku, l.id)!;
        return {
          id: gid('InventoryLevel', `${itemId}?inventory_item_id=${itemId}`),
          updatedAt: iso(levelUpdatedAt.get(`${sku}@${l.id}`) ?? store.generator.opts.start),
          location: locationView(l),
          quantities: ({ names }: { names: string[] }) => names.filter((n) => n === 'available' || n === 'on_hand').map((name) => ({ id: gid('InventoryQuantity', `${itemId}-${l.id}-${name}`), name, quantity: q })),
        };
      });
    return { id: gid('InventoryItem', itemId), sku, inventoryLevels: (args: PageArgs) => connection(levels, args) };
  }

  type UserErr = { field: string[]; message: string; code: string };

  function setQuantities(args: { input: Record<string, unknown> }, _ctx: unknown, info: GraphQLResolveInfo) {
    const directive = info.fieldNodes[0].directives?.find((d) => d.name.value === 'idempotent');
    if (!directive) throw new GraphQLError('inventorySetQuantities requires the @idempotent directive (API 2026-04 and later)', { extensions: { code: 'BAD_REQUEST' } });
    const keyArg = directive.arguments?.find((a) => a.name.value === 'key');
    const key = keyArg ? String(valueFromASTUntyped(keyArg.value, info.variableValues)) : '';
    if (!key) throw new GraphQLError('@idempotent needs a non-empty key', { extensions: { code: 'BAD_REQUEST' } });
    const hash = createHash('sha256').update(JSON.stringify(args.input)).digest('hex');
    const seen = idempotency.get(key);
    if (seen) {
      if (seen.hash !== hash) throw new GraphQLError(`idempotency key ${key} was used with different input`, { extensions: { code: 'BAD_REQUEST' } });
      return seen.result;
    }
    const input = args.input as { name: string; reason: string; ignoreCompareQuantity?: boolean; quantities: Array<Record<string, unknown>> };
    const errors: UserErr[] = [];
    if (input.name !== 'available' && input.name !== 'on_hand') errors.push({ field: ['input', 'name'], message: `The quantity name ${input.name} is not valid`, code: 'INVALID_NAME' });
    if (!VALID_REASONS.has(input.reason)) errors.push({ field: ['input', 'reason'], message: `The reason ${input.reason} is not valid`, code: 'INVALID_REASON' });
    const planned: Array<{ sku: string; loc: string; quantity: number; previous: number | null }> = [];
    const rejected: Array<{ sku: string; loc: string; quantity: number; previous: number | null; reason: string }> = [];
    input.quantities.forEach((q, i) => {
      const field = ['input', 'quantities', String(i)];
      const sku = skuByItemId.get(idOf(q.inventoryItemId) ?? '');
      const loc = idOf(q.locationId) ?? '';
      const quantity = q.quantity as number;
      if (!sku) return void errors.push({ field: [...field, 'inventoryItemId'], message: 'The specified inventory item could not be found.', code: 'INVALID_INVENTORY_ITEM' });
      if (!locationById.has(loc)) return void errors.push({ field: [...field, 'locationId'], message: 'The specified location could not be found.', code: 'INVALID_LOCATION' });
      if (quantity < 0) return void errors.push({ field: [...field, 'quantity'], message: 'The quantity can\'t be negative.', code: 'INVALID_QUANTITY_NEGATIVE' });
      const previous = store.getStock(sku, loc);
      if (!input.ignoreCompareQuantity) {
        if (!('changeFromQuantity' in q)) {
          errors.push({ field: [...field, 'changeFromQuantity'], message: 'changeFromQuantity is required.', code: 'COMPARE_QUANTITY_REQUIRED' });
          rejected.push({ sku, loc, quantity, previous, reason: 'COMPARE_QUANTITY_REQUIRED' });
          return;
        }
        if ((q.changeFromQuantity ?? null) !== previous) {
          errors.push({ field: [...field, 'changeFromQuantity'], message: `The specified compare quantity does not match the current quantity (${previous ?? 'none'}).`, code: 'COMPARE_QUANTITY_STALE' });
          rejected.push({ sku, loc, quantity, previous, reason: 'COMPARE_QUANTITY_STALE' });
          return;
        }
      }
      planned.push({ sku, loc, quantity, previous });
    });
    const at = store.nowIso();
    let result: unknown;
    if (errors.length) {
      for (const p of [...planned.map((x) => ({ ...x, reason: 'rejected with the rest of the group' })), ...rejected]) {
        store.pushes.stock.push({ at, sku: p.sku, location: p.loc, quantity: p.quantity, previous: p.previous, accepted: false, reason: p.reason, idempotencyKey: key });
      }
      result = { inventoryAdjustmentGroup: null, userErrors: errors };
    } else {
      for (const p of planned) {
        store.setStock(p.sku, p.loc, p.quantity);
        levelUpdatedAt.set(`${p.sku}@${p.loc}`, store.now());
        store.pushes.stock.push({ at, sku: p.sku, location: p.loc, quantity: p.quantity, previous: p.previous, accepted: true, idempotencyKey: key });
      }
      result = { inventoryAdjustmentGroup: { id: gid('InventoryAdjustmentGroup', 9_000_000_000 + ++adjustmentGroups), createdAt: iso(store.now()), reason: input.reason, referenceDocumentUri: (input as { referenceDocumentUri?: string }).referenceDocumentUri ?? null }, userErrors: [] };
    }
    idempotency.set(key, { hash, result });
    return result;
  }

  function fulfillmentCreate(args: { fulfillment: { trackingInfo?: { number?: string; url?: string; company?: string; numbers?: string[] }; lineItemsByFulfillmentOrder: Array<{ fulfillmentOrderId: string; fulfillmentOrderLineItems?: Array<{ id: string; quantity: number }> }> } }) {
    const f = args.fulfillment;
    const errors: Array<{ field: string[]; message: string }> = [];
    const take: Array<{ o: OrderState; i: number; quantity: number }> = [];
    let order: OrderState | undefined;
    f.lineItemsByFulfillmentOrder.forEach((group, g) => {
      const seq = Number(idOf(group.fulfillmentOrderId)) - FO_BASE;
      const o = store.order(seq);
      if (!o) return void errors.push({ field: ['fulfillment', 'lineItemsByFulfillmentOrder', String(g), 'fulfillmentOrderId'], message: 'Fulfillment order does not exist.' });
      if (order && order !== o) return void errors.push({ field: ['fulfillment'], message: 'All fulfillment orders must belong to the same order.' });
      order = o;
      if (o.cancelledAt) return void errors.push({ field: ['fulfillment'], message: 'Fulfillment order is not in a fulfillable state (cancelled).' });
      const items = group.fulfillmentOrderLineItems ?? o.gen.lines.map((l, i) => ({ id: gid('FulfillmentOrderLineItem', foLineId(seq, l.index)), quantity: store.open(o, i) })).filter((x) => x.quantity > 0);
      for (const it of items) {
        const i = o.gen.lines.findIndex((l) => foLineId(seq, l.index) === idOf(it.id));
        if (i < 0) return void errors.push({ field: ['fulfillment', 'lineItemsByFulfillmentOrder', String(g)], message: `Fulfillment order line item ${it.id} does not exist.` });
        if (it.quantity <= 0 || it.quantity > store.open(o, i)) return void errors.push({ field: ['fulfillment', 'lineItemsByFulfillmentOrder', String(g)], message: `Invalid quantity ${it.quantity} for line item ${it.id}: ${store.open(o, i)} remaining.` });
        take.push({ o, i, quantity: it.quantity });
      }
    });
    if (!order || errors.length || !take.length) return { fulfillment: null, userErrors: errors.length ? errors : [{ field: ['fulfillment'], message: 'Nothing to fulfil.' }] };
    for (const t of take) t.o.shipped[t.i] += t.quantity;
    const id = String(8_000_000_000 + ++fulfillments);
    const o = order;
    const rec: ShipmentRecord = {
      id, at: store.nowIso(), orderSeq: o.gen.seq, orderId: orderId(o.gen.seq),
      lines: take.map((t) => ({ lineIndex: t.i + 1, lineId: lineId(o.gen.seq, o.gen.lines[t.i].index), sku: o.gen.lines[t.i].sku, quantity: t.quantity })),
      carrier: f.trackingInfo?.company ?? '', trackingNumber: f.trackingInfo?.number ?? f.trackingInfo?.numbers?.[0] ?? '',
      ...(f.trackingInfo?.url ? { trackingUrl: f.trackingInfo.url } : {}), location: assigned(o).id,
    };
    o.shipments.push(rec);
    store.pushes.shipments.push(rec);
    store.touch(o);
    return { fulfillment: { id: gid('Fulfillment', id), status: 'SUCCESS' }, userErrors: [] };
  }

  /** A merchant's edit of the shipping address: the order shows it (no coordinates: Shopify geocodes later) from now on. */
  function orderUpdate(args: { input: { id: string; shippingAddress?: Record<string, string | null> | null } }) {
    const o = findOrder(args.input.id);
    if (!o) return { order: null, userErrors: [{ field: ['id'], message: 'Order does not exist' }] };
    const a = args.input.shippingAddress;
    if (a) {
      if (!a.address1 || !a.city) return { order: null, userErrors: [{ field: ['shippingAddress'], message: 'Address1 and city are required' }] };
      o.shippingAddress = {
        name: [a.firstName, a.lastName].filter(Boolean).join(' ') || null, address1: a.address1, address2: a.address2 ?? null, city: a.city,
        province: a.provinceCode ?? null, provinceCode: a.provinceCode ?? null, zip: a.zip ?? null, countryCodeV2: a.countryCode ?? 'US', phone: a.phone ?? null,
      };
      store.touch(o);
    }
    return { order: orderView(o), userErrors: [] };
  }

  function orderCancel(args: { orderId: string; reason: string; staffNote?: string | null }) {
    const o = findOrder(args.orderId);
    const at = store.nowIso();
    if (!o) return { job: null, orderCancelUserErrors: [{ field: ['orderId'], message: 'Order does not exist', code: 'NOT_FOUND' }] };
    const refuse = (message: string) => {
      store.pushes.cancellations.push({ at, orderSeq: o.gen.seq, orderId: orderId(o.gen.seq), accepted: false, reason: message });
      return { job: null, orderCancelUserErrors: [{ field: ['orderId'], message, code: 'INVALID' }] };
    };
    if (o.cancelledAt) return refuse('Order has already been cancelled');
    if (o.gen.lines.every((_l, i) => store.open(o, i) === 0)) return refuse('Cannot cancel an order that has been fulfilled');
    o.gen.lines.forEach((_l, i) => (o.cancelled[i] += store.open(o, i)));
    o.cancelledAt = Math.floor(store.now() / 1000) * 1000;
    o.cancelReason = args.reason;
    store.touch(o);
    store.pushes.cancellations.push({ at, orderSeq: o.gen.seq, orderId: orderId(o.gen.seq), accepted: true, ...(args.staffNote ? { reason: args.staffNote } : {}) });
    return { job: { id: gid('Job', `${o.gen.seq}-${++jobs}`), done: false }, orderCancelUserErrors: [] };
  }

  const admitted: Array<{ requested: number; charged: number }> = [];
  const bulkOps: Array<{ id: string; status: string; objectCount: string; url: string | null; file: string }> = [];
  let baseUrl = '';

  /** Runs the bulk query's `orders` over every match (no page size) and writes JSONL with `__parentId` children. */
  function bulkRun(args: { query: string; groupObjects?: boolean }) {
    let doc;
    try {
      doc = parse(args.query);
    } catch (e) {
      return { bulkOperation: null, userErrors: [{ field: ['query'], message: (e as Error).message }] };
    }
    const errs = validate(schema, doc);
    if (errs.length) return { bulkOperation: null, userErrors: errs.map((e) => ({ field: ['query'], message: e.message })) };
    const op = doc.definitions[0] as OperationDefinitionNode;
    const ordersField = op.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === 'orders');
    if (!ordersField) return { bulkOperation: null, userErrors: [{ field: ['query'], message: 'The sandbox runs bulk queries over orders only' }] };
    const q = ordersField.arguments?.find((a) => a.name.value === 'query');
    const filters = parseOrderSearch(q ? String(valueFromASTUntyped(q.value)) : null);
    const list = store.byUpdatedAt().filter((o) => filters.every((f) => matches(f.field === 'updated_at' ? o.updatedAt : o.gen.placedAt, f.op, f.at)));
    const lines: string[] = [];
    const ungrouped: string[] = [];
    const nodeSel = (ordersField.selectionSet!.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === 'edges')?.selectionSet?.selections
      .find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === 'node'))?.selectionSet;
    for (const o of list) {
      const view = orderView(o) as Record<string, unknown>;
      const row: Record<string, unknown> = {};
      const children: Array<Record<string, unknown>> = [];
      for (const s of nodeSel?.selections ?? []) {
        if (s.kind !== Kind.FIELD) continue;
        const name = s.name.value;
        if (name === 'lineItems') {
          const edges = s.selectionSet?.selections.find((x): x is FieldNode => x.kind === Kind.FIELD && x.name.value === 'edges');
          const node = edges?.selectionSet?.selections.find((x): x is FieldNode => x.kind === Kind.FIELD && x.name.value === 'node');
          if (node) for (const li of o.gen.lines.map((_l, i) => lineView(o, i))) children.push({ ...pick(li, node), __parentId: view.id });
        } else if (typeof view[name] !== 'function') {
          row[s.alias?.value ?? name] = project(view[name], s);
        }
      }
      lines.push(JSON.stringify(row));
      // Grouped: each order's children right after it. Ungrouped (Shopify's default): children after all orders.
      (args.groupObjects ? lines : ungrouped).push(...children.map((c) => JSON.stringify(c)));
    }
    lines.push(...ungrouped);
    const id = gid('BulkOperation', 1_000_000 + bulkOps.length + 1);
    const n = bulkOps.length + 1;
    bulkOps.push({ id, status: 'COMPLETED', objectCount: String(lines.length), url: lines.length ? `${baseUrl}/sandbox/bulk/${n}.jsonl` : null, file: lines.join('\n') + (lines.length ? '\n' : '') });
    return { bulkOperation: { id, status: 'CREATED' }, userErrors: [] };
  }

  const rootValue = {
    orders: ordersConnection,
    order: ({ id }: { id: string }) => {
      const o = findOrder(id);
      return o ? orderView(o) : null;
    },
    locations: (args: PageArgs) => connection(locations.map(locationView), args),
    inventoryItems: (args: PageArgs) => connection(itemSkus.map(inventoryItemView), args),
    fulfillmentOrder: ({ id }: { id: string }) => {
      const o = store.order(Number(idOf(id)) - FO_BASE);
      return o ? fulfillmentOrderView(o) : null;
    },
    inventoryItem: ({ id }: { id: string }) => {
      const sku = skuByItemId.get(idOf(id) ?? '');
      return sku ? inventoryItemView(sku) : null;
    },
    shop: () => ({ id: gid('Shop', 1), name: shop }),
    currentBulkOperation: () => {
      const b = bulkOps[bulkOps.length - 1];
      return b ? { id: b.id, status: b.status, errorCode: null, objectCount: b.objectCount, url: b.url } : null;
    },
    inventorySetQuantities: setQuantities,
    fulfillmentCreate,
    orderCancel,
    orderUpdate,
    bulkOperationRunQuery: bulkRun,
    refundCreate,
  };

  const app = express();
  app.use(express.json({ limit: '5mb' }));
  app.get('/sandbox/bulk/:n.jsonl', (req, res) => {
    const b = bulkOps[Number(req.params.n) - 1];
    if (!b) return void res.status(404).send('not found');
    // Cloud storage honours byte ranges; so does the sandbox, for `bytes=N-`.
    const bytes = Buffer.from(b.file, 'utf8');
    const range = /^bytes=(\d+)-$/.exec(req.get('range') ?? '');
    if (range && Number(range[1]) < bytes.length) {
      const from = Number(range[1]);
      res.status(206).set('content-range', `bytes ${from}-${bytes.length - 1}/${bytes.length}`).type('application/jsonl').send(bytes.subarray(from));
      return;
    }
    res.type('application/jsonl').send(bytes);
  });

  app.post('/admin/api/:version/graphql.json', (req: Request, res: Response) => {
    const operationLabel = 'graphql';
    if (req.get('x-shopify-access-token') !== token) {
      store.record(operationLabel, 401, false);
      return void res.status(401).json({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    }
    if (!/^\d{4}-\d{2}$/.test(String(req.params.version))) {
      store.record(operationLabel, 404, false);
      return void res.status(404).json({ errors: 'Not Found' });
    }
    const body = (req.body ?? {}) as { query?: unknown; variables?: Record<string, unknown>; operationName?: string };
    if (typeof body.query !== 'string') {
      store.record(operationLabel, 400, false);
      return void res.status(400).json({ errors: { query: 'Required parameter missing or invalid' } });
    }
    let document;
    try {
      document = parse(body.query);
    } catch (e) {
      store.record(operationLabel, 200, false);
      return void res.json({ errors: [{ message: (e as GraphQLError).message, locations: (e as GraphQLError).locations, extensions: { code: 'PARSE_ERROR' } }] });
    }
    const invalid = validate(schema, document);
    const op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!body.operationName || d.name?.value === body.operationName));
    if (invalid.length || !op) {
      store.record(operationLabel, 200, false);
      return void res.json({ errors: invalid.length ? invalid.map((e) => ({ message: e.message, locations: e.locations, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) : [{ message: 'No operation found' }] });
    }
    const label = `graphql:${op.operation === 'mutation' ? (op.selectionSet.selections[0] as FieldNode).name.value : op.name?.value ?? 'query'}`;
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
    const variables = body.variables ?? {};
    const requested = requestedCost(schema, op, fragments, variables);
    const now = store.now();
    const throttleStatus = () => ({ maximumAvailable: bucketSpec.maximumAvailable, currentlyAvailable: Math.floor(bucket.currentlyAvailable(store.now())), restoreRate: bucketSpec.restoreRate });
    const throttled = (cost: number) => {
      store.record(label, 200, true, 0);
      res.json({
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
        extensions: { cost: { requestedQueryCost: cost, actualQueryCost: null, throttleStatus: throttleStatus() } },
      });
    };
    const run = () => execute({ schema, document, rootValue, variableValues: variables, operationName: body.operationName }) as ExecutionResult;

    let result: ExecutionResult;
    let charged: number;
    if (!limited) {
      result = run();
      charged = Math.min(requested, actualCost(schema, op, fragments, variables, result.data));
    } else if (admission === 'actual' && op.operation === 'query') {
      result = run();
      charged = actualCost(schema, op, fragments, variables, result.data);
      if (!bucket.tryTake(charged, now)) return void throttled(charged);
    } else {
      if (requested > maxQueryCost) {
        store.record(label, 200, false, 0);
        return void res.json({
          errors: [{ message: `Query cost is ${requested}, which exceeds the single query max cost limit (${maxQueryCost}).`, extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: maxQueryCost } }],
          extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: throttleStatus() } },
        });
      }
      if (!bucket.tryTake(requested, now)) return void throttled(requested);
      result = run();
      charged = Math.min(requested, actualCost(schema, op, fragments, variables, result.data));
      bucket.refund(requested - charged, store.now());
    }
    store.record(label, 200, false, charged);
    admitted.push({ requested: admission === 'actual' && op.operation === 'query' ? charged : requested, charged });
    res.json({
      ...(result.errors ? { errors: result.errors.map((e) => e.toJSON()) } : {}),
      data: result.data ?? null,
      extensions: { cost: { requestedQueryCost: admission === 'actual' && op.operation === 'query' ? charged : requested, actualQueryCost: charged, throttleStatus: throttleStatus() } },
    });
  });

  const server = await listen(app, opts.port);
  baseUrl = server.baseUrl;
  const startAt = new Date(store.generator.opts.start - (opts.backlogHours ?? 24) * 3_600_000 - 60_000).toISOString();
  return {
    vendor: 'shopify',
    baseUrl,
    store,
    pushes: store.pushes,
    refunds,
    locations,
    inventoryItemId: (sku) => itemIdBySku.get(sku),
    available: (sku, locationId) => store.getStock(sku, locationId),
    orderId,
    orders: () => store.orders(),
    stats: () => store.stats(),
    admitted,
    connection: { config: { shop, baseUrl, startAt }, credentials: { accessToken: token } },
    close: server.close,
  };
}

/** Scalars of `view` selected by a field's selection set (nested objects recursively), for bulk JSONL. */
function project(value: unknown, field: FieldNode): unknown {
  if (value === null || value === undefined || typeof value !== 'object' || !field.selectionSet) return value;
  if (Array.isArray(value)) return value.map((v) => project(v, field));
  return pick(value as Record<string, unknown>, field);
}

function pick(obj: Record<string, unknown>, field: FieldNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of field.selectionSet?.selections ?? []) {
    if (s.kind !== Kind.FIELD) continue;
    const v = obj[s.name.value];
    if (typeof v !== 'function') out[s.alias?.value ?? s.name.value] = project(v, s);
  }
  return out;
}
