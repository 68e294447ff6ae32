import express, { type Request, type Response } from 'express';
import { DEMO_DEFAULTS, generateDemoNetwork } from '../../../db/seed/demo-network';
import { FixedWindow } from '../rate-limits';
import { listen, type PushLog, type SandboxBaseOptions, type SandboxStats, SandboxStore } from '../sandbox-store';

export interface OdooSandboxOptions extends SandboxBaseOptions {
  apiKey?: string;
  database?: string;
  /** Hub location run on Odoo (its stock is the demo network's; default WH-COLUMBUS). */
  warehouseCode?: string;
  /** Odoo publishes no request limit (workers are the bottleneck); the sandbox enforces this many per minute (default 300, the connector's ceiling). */
  requestsPerMinute?: number;
  /** Minutes after confirmation the warehouse team validates a delivery of the ERP-run warehouse, with tracking (default 45; 0 = never). */
  shipAfterMinutes?: number;
  /** SKUs Odoo knows as products (default: all the demo SKUs). */
  products?: number;
}

type Rec = Record<string, unknown> & { id: number };
type Field = { m2o: string } | { o2m: string; inverse: string } | { scalar: true };

export interface OdooSandbox {
  vendor: 'odoo';
  baseUrl: string;
  store: SandboxStore;
  pushes: PushLog;
  /** Ids the hub maps: the ERP-run warehouse's stock location (settings.locations) and warehouses. */
  ids: { stockLocation: number; warehouse: number; externalWarehouse: number };
  /** All records of a model (copies). */
  records(model: string): Rec[];
  /** On hand (sum of quants) of a sku at a location. */
  quantity(sku: string, locationId?: number): number;
  stats(): SandboxStats;
  /** `openConnection(odooConnector, { ...sandbox.connection, clock })`. */
  connection: { config: { url: string; baseUrl: string; database: string; startAt: string; warehouseId: number; defaultPartnerId: number }; credentials: { apiKey: string } };
  close(): Promise<void>;
}

class OdooError extends Error {
  constructor(readonly status: number, readonly odooName: string, message: string) {
    super(message);
  }
}
const userError = (m: string) => new OdooError(422, 'odoo.exceptions.UserError', m);
const odt = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/**
 * An in-process Odoo 19 External JSON-2 API (`POST /json/2/<model>/<method>`, `Authorization: bearer <key>`,
 * `X-Odoo-Database`) over a tiny ORM: `search`, `search_read`, `web_search_read` (specification with many2one /
 * one2many sub-fields), `read`, `search_count`, `create`, `write` on product.product, res.partner, res.country,
 * stock.warehouse, stock.location, stock.quant, sale.order(.line), stock.picking, stock.move, and the actions the
 * connector calls: `sale.order.action_confirm` (reserves stock, creates the delivery) / `action_cancel`,
 * `stock.quant.action_apply_inventory` (conflict wizard when the quant moved since counted),
 * `stock.picking.button_validate` (backorder wizard on partial quantities; `skip_backorder` /
 * `picking_ids_not_to_backorder` answer it), the return wizard `stock.return.picking` (`create`,
 * `action_create_returns`). Deliveries of the ERP-run warehouse are validated with a tracking ref as time passes.
 */
export async function startOdooSandbox(opts: OdooSandboxOptions): Promise<OdooSandbox> {
  const store = new SandboxStore({ ...opts, ordersPerHour: 0, backlog: 0 });
  const apiKey = opts.apiKey ?? 'odoo-sandbox-api-key';
  const database = opts.database ?? 'switchyard-demo';
  const window = new FixedWindow(opts.requestsPerMinute ?? 300, 60_000);
  const limited = opts.rateLimits !== false;
  const shipAfter = (opts.shipAfterMinutes ?? 45) * 60_000;
  const whCode = opts.warehouseCode ?? 'WH-COLUMBUS';

  const fields: Record<string, Record<string, Field>> = {
    'product.product': {},
    'res.partner': { country_id: { m2o: 'res.country' }, parent_id: { m2o: 'res.partner' } },
    'res.country': {},
    'stock.warehouse': { lot_stock_id: { m2o: 'stock.location' } },
    'stock.location': { warehouse_id: { m2o: 'stock.warehouse' }, location_id: { m2o: 'stock.location' } },
    'stock.quant': { product_id: { m2o: 'product.product' }, location_id: { m2o: 'stock.location' } },
    'sale.order': { partner_id: { m2o: 'res.partner' }, partner_shipping_id: { m2o: 'res.partner' }, warehouse_id: { m2o: 'stock.warehouse' }, order_line: { o2m: 'sale.order.line', inverse: 'order_id' }, picking_ids: { o2m: 'stock.picking', inverse: 'sale_id' } },
    'sale.order.line': { order_id: { m2o: 'sale.order' }, product_id: { m2o: 'product.product' } },
    'stock.picking': { sale_id: { m2o: 'sale.order' }, location_id: { m2o: 'stock.location' }, location_dest_id: { m2o: 'stock.location' }, carrier_id: { m2o: 'delivery.carrier' }, move_ids: { o2m: 'stock.move', inverse: 'picking_id' }, backorder_id: { m2o: 'stock.picking' }, return_id: { m2o: 'stock.picking' } },
    'stock.move': { picking_id: { m2o: 'stock.picking' }, product_id: { m2o: 'product.product' }, sale_line_id: { m2o: 'sale.order.line' } },
    'delivery.carrier': {},
    'stock.return.picking': { picking_id: { m2o: 'stock.picking' }, product_return_moves: { o2m: 'stock.return.picking.line', inverse: 'wizard_id' } },
    'stock.return.picking.line': { wizard_id: { m2o: 'stock.return.picking' }, product_id: { m2o: 'product.product' }, move_id: { m2o: 'stock.move' } },
  };
  const tables = new Map<string, Map<number, Rec>>(Object.keys(fields).map((m) => [m, new Map()]));
  const seq = new Map<string, number>();
  const table = (model: string) => {
    const t = tables.get(model);
    if (!t) throw new OdooError(404, 'werkzeug.exceptions.NotFound', `model ${model} is not available in this sandbox`);
    return t;
  };
  /** Record time: the clock's, or the due time of a step the sandbox is catching up on (so write_date never lies). */
  let stepAt: number | undefined;
  const now = () => stepAt ?? Math.floor(store.now() / 1000) * 1000;
  function insert(model: string, vals: Record<string, unknown>): Rec {
    const id = (seq.get(model) ?? 0) + 1;
    seq.set(model, id);
    const rec: Rec = { ...vals, id, create_date: odt(now()), write_date: odt(now()) };
    table(model).set(id, rec);
    return rec;
  }
  const touch = (rec: Rec, vals: Record<string, unknown> = {}) => Object.assign(rec, vals, { write_date: odt(now()) });
  const get = (model: string, id: unknown) => table(model).get(Number(id));
  const children = (model: string, inverse: string, id: number) => [...table(model).values()].filter((r) => r[inverse] === id);
  const nameOf = (model: string, r: Rec | undefined) => (r ? String(r.complete_name ?? r.display_name ?? r.name ?? `${model},${r.id}`) : '');

  // ---- seed: a company with the ERP-run warehouse, an "external" warehouse for orders fulfilled elsewhere ----
  const network = generateDemoNetwork({ ...DEMO_DEFAULTS, skus: opts.skus ?? 2000 });
  insert('res.country', { code: 'US', name: 'United States' });
  const parent = insert('stock.location', { name: 'WH', complete_name: 'WH', usage: 'view', active: true, warehouse_id: false, location_id: false });
  const stock = insert('stock.location', { name: 'Stock', complete_name: 'WH/Stock', usage: 'internal', active: true, warehouse_id: 1, location_id: parent.id });
  const ext = insert('stock.location', { name: 'Stock', complete_name: 'EXT/Stock', usage: 'internal', active: true, warehouse_id: 2, location_id: false });
  const customers = insert('stock.location', { name: 'Customers', complete_name: 'Partners/Customers', usage: 'customer', active: true, warehouse_id: false, location_id: false });
  const wh = insert('stock.warehouse', { name: network.locations.find((l) => l.code === whCode)?.name ?? whCode, code: 'WH', lot_stock_id: stock.id });
  const extWh = insert('stock.warehouse', { name: 'Fulfilled outside Odoo', code: 'EXT', lot_stock_id: ext.id });
  const carrier = insert('delivery.carrier', { name: 'UPS Ground' });
  // For orders that reach the books without a customer email (marketplaces hide it).
  const anonymous = insert('res.partner', { name: 'Marketplace customer', email: false, phone: false, country_id: 1 });
  const productCount = opts.products ?? network.products.length;
  const productBySku = new Map<string, Rec>();
  for (const p of network.products.slice(0, productCount)) productBySku.set(p.sku, insert('product.product', { default_code: p.sku, name: p.name, display_name: `[${p.sku}] ${p.name}`, type: 'consu', is_storable: true }));
  for (const row of network.stock()) {
    const product = productBySku.get(row.sku);
    if (product && row.locationCode === whCode) insert('stock.quant', { product_id: product.id, location_id: stock.id, quantity: row.onHand, reserved_quantity: 0, inventory_quantity: 0, inventory_quantity_set: false, counted_at_quantity: null });
  }

  // ---- domains ----
  function valueOf(model: string, rec: Rec, path: string): unknown {
    const [head, ...rest] = path.split('.');
    const v = rec[head];
    if (!rest.length) return v;
    const f = fields[model]?.[head];
    if (!f || !('m2o' in f)) throw new OdooError(400, 'ValueError', `Invalid field ${model}.${head} in path ${path}`);
    const sub = get(f.m2o, v);
    return sub ? valueOf(f.m2o, sub, rest.join('.')) : false;
  }
  function matches(model: string, rec: Rec, domain: unknown[]): boolean {
    for (const term of domain) {
      if (term === '&') continue;
      if (!Array.isArray(term) || term.length !== 3) throw new OdooError(400, 'ValueError', `Invalid leaf ${JSON.stringify(term)} (the sandbox supports implicit AND of [field, op, value])`);
      const [path, op, want] = term as [string, string, unknown];
      const v = valueOf(model, rec, path);
      const ok = (() => {
        switch (op) {
          case '=': return v === want || (want === false && (v === undefined || v === null));
          case '!=': return v !== want;
          case 'in': return (want as unknown[]).includes(v);
          case 'not in': return !(want as unknown[]).includes(v);
          case '>': return (v as number | string) > (want as number | string);
          case '>=': return (v as number | string) >= (want as number | string);
          case '<': return (v as number | string) < (want as number | string);
          case '<=': return (v as number | string) <= (want as number | string);
          case 'ilike': return typeof v === 'string' && v.toLowerCase().includes(String(want).toLowerCase());
          case '=ilike': return typeof v === 'string' && v.toLowerCase() === String(want).toLowerCase();
          case 'child_of': {
            // Locations only (the connector's use): the record's location or any of its parents.
            for (let cur = get('stock.location', v); cur; cur = get('stock.location', cur.location_id)) if (cur.id === Number(want)) return true;
            return false;
          }
          default: throw new OdooError(400, 'ValueError', `Invalid domain operator ${op}`);
        }
      })();
      if (!ok) return false;
    }
    return true;
  }
  function search(model: string, domain: unknown[] = [], p: { offset?: number; limit?: number; order?: string } = {}): Rec[] {
    const [field = 'id', dir = 'asc'] = (p.order ?? 'id asc').split(',')[0].trim().split(/\s+/);
    const all = [...table(model).values()].filter((r) => matches(model, r, domain))
      .sort((a, b) => ((a[field] as number) < (b[field] as number) ? -1 : (a[field] as number) > (b[field] as number) ? 1 : a.id - b.id) * (dir.toLowerCase() === 'desc' ? -1 : 1));
    return all.slice(p.offset ?? 0, p.limit ? (p.offset ?? 0) + p.limit : undefined);
  }
  /** `read`: many2one as `[id, display_name]` or false, one2many as ids. */
  function readFlat(model: string, rec: Rec, names?: string[]): Record<string, unknown> {
    const out: Record<string, unknown> = { id: rec.id };
    const keys = names?.length ? names : [...Object.keys(rec), ...Object.keys(fields[model])];
    for (const k of keys) {
      const f = fields[model][k];
      if (f && 'm2o' in f) {
        const sub = get(f.m2o, rec[k]);
        out[k] = sub ? [sub.id, nameOf(f.m2o, sub)] : false;
      } else if (f && 'o2m' in f) out[k] = children(f.o2m, f.inverse, rec.id).map((c) => c.id);
      else out[k] = rec[k] ?? false;
    }
    return out;
  }
  /** `web_search_read` specification: sub-specifications for relations. */
  function readSpec(model: string, rec: Rec, spec: Record<string, { fields?: Record<string, unknown> }>): Record<string, unknown> {
    const out: Record<string, unknown> = { id: rec.id };
    for (const [k, sub] of Object.entries(spec)) {
      const f = fields[model][k];
      if (f && 'm2o' in f) {
        const r = get(f.m2o, rec[k]);
        out[k] = r ? readSpec(f.m2o, r, (sub?.fields ?? {}) as Record<string, { fields?: Record<string, unknown> }>) : false;
        if (r && sub?.fields && 'display_name' in sub.fields) (out[k] as Record<string, unknown>).display_name = nameOf(f.m2o, r);
      } else if (f && 'o2m' in f) out[k] = children(f.o2m, f.inverse, rec.id).map((c) => readSpec(f.o2m, c, (sub?.fields ?? {}) as Record<string, { fields?: Record<string, unknown> }>));
      else out[k] = k === 'display_name' ? nameOf(model, rec) : rec[k] ?? false;
    }
    return out;
  }
  const idsOf = (model: string, ids: unknown) => {
    if (!Array.isArray(ids)) throw new OdooError(422, 'TypeError', `${model}: ids must be a list`);
    return ids.map((id) => {
      const r = get(model, id);
      if (!r) throw new OdooError(422, 'odoo.exceptions.MissingError', `Record does not exist or has been deleted. (Record: ${model}(${id},))`);
      return r;
    });
  };

  // ---- business methods ----
  function reserve(productId: number, locationId: number, qty: number): number {
    let left = qty;
    for (const q of search('stock.quant', [['product_id', '=', productId], ['location_id', '=', locationId]])) {
      const take = Math.min(left, (q.quantity as number) - (q.reserved_quantity as number));
      if (take > 0) {
        touch(q, { reserved_quantity: (q.reserved_quantity as number) + take });
        left -= take;
      }
    }
    return qty - left;
  }
  function unreserve(productId: number, locationId: number, qty: number): void {
    let left = qty;
    for (const q of search('stock.quant', [['product_id', '=', productId], ['location_id', '=', locationId]])) {
      const give = Math.min(left, q.reserved_quantity as number);
      if (give > 0) {
        touch(q, { reserved_quantity: (q.reserved_quantity as number) - give });
        left -= give;
      }
    }
  }
  function moveStock(productId: number, locationId: number, delta: number): void {
    const [q] = search('stock.quant', [['product_id', '=', productId], ['location_id', '=', locationId]]);
    if (q) touch(q, { quantity: (q.quantity as number) + delta });
    else insert('stock.quant', { product_id: productId, location_id: locationId, quantity: delta, reserved_quantity: 0, inventory_quantity: 0, inventory_quantity_set: false });
  }
  let pickingSeq = 0;
  function newPicking(vals: Record<string, unknown>, code: 'outgoing' | 'incoming'): Rec {
    pickingSeq++;
    const prefix = code === 'outgoing' ? 'OUT' : 'IN';
    const whName = vals.location_id === ext.id || vals.location_dest_id === ext.id ? 'EXT' : 'WH';
    return insert('stock.picking', { name: `${whName}/${prefix}/${String(pickingSeq).padStart(5, '0')}`, picking_type_code: code, state: 'draft', carrier_tracking_ref: false, carrier_id: carrier.id, backorder_id: false, return_id: false, date_done: false, origin: false, ...vals });
  }
  function assign(picking: Rec): void {
    const moves = children('stock.move', 'picking_id', picking.id);
    const src = picking.location_id as number;
    for (const m of moves) if (m.state !== 'done' && m.state !== 'cancel') {
      const got = picking.picking_type_code === 'outgoing' ? reserve(m.product_id as number, src, (m.product_uom_qty as number) - (m.reserved as number ?? 0)) : (m.product_uom_qty as number);
      touch(m, { reserved: ((m.reserved as number) ?? 0) + got, state: ((m.reserved as number) ?? 0) + got >= (m.product_uom_qty as number) ? 'assigned' : 'confirmed' });
    }
    touch(picking, { state: moves.every((m) => m.state === 'assigned') ? 'assigned' : 'confirmed' });
  }
  function confirmSale(order: Rec): void {
    if (order.state === 'sale') return;
    if (order.state === 'cancel') throw userError(`Sale order ${order.name} is cancelled.`);
    touch(order, { state: 'sale' });
    const w = get('stock.warehouse', order.warehouse_id) ?? wh;
    const picking = newPicking({ sale_id: order.id, origin: order.name, location_id: w.lot_stock_id, location_dest_id: customers.id, partner_id: order.partner_shipping_id || order.partner_id, scheduled_date: odt(now()) }, 'outgoing');
    for (const l of children('sale.order.line', 'order_id', order.id)) {
      insert('stock.move', { picking_id: picking.id, product_id: l.product_id, product_uom_qty: l.product_uom_qty, quantity: 0, picked: false, reserved: 0, sale_line_id: l.id, state: 'confirmed' });
    }
    assign(picking);
  }
  function validate(picking: Rec, context: Record<string, unknown>): unknown {
    if (picking.state === 'done') return true;
    if (picking.state === 'cancel') throw userError(`${picking.name} is cancelled.`);
    const moves = children('stock.move', 'picking_id', picking.id).filter((m) => m.state !== 'cancel');
    if (moves.every((m) => !(m.quantity as number))) throw userError('You cannot validate a transfer if no quantities are reserved nor done. You can use the info tooltip to set the quantities.');
    const partial = moves.some((m) => (m.quantity as number) < (m.product_uom_qty as number));
    if (partial && !context.skip_backorder) {
      return { type: 'ir.actions.act_window', name: 'Create Backorder?', res_model: 'stock.backorder.confirmation', view_mode: 'form', target: 'new', context: { button_validate_picking_ids: [picking.id], default_pick_ids: [[4, picking.id]] } };
    }
    const outgoing = picking.picking_type_code === 'outgoing';
    const rest: Array<{ m: Rec; qty: number }> = [];
    for (const m of moves) {
      const done = m.quantity as number;
      const src = picking.location_id as number;
      const dest = picking.location_dest_id as number;
      if (outgoing) {
        unreserve(m.product_id as number, src, (m.reserved as number) ?? 0);
        moveStock(m.product_id as number, src, -done);
      } else if (get('stock.location', dest)?.usage === 'internal') moveStock(m.product_id as number, dest, done);
      if (done < (m.product_uom_qty as number)) rest.push({ m, qty: (m.product_uom_qty as number) - done });
      touch(m, { state: 'done', product_uom_qty: done, reserved: 0 });
    }
    touch(picking, { state: 'done', date_done: odt(now()) });
    const noBackorder = Array.isArray(context.picking_ids_not_to_backorder) && (context.picking_ids_not_to_backorder as number[]).includes(picking.id);
    if (rest.length && !noBackorder) {
      const back = newPicking({ sale_id: picking.sale_id, origin: picking.origin, location_id: picking.location_id, location_dest_id: picking.location_dest_id, partner_id: picking.partner_id, backorder_id: picking.id }, picking.picking_type_code as 'outgoing');
      for (const r of rest) insert('stock.move', { picking_id: back.id, product_id: r.m.product_id, product_uom_qty: r.qty, quantity: 0, picked: false, reserved: 0, sale_line_id: r.m.sale_line_id, state: 'confirmed' });
      assign(back);
    }
    return true;
  }

  /** The ERP-run warehouse's team: deliveries of WH validated with a tracking ref once due. */
  function advance(): void {
    if (shipAfter <= 0) return;
    for (const p of [...table('stock.picking').values()]) {
      if (p.picking_type_code !== 'outgoing' || p.location_id !== stock.id || p.state !== 'assigned') continue;
      const due = Date.parse(`${String(p.create_date).replace(' ', 'T')}Z`) + shipAfter;
      if (due > store.now()) continue;
      stepAt = due;
      for (const m of children('stock.move', 'picking_id', p.id)) touch(m, { quantity: m.product_uom_qty, picked: true });
      touch(p, { carrier_tracking_ref: `1Z${String(p.id).padStart(16, '0')}` });
      validate(p, {});
      stepAt = undefined;
      store.pushes.shipments.push({ id: String(p.id), at: store.nowIso(), orderSeq: 0, orderId: String(p.sale_id), lines: children('stock.move', 'picking_id', p.id).map((m, i) => ({ lineIndex: i + 1, lineId: String(m.sale_line_id), sku: String(get('product.product', m.product_id)?.default_code), quantity: m.quantity as number })), carrier: 'UPS Ground', trackingNumber: String(p.carrier_tracking_ref), location: String(stock.id) });
    }
  }

  let saleSeq = 0;
  type Body = Record<string, unknown> & { ids?: number[]; context?: Record<string, unknown> };
  function call(model: string, method: string, b: Body): unknown {
    const ctx = b.context ?? {};
    switch (method) {
      case 'context_get': return { lang: 'en_US', tz: 'UTC', uid: 2 };
      case 'search': return search(model, b.domain as unknown[], b as object).map((r) => r.id);
      case 'search_count': return search(model, b.domain as unknown[]).length;
      case 'search_read': return search(model, b.domain as unknown[], b as object).map((r) => readFlat(model, r, b.fields as string[]));
      case 'read': return idsOf(model, b.ids).map((r) => readFlat(model, r, b.fields as string[]));
      case 'web_search_read': {
        const all = search(model, b.domain as unknown[], { order: b.order as string });
        const page = all.slice((b.offset as number) ?? 0, b.limit ? ((b.offset as number) ?? 0) + (b.limit as number) : undefined);
        return { length: all.length, records: page.map((r) => readSpec(model, r, (b.specification ?? {}) as Record<string, { fields?: Record<string, unknown> }>)) };
      }
      case 'create': return createRecords(model, b.vals_list as Array<Record<string, unknown>>, ctx);
      case 'write': {
        const vals = (b.vals ?? {}) as Record<string, unknown>;
        for (const r of idsOf(model, b.ids)) {
          if (model === 'stock.quant' && 'inventory_quantity' in vals) touch(r, { inventory_quantity: vals.inventory_quantity, inventory_quantity_set: true, counted_at_quantity: r.quantity });
          else touch(r, vals);
        }
        return true;
      }
    }
    const recs = idsOf(model, b.ids);
    switch (`${model}.${method}`) {
      case 'sale.order.action_confirm': recs.forEach(confirmSale); return true;
      case 'sale.order.action_cancel':
        for (const o of recs) {
          for (const p of children('stock.picking', 'sale_id', o.id)) {
            if (p.state === 'done') throw userError(`You cannot cancel ${o.name}: delivery ${p.name} is done.`);
            for (const m of children('stock.move', 'picking_id', p.id)) { unreserve(m.product_id as number, p.location_id as number, (m.reserved as number) ?? 0); touch(m, { state: 'cancel', reserved: 0 }); }
            touch(p, { state: 'cancel' });
          }
          touch(o, { state: 'cancel' });
          store.pushes.cancellations.push({ at: store.nowIso(), orderSeq: 0, orderId: String(o.id), accepted: true });
        }
        return true;
      case 'stock.quant.action_apply_inventory':
        if (!ctx.inventory_mode) throw userError('Only a stock manager can apply inventory adjustments (inventory_mode).');
        for (const q of recs) {
          if (q.counted_at_quantity !== null && q.counted_at_quantity !== undefined && q.counted_at_quantity !== q.quantity) {
            return { type: 'ir.actions.act_window', res_model: 'stock.inventory.conflict', target: 'new', context: { default_quant_ids: [q.id] } };
          }
        }
        for (const q of recs) {
          const previous = q.quantity as number;
          touch(q, { quantity: q.inventory_quantity, inventory_quantity_set: false, counted_at_quantity: null });
          store.pushes.stock.push({ at: store.nowIso(), sku: String(get('product.product', q.product_id)?.default_code), location: String(q.location_id), quantity: q.quantity as number, previous, accepted: true });
        }
        return true;
      case 'stock.picking.button_validate': {
        let result: unknown = true;
        for (const p of recs) result = validate(p, ctx);
        return result;
      }
      case 'stock.return.picking.action_create_returns': {
        const w = recs[0];
        const original = get('stock.picking', w.picking_id)!;
        const lines = children('stock.return.picking.line', 'wizard_id', w.id).filter((l) => (l.quantity as number) > 0);
        if (!lines.length) throw userError('Please specify at least one non-zero quantity.');
        const back = newPicking({ sale_id: original.sale_id, origin: `Return of ${original.name}`, location_id: customers.id, location_dest_id: original.location_id, partner_id: original.partner_id, return_id: original.id }, 'incoming');
        for (const l of lines) insert('stock.move', { picking_id: back.id, product_id: l.product_id, product_uom_qty: l.quantity, quantity: 0, picked: false, reserved: 0, sale_line_id: get('stock.move', l.move_id)?.sale_line_id ?? false, state: 'confirmed' });
        assign(back);
        return { type: 'ir.actions.act_window', res_model: 'stock.picking', res_id: back.id, view_mode: 'form', context: {} };
      }
      default: throw new OdooError(404, 'werkzeug.exceptions.NotFound', `The method ${method} of model ${model} is not available in this sandbox`);
    }
  }
  function createRecords(model: string, list: Array<Record<string, unknown>>, ctx: Record<string, unknown>): number[] {
    if (!Array.isArray(list)) throw new OdooError(422, 'TypeError', `${model}.create() needs vals_list`);
    return list.map((vals) => {
      switch (model) {
        case 'sale.order': {
          if (!get('res.partner', vals.partner_id)) throw new OdooError(422, 'odoo.exceptions.ValidationError', 'partner_id: a customer is required');
          const lines = (vals.order_line ?? []) as Array<[number, number, Record<string, unknown>]>;
          if (vals.warehouse_id !== undefined && !get('stock.warehouse', vals.warehouse_id)) throw new OdooError(422, 'odoo.exceptions.MissingError', `stock.warehouse(${vals.warehouse_id}) does not exist`);
          const order = insert('sale.order', { ...vals, order_line: undefined, name: `S${String(++saleSeq).padStart(5, '0')}`, state: 'draft', warehouse_id: vals.warehouse_id ?? wh.id, client_order_ref: vals.client_order_ref ?? false, origin: vals.origin ?? false });
          for (const [cmd, , l] of lines) {
            if (cmd !== 0) throw new OdooError(422, 'ValueError', 'order_line: only (0, 0, vals) commands are supported');
            if (!get('product.product', l.product_id)) throw new OdooError(422, 'odoo.exceptions.MissingError', `product.product(${l.product_id}) does not exist`);
            insert('sale.order.line', { ...l, order_id: order.id, name: l.name ?? nameOf('product.product', get('product.product', l.product_id)) });
          }
          return order.id;
        }
        case 'stock.return.picking': {
          const picking = get('stock.picking', vals.picking_id ?? ctx.active_id);
          if (!picking || picking.state !== 'done') throw userError('You may only return Done pickings.');
          const w = insert('stock.return.picking', { picking_id: picking.id, location_id: picking.location_id });
          for (const m of children('stock.move', 'picking_id', picking.id)) if ((m.quantity as number) > 0) insert('stock.return.picking.line', { wizard_id: w.id, product_id: m.product_id, move_id: m.id, quantity: 0 });
          return w.id;
        }
        case 'stock.quant':
          if (!ctx.inventory_mode) throw userError('Quants are created in inventory mode only.');
          return insert('stock.quant', { product_id: vals.product_id, location_id: vals.location_id, quantity: 0, reserved_quantity: 0, inventory_quantity: vals.inventory_quantity ?? 0, inventory_quantity_set: true, counted_at_quantity: 0 }).id;
        case 'res.partner':
          return insert('res.partner', { email: false, phone: false, country_id: false, ...vals }).id;
        default:
          throw new OdooError(403, 'odoo.exceptions.AccessError', `You are not allowed to create ${model} records in this sandbox`);
      }
    });
  }

  const app = express();
  app.use(express.json({ limit: '5mb' }));
  app.post('/json/2/:model/:method', (req: Request, res: Response) => {
    const op = `${req.params.model}.${req.params.method}`;
    const fail = (e: OdooError) => {
      store.record(op, e.status, e.status === 429);
      res.status(e.status).json({ name: e.odooName, message: e.message, arguments: [e.message], context: {}, debug: '' });
    };
    if ((req.get('authorization') ?? '').toLowerCase() !== `bearer ${apiKey}`.toLowerCase()) return fail(new OdooError(401, 'werkzeug.exceptions.Unauthorized', 'Invalid apikey'));
    if (req.get('x-odoo-database') && req.get('x-odoo-database') !== database) return fail(new OdooError(404, 'werkzeug.exceptions.NotFound', `database ${req.get('x-odoo-database')} not found`));
    if (limited) {
      const admitted = window.tryTake(store.now());
      if (admitted !== true) {
        res.set('retry-after', String(Math.ceil(admitted / 1000)));
        return fail(new OdooError(429, 'werkzeug.exceptions.TooManyRequests', 'Too many requests'));
      }
    }
    try {
      advance();
      const out = call(String(req.params.model), String(req.params.method), (req.body ?? {}) as Body);
      store.record(op, 200, false);
      res.json(out ?? null);
    } catch (e) {
      if (e instanceof OdooError) return fail(e);
      fail(new OdooError(500, 'builtins.Exception', (e as Error).message));
    }
  });
  app.use((req, res) => { store.record(`${req.method} ${req.path}`, 404, false); res.status(404).json({ name: 'werkzeug.exceptions.NotFound', message: 'Not Found', arguments: [], context: {}, debug: '' }); });

  const server = await listen(app, opts.port);
  return {
    vendor: 'odoo',
    baseUrl: server.baseUrl,
    store,
    pushes: store.pushes,
    ids: { stockLocation: stock.id, warehouse: wh.id, externalWarehouse: extWh.id },
    records: (model) => {
      advance();
      return [...table(model).values()].map((r) => ({ ...r }));
    },
    quantity: (sku, locationId = stock.id) => {
      advance();
      const p = productBySku.get(sku);
      return p ? search('stock.quant', [['product_id', '=', p.id], ['location_id', '=', locationId]]).reduce((n, q) => n + (q.quantity as number), 0) : 0;
    },
    stats: () => store.stats(),
    connection: { config: { url: server.baseUrl, baseUrl: server.baseUrl, database, startAt: new Date(store.now() - 60_000).toISOString(), warehouseId: extWh.id, defaultPartnerId: anonymous.id }, credentials: { apiKey } },
    close: server.close,
  };
}
