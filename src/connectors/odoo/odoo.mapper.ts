import { z } from 'zod';
import type { CanonicalLocation, CanonicalShipment, CanonicalStockLevel } from '../sdk/canonical';
import { idString } from '../sdk/json';
import { parseRecord } from '../sdk/shape';
import { toUtcIso } from '../sdk/time';

/**
 * Pure mappers for Odoo 19 records as the JSON-2 API returns them (`POST /json/2/<model>/<method>`).
 *
 * Reads use `web_search_read` with a `specification`, so many2one fields come back as `{id, ...sub-fields}` (or
 * `false` when empty) and one2many fields as arrays of such objects. Odoo datetimes are `YYYY-MM-DD HH:MM:SS` in
 * UTC without a zone; empty values are `false`, never `null`.
 */

const id = z.number().int().positive();
const falsy = z.literal(false);
const str = z.union([z.string(), falsy]);
const m2o = <T extends z.ZodRawShape>(shape: T) => z.union([z.looseObject({ id, ...shape }), falsy]);

/** `stock.quant` with `product_id {default_code, display_name}` and `location_id {complete_name}`. */
export const odooQuantSchema = z.looseObject({
  id,
  product_id: z.looseObject({ id, default_code: str.optional(), display_name: z.string().optional() }),
  location_id: z.looseObject({ id, complete_name: z.string().optional() }),
  quantity: z.number(),
  reserved_quantity: z.number(),
  write_date: z.string(),
});
export type OdooQuant = z.infer<typeof odooQuantSchema>;

/** Totals of every quant of one (product, location), attached by the connector to each changed quant. */
export interface QuantTotals {
  quantity: number;
  reserved_quantity: number;
}
export type OdooQuantWithTotals = OdooQuant & { switchyard_totals?: QuantTotals };

/**
 * Stock of one product at one internal location. A product can have several quants at a location (lots,
 * packages, owners), so the level is the location's totals, not the changed quant's own numbers.
 * Quantities in non-unit UoMs are floored: the hub never promises a fraction.
 */
export function mapOdooQuant(raw: unknown): CanonicalStockLevel {
  const q = parseRecord(odooQuantSchema, raw, 'stock.quant') as OdooQuantWithTotals;
  const totals = (raw as OdooQuantWithTotals).switchyard_totals ?? { quantity: q.quantity, reserved_quantity: q.reserved_quantity };
  const onHand = Math.floor(totals.quantity + 1e-9);
  const level: CanonicalStockLevel = {
    externalLocationId: idString(q.location_id.id, 'location_id'),
    externalItemId: idString(q.product_id.id, 'product_id'),
    available: Math.max(0, Math.floor(totals.quantity - totals.reserved_quantity + 1e-9)),
    onHand,
    updatedAt: toUtcIso(q.write_date),
  };
  if (typeof q.product_id.default_code === 'string' && q.product_id.default_code) level.sku = q.product_id.default_code;
  return level;
}

export const odooLocationSchema = z.looseObject({
  id,
  name: z.string(),
  complete_name: str.optional(),
  active: z.boolean().optional(),
  usage: z.string(),
  warehouse_id: m2o({}).optional(),
});

export function mapOdooLocation(raw: unknown): CanonicalLocation {
  const l = parseRecord(odooLocationSchema, raw, 'stock.location');
  return { externalId: idString(l.id, 'id'), name: typeof l.complete_name === 'string' && l.complete_name ? l.complete_name : l.name, active: l.active ?? true };
}

const moveSchema = z.looseObject({
  id,
  product_id: z.looseObject({ id, default_code: str.optional() }),
  product_uom_qty: z.number(),
  quantity: z.number(),
  sale_line_id: m2o({}).optional(),
});

/** Outgoing `stock.picking` (a delivery order) with its moves, carrier and sale order. */
export const odooPickingSchema = z.looseObject({
  id,
  name: z.string(),
  state: z.enum(['draft', 'waiting', 'confirmed', 'assigned', 'done', 'cancel']),
  origin: str.optional(),
  carrier_tracking_ref: str.optional(),
  carrier_id: m2o({ name: z.string().optional() }).optional(),
  sale_id: m2o({ name: z.string().optional(), client_order_ref: str.optional() }).optional(),
  location_id: m2o({}).optional(),
  create_date: z.string(),
  write_date: z.string(),
  date_done: str.optional(),
  move_ids: z.array(moveSchema),
});

/**
 * A delivery order as a shipment. `orderExternalId` is the `sale.order` id (what `createOrder` returned), else
 * the picking's origin. Done pickings count what was shipped (`quantity`), open ones what is demanded.
 */
export function mapOdooPicking(raw: unknown): CanonicalShipment {
  const p = parseRecord(odooPickingSchema, raw, 'stock.picking');
  const sale = p.sale_id || undefined;
  const orderExternalId = sale ? idString(sale.id, 'sale_id') : typeof p.origin === 'string' && p.origin ? p.origin : undefined;
  if (!orderExternalId) throw new Error(`picking ${p.name} has neither a sale order nor an origin`);
  const done = p.state === 'done';
  const s: CanonicalShipment = {
    externalId: idString(p.id, 'id'),
    orderExternalId,
    status: done ? 'SHIPPED' : p.state === 'cancel' ? 'CANCELLED' : 'PENDING',
    lines: p.move_ids
      .map((m) => {
        const qty = Math.floor((done ? m.quantity : m.product_uom_qty) + 1e-9);
        const line: CanonicalShipment['lines'][number] = { quantity: qty };
        if (m.sale_line_id) line.orderLineExternalId = idString(m.sale_line_id.id, 'sale_line_id');
        if (typeof m.product_id.default_code === 'string' && m.product_id.default_code) line.sku = m.product_id.default_code;
        return line;
      })
      .filter((l) => l.quantity > 0),
    createdAt: toUtcIso(p.create_date),
    updatedAt: toUtcIso(p.write_date),
  };
  if (p.carrier_id && p.carrier_id.name) s.carrier = p.carrier_id.name;
  if (typeof p.carrier_tracking_ref === 'string' && p.carrier_tracking_ref) s.trackingNumber = p.carrier_tracking_ref;
  if (p.location_id) s.externalLocationId = idString(p.location_id.id, 'location_id');
  return s;
}

/** Odoo's zone-less UTC datetime for domains: `YYYY-MM-DD HH:MM:SS`. */
export function odooDatetime(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19).replace('T', ' ');
}
