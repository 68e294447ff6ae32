import { z } from 'zod';
import type { CanonicalAddress, CanonicalShipment, CanonicalStockLevel, CreateOrderCommand, CreateShipmentCommand, SetStockCommand, UpdateShipToCommand } from '../sdk/canonical';
import type { CreateReturnCommand } from '../sdk/returns';
import { ConnectorError } from '../sdk/connector-error';
import { baseConfigSchema, type ConnectorContext, defineConnector } from '../sdk/connector';
import { headerAuth } from '../sdk/auth';
import { FixedWindowLimiter } from '../sdk/rate-limit';
import { expectShape } from '../sdk/shape';
import type { PageRequest } from '../sdk/stream';
import { mapOdooLocation, mapOdooPicking, mapOdooQuant, odooDatetime, type OdooQuantWithTotals, type QuantTotals } from './odoo.mapper';

/**
 * Odoo 19 (ERP) over the External JSON-2 API: `POST /json/2/<model>/<method>` with `Authorization: bearer <api key>`
 * and, on multi-database servers, `X-Odoo-Database`. The body holds the method's named parameters (plus `ids` and
 * `context`); the response body is the method's return value; errors are 4xx/5xx with `{name, message, arguments}`.
 * Every call is its own transaction, so multi-step pushes here are written to be safely re-run from the start.
 * Odoo's webhooks are unsigned: everything is polled.
 */
export const odooConfigSchema = baseConfigSchema.extend({
  /** `https://mycompany.odoo.com`. */
  url: z.url(),
  /** Sent as `X-Odoo-Database` when one server hosts several databases. */
  database: z.string().min(1).optional(),
  startAt: z.iso.datetime({ offset: true }).default('2020-01-01T00:00:00Z'),
  pageSize: z.number().int().min(1).max(1000).default(200),
  /** Overlap re-read on each incremental run; Odoo commits long transactions with an earlier write_date. */
  overlapMs: z.number().int().nonnegative().default(10 * 60_000),
  /** Self-imposed ceiling: Odoo publishes no limit, workers are the bottleneck. */
  requestsPerMinute: z.number().int().positive().default(300),
  /** Customer for orders pushed without one (e.g. anonymous store sales). */
  defaultPartnerId: z.number().int().positive().optional(),
  /** `sale.order.warehouse_id` for pushed orders when the command names no location. */
  warehouseId: z.number().int().positive().optional(),
  /** On a partial shipment: keep the rest in a backorder (Odoo's default) or cancel it. */
  backorders: z.enum(['create', 'cancel']).default('create'),
  /** Book every channel's orders here as confirmed sale orders (the hub writes an `order.book` outbox event per new order). */
  bookOrders: z.boolean().default(false),
});
export type OdooConfig = z.infer<typeof odooConfigSchema>;

export const odooCredentialsSchema = z.object({ apiKey: z.string().min(1) });
export type OdooCredentials = z.infer<typeof odooCredentialsSchema>;

type Ctx = ConnectorContext<OdooConfig, OdooCredentials>;

const READ_METHODS = new Set(['search_read', 'web_search_read', 'read', 'search', 'search_count', 'fields_get', 'context_get']);

/** One JSON-2 call. Reads (and explicitly idempotent writes) are retried on 5xx; other writes only on 429. */
export async function odooCall<T = unknown>(
  ctx: Ctx,
  model: string,
  method: string,
  body: Record<string, unknown>,
  opts: { stream?: string; idempotent?: boolean } = {},
): Promise<T> {
  const res = await ctx.http.request<T>({
    method: 'POST',
    path: `/json/2/${model}/${method}`,
    body,
    operation: `${model}.${method}`,
    stream: opts.stream,
    idempotent: opts.idempotent ?? READ_METHODS.has(method),
  });
  return res.data;
}

const webSearchResult = z.object({ length: z.number().int().nonnegative(), records: z.array(z.unknown()) });

async function webSearchRead(ctx: Ctx, model: string, args: { domain: unknown[]; specification: object; limit?: number; order?: string }, stream?: string) {
  const data = await odooCall(ctx, model, 'web_search_read', { domain: args.domain, specification: args.specification, limit: args.limit, order: args.order }, { stream });
  return expectShape(webSearchResult, data, { operation: `${model}.web_search_read`, stream });
}

async function searchRead<T = Record<string, unknown>>(ctx: Ctx, model: string, domain: unknown[], fields: string[], extra: { limit?: number; order?: string; context?: object } = {}, stream?: string): Promise<T[]> {
  const data = await odooCall(ctx, model, 'search_read', { domain, fields, ...extra }, { stream });
  return expectShape(z.array(z.looseObject({ id: z.number().int() })), data, { operation: `${model}.search_read`, stream }) as T[];
}

/**
 * Keyset paging inside a time window: `id > token`, ordered by id, so records written while we read cannot shift
 * a page. `length` (what `web_search_read` counts) says whether more remain.
 */
function windowDomain(req: PageRequest, extra: unknown[]): unknown[] {
  const d: unknown[] = [...extra, ['write_date', '>=', odooDatetime(req.window!.start)], ['write_date', '<', odooDatetime(req.window!.end)]];
  if (req.pageToken) d.push(['id', '>', Number(req.pageToken)]);
  return d;
}

function keysetNext(records: unknown[], length: number): string | null {
  if (records.length === 0 || records.length >= length) return null;
  const last = records[records.length - 1] as { id?: unknown };
  return typeof last?.id === 'number' ? String(last.id) : null;
}

export const QUANT_SPEC = {
  product_id: { fields: { default_code: {}, display_name: {} } },
  location_id: { fields: { complete_name: {} } },
  quantity: {},
  reserved_quantity: {},
  write_date: {},
} as const;

export const PICKING_SPEC = {
  name: {},
  state: {},
  origin: {},
  carrier_tracking_ref: {},
  carrier_id: { fields: { name: {} } },
  sale_id: { fields: { name: {}, client_order_ref: {} } },
  location_id: { fields: {} },
  create_date: {},
  write_date: {},
  date_done: {},
  move_ids: { fields: { product_id: { fields: { default_code: {} } }, product_uom_qty: {}, quantity: {}, sale_line_id: { fields: {} } } },
} as const;

const INTERNAL = ['location_id.usage', '=', 'internal'];
const OUTGOING = ['picking_type_code', '=', 'outgoing'];

/** Sums all quants of the (product, location) pairs that changed, so a level is the location's total. */
async function quantTotals(ctx: Ctx, quants: OdooQuantWithTotals[]): Promise<Map<string, QuantTotals>> {
  const pairs = new Set<string>();
  const products = new Set<number>();
  const locations = new Set<number>();
  for (const q of quants) {
    const p = q?.product_id?.id;
    const l = q?.location_id?.id;
    if (typeof p !== 'number' || typeof l !== 'number') continue; // the mapper reports the broken record
    pairs.add(`${p}@${l}`);
    products.add(p);
    locations.add(l);
  }
  const totals = new Map<string, QuantTotals>();
  if (pairs.size === 0) return totals;
  const rows = await searchRead<{ product_id: [number, string] | false; location_id: [number, string] | false; quantity: number; reserved_quantity: number }>(
    ctx, 'stock.quant', [['product_id', 'in', [...products]], ['location_id', 'in', [...locations]]], ['product_id', 'location_id', 'quantity', 'reserved_quantity'], {}, 'inventory',
  );
  for (const r of rows) {
    if (!r.product_id || !r.location_id) continue;
    const key = `${r.product_id[0]}@${r.location_id[0]}`;
    if (!pairs.has(key)) continue;
    const t = totals.get(key) ?? { quantity: 0, reserved_quantity: 0 };
    t.quantity += Number(r.quantity) || 0;
    t.reserved_quantity += Number(r.reserved_quantity) || 0;
    totals.set(key, t);
  }
  return totals;
}

async function productIds(ctx: Ctx, skus: string[]): Promise<Map<string, number>> {
  const rows = await searchRead<{ id: number; default_code: string | false }>(ctx, 'product.product', [['default_code', 'in', [...new Set(skus)]]], ['default_code']);
  const out = new Map<string, number>();
  for (const r of rows) if (typeof r.default_code === 'string') out.set(r.default_code, r.id);
  const missing = skus.filter((s) => !out.has(s));
  if (missing.length) throw new ConnectorError({ code: 'VENDOR', message: `Odoo has no product with internal reference ${missing.map((s) => JSON.stringify(s)).join(', ')}`, retryable: false, operation: 'product.product.search_read', record: missing[0] });
  return out;
}

/** Odoo answers actions either with `true`/`null` or with a window action that opens a wizard. */
function wizardOf(result: unknown): string | undefined {
  if (result && typeof result === 'object' && (result as { type?: string }).type === 'ir.actions.act_window') return String((result as { res_model?: string }).res_model);
  return undefined;
}

async function partnerFor(ctx: Ctx, cmd: CreateOrderCommand): Promise<number> {
  const email = cmd.customer?.email;
  if (email) {
    const found = await searchRead<{ id: number }>(ctx, 'res.partner', [['email', '=ilike', email]], ['id'], { limit: 1, order: 'id asc' });
    if (found.length) return found[0].id;
    const vals: Record<string, unknown> = { name: cmd.customer?.name ?? cmd.shipTo?.name ?? email, email };
    if (cmd.customer?.phone ?? cmd.shipTo?.phone) vals.phone = cmd.customer?.phone ?? cmd.shipTo?.phone;
    if (cmd.shipTo) Object.assign(vals, await addressVals(ctx, cmd.shipTo));
    // Not idempotent by itself; a retry after a lost answer finds the partner by email first.
    const ids = await odooCall<number[]>(ctx, 'res.partner', 'create', { vals_list: [vals] });
    return ids[0];
  }
  if (ctx.config.defaultPartnerId) return ctx.config.defaultPartnerId;
  throw new ConnectorError({ code: 'CONFIG', message: `order ${cmd.reference} has no customer email and the Odoo connection has no defaultPartnerId`, retryable: false, operation: 'sale.order.create', record: cmd.reference });
}

/** A `res.partner`'s address fields for a hub address (the country by its ISO code). */
async function addressVals(ctx: Ctx, a: CanonicalAddress): Promise<Record<string, unknown>> {
  const vals: Record<string, unknown> = {};
  if (a.line1) vals.street = a.line1;
  if (a.line2) vals.street2 = a.line2;
  if (a.city) vals.city = a.city;
  if (a.postalCode) vals.zip = a.postalCode;
  const country = await searchRead<{ id: number }>(ctx, 'res.country', [['code', '=', a.country]], ['id'], { limit: 1 });
  if (country.length) vals.country_id = country[0].id;
  return vals;
}

/**
 * Where a sale order ships (`partner_shipping_id`): a delivery contact under the customer with the address, the one
 * already there for the same street, city and zip if any, so that a retry or a repeated address adds none.
 */
async function deliveryContact(ctx: Ctx, customerId: number, a: CanonicalAddress, name: string | undefined): Promise<number> {
  const same = await searchRead<{ id: number }>(ctx, 'res.partner', [['parent_id', '=', customerId], ['type', '=', 'delivery'], ['street', '=', a.line1 ?? false],
    ['city', '=', a.city ?? false], ['zip', '=', a.postalCode ?? false]], ['id'], { limit: 1, order: 'id asc' });
  if (same.length) return same[0].id;
  const vals: Record<string, unknown> = { parent_id: customerId, type: 'delivery', ...(await addressVals(ctx, a)) };
  if (name) vals.name = name;
  if (a.phone) vals.phone = a.phone;
  const ids = await odooCall<number[]>(ctx, 'res.partner', 'create', { vals_list: [vals] });
  return ids[0];
}

/**
 * A sale order that ships elsewhere now: a delivery contact with the new address becomes its `partner_shipping_id`
 * and the partner of its deliveries not done yet (Odoo gives a delivery its address when the order is confirmed and
 * does not follow later edits of the order). None left open means the goods have left: a permanent error.
 */
async function updateSaleShipTo(ctx: Ctx, cmd: UpdateShipToCommand) {
  const saleId = Number(cmd.orderExternalId);
  const op = 'sale.order.write';
  if (!Number.isInteger(saleId)) throw new ConnectorError({ code: 'CONFIG', message: `Odoo order id must be a sale.order id, got ${cmd.orderExternalId}`, retryable: false, operation: op, record: cmd.reference });
  const [sale] = await searchRead<{ id: number; state: string; name: string; partner_id: [number, string] | false }>(ctx, 'sale.order', [['id', '=', saleId]], ['state', 'name', 'partner_id'], { limit: 1 });
  if (!sale || sale.state === 'cancel' || !sale.partner_id) {
    throw new ConnectorError({ code: 'VENDOR', message: `Odoo has no open sale order ${cmd.orderExternalId} to send elsewhere`, retryable: false, operation: op, record: cmd.reference });
  }
  const open = await searchRead<{ id: number }>(ctx, 'stock.picking', [['sale_id', '=', saleId], OUTGOING, ['state', 'not in', ['done', 'cancel']]], ['id']);
  if (!open.length) {
    throw new ConnectorError({ code: 'VENDOR', message: `sale order ${sale.name} has no delivery left to ship: its address cannot change in Odoo`, retryable: false, operation: op, record: cmd.reference });
  }
  const contact = await deliveryContact(ctx, sale.partner_id[0], cmd.shipTo, cmd.shipTo.name ?? cmd.customer?.name);
  await odooCall(ctx, 'sale.order', 'write', { ids: [saleId], vals: { partner_shipping_id: contact } }, { idempotent: true });
  await odooCall(ctx, 'stock.picking', 'write', { ids: open.map((p) => p.id), vals: { partner_id: contact } }, { idempotent: true });
  return { externalId: String(saleId) };
}

async function warehouseOf(ctx: Ctx, locationId: number, record: string): Promise<number> {
  const [loc] = await searchRead<{ id: number; warehouse_id: [number, string] | false }>(ctx, 'stock.location', [['id', '=', locationId]], ['warehouse_id'], { limit: 1 });
  if (!loc || !loc.warehouse_id) throw new ConnectorError({ code: 'CONFIG', message: `Odoo stock location ${locationId} belongs to no warehouse`, retryable: false, operation: 'stock.location.search_read', record });
  return loc.warehouse_id[0];
}

/**
 * `sale.order` for an order sold elsewhere, so the books see every channel. Idempotent by `client_order_ref`:
 * an order already there is confirmed if still a quotation (a previous run died between create and confirm) and
 * returned as is otherwise.
 */
async function createSaleOrder(ctx: Ctx, cmd: CreateOrderCommand) {
  const existing = await searchRead<{ id: number; state: string; name: string }>(ctx, 'sale.order', [['client_order_ref', '=', cmd.reference]], ['state', 'name'], { limit: 2, order: 'id asc' });
  if (existing.length) {
    const o = existing[0];
    if (o.state === 'cancel') throw new ConnectorError({ code: 'VENDOR', message: `sale order ${o.name} for ${cmd.reference} is cancelled in Odoo`, retryable: false, operation: 'sale.order.create', record: cmd.reference });
    if (o.state === 'draft' || o.state === 'sent') await odooCall(ctx, 'sale.order', 'action_confirm', { ids: [o.id] }, { idempotent: true });
    return { externalId: String(o.id), warnings: [`sale order ${o.name} already existed for ${cmd.reference}`] };
  }
  const products = await productIds(ctx, cmd.lines.map((l) => l.sku));
  const partnerId = await partnerFor(ctx, cmd);
  const vals: Record<string, unknown> = {
    partner_id: partnerId,
    // The order's own address, not whatever the customer's record says (a returning customer ships elsewhere).
    ...(cmd.shipTo?.line1 ? { partner_shipping_id: await deliveryContact(ctx, partnerId, cmd.shipTo, cmd.shipTo.name ?? cmd.customer?.name) } : {}),
    client_order_ref: cmd.reference,
    order_line: cmd.lines.map((l) => [0, 0, {
      product_id: products.get(l.sku),
      product_uom_qty: l.quantity,
      ...(l.unitPrice !== undefined ? { price_unit: Number(l.unitPrice) } : {}),
      ...(l.title ? { name: l.title } : {}),
    }]),
  };
  if (cmd.name || cmd.channel) vals.origin = [cmd.channel, cmd.name].filter(Boolean).join(' ');
  if (cmd.placedAt) vals.date_order = odooDatetime(cmd.placedAt);
  // `externalLocationId` is a stock location (what settings.locations maps); the order goes to its warehouse.
  const warehouse = cmd.externalLocationId ? await warehouseOf(ctx, Number(cmd.externalLocationId), cmd.reference) : ctx.config.warehouseId;
  if (warehouse) vals.warehouse_id = warehouse;
  if (cmd.note) vals.note = cmd.note;
  const ids = await odooCall<number[]>(ctx, 'sale.order', 'create', { vals_list: [vals] });
  if (!Array.isArray(ids) || typeof ids[0] !== 'number') {
    throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `sale.order.create returned ${JSON.stringify(ids)}`, retryable: false, operation: 'sale.order.create', record: cmd.reference });
  }
  await odooCall(ctx, 'sale.order', 'action_confirm', { ids }, { idempotent: true });
  return { externalId: String(ids[0]) };
}

/**
 * Ships an outgoing picking of a sale order: sets each move's done quantity from the command, writes
 * `carrier_tracking_ref`, then `button_validate`. A partial shipment makes Odoo answer with the backorder wizard
 * (`stock.backorder.confirmation`); we answer it as the wizard itself does, by validating again with
 * `skip_backorder` (and `picking_ids_not_to_backorder` when the connection cancels remainders). Idempotent by
 * tracking number: a done picking of the order with the same tracking ref is returned, not shipped twice.
 */
async function shipPicking(ctx: Ctx, cmd: CreateShipmentCommand) {
  const saleId = Number(cmd.orderExternalId);
  if (!Number.isInteger(saleId)) throw new ConnectorError({ code: 'CONFIG', message: `Odoo order id must be a sale.order id, got ${cmd.orderExternalId}`, retryable: false, operation: 'stock.picking.button_validate' });
  const shipped = await searchRead<{ id: number }>(ctx, 'stock.picking', [['sale_id', '=', saleId], OUTGOING, ['state', '=', 'done'], ['carrier_tracking_ref', '=', cmd.trackingNumber]], ['id'], { limit: 1 });
  if (shipped.length) return { externalId: String(shipped[0].id), warnings: ['already shipped with this tracking number'] };

  const domain: unknown[] = [['sale_id', '=', saleId], OUTGOING, ['state', 'in', ['confirmed', 'waiting', 'assigned']]];
  if (cmd.externalLocationId) domain.push(['location_id', 'child_of', Number(cmd.externalLocationId)]);
  const open = await webSearchRead(ctx, 'stock.picking', { domain, specification: { state: {}, move_ids: { fields: { product_uom_qty: {}, sale_line_id: { fields: {} } } } }, limit: 1, order: 'id asc' });
  const picking = open.records[0] as { id: number; move_ids: Array<{ id: number; product_uom_qty: number; sale_line_id: { id: number } | false }> } | undefined;
  if (!picking) throw new ConnectorError({ code: 'VENDOR', message: `sale order ${cmd.orderExternalId} has no open delivery order to ship`, retryable: false, operation: 'stock.picking.web_search_read', record: cmd.orderExternalId });

  // Done quantity per move: what the command ships of that sale line, capped at the move's demand.
  const want = new Map<string, number>();
  for (const l of cmd.lines) want.set(l.orderLineExternalId, (want.get(l.orderLineExternalId) ?? 0) + l.quantity);
  const byQty = new Map<number, number[]>();
  for (const m of picking.move_ids) {
    const line = m.sale_line_id ? String(m.sale_line_id.id) : undefined;
    const q = line && want.has(line) ? Math.min(want.get(line)!, m.product_uom_qty) : 0;
    if (line && want.has(line)) want.set(line, want.get(line)! - q);
    byQty.set(q, [...(byQty.get(q) ?? []), m.id]);
  }
  const unknown = [...want.entries()].filter(([, q]) => q > 0).map(([l]) => l);
  if (unknown.length) throw new ConnectorError({ code: 'VENDOR', message: `delivery ${picking.id} has no open quantity for sale lines ${unknown.join(', ')}`, retryable: false, operation: 'stock.move.write', record: cmd.orderExternalId });
  for (const [q, ids] of [...byQty.entries()].sort((a, b) => a[0] - b[0])) {
    await odooCall(ctx, 'stock.move', 'write', { ids, vals: { quantity: q, picked: q > 0 } }, { idempotent: true });
  }
  await odooCall(ctx, 'stock.picking', 'write', { ids: [picking.id], vals: { carrier_tracking_ref: cmd.trackingNumber } }, { idempotent: true });

  const warnings: string[] = [];
  let result = await odooCall(ctx, 'stock.picking', 'button_validate', { ids: [picking.id] });
  const wizard = wizardOf(result);
  if (wizard === 'stock.backorder.confirmation') {
    const context: Record<string, unknown> = { skip_backorder: true, button_validate_picking_ids: [picking.id] };
    if (ctx.config.backorders === 'cancel') context.picking_ids_not_to_backorder = [picking.id];
    result = await odooCall(ctx, 'stock.picking', 'button_validate', { ids: [picking.id], context });
    warnings.push(ctx.config.backorders === 'cancel' ? 'partial shipment: remaining quantities cancelled' : 'partial shipment: remaining quantities left in a backorder');
  } else if (wizard) {
    throw new ConnectorError({ code: 'VENDOR', message: `Odoo asked for confirmation (${wizard}) while validating delivery ${picking.id}`, retryable: false, operation: 'stock.picking.button_validate', record: cmd.orderExternalId, details: result });
  }
  const after = wizardOf(result);
  if (after) throw new ConnectorError({ code: 'VENDOR', message: `Odoo still asks for ${after} after answering the backorder wizard`, retryable: false, operation: 'stock.picking.button_validate', record: cmd.orderExternalId, details: result });
  return { externalId: String(picking.id), ...(warnings.length ? { warnings } : {}) };
}

/**
 * Counted stock at one internal location: `inventory_quantity` on the quant, then `action_apply_inventory`,
 * both in inventory mode. `expectedQuantity` is checked against Odoo's on-hand first (compare-and-set).
 */
async function applyCount(ctx: Ctx, cmd: SetStockCommand) {
  const productId = cmd.externalItemId ? Number(cmd.externalItemId) : (await productIds(ctx, [cmd.sku])).get(cmd.sku)!;
  const locationId = Number(cmd.externalLocationId);
  const context = { inventory_mode: true };
  const quants = await searchRead<{ id: number; quantity: number }>(ctx, 'stock.quant', [['product_id', '=', productId], ['location_id', '=', locationId]], ['quantity'], { context });
  const current = quants.length ? quants.reduce((s, q) => s + q.quantity, 0) : null;
  if (cmd.expectedQuantity !== undefined && cmd.expectedQuantity !== current) {
    throw new ConnectorError({ code: 'VENDOR', message: `stock of ${cmd.sku} at location ${locationId} is ${current ?? 'unset'} in Odoo, expected ${cmd.expectedQuantity}`, retryable: false, operation: 'stock.quant.search_read', record: cmd.sku, details: { actual: current } });
  }
  if (quants.length > 1) {
    throw new ConnectorError({ code: 'VENDOR', message: `${cmd.sku} is held in ${quants.length} quants (lots or packages) at location ${locationId}: count it per lot in Odoo`, retryable: false, operation: 'stock.quant.search_read', record: cmd.sku });
  }
  let quantId: number;
  if (quants.length === 1) {
    quantId = quants[0].id;
    await odooCall(ctx, 'stock.quant', 'write', { ids: [quantId], vals: { inventory_quantity: cmd.quantity }, context }, { idempotent: true });
  } else {
    const ids = await odooCall<number[]>(ctx, 'stock.quant', 'create', { vals_list: [{ product_id: productId, location_id: locationId, inventory_quantity: cmd.quantity }], context });
    quantId = ids[0];
  }
  const res = await odooCall(ctx, 'stock.quant', 'action_apply_inventory', { ids: [quantId], context }, { idempotent: true });
  const wizard = wizardOf(res);
  if (wizard === 'stock.inventory.conflict') {
    throw new ConnectorError({ code: 'VENDOR', message: `stock of ${cmd.sku} moved in Odoo while it was being counted; count again`, retryable: true, operation: 'stock.quant.action_apply_inventory', record: cmd.sku });
  }
  if (wizard) throw new ConnectorError({ code: 'VENDOR', message: `Odoo asked for ${wizard} when applying the count of ${cmd.sku}`, retryable: false, operation: 'stock.quant.action_apply_inventory', record: cmd.sku, details: res });
  return { externalId: String(quantId) };
}

/**
 * A return through Odoo's return wizard (`stock.return.picking`), as a user does it on a delivery: the wizard is
 * created on the done delivery of the order at the receiving location, its lines get the returned quantities, and
 * `action_create_returns` opens the incoming picking (Odoo 17+). The delivery is found by the order's id in the
 * sale order's `origin` (where `createOrder` writes the channel order). Idempotent by the RMA, which is written into
 * the return's origin: a resend finds that picking and creates nothing.
 */
async function returnPicking(ctx: Ctx, cmd: CreateReturnCommand) {
  const op = 'stock.return.picking.action_create_returns';
  const done = await searchRead<{ id: number }>(ctx, 'stock.picking', [['picking_type_code', '=', 'incoming'], ['origin', 'ilike', cmd.reference]], ['id'], { limit: 1 });
  if (done.length) return { externalId: String(done[0].id), warnings: [`return ${cmd.reference} already exists in Odoo`] };
  const location = Number(cmd.externalLocationId);
  if (!Number.isInteger(location)) throw new ConnectorError({ code: 'CONFIG', message: `Odoo return location must be a stock.location id, got ${cmd.externalLocationId}`, retryable: false, operation: op, record: cmd.reference });
  const domain: unknown[] = [OUTGOING, ['state', '=', 'done'], ['location_id', 'child_of', location]];
  if (cmd.orderExternalId) domain.push(['sale_id.origin', 'ilike', cmd.orderExternalId]);
  const deliveries = await searchRead<{ id: number; name: string }>(ctx, 'stock.picking', domain, ['name'], { order: 'id desc', limit: 20 });
  if (!deliveries.length) throw new ConnectorError({ code: 'VENDOR', message: `Odoo has no done delivery of order ${cmd.orderExternalId ?? '?'} from location ${location} to return (${cmd.reference})`, retryable: false, operation: op, record: cmd.reference });
  const products = await productIds(ctx, cmd.lines.map((l) => l.sku));
  for (const delivery of deliveries) {
    const [wizard] = await odooCall<number[]>(ctx, 'stock.return.picking', 'create', { vals_list: [{ picking_id: delivery.id }], context: { active_id: delivery.id, active_ids: [delivery.id], active_model: 'stock.picking' } });
    const lines = await searchRead<{ id: number; product_id: [number, string] | false; quantity: number }>(ctx, 'stock.return.picking.line', [['wizard_id', '=', wizard]], ['product_id', 'quantity']);
    const want = new Map(cmd.lines.map((l) => [products.get(l.sku)!, l.quantity]));
    const covered = [...want.keys()].every((p) => lines.some((l) => l.product_id && l.product_id[0] === p));
    if (!covered) continue; // this delivery did not carry every returned product: try an older one
    for (const l of lines) {
      const q = l.product_id ? want.get(l.product_id[0]) ?? 0 : 0;
      if (l.product_id) want.delete(l.product_id[0]);
      await odooCall(ctx, 'stock.return.picking.line', 'write', { ids: [l.id], vals: { quantity: q } }, { idempotent: true });
    }
    const action = await odooCall<{ res_id?: number } | null>(ctx, 'stock.return.picking', 'action_create_returns', { ids: [wizard] });
    const id = action && typeof action === 'object' ? action.res_id : undefined;
    if (typeof id !== 'number') throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `${op} returned ${JSON.stringify(action)}`, retryable: false, operation: op, record: cmd.reference });
    await odooCall(ctx, 'stock.picking', 'write', { ids: [id], vals: { origin: `Return of ${delivery.name} (${cmd.reference})` } }, { idempotent: true });
    return { externalId: String(id) };
  }
  throw new ConnectorError({ code: 'VENDOR', message: `no done delivery of order ${cmd.orderExternalId ?? '?'} carried all of ${cmd.lines.map((l) => l.sku).join(', ')} (${cmd.reference})`, retryable: false, operation: op, record: cmd.reference });
}

const DAY = 86_400_000;

export const odooConnector = defineConnector<OdooConfig, OdooCredentials>({
  kind: 'odoo',
  displayName: 'Odoo 19 (JSON-2 API)',
  configSchema: odooConfigSchema as unknown as z.ZodType<OdooConfig>,
  credentialsSchema: odooCredentialsSchema,
  http: ({ config, credentials }) => ({
    baseUrl: config.url,
    auth: headerAuth('authorization', `bearer ${credentials.apiKey}`),
    headers: { 'user-agent': 'Switchyard', ...(config.database ? { 'x-odoo-database': config.database } : {}) },
    limiter: new FixedWindowLimiter(config.requestsPerMinute, 60_000),
  }),

  streams: {
    /** Stock per internal location from `stock.quant`, incrementally on write_date, each level the pair's totals. */
    inventory: {
      name: 'inventory',
      primaryKey: (l: CanonicalStockLevel) => `${l.externalItemId}@${l.externalLocationId}`,
      cursorField: (l: CanonicalStockLevel) => l.updatedAt!,
      windows: { sizeMs: 30 * DAY, overlapMs: 10 * 60_000, lagMs: 5_000, startAt: (ctx: Ctx) => ctx.config.startAt },
      rawId: (raw: { id?: unknown }) => (raw?.id !== undefined ? `quant ${raw.id}` : undefined),
      async fetchPage(ctx: Ctx, req) {
        const limit = ctx.config.pageSize;
        const page = await webSearchRead(ctx, 'stock.quant', { domain: windowDomain(req, [INTERNAL]), specification: QUANT_SPEC, limit, order: 'id asc' }, 'inventory');
        const quants = page.records as OdooQuantWithTotals[];
        const totals = await quantTotals(ctx, quants);
        const records = quants.map((q) => {
          const t = q?.product_id && q?.location_id ? totals.get(`${q.product_id.id}@${q.location_id.id}`) : undefined;
          return t ? { ...q, switchyard_totals: t } : q;
        });
        return { records, next: keysetNext(records, page.length) };
      },
      map: (raw: unknown) => mapOdooQuant(raw),
    },

    /** Outgoing deliveries (`stock.picking`, picking type outgoing) as shipments, on write_date. */
    shipments: {
      name: 'shipments',
      primaryKey: (s: CanonicalShipment) => s.externalId,
      cursorField: (s: CanonicalShipment) => s.updatedAt!,
      windows: { sizeMs: 30 * DAY, overlapMs: 10 * 60_000, lagMs: 5_000, startAt: (ctx: Ctx) => ctx.config.startAt },
      rawId: (raw: { id?: unknown; name?: string }) => (raw?.id !== undefined ? `${raw.id}${raw.name ? ` (${raw.name})` : ''}` : undefined),
      async fetchPage(ctx: Ctx, req) {
        const limit = ctx.config.pageSize;
        const page = await webSearchRead(ctx, 'stock.picking', { domain: windowDomain(req, [OUTGOING]), specification: PICKING_SPEC, limit, order: 'id asc' }, 'shipments');
        return { records: page.records, next: keysetNext(page.records, page.length) };
      },
      map: (raw: unknown) => mapOdooPicking(raw),
    },

    /** Internal stock locations (full refresh, offset pages). */
    locations: {
      name: 'locations',
      primaryKey: (l: { externalId: string }) => l.externalId,
      rawId: (raw: { id?: unknown }) => (raw?.id !== undefined ? String(raw.id) : undefined),
      async fetchPage(ctx: Ctx, req) {
        const limit = ctx.config.pageSize;
        const domain: unknown[] = [['usage', '=', 'internal']];
        if (req.pageToken) domain.push(['id', '>', Number(req.pageToken)]);
        const page = await webSearchRead(ctx, 'stock.location', { domain, specification: { name: {}, complete_name: {}, active: {}, usage: {}, warehouse_id: { fields: {} } }, limit, order: 'id asc' }, 'locations');
        return { records: page.records, next: keysetNext(page.records, page.length) };
      },
      map: (raw: unknown) => mapOdooLocation(raw),
    },
  },

  push: {
    setStock: (ctx, cmd) => applyCount(ctx, cmd),
    async setStockBatch(ctx, cmds) {
      const ids: string[] = [];
      for (const c of cmds) ids.push((await applyCount(ctx, c)).externalId);
      return { externalId: ids.join(',') };
    },
    createOrder: (ctx, cmd) => createSaleOrder(ctx, cmd),
    updateShipTo: (ctx, cmd) => updateSaleShipTo(ctx, cmd),
    createShipment: (ctx, cmd) => shipPicking(ctx, cmd),
    createReturn: (ctx, cmd) => returnPicking(ctx, cmd),
    /** `sale.order.action_cancel` (also cancels its open deliveries); cancelling a cancelled order is a no-op. */
    async cancelOrder(ctx, cmd) {
      const id = Number(cmd.orderExternalId);
      const found = await searchRead<{ id: number; state: string }>(ctx, 'sale.order', [['id', '=', id]], ['state']);
      if (!found.length) throw new ConnectorError({ code: 'VENDOR', message: `Odoo has no sale order ${cmd.orderExternalId}`, retryable: false, operation: 'sale.order.action_cancel', record: cmd.orderExternalId });
      if (found[0].state === 'cancel') return { accepted: true, warnings: ['already cancelled'] };
      const res = await odooCall(ctx, 'sale.order', 'action_cancel', { ids: [id], context: { disable_cancel_warning: true } }, { idempotent: true });
      const wizard = wizardOf(res);
      if (wizard) throw new ConnectorError({ code: 'VENDOR', message: `Odoo asked for ${wizard} when cancelling sale order ${id}`, retryable: false, operation: 'sale.order.action_cancel', record: cmd.orderExternalId });
      return { accepted: true };
    },
  },

  lookups: {
    async shipments(ctx, orderExternalId) {
      const page = await webSearchRead(ctx, 'stock.picking', { domain: [['sale_id', '=', Number(orderExternalId)], OUTGOING], specification: PICKING_SPEC, order: 'id asc' });
      return page.records.map(mapOdooPicking);
    },
  },

  async check(ctx) {
    await odooCall(ctx, 'res.users', 'context_get', {});
  },
});
