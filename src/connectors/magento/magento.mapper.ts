import { z } from 'zod';
import type { CanonicalLocation, CanonicalOrder, CanonicalOrderStatus, CanonicalStockLevel } from '../sdk/canonical';
import { idString } from '../sdk/json';
import { parseRecord } from '../sdk/shape';
import { money, toUtcIso } from '../sdk/time';

const nstr = z.string().nullish();
const num = z.number();

const address = z.object({
  firstname: nstr, lastname: nstr, company: nstr, street: z.array(z.string()).nullish(), city: nstr, region: nstr,
  region_code: nstr, postcode: nstr, country_id: z.string().min(2), telephone: nstr,
});

/** `sales-data-order-interface` (admin-schema-2.4.9.yaml), the fields the hub uses. */
export const magentoOrderSchema = z.object({
  entity_id: z.union([z.number().int(), z.string()]),
  increment_id: nstr,
  state: z.string(),
  status: nstr,
  created_at: z.string(),
  updated_at: z.string(),
  order_currency_code: nstr,
  base_currency_code: nstr,
  grand_total: num,
  customer_email: z.string(),
  customer_firstname: nstr,
  customer_lastname: nstr,
  customer_id: z.union([z.number().int(), z.string()]).nullish(),
  items: z.array(
    z.object({
      item_id: z.union([z.number().int(), z.string()]),
      sku: z.string().min(1),
      name: nstr,
      qty_ordered: num,
      qty_canceled: num.nullish(),
      qty_shipped: num.nullish(),
      price: num.nullish(),
      parent_item_id: z.union([z.number().int(), z.string()]).nullish(),
    }),
  ),
  extension_attributes: z
    .object({
      pickup_location_code: nstr,
      shipping_assignments: z.array(z.object({ shipping: z.object({ address: address.nullish(), method: nstr }) })).nullish(),
    })
    .nullish(),
});

function int(v: number, field: string): number {
  if (!Number.isInteger(v)) throw new Error(`${field} is not a whole quantity: ${v}`);
  return v;
}

function statusOf(state: string, shipped: boolean): CanonicalOrderStatus {
  switch (state) {
    case 'pending_payment':
    case 'payment_review':
      return 'PENDING';
    case 'new':
    case 'holded':
      return 'OPEN';
    case 'processing':
      return shipped ? 'PARTIALLY_FULFILLED' : 'OPEN';
    case 'complete':
      return 'FULFILLED';
    case 'closed':
      return 'CLOSED';
    case 'canceled':
      return 'CANCELLED';
    default:
      throw new Error(`unknown order state ${JSON.stringify(state)}`);
  }
}

export function mapMagentoOrder(raw: unknown): CanonicalOrder {
  const o = parseRecord(magentoOrderSchema, raw, 'order');
  // Configurable/bundle children repeat their parent line; the parent carries sku and price.
  const lines = o.items.filter((i) => i.parent_item_id === null || i.parent_item_id === undefined);
  const shipped = lines.some((i) => (i.qty_shipped ?? 0) > 0);
  const currency = o.order_currency_code ?? o.base_currency_code;
  if (!currency) throw new Error('order has no currency code');
  const shipping = o.extension_attributes?.shipping_assignments?.[0]?.shipping;
  const pickup = !!o.extension_attributes?.pickup_location_code || shipping?.method === 'instore_pickup';
  const order: CanonicalOrder = {
    externalId: idString(o.entity_id, 'entity_id'),
    status: statusOf(o.state, shipped),
    currency,
    totalPrice: money(o.grand_total, 'grand_total'),
    // Magento sends `YYYY-MM-DD HH:MM:SS` in UTC without a zone.
    placedAt: toUtcIso(o.created_at),
    updatedAt: toUtcIso(o.updated_at),
    method: pickup ? 'PICKUP' : 'SHIP',
    lines: lines.map((i) => {
      const line: CanonicalOrder['lines'][number] = {
        externalId: idString(i.item_id, 'item_id'),
        sku: i.sku,
        quantity: int(i.qty_ordered, 'qty_ordered'),
        unitPrice: money(i.price ?? 0, 'price'),
      };
      if (i.qty_canceled) line.quantityCancelled = int(i.qty_canceled, 'qty_canceled');
      if (i.qty_shipped) line.quantityFulfilled = int(i.qty_shipped, 'qty_shipped');
      // Magento cancels only what has not shipped: the two never overlap.
      line.quantityFulfillable = Math.max(0, line.quantity - (line.quantityCancelled ?? 0) - (line.quantityFulfilled ?? 0));
      if (i.name) line.title = i.name;
      return line;
    }),
  };
  if (o.increment_id) order.name = o.increment_id;
  const name = [o.customer_firstname, o.customer_lastname].filter(Boolean).join(' ');
  order.customer = { email: o.customer_email };
  if (o.customer_id !== null && o.customer_id !== undefined) order.customer.externalId = idString(o.customer_id, 'customer_id');
  if (name) order.customer.name = name;
  const a = shipping?.address;
  if (a) {
    const shipTo: NonNullable<CanonicalOrder['shipTo']> = { country: a.country_id.toUpperCase() };
    const n = [a.firstname, a.lastname].filter(Boolean).join(' ');
    if (n) shipTo.name = n;
    if (a.street?.[0]) shipTo.line1 = a.street[0];
    if (a.street && a.street.length > 1) shipTo.line2 = a.street.slice(1).join(', ');
    if (a.city) shipTo.city = a.city;
    const region = a.region_code || a.region;
    if (region) shipTo.region = region;
    if (a.postcode) shipTo.postalCode = a.postcode;
    if (a.telephone) shipTo.phone = a.telephone;
    order.shipTo = shipTo;
  }
  if (o.extension_attributes?.pickup_location_code) order.tags = [`pickup-location:${o.extension_attributes.pickup_location_code}`];
  return order;
}

export const sourceItemSchema = z.object({ sku: z.string().min(1), source_code: z.string().min(1), quantity: num, status: z.number().int() });

/** MSI source item: status 0 means "out of stock" whatever the quantity. */
export function mapSourceItem(raw: unknown): CanonicalStockLevel {
  const s = parseRecord(sourceItemSchema, raw, 'source item');
  const q = int(s.quantity, 'quantity');
  return { sku: s.sku, externalLocationId: s.source_code, available: s.status === 1 ? q : 0, onHand: q };
}

export const sourceSchema = z.object({
  source_code: z.string().min(1), name: z.string(), enabled: z.boolean().nullish(), latitude: num.nullish(), longitude: num.nullish(),
  country_id: z.string().min(2), region: nstr, city: nstr, street: nstr, postcode: nstr,
});

export function mapSource(raw: unknown): CanonicalLocation {
  const s = parseRecord(sourceSchema, raw, 'source');
  const address: NonNullable<CanonicalLocation['address']> = { name: s.name, country: s.country_id.toUpperCase() };
  if (s.street) address.line1 = s.street;
  if (s.city) address.city = s.city;
  if (s.region) address.region = s.region;
  if (s.postcode) address.postalCode = s.postcode;
  if (typeof s.latitude === 'number') address.latitude = s.latitude;
  if (typeof s.longitude === 'number') address.longitude = s.longitude;
  return { externalId: s.source_code, name: s.name, active: s.enabled ?? true, address };
}
