import { z } from 'zod';
import type { CanonicalEvent, CanonicalLocation, CanonicalReturn, CanonicalShipment, CanonicalStockLevel } from '../sdk/canonical';
import { idString } from '../sdk/json';
import { parseRecord } from '../sdk/shape';
import { toUtcIso } from '../sdk/time';

/**
 * Pure mappers for ShipBob API 2026-01 payloads (../shared/fixtures/shipbob/openapi-2026-01.json:
 * `Orders.OrderViewModel`, `Orders.ShipmentViewModel`, `Inventory.InventoryQuantityFcResponse`,
 * `Returns.PublicReturnDto`, `Locations...`). Nullable fields may be null or absent.
 */

const intId = z.union([z.number().int(), z.string().regex(/^\d+$/)]);
const ns = z.string().nullish();

const shipmentSchema = z.looseObject({
  id: intId,
  order_id: intId.nullish(),
  reference_id: ns,
  status: z.enum(['None', 'Processing', 'Completed', 'Exception', 'OnHold', 'Cancelled', 'CleanSweeped', 'LabeledCreated', 'ImportReview']),
  created_date: z.string(),
  last_update_at: ns,
  last_tracking_update_at: ns,
  actual_fulfillment_date: ns,
  delivery_date: ns,
  location: z.looseObject({ id: intId.nullish(), name: ns }).nullish(),
  tracking: z.looseObject({ carrier: ns, tracking_number: ns, tracking_url: ns }).nullish(),
  products: z.array(z.looseObject({
    id: intId.nullish(),
    reference_id: ns,
    sku: ns,
    inventory_items: z.array(z.looseObject({ quantity: z.number().int() })).nullish(),
  })).nullish(),
});

const orderSchema = z.looseObject({
  id: intId,
  reference_id: ns,
  order_number: ns,
  status: ns,
  created_date: ns,
  products: z.array(z.looseObject({ external_line_id: z.number().int().nullish(), reference_id: ns, sku: ns })).nullish(),
  shipments: z.array(z.unknown()).nullish(),
});

function shipmentStatus(s: z.infer<typeof shipmentSchema>): CanonicalShipment['status'] {
  switch (s.status) {
    case 'Completed':
      return s.delivery_date ? 'DELIVERED' : 'SHIPPED';
    case 'Cancelled':
      return 'CANCELLED';
    default:
      // Processing, LabeledCreated, OnHold, Exception (e.g. out of stock), ImportReview: not gone yet.
      return 'PENDING';
  }
}

/** One ShipBob shipment. `order` (when the shipment came inside one) lends the order lines' external_line_id. */
export function mapShipBobShipment(raw: unknown, order?: { id: unknown; products?: Array<{ external_line_id?: number | null; reference_id?: string | null; sku?: string | null }> | null }): CanonicalShipment {
  const s = parseRecord(shipmentSchema, raw, 'shipment');
  const orderId = s.order_id ?? (order?.id as number | string | undefined);
  if (orderId === undefined || orderId === null) throw new Error('shipment has no order_id');
  const lineOf = (ref?: string | null) => order?.products?.find((p) => ref && (p.reference_id === ref || p.sku === ref))?.external_line_id;
  const out: CanonicalShipment = {
    externalId: idString(s.id, 'id'),
    orderExternalId: idString(orderId, 'order_id'),
    status: shipmentStatus(s),
    lines: (s.products ?? [])
      .map((p) => {
        const line: CanonicalShipment['lines'][number] = { quantity: (p.inventory_items ?? []).reduce((n, i) => n + i.quantity, 0) };
        const sku = p.reference_id ?? p.sku;
        if (sku) line.sku = sku;
        const ext = lineOf(sku);
        if (ext !== undefined && ext !== null) line.orderLineExternalId = String(ext);
        return line;
      })
      .filter((l) => l.quantity > 0),
    createdAt: toUtcIso(s.created_date),
  };
  const updated = s.last_tracking_update_at && (!s.last_update_at || s.last_tracking_update_at > s.last_update_at) ? s.last_tracking_update_at : s.last_update_at;
  out.updatedAt = toUtcIso(updated ?? s.created_date);
  if (s.tracking?.carrier) out.carrier = s.tracking.carrier;
  if (s.tracking?.tracking_number) out.trackingNumber = s.tracking.tracking_number;
  if (s.tracking?.tracking_url) out.trackingUrl = s.tracking.tracking_url;
  if (s.location?.id !== undefined && s.location?.id !== null) out.externalLocationId = idString(s.location.id, 'location.id');
  return out;
}

/** An order (GET /order) → its shipments. Orders not yet split into shipments map to nothing. */
export function mapShipBobOrderShipments(raw: unknown): CanonicalShipment[] {
  const o = parseRecord(orderSchema, raw, 'order');
  return (o.shipments ?? []).map((s) => mapShipBobShipment(s, o));
}

const fcItemSchema = z.looseObject({
  inventory_id: intId,
  sku: ns,
  name: ns,
  locations: z.array(z.looseObject({
    location_id: intId,
    name: ns,
    fulfillable_quantity: z.number().int(),
    on_hand_quantity: z.number().int(),
    committed_quantity: z.number().int().nullish(),
  })).nullish(),
});

/** One inventory item grouped by fulfilment centre → a level per centre (sellable = fulfillable). */
export function mapShipBobInventory(raw: unknown): CanonicalStockLevel[] {
  const it = parseRecord(fcItemSchema, raw, 'inventory item');
  return (it.locations ?? []).map((l) => {
    const level: CanonicalStockLevel = { externalLocationId: idString(l.location_id, 'location_id'), externalItemId: idString(it.inventory_id, 'inventory_id'), available: Math.max(0, l.fulfillable_quantity), onHand: l.on_hand_quantity };
    if (it.sku) level.sku = it.sku;
    return level;
  });
}

const returnSchema = z.looseObject({
  id: intId,
  status: z.string(),
  insert_date: z.string(),
  reference_id: ns,
  store_order_id: ns,
  original_shipment_id: intId.nullish(),
  tracking_number: ns,
  fulfillment_center: z.looseObject({ id: intId.nullish() }).nullish(),
  completed_date: ns,
  cancelled_date: ns,
  arrived_date: ns,
  status_history: z.array(z.looseObject({ status: ns, timestamp: z.string() })).nullish(),
  inventory: z.array(z.looseObject({
    sku: ns,
    quantity: z.number().int(),
    action_taken: z.array(z.looseObject({ action: ns, quantity_processed: z.number().int().nullish() })).nullish(),
  })).nullish(),
});

function returnStatus(s: string): CanonicalReturn['status'] {
  const k = s.replace(/[\s_-]/g, '').toLowerCase();
  if (k === 'awaitingarrival') return 'IN_TRANSIT';
  if (k === 'arrived' || k === 'processing') return 'RECEIVED';
  if (k === 'completed') return 'COMPLETED';
  if (k === 'cancelled' || k === 'canceled') return 'CANCELLED';
  return 'REQUESTED';
}

/**
 * ShipBob's return actions (`Returns.ReturnAction`) as the hub's grades. `Default` applies the merchant's product
 * preference, which the hub cannot see, so it (and any action ShipBob adds later) counts as REFURBISH: received and
 * refunded, but kept out of sellable stock until someone looks at it.
 */
export function shipBobActionGrade(action: string | null | undefined): 'RESELLABLE' | 'REFURBISH' | 'DISPOSE' {
  const a = (action ?? '').replace(/[\s_-]/g, '').toLowerCase();
  if (a === 'restock') return 'RESELLABLE';
  if (a === 'dispose') return 'DISPOSE';
  return 'REFURBISH'; // Quarantine, Default, unknown
}

/** A return order. Lines restock when ShipBob's action taken on them was a restock; `graded` sums what was processed per grade. */
export function mapShipBobReturn(raw: unknown): CanonicalReturn {
  const r = parseRecord(returnSchema, raw, 'return');
  const out: CanonicalReturn = {
    externalId: idString(r.id, 'id'),
    status: returnStatus(r.status),
    lines: (r.inventory ?? []).filter((i) => i.sku).map((i) => {
      const line: CanonicalReturn['lines'][number] = { sku: i.sku!, quantity: i.quantity };
      if (i.action_taken?.length) {
        line.restock = i.action_taken.some((a) => /restock/i.test(a.action ?? ''));
        const byGrade = new Map<'RESELLABLE' | 'REFURBISH' | 'DISPOSE', number>();
        for (const a of i.action_taken) {
          if (a.quantity_processed && a.quantity_processed > 0) byGrade.set(shipBobActionGrade(a.action), (byGrade.get(shipBobActionGrade(a.action)) ?? 0) + a.quantity_processed);
        }
        if (byGrade.size) line.graded = [...byGrade].map(([condition, quantity]) => ({ condition, quantity }));
      }
      return line;
    }),
    createdAt: toUtcIso(r.insert_date),
  };
  if (r.reference_id) out.reference = r.reference_id;
  const times = [r.insert_date, r.arrived_date, r.completed_date, r.cancelled_date, ...(r.status_history ?? []).map((h) => h.timestamp)].filter((t): t is string => !!t).map((t) => toUtcIso(t));
  out.updatedAt = times.sort()[times.length - 1];
  if (r.store_order_id) out.orderExternalId = r.store_order_id;
  if (r.original_shipment_id !== undefined && r.original_shipment_id !== null) out.shipmentExternalId = idString(r.original_shipment_id, 'original_shipment_id');
  if (r.fulfillment_center?.id !== undefined && r.fulfillment_center?.id !== null) out.externalLocationId = idString(r.fulfillment_center.id, 'fulfillment_center.id');
  if (r.tracking_number) out.trackingNumber = r.tracking_number;
  return out;
}

const COUNTRY3: Record<string, string> = { USA: 'US', CAN: 'CA', GBR: 'GB', AUS: 'AU', NLD: 'NL', DEU: 'DE', MEX: 'MX' };

const locationSchema = z.looseObject({
  id: intId, name: z.string(), is_active: z.boolean().nullish(), is_shipping_enabled: z.boolean().nullish(),
  services: z.array(z.looseObject({ service_type: ns, address: z.looseObject({ address1: ns, city: ns, state: ns, zip_code: ns, country: ns }).nullish() })).nullish(),
});

export function mapShipBobLocation(raw: unknown): CanonicalLocation {
  const l = parseRecord(locationSchema, raw, 'location');
  const out: CanonicalLocation = { externalId: idString(l.id, 'id'), name: l.name, active: (l.is_active ?? true) && (l.is_shipping_enabled ?? true) };
  const a = l.services?.find((s) => s.address?.country)?.address;
  const country = a?.country ? (a.country.length === 2 ? a.country.toUpperCase() : COUNTRY3[a.country.toUpperCase()]) : undefined;
  if (a && country) {
    const addr: NonNullable<CanonicalLocation['address']> = { name: l.name, country };
    if (a.address1) addr.line1 = a.address1;
    if (a.city) addr.city = a.city;
    if (a.state) addr.region = a.state;
    if (a.zip_code) addr.postalCode = a.zip_code;
    out.address = addr;
  }
  return out;
}

/**
 * Webhook payloads by topic (`x-webhook-topic`): `order.shipped` carries the order with its shipments, the
 * `order.shipment.*` topics one shipment, `return.*` one return. Billing topics are not the hub's concern.
 */
export function mapShipBobWebhook(topic: string, raw: unknown): CanonicalEvent[] {
  const body = (raw && typeof raw === 'object' && 'data' in raw && typeof (raw as { data: unknown }).data === 'object' ? (raw as { data: unknown }).data : raw) as Record<string, unknown>;
  if (topic === 'order.shipped') {
    if (Array.isArray(body?.shipments)) return mapShipBobOrderShipments(body).map((shipment) => ({ type: 'shipment.upserted', shipment }));
    return [{ type: 'shipment.upserted', shipment: mapShipBobShipment(body) }];
  }
  if (topic.startsWith('order.shipment.')) return [{ type: 'shipment.upserted', shipment: mapShipBobShipment(body) }];
  if (topic.startsWith('return.')) return [{ type: 'return.upserted', ret: mapShipBobReturn(body) }];
  if (topic.startsWith('billing.')) return [];
  throw new Error(`unsupported ShipBob topic ${JSON.stringify(topic)}`);
}
