import { z } from 'zod';
import type {
  CanonicalAddress,
  CanonicalLocation,
  CanonicalOrder,
  CanonicalOrderStatus,
  CanonicalRefund,
  CanonicalShipment,
  CanonicalStockLevel,
  FulfillmentMethod,
} from '../sdk/canonical';
import { sumDecimal } from '../sdk/decimal';
import { idString } from '../sdk/json';
import { parseRecord } from '../sdk/shape';
import { money, toUtcIso } from '../sdk/time';

/** `gid://shopify/Order/450789469` → `450789469`; numeric REST ids pass through as exact strings. */
export function gidToId(gid: unknown): string {
  const s = idString(gid);
  const m = /^gid:\/\/shopify\/[A-Za-z]+\/([^?/]+)/.exec(s);
  return m ? m[1] : s;
}

export function toGid(type: string, id: string): string {
  return id.startsWith('gid://') ? id : `gid://shopify/${type}/${id}`;
}

const id = z.union([z.string().min(1), z.number().int()]);
const nstr = z.string().nullish();
const moneyBag = z.object({ shopMoney: z.object({ amount: z.string(), currencyCode: z.string() }) });

// ---------- GraphQL (pull) ----------

const gqlAddress = z.object({
  name: nstr, address1: nstr, address2: nstr, city: nstr, province: nstr, provinceCode: nstr, zip: nstr,
  countryCodeV2: nstr, latitude: z.number().nullish(), longitude: z.number().nullish(), phone: nstr,
});

export const gqlOrderSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  processedAt: z.string().nullish(),
  cancelledAt: z.string().nullish(),
  cancelReason: z.string().nullish(),
  closed: z.boolean(),
  displayFinancialStatus: z.string().nullish(),
  displayFulfillmentStatus: z.string(),
  currencyCode: z.string(),
  email: nstr,
  phone: nstr,
  tags: z.array(z.string()).default([]),
  totalPriceSet: moneyBag,
  customer: z.object({ id: z.string(), email: nstr, displayName: nstr, phone: nstr }).nullish(),
  shippingAddress: gqlAddress.nullish(),
  shippingLine: z.object({ title: z.string() }).nullish(),
  fulfillmentOrders: z.object({ nodes: z.array(z.object({ deliveryMethod: z.object({ methodType: z.string() }).nullish() })) }).optional(),
  lineItems: z.object({
    pageInfo: z.object({ hasNextPage: z.boolean() }).optional(),
    nodes: z.array(
      z.object({
        id: z.string(),
        sku: nstr,
        title: z.string(),
        quantity: z.number().int(),
        currentQuantity: z.number().int(),
        unfulfilledQuantity: z.number().int().optional(),
        originalUnitPriceSet: moneyBag,
      }),
    ),
  }),
});
export type GqlOrder = z.infer<typeof gqlOrderSchema>;

function status(o: { cancelled: boolean; fulfillment: string; financial?: string | null; closed: boolean }): CanonicalOrderStatus {
  if (o.cancelled) return 'CANCELLED';
  const f = o.fulfillment.toUpperCase();
  if (f === 'FULFILLED') return o.closed ? 'CLOSED' : 'FULFILLED';
  if (f === 'PARTIALLY_FULFILLED' || f === 'PARTIAL') return 'PARTIALLY_FULFILLED';
  if (o.closed) return 'CLOSED';
  if ((o.financial ?? '').toUpperCase() === 'PENDING') return 'PENDING';
  return 'OPEN';
}

function address(a: {
  name?: string | null; address1?: string | null; address2?: string | null; city?: string | null; province?: string | null;
  provinceCode?: string | null; zip?: string | null; country?: string | null; latitude?: number | null; longitude?: number | null; phone?: string | null;
} | null | undefined): CanonicalAddress | undefined {
  if (!a) return undefined;
  if (!a.country) throw new Error('shipping address has no country code');
  const out: CanonicalAddress = { country: a.country.toUpperCase() };
  if (a.name) out.name = a.name;
  if (a.address1) out.line1 = a.address1;
  if (a.address2) out.line2 = a.address2;
  if (a.city) out.city = a.city;
  const region = a.provinceCode || a.province;
  if (region) out.region = region;
  if (a.zip) out.postalCode = a.zip;
  if (typeof a.latitude === 'number') out.latitude = a.latitude;
  if (typeof a.longitude === 'number') out.longitude = a.longitude;
  if (a.phone) out.phone = a.phone;
  return out;
}

/** Orders for items without a SKU (custom items) still land; the hub cannot route them, and flags them. */
function skuOf(sku: string | null | undefined, lineId: string): string {
  return sku && sku.trim() ? sku.trim() : `shopify-line:${lineId}`;
}

function methodOf(types: string[], shippingTitle?: string | null): FulfillmentMethod {
  if (types.includes('PICK_UP') || types.includes('pick-up')) return 'PICKUP';
  if (types.length === 0 && shippingTitle && /curbside/i.test(shippingTitle)) return 'CURBSIDE';
  if (types.length === 0 && shippingTitle && /pick ?up/i.test(shippingTitle)) return 'PICKUP';
  return 'SHIP';
}

export function mapGqlOrder(raw: unknown): CanonicalOrder {
  const o = parseRecord(gqlOrderSchema, raw, 'order');
  if (o.lineItems.pageInfo?.hasNextPage) throw new Error('order has more line items than one page holds; refusing to emit a partial order');
  const types = (o.fulfillmentOrders?.nodes ?? []).map((n) => n.deliveryMethod?.methodType).filter((t): t is string => !!t);
  const order: CanonicalOrder = {
    externalId: gidToId(o.id),
    name: o.name,
    status: status({ cancelled: !!o.cancelledAt, fulfillment: o.displayFulfillmentStatus, financial: o.displayFinancialStatus, closed: o.closed }),
    currency: o.totalPriceSet.shopMoney.currencyCode,
    totalPrice: money(o.totalPriceSet.shopMoney.amount, 'totalPrice'),
    placedAt: toUtcIso(o.processedAt ?? o.createdAt),
    updatedAt: toUtcIso(o.updatedAt),
    method: methodOf(types, o.shippingLine?.title),
    lines: o.lineItems.nodes.map((l) => {
      const lineId = gidToId(l.id);
      return {
        externalId: lineId,
        sku: skuOf(l.sku, lineId),
        quantity: l.quantity,
        quantityCancelled: l.quantity - l.currentQuantity,
        // Shopify's fulfillable arithmetic, quantity − max(removed, fulfilled): a refund may cover fulfilled units.
        ...(l.unfulfilledQuantity !== undefined ? { quantityFulfillable: Math.max(0, Math.min(l.currentQuantity, l.unfulfilledQuantity)) } : {}),
        unitPrice: money(l.originalUnitPriceSet.shopMoney.amount, 'unitPrice'),
        title: l.title,
      };
    }),
  };
  if (o.cancelledAt) order.cancelledAt = toUtcIso(o.cancelledAt);
  const customer = customerOf(o.customer ? { id: o.customer.id, email: o.customer.email, name: o.customer.displayName, phone: o.customer.phone } : undefined, o.email);
  if (customer) order.customer = customer;
  const shipTo = address(o.shippingAddress ? { ...o.shippingAddress, country: o.shippingAddress.countryCodeV2 } : undefined);
  if (shipTo) order.shipTo = shipTo;
  if (o.tags.length) order.tags = o.tags;
  return order;
}

function customerOf(c: { id: unknown; email?: string | null; name?: string | null; phone?: string | null } | undefined, orderEmail?: string | null) {
  if (!c && !orderEmail) return undefined;
  const out: NonNullable<CanonicalOrder['customer']> = {};
  if (c) out.externalId = gidToId(c.id);
  const email = orderEmail || c?.email;
  if (email) out.email = email;
  if (c?.name && c.name.trim()) out.name = c.name.trim();
  if (c?.phone) out.phone = c.phone;
  return out;
}

export const gqlLocationSchema = z.object({
  id: z.string(),
  name: z.string(),
  isActive: z.boolean(),
  address: z.object({
    address1: nstr, address2: nstr, city: nstr, province: nstr, provinceCode: nstr, zip: nstr, countryCode: nstr,
    latitude: z.number().nullish(), longitude: z.number().nullish(), phone: nstr,
  }),
});

export function mapGqlLocation(raw: unknown): CanonicalLocation {
  const l = parseRecord(gqlLocationSchema, raw, 'location');
  const out: CanonicalLocation = { externalId: gidToId(l.id), name: l.name, active: l.isActive };
  if (l.address.countryCode) out.address = address({ ...l.address, name: l.name, country: l.address.countryCode });
  return out;
}

export const gqlInventoryItemSchema = z.object({
  id: z.string(),
  sku: nstr,
  inventoryLevels: z.object({
    pageInfo: z.object({ hasNextPage: z.boolean() }).optional(),
    nodes: z.array(
      z.object({
        updatedAt: z.string().nullish(),
        location: z.object({ id: z.string() }),
        quantities: z.array(z.object({ name: z.string(), quantity: z.number().int() })),
      }),
    ),
  }),
});

/** One inventory item → one stock level per location. Items without a SKU are not stock the hub manages. */
export function mapGqlInventoryItem(raw: unknown): CanonicalStockLevel[] {
  const it = parseRecord(gqlInventoryItemSchema, raw, 'inventory item');
  if (it.inventoryLevels.pageInfo?.hasNextPage) throw new Error(`inventory item stocked at more locations than one page holds`);
  if (!it.sku || !it.sku.trim()) return [];
  return it.inventoryLevels.nodes.map((lv) => {
    const q = Object.fromEntries(lv.quantities.map((x) => [x.name, x.quantity]));
    if (typeof q.available !== 'number') throw new Error('inventory level without an available quantity');
    const out: CanonicalStockLevel = {
      sku: it.sku!.trim(),
      externalLocationId: gidToId(lv.location.id),
      externalItemId: gidToId(it.id),
      available: q.available,
    };
    if (typeof q.on_hand === 'number') out.onHand = q.on_hand;
    if (lv.updatedAt) out.updatedAt = toUtcIso(lv.updatedAt);
    return out;
  });
}

// ---------- REST shapes (webhook payloads) ----------

const restMoneySet = z.object({ shop_money: z.object({ amount: z.string(), currency_code: z.string() }) });
const restAddress = z.object({
  name: nstr, address1: nstr, address2: nstr, city: nstr, province: nstr, province_code: nstr, zip: nstr,
  country_code: nstr, latitude: z.number().nullish(), longitude: z.number().nullish(), phone: nstr,
});

export const restOrderSchema = z.object({
  id,
  name: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  processed_at: nstr,
  cancelled_at: nstr,
  cancel_reason: nstr,
  closed_at: nstr,
  financial_status: nstr,
  fulfillment_status: nstr,
  currency: z.string(),
  email: nstr,
  tags: z.string().nullish(),
  total_price_set: restMoneySet.optional(),
  total_price: z.string().optional(),
  customer: z.object({ id, email: nstr, first_name: nstr, last_name: nstr, phone: nstr }).nullish(),
  shipping_address: restAddress.nullish(),
  shipping_lines: z.array(z.object({ title: nstr, code: nstr })).default([]),
  line_items: z.array(
    z.object({
      id,
      sku: nstr,
      title: z.string(),
      quantity: z.number().int(),
      current_quantity: z.number().int().optional(),
      fulfillable_quantity: z.number().int().optional(),
      price: z.string(),
      price_set: restMoneySet.optional(),
    }),
  ),
});

export function mapRestOrder(raw: unknown): CanonicalOrder {
  const o = parseRecord(restOrderSchema, raw, 'order');
  const total = o.total_price_set?.shop_money.amount ?? o.total_price;
  const orderId = idString(o.id, 'order id');
  const order: CanonicalOrder = {
    externalId: orderId,
    name: o.name,
    status: status({ cancelled: !!o.cancelled_at, fulfillment: o.fulfillment_status ?? 'UNFULFILLED', financial: o.financial_status, closed: !!o.closed_at }),
    currency: o.total_price_set?.shop_money.currency_code ?? o.currency,
    totalPrice: money(total, 'total_price'),
    placedAt: toUtcIso(o.processed_at ?? o.created_at),
    updatedAt: toUtcIso(o.updated_at),
    method: methodOf([], o.shipping_address ? undefined : o.shipping_lines[0]?.title ?? o.shipping_lines[0]?.code),
    lines: o.line_items.map((l) => {
      const lineId = idString(l.id, 'line item id');
      return {
        externalId: lineId,
        sku: skuOf(l.sku, lineId),
        quantity: l.quantity,
        ...(l.current_quantity !== undefined ? { quantityCancelled: l.quantity - l.current_quantity } : {}),
        ...(l.fulfillable_quantity !== undefined ? { quantityFulfillable: Math.max(0, l.fulfillable_quantity) } : {}),
        unitPrice: money(l.price_set?.shop_money.amount ?? l.price, 'price'),
        title: l.title,
      };
    }),
  };
  if (o.cancelled_at) order.cancelledAt = toUtcIso(o.cancelled_at);
  const name = [o.customer?.first_name, o.customer?.last_name].filter(Boolean).join(' ');
  const customer = customerOf(o.customer ? { id: o.customer.id, email: o.customer.email, name, phone: o.customer.phone } : undefined, o.email);
  if (customer) order.customer = customer;
  const shipTo = address(o.shipping_address ? { ...o.shipping_address, provinceCode: o.shipping_address.province_code, country: o.shipping_address.country_code } : undefined);
  if (shipTo) order.shipTo = shipTo;
  const tags = (o.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.length) order.tags = tags;
  return order;
}

export const restRefundSchema = z.object({
  id,
  order_id: id,
  created_at: z.string(),
  note: nstr,
  refund_line_items: z.array(
    z.object({
      line_item_id: id,
      quantity: z.number().int(),
      restock_type: nstr,
      location_id: id.nullish(),
      subtotal_set: restMoneySet.optional(),
      line_item: z.object({ sku: nstr }).optional(),
    }),
  ),
  transactions: z.array(z.object({ kind: z.string(), status: nstr, amount: z.string(), currency: nstr })).default([]),
});

export function mapRestRefund(raw: unknown): CanonicalRefund {
  const r = parseRecord(restRefundSchema, raw, 'refund');
  const refunds = r.transactions.filter((t) => t.kind === 'refund' && (t.status ?? 'success') === 'success');
  const out: CanonicalRefund = {
    externalId: idString(r.id, 'refund id'),
    orderExternalId: idString(r.order_id, 'order id'),
    createdAt: toUtcIso(r.created_at),
    lines: r.refund_line_items.map((l) => {
      const line: CanonicalRefund['lines'][number] = {
        orderLineExternalId: idString(l.line_item_id, 'line_item_id'),
        quantity: l.quantity,
        restock: !!l.restock_type && l.restock_type !== 'no_restock',
      };
      if (l.line_item?.sku) line.sku = l.line_item.sku;
      if (l.location_id !== null && l.location_id !== undefined) line.externalLocationId = idString(l.location_id, 'location_id');
      if (l.subtotal_set) line.amount = money(l.subtotal_set.shop_money.amount);
      return line;
    }),
  };
  if (r.note) out.note = r.note;
  if (refunds.length) {
    out.amount = sumDecimal(refunds.map((t) => money(t.amount)));
    if (refunds[0].currency) out.currency = refunds[0].currency;
  }
  return out;
}

export const restInventoryLevelSchema = z.object({
  inventory_item_id: id,
  location_id: id,
  available: z.number().int().nullable(),
  updated_at: z.string().nullish(),
});

/** inventory_levels/update carries no SKU: the hub resolves it from `externalItemId`. */
export function mapRestInventoryLevel(raw: unknown): CanonicalStockLevel {
  const l = parseRecord(restInventoryLevelSchema, raw, 'inventory level');
  const out: CanonicalStockLevel = {
    externalLocationId: idString(l.location_id, 'location_id'),
    externalItemId: idString(l.inventory_item_id, 'inventory_item_id'),
    available: l.available ?? 0,
  };
  if (l.updated_at) out.updatedAt = toUtcIso(l.updated_at);
  return out;
}

export const restFulfillmentSchema = z.object({
  id,
  order_id: id,
  status: z.string(),
  created_at: z.string(),
  updated_at: nstr,
  tracking_company: nstr,
  tracking_number: nstr,
  tracking_url: nstr,
  location_id: id.nullish(),
  line_items: z.array(z.object({ id, sku: nstr, quantity: z.number().int() })),
});

const FULFILLMENT_STATUS: Record<string, CanonicalShipment['status']> = {
  pending: 'PENDING', open: 'PENDING', success: 'SHIPPED', cancelled: 'CANCELLED', error: 'FAILED', failure: 'FAILED',
};

export function mapRestFulfillment(raw: unknown): CanonicalShipment {
  const f = parseRecord(restFulfillmentSchema, raw, 'fulfillment');
  const st = FULFILLMENT_STATUS[f.status];
  if (!st) throw new Error(`unknown fulfillment status ${JSON.stringify(f.status)}`);
  const out: CanonicalShipment = {
    externalId: idString(f.id, 'fulfillment id'),
    orderExternalId: idString(f.order_id, 'order id'),
    status: st,
    createdAt: toUtcIso(f.created_at),
    lines: f.line_items.map((l) => {
      const line: CanonicalShipment['lines'][number] = { orderLineExternalId: idString(l.id, 'line item id'), quantity: l.quantity };
      if (l.sku) line.sku = l.sku;
      return line;
    }),
  };
  if (f.updated_at) out.updatedAt = toUtcIso(f.updated_at);
  if (f.tracking_company) out.carrier = f.tracking_company;
  if (f.tracking_number) out.trackingNumber = f.tracking_number;
  if (f.tracking_url) out.trackingUrl = f.tracking_url;
  if (f.location_id !== null && f.location_id !== undefined) out.externalLocationId = idString(f.location_id, 'location_id');
  return out;
}

export const restLocationSchema = z.object({
  id, name: z.string(), active: z.boolean(), address1: nstr, address2: nstr, city: nstr, zip: nstr, province: nstr,
  province_code: nstr, country_code: nstr,
});

export function mapRestLocation(raw: unknown): CanonicalLocation {
  const l = parseRecord(restLocationSchema, raw, 'location');
  const out: CanonicalLocation = { externalId: idString(l.id, 'location id'), name: l.name, active: l.active };
  if (l.country_code) out.address = address({ ...l, name: l.name, provinceCode: l.province_code, country: l.country_code });
  return out;
}
