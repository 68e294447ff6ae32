import { z } from 'zod';
import type { CanonicalEvent, CanonicalLocation, CanonicalOrder, CanonicalOrderStatus, CanonicalStockLevel, FulfillmentMethod } from '../sdk/canonical';
import { parseRecord } from '../sdk/shape';
import { toUtcIso } from '../sdk/time';

/**
 * Pure mappers for Square Connect v2 payloads (../shared/fixtures/square/api.json: `Order`, `InventoryCount`,
 * `Location`, `OrderUpdatedEvent`, `InventoryCountUpdatedEvent`). Square money is an integer count of the
 * currency's smallest unit; quantities are decimal strings.
 */

/** ISO-4217 minor units that are not 2. */
const EXPONENT: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
};

export function minorExponent(currency: string): number {
  return EXPONENT[currency] ?? 2;
}

/** `{amount: 1599, currency: "USD"}` → "15.99" (exact: integer arithmetic on the digits). */
export function moneyFromMinor(amount: number | string, currency: string): string {
  const n = typeof amount === 'number' ? amount : Number(amount);
  if (!Number.isSafeInteger(n)) throw new Error(`money amount ${JSON.stringify(amount)} is not an integer of minor units`);
  const e = minorExponent(currency);
  const neg = n < 0;
  const digits = String(Math.abs(n)).padStart(e + 1, '0');
  const out = e ? `${digits.slice(0, -e)}.${digits.slice(-e)}` : digits;
  return neg ? `-${out}` : out;
}

/** "149.50" in EUR → 14950 (string arithmetic, no floats). */
export function moneyToMinor(decimal: string, currency: string): number {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal.trim());
  if (!m) throw new Error(`not a decimal amount: ${decimal}`);
  const e = minorExponent(currency);
  const frac = (m[3] ?? '').padEnd(e, '0');
  if (frac.length > e && /[1-9]/.test(frac.slice(e))) throw new Error(`${decimal} ${currency} has more than ${e} decimals`);
  const v = Number(`${m[2]}${frac.slice(0, e)}`);
  return m[1] ? -v : v;
}

const moneySchema = z.object({ amount: z.number().int(), currency: z.string().regex(/^[A-Z]{3}$/) });

const address = z.looseObject({
  address_line_1: z.string().optional(), address_line_2: z.string().optional(), locality: z.string().optional(),
  administrative_district_level_1: z.string().optional(), postal_code: z.string().optional(), country: z.string().optional(),
  first_name: z.string().optional(), last_name: z.string().optional(),
});
const recipient = z.looseObject({ display_name: z.string().optional(), email_address: z.string().optional(), phone_number: z.string().optional(), address: address.optional(), customer_id: z.string().optional() });

export const squareOrderSchema = z.looseObject({
  id: z.string().min(1),
  location_id: z.string().min(1),
  reference_id: z.string().optional(),
  ticket_name: z.string().optional(),
  customer_id: z.string().optional(),
  state: z.enum(['OPEN', 'COMPLETED', 'CANCELED', 'DRAFT']),
  version: z.number().int().optional(),
  created_at: z.string(),
  updated_at: z.string(),
  closed_at: z.string().optional(),
  source: z.looseObject({ name: z.string().optional() }).optional(),
  total_money: moneySchema,
  line_items: z.array(z.looseObject({
    uid: z.string().optional(),
    name: z.string().optional(),
    quantity: z.string().regex(/^\d+(\.\d+)?$/),
    catalog_object_id: z.string().optional(),
    variation_name: z.string().optional(),
    item_type: z.string().optional(),
    base_price_money: moneySchema.optional(),
  })).optional(),
  fulfillments: z.array(z.looseObject({
    uid: z.string().optional(),
    type: z.enum(['PICKUP', 'SHIPMENT', 'DELIVERY']).optional(),
    state: z.enum(['PROPOSED', 'RESERVED', 'PREPARED', 'COMPLETED', 'CANCELED', 'FAILED']).optional(),
    pickup_details: z.looseObject({ recipient: recipient.optional(), is_curbside_pickup: z.boolean().optional() }).optional(),
    shipment_details: z.looseObject({ recipient: recipient.optional() }).optional(),
    delivery_details: z.looseObject({ recipient: recipient.optional() }).optional(),
  })).optional(),
});
export type SquareOrder = z.infer<typeof squareOrderSchema>;

/** Catalog variation id → sku, resolved by the connector before mapping (the mapper stays pure). */
export type SkuLookup = Record<string, string>;

function statusOf(o: SquareOrder): CanonicalOrderStatus {
  const f = o.fulfillments ?? [];
  switch (o.state) {
    case 'DRAFT':
      return 'PENDING';
    case 'CANCELED':
      return 'CANCELLED';
    case 'COMPLETED':
      return 'FULFILLED';
    case 'OPEN':
      if (f.length && f.every((x) => x.state === 'CANCELED' || x.state === 'FAILED')) return 'CANCELLED';
      if (f.length && f.every((x) => x.state === 'COMPLETED' || x.state === 'CANCELED')) return 'FULFILLED';
      return 'OPEN';
  }
}

/**
 * A Square order (an in-store POS sale, or a pickup order) per store location. Counter sales have no fulfilment:
 * the goods left with the buyer, so they map as FULFILLED PICKUP orders tagged `pos-location:<id>`; pickup
 * orders carry `pickup-location:<id>` and their fulfilment state as `square-fulfillment:<STATE>`. Only catalog
 * lines count (custom-amount lines move no stock); lines sold in fractional quantities (by weight) are left out
 * and the order tagged `fractional-lines`.
 */
export function mapSquareOrder(raw: unknown, skus: SkuLookup = {}): CanonicalOrder {
  const o = parseRecord(squareOrderSchema, raw, 'order');
  const currency = o.total_money.currency;
  const f = o.fulfillments?.[0];
  const method: FulfillmentMethod = !f ? 'PICKUP' : f.type === 'PICKUP' ? (f.pickup_details?.is_curbside_pickup ? 'CURBSIDE' : 'PICKUP') : 'SHIP';
  const tags = [f ? (f.type === 'PICKUP' ? `pickup-location:${o.location_id}` : `ship-from:${o.location_id}`) : `pos-location:${o.location_id}`];
  if (f?.state) tags.push(`square-fulfillment:${f.state}`);
  if (o.source?.name) tags.push(`source:${o.source.name}`);
  const status = statusOf(o);
  const lines: CanonicalOrder['lines'] = [];
  (o.line_items ?? []).forEach((li, i) => {
    if (!li.catalog_object_id) return;
    if (!/^\d+$/.test(li.quantity)) {
      if (!tags.includes('fractional-lines')) tags.push('fractional-lines');
      return;
    }
    const line: CanonicalOrder['lines'][number] = {
      externalId: li.uid ?? `${o.id}:${i}`,
      sku: skus[li.catalog_object_id] ?? li.catalog_object_id,
      quantity: Number(li.quantity),
      unitPrice: li.base_price_money ? moneyFromMinor(li.base_price_money.amount, li.base_price_money.currency) : '0',
    };
    if (status === 'FULFILLED') line.quantityFulfilled = line.quantity;
    const title = [li.name, li.variation_name].filter(Boolean).join(' — ');
    if (title) line.title = title;
    lines.push(line);
  });
  const order: CanonicalOrder = {
    externalId: o.id,
    status,
    currency,
    totalPrice: moneyFromMinor(o.total_money.amount, currency),
    placedAt: toUtcIso(o.created_at),
    updatedAt: toUtcIso(o.updated_at),
    method,
    lines,
    tags,
  };
  const name = o.reference_id ?? o.ticket_name;
  if (name) order.name = name;
  if (status === 'CANCELLED') order.cancelledAt = toUtcIso(o.closed_at ?? o.updated_at);
  const r = f?.pickup_details?.recipient ?? f?.shipment_details?.recipient ?? f?.delivery_details?.recipient;
  if (o.customer_id || r) {
    const c: NonNullable<CanonicalOrder['customer']> = {};
    if (o.customer_id ?? r?.customer_id) c.externalId = (o.customer_id ?? r?.customer_id)!;
    if (r?.display_name) c.name = r.display_name;
    if (r?.email_address) c.email = r.email_address;
    if (r?.phone_number) c.phone = r.phone_number;
    order.customer = c;
  }
  const a = method === 'SHIP' ? r?.address : undefined;
  if (a?.country) {
    const shipTo: NonNullable<CanonicalOrder['shipTo']> = { country: a.country.toUpperCase() };
    const n = r?.display_name ?? [a.first_name, a.last_name].filter(Boolean).join(' ');
    if (n) shipTo.name = n;
    if (a.address_line_1) shipTo.line1 = a.address_line_1;
    if (a.address_line_2) shipTo.line2 = a.address_line_2;
    if (a.locality) shipTo.city = a.locality;
    if (a.administrative_district_level_1) shipTo.region = a.administrative_district_level_1;
    if (a.postal_code) shipTo.postalCode = a.postal_code;
    order.shipTo = shipTo;
  }
  return order;
}

export const squareCountSchema = z.looseObject({
  catalog_object_id: z.string().min(1),
  catalog_object_type: z.string().optional(),
  state: z.string(),
  location_id: z.string().min(1),
  quantity: z.string().regex(/^-?\d+(\.\d+)?$/),
  calculated_at: z.string(),
});

/** An IN_STOCK count: sellable units at the store. Fractions are floored. */
export function mapSquareCount(raw: unknown, skus: SkuLookup = {}): CanonicalStockLevel {
  const c = parseRecord(squareCountSchema, raw, 'inventory count');
  const q = Math.floor(Number(c.quantity));
  const level: CanonicalStockLevel = { externalLocationId: c.location_id, externalItemId: c.catalog_object_id, available: Math.max(0, q), onHand: q, updatedAt: toUtcIso(c.calculated_at) };
  if (skus[c.catalog_object_id]) level.sku = skus[c.catalog_object_id];
  return level;
}

export const squareLocationSchema = z.looseObject({
  id: z.string().min(1), name: z.string(), status: z.enum(['ACTIVE', 'INACTIVE']).optional(), address: address.optional(),
  coordinates: z.looseObject({ latitude: z.number().optional(), longitude: z.number().optional() }).optional(), phone_number: z.string().optional(),
});

export function mapSquareLocation(raw: unknown): CanonicalLocation {
  const l = parseRecord(squareLocationSchema, raw, 'location');
  const out: CanonicalLocation = { externalId: l.id, name: l.name, active: (l.status ?? 'ACTIVE') === 'ACTIVE' };
  const a = l.address;
  if (a?.country) {
    const addr: NonNullable<CanonicalLocation['address']> = { name: l.name, country: a.country.toUpperCase() };
    if (a.address_line_1) addr.line1 = a.address_line_1;
    if (a.locality) addr.city = a.locality;
    if (a.administrative_district_level_1) addr.region = a.administrative_district_level_1;
    if (a.postal_code) addr.postalCode = a.postal_code;
    if (typeof l.coordinates?.latitude === 'number') addr.latitude = l.coordinates.latitude;
    if (typeof l.coordinates?.longitude === 'number') addr.longitude = l.coordinates.longitude;
    out.address = addr;
  }
  return out;
}

const eventSchema = z.looseObject({
  event_id: z.string().min(1),
  type: z.string(),
  created_at: z.string(),
  data: z.looseObject({ object: z.looseObject({}).optional() }),
});

/**
 * Webhook events. `order.updated` carries only id, state and version: it becomes `order.changed` and the hub
 * re-reads the order (orders stream or `lookupOrder`). `inventory.count.updated` carries the new counts.
 */
export function mapSquareEvent(raw: unknown, skus: SkuLookup = {}): { eventId: string; createdAt: number; events: CanonicalEvent[] } {
  const e = parseRecord(eventSchema, raw, 'event');
  const obj = e.data.object as Record<string, unknown> | undefined;
  const events: CanonicalEvent[] = [];
  if (e.type === 'order.updated' || e.type === 'order.created' || e.type === 'order.fulfillment.updated') {
    const key = e.type === 'order.updated' ? 'order_updated' : e.type === 'order.created' ? 'order_created' : 'order_fulfillment_updated';
    const u = parseRecord(z.looseObject({ order_id: z.string().min(1), state: z.string().optional(), version: z.number().int().optional(), updated_at: z.string().optional() }), obj?.[key], key);
    events.push({ type: 'order.changed', orderExternalId: u.order_id, at: toUtcIso(u.updated_at ?? e.created_at), reason: `${e.type}${u.state ? ` ${u.state}` : ''}${u.version !== undefined ? ` v${u.version}` : ''}` });
  } else if (e.type === 'inventory.count.updated') {
    const counts = parseRecord(z.array(z.unknown()), obj?.inventory_counts, 'inventory_counts');
    for (const c of counts) {
      const level = mapSquareCount(c, skus);
      if ((c as { state?: string }).state === 'IN_STOCK') events.push({ type: 'stock.changed', level });
    }
  } else {
    throw new Error(`unsupported event type ${e.type}`);
  }
  return { eventId: e.event_id, createdAt: Date.parse(e.created_at), events };
}
