/**
 * Odoo has no fixture in ../shared/fixtures. Request and response shapes here follow Odoo's own documentation:
 * - External JSON-2 API, Odoo 19.0 (odoo/documentation, content/developer/reference/external_api.rst):
 *   `POST /json/2/<model>/<method>`, `Authorization: bearer <key>`, optional `X-Odoo-Database`, named parameters
 *   in the body (`ids`, `context`, ...), the method's return value as the 200 body, errors as 4xx/5xx with
 *   `{name, message, arguments, context, debug}`.
 * - ORM method signatures (odoo/odoo 19.0): `search_read(domain, fields, offset, limit, order)`,
 *   `web_search_read(domain, specification, offset, limit, order, count_limit)` → `{length, records}` with many2one
 *   sub-specifications as `{id, ...}`, `create(vals_list)` → ids, `write(vals)`, `sale.order.action_confirm`,
 *   `stock.quant.action_apply_inventory` (returns the `stock.inventory.conflict` wizard when outdated),
 *   `stock.picking.button_validate` (returns the `stock.backorder.confirmation` wizard on partial quantities; the
 *   wizard's `process` re-validates with `skip_backorder` / `picking_ids_not_to_backorder`).
 * Odoo datetimes are zone-less UTC `YYYY-MM-DD HH:MM:SS`; empty values are `false`.
 */
import nock from 'nock';
import { odooDatetime } from '../../../src/connectors/odoo/odoo.mapper';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export const HOST = 'https://erp.odoo.test';

export function quant(id: number, updatedAt: string, o: Partial<{ productId: number; sku: string | false; locationId: number; quantity: number; reserved: number }> = {}): Json {
  const productId = o.productId ?? id;
  return {
    id,
    product_id: { id: productId, default_code: o.sku === undefined ? `FURN_${productId}` : o.sku, display_name: `[FURN_${productId}] Desk Combination` },
    location_id: { id: o.locationId ?? 8, complete_name: 'WH/Stock' },
    quantity: o.quantity ?? 10,
    reserved_quantity: o.reserved ?? 2,
    write_date: odooDatetime(updatedAt),
  };
}

/** The same quant as `search_read` returns it (many2one as `[id, display_name]`). */
export function quantRow(q: Json): Json {
  return { id: q.id, product_id: [q.product_id.id, q.product_id.display_name], location_id: [q.location_id.id, q.location_id.complete_name], quantity: q.quantity, reserved_quantity: q.reserved_quantity };
}

export function picking(id: number, updatedAt: string, state = 'done'): Json {
  return {
    id,
    name: `WH/OUT/${String(id).padStart(5, '0')}`,
    state,
    origin: 'S00042',
    carrier_tracking_ref: state === 'done' ? '1Z999AA10123456784' : false,
    carrier_id: { id: 2, name: 'UPS Ground' },
    sale_id: { id: 42, name: 'S00042', client_order_ref: 'shopify-1001' },
    location_id: { id: 8 },
    create_date: '2026-01-09 08:00:00',
    write_date: odooDatetime(updatedAt),
    date_done: state === 'done' ? odooDatetime(updatedAt) : false,
    move_ids: [
      { id: 101, product_id: { id: 7, default_code: 'FURN_7' }, product_uom_qty: 2, quantity: 2, sale_line_id: { id: 501 } },
      { id: 102, product_id: { id: 9, default_code: 'FURN_9' }, product_uom_qty: 1, quantity: 0, sale_line_id: { id: 502 } },
    ],
  };
}

export interface OdooCall {
  model: string;
  method: string;
  body: Json;
  headers: Record<string, unknown>;
}

/**
 * A scripted Odoo: every JSON-2 call is logged and answered by `handlers["model.method"]` (a value, or a function
 * of the body). Unknown routes answer 404 as Odoo does for an unknown model/method.
 */
export function odooServer(handlers: Record<string, Json | ((body: Json, n: number) => Json)>): OdooCall[] {
  const calls: OdooCall[] = [];
  const counts: Record<string, number> = {};
  nock(HOST)
    .persist()
    .post(/^\/json\/2\/[^/]+\/[^/]+$/)
    .reply(function (uri: string, body: Json) {
      const [, , , model, method] = uri.split('/');
      const key = `${model}.${method}`;
      calls.push({ model, method, body, headers: this.req.headers });
      counts[key] = (counts[key] ?? 0) + 1;
      const h = handlers[key];
      if (h === undefined) return [404, { name: 'werkzeug.exceptions.NotFound', message: `no handler for ${key}`, arguments: [], context: {}, debug: '' }];
      const out = typeof h === 'function' ? h(body, counts[key]) : h;
      return Array.isArray(out) && out.length === 2 && typeof out[0] === 'number' && out[0] >= 200 && typeof out[1] === 'object' && !Array.isArray(out[1]) ? out : [200, JSON.stringify(out === undefined ? null : out), { 'content-type': 'application/json; charset=utf-8' }];
    });
  return calls;
}
