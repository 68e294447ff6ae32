// Odoo 19 External JSON-2 API — followed doc: odoo/documentation content/developer/reference/external_api.rst
// (19.0) and the ORM/stock/sale method signatures listed in odoo-fixtures.ts. No vendor fixture exists for Odoo.
import nock from 'nock';
import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { openConnection } from '../../../src/connectors/sdk/connector';
import { odooConnector } from '../../../src/connectors/odoo/odoo.connector';
import { mapOdooPicking } from '../../../src/connectors/odoo/odoo.mapper';
import { HOST, odooServer, picking, quant, quantRow } from './odoo-fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const open = (config: object = {}) =>
  openConnection(odooConnector, { config: { url: HOST, database: 'prod', startAt: '2026-01-09T00:00:00Z', ...config }, credentials: { apiKey: 'secret-key' }, clock: new VirtualClock(Date.parse('2026-01-10T12:00:00Z')), random: () => 0.5 });

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

const order = {
  reference: 'shopify-1001', name: '#1001', channel: 'shopify', currency: 'EUR', method: 'SHIP' as const, placedAt: '2026-01-10T09:30:00.000Z',
  customer: { email: 'deco@example.com', name: 'Deco Addict' },
  lines: [{ lineRef: 'l1', sku: 'FURN_7', quantity: 2, unitPrice: '149.50', title: 'Desk' }, { lineRef: 'l2', sku: 'FURN_9', quantity: 1, unitPrice: '20.00' }],
  idempotencyKey: 'k1',
};

describe('requests follow the JSON-2 contract', () => {
  test('bearer API key, X-Odoo-Database, named parameters; the level is the sum of the pair\'s quants (lots)', async () => {
    const changed = quant(31, '2026-01-10T08:00:00Z', { productId: 7, quantity: 4, reserved: 1 });
    const lot2 = { ...quantRow(quant(32, '2026-01-01T00:00:00Z', { productId: 7, quantity: 6, reserved: 3 })) };
    const other = quantRow(quant(33, '2026-01-01T00:00:00Z', { productId: 7, locationId: 99, quantity: 50 }));
    const calls = odooServer({
      'stock.quant.web_search_read': { length: 1, records: [changed] },
      'stock.quant.search_read': [quantRow(changed), lot2, other],
    });
    const { records, state } = await open().readAll('inventory');
    expect(records).toEqual([{ sku: 'FURN_7', externalItemId: '7', externalLocationId: '8', onHand: 10, available: 6, updatedAt: '2026-01-10T08:00:00.000Z' }]);
    expect(state.cursor).toBe('2026-01-10T11:59:55.000Z');
    expect(calls[0].headers).toMatchObject({ authorization: 'bearer secret-key', 'x-odoo-database': 'prod', 'content-type': 'application/json' });
    expect(calls[0].body).toEqual({
      domain: [['location_id.usage', '=', 'internal'], ['write_date', '>=', '2026-01-09 00:00:00'], ['write_date', '<', '2026-01-10 11:59:55']],
      specification: { product_id: { fields: { default_code: {}, display_name: {} } }, location_id: { fields: { complete_name: {} } }, quantity: {}, reserved_quantity: {}, write_date: {} },
      limit: 200,
      order: 'id asc',
    });
    expect(calls[1].body).toEqual({ domain: [['product_id', 'in', [7]], ['location_id', 'in', [8]]], fields: ['product_id', 'location_id', 'quantity', 'reserved_quantity'] });
  });

  test('an Odoo error body (401 Invalid apikey) is an AUTH error that keeps the body', async () => {
    nock(HOST).post('/json/2/res.users/context_get').reply(401, { name: 'werkzeug.exceptions.Unauthorized', message: 'Invalid apikey', arguments: ['Invalid apikey', 401], context: {}, debug: '' });
    const r = await open().check();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ code: 'AUTH', status: 401, operation: 'res.users.context_get', details: { message: 'Invalid apikey' } });
  });

  test('shipments: done and open deliveries map with tracking, sale order and sale lines', () => {
    expect(mapOdooPicking(picking(5, '2026-01-09T10:00:00Z'))).toEqual({
      externalId: '5', orderExternalId: '42', status: 'SHIPPED', carrier: 'UPS Ground', trackingNumber: '1Z999AA10123456784', externalLocationId: '8',
      lines: [{ orderLineExternalId: '501', sku: 'FURN_7', quantity: 2 }], createdAt: '2026-01-09T08:00:00.000Z', updatedAt: '2026-01-09T10:00:00.000Z',
    });
    expect(mapOdooPicking(picking(6, '2026-01-09T10:00:00Z', 'assigned'))).toMatchObject({ status: 'PENDING', lines: [{ quantity: 2 }, { quantity: 1 }] });
    expect(() => mapOdooPicking({ ...picking(7, '2026-01-09T10:00:00Z'), state: 'teleported' })).toThrow(/state/);
  });
});

describe('sale.order push', () => {
  test('creates the order with client_order_ref and confirms it', async () => {
    const calls = odooServer({
      'sale.order.search_read': [],
      'product.product.search_read': [{ id: 7, default_code: 'FURN_7' }, { id: 9, default_code: 'FURN_9' }],
      'res.partner.search_read': [{ id: 14 }],
      'sale.order.create': [42],
      'sale.order.action_confirm': true,
    });
    expect(await open({ warehouseId: 1 }).push('createOrder', order)).toEqual({ externalId: '42' });
    expect(calls.map((c) => `${c.model}.${c.method}`)).toEqual(['sale.order.search_read', 'product.product.search_read', 'res.partner.search_read', 'sale.order.create', 'sale.order.action_confirm']);
    expect(calls[0].body).toMatchObject({ domain: [['client_order_ref', '=', 'shopify-1001']] });
    expect(calls[3].body).toEqual({
      vals_list: [{
        partner_id: 14, client_order_ref: 'shopify-1001', origin: 'shopify #1001', date_order: '2026-01-10 09:30:00', warehouse_id: 1,
        order_line: [[0, 0, { product_id: 7, product_uom_qty: 2, price_unit: 149.5, name: 'Desk' }], [0, 0, { product_id: 9, product_uom_qty: 1, price_unit: 20 }]],
      }],
    });
    expect(calls[4].body).toEqual({ ids: [42] });
  });

  test('idempotent: a quotation left by a crashed run is confirmed, a confirmed order is returned, nothing is created twice', async () => {
    let calls = odooServer({ 'sale.order.search_read': [{ id: 42, state: 'draft', name: 'S00042' }], 'sale.order.action_confirm': true });
    expect(await open().push('createOrder', order)).toMatchObject({ externalId: '42' });
    expect(calls.map((c) => c.method)).toEqual(['search_read', 'action_confirm']);
    nock.cleanAll();
    calls = odooServer({ 'sale.order.search_read': [{ id: 42, state: 'sale', name: 'S00042' }] });
    expect(await open().push('createOrder', order)).toMatchObject({ externalId: '42' });
    expect(calls.map((c) => c.method)).toEqual(['search_read']);
  });

  test('an unknown sku is a non-retryable VENDOR error naming it; no order is created', async () => {
    const calls = odooServer({ 'sale.order.search_read': [], 'product.product.search_read': [{ id: 7, default_code: 'FURN_7' }] });
    await expect(open().push('createOrder', order)).rejects.toMatchObject({ code: 'VENDOR', retryable: false, record: 'FURN_9' });
    expect(calls.some((c) => c.method === 'create')).toBe(false);
  });

  test('a 5xx on create is not retried (not idempotent): the next run finds the order by reference', async () => {
    const calls = odooServer({
      'sale.order.search_read': [], 'product.product.search_read': [{ id: 7, default_code: 'FURN_7' }, { id: 9, default_code: 'FURN_9' }],
      'res.partner.search_read': [{ id: 14 }], 'sale.order.create': [502, { name: 'werkzeug.exceptions.BadGateway', message: 'Bad Gateway' }],
    });
    await expect(open().push('createOrder', order)).rejects.toMatchObject({ code: 'HTTP', status: 502, retryable: false });
    expect(calls.filter((c) => c.method === 'create')).toHaveLength(1);
  });
});

describe('ship-to address', () => {
  const shipTo = { name: 'Deco Addict', line1: '77 Santa Barbara Rd', city: 'Pleasant Hill', region: 'CA', postalCode: '94523', country: 'US' };
  /** res.partner.search_read: the customer by email, then delivery contacts under it (`existing`). */
  const partners = (existing: Json[]) => (body: Json) => (body.domain[0][0] === 'email' ? [{ id: 14 }] : existing);

  test('createOrder ships to the order\'s own address: a delivery contact under the customer (reused when it exists)', async () => {
    const calls = odooServer({
      'sale.order.search_read': [], 'product.product.search_read': [{ id: 7, default_code: 'FURN_7' }, { id: 9, default_code: 'FURN_9' }],
      'res.partner.search_read': partners([]), 'res.country.search_read': [{ id: 233 }], 'res.partner.create': [61],
      'sale.order.create': [42], 'sale.order.action_confirm': true,
    });
    expect(await open().push('createOrder', { ...order, shipTo })).toEqual({ externalId: '42' });
    const lookup = calls.filter((c) => c.model === 'res.partner' && c.method === 'search_read')[1];
    expect(lookup.body.domain).toEqual([['parent_id', '=', 14], ['type', '=', 'delivery'], ['street', '=', '77 Santa Barbara Rd'], ['city', '=', 'Pleasant Hill'], ['zip', '=', '94523']]);
    expect(calls.find((c) => c.method === 'create' && c.model === 'res.partner')!.body).toEqual({ vals_list: [{ parent_id: 14, type: 'delivery', name: 'Deco Addict',
      street: '77 Santa Barbara Rd', city: 'Pleasant Hill', zip: '94523', country_id: 233 }] });
    expect(calls.find((c) => c.model === 'sale.order' && c.method === 'create')!.body.vals_list[0]).toMatchObject({ partner_id: 14, partner_shipping_id: 61 });
    nock.cleanAll();
    const again = odooServer({
      'sale.order.search_read': [], 'product.product.search_read': [{ id: 7, default_code: 'FURN_7' }, { id: 9, default_code: 'FURN_9' }],
      'res.partner.search_read': partners([{ id: 61 }]), 'sale.order.create': [43], 'sale.order.action_confirm': true,
    });
    expect(await open().push('createOrder', { ...order, shipTo })).toEqual({ externalId: '43' });
    expect(again.some((c) => c.model === 'res.partner' && c.method === 'create')).toBe(false);
    expect(again.find((c) => c.model === 'sale.order' && c.method === 'create')!.body.vals_list[0]).toMatchObject({ partner_shipping_id: 61 });
  });

  test('updateShipTo: a delivery contact becomes the order\'s and its open deliveries\' partner; nothing left to ship is permanent', async () => {
    const update = { orderExternalId: '42', reference: 'fo-1', shipTo: { ...shipTo, line1: '1 Main St', city: 'Springfield', postalCode: '62701', region: 'IL' }, idempotencyKey: 'a' };
    const calls = odooServer({
      'sale.order.search_read': [{ id: 42, state: 'sale', name: 'S00042', partner_id: [14, 'Deco Addict'] }],
      'stock.picking.search_read': [{ id: 5 }, { id: 6 }], 'res.partner.search_read': [], 'res.country.search_read': [{ id: 233 }],
      'res.partner.create': [62], 'sale.order.write': true, 'stock.picking.write': true,
    });
    expect(await open().push('updateShipTo', update)).toEqual({ externalId: '42' });
    expect(calls.map((c) => `${c.model}.${c.method}`)).toEqual(['sale.order.search_read', 'stock.picking.search_read', 'res.partner.search_read', 'res.country.search_read',
      'res.partner.create', 'sale.order.write', 'stock.picking.write']);
    expect(calls[1].body.domain).toEqual([['sale_id', '=', 42], ['picking_type_code', '=', 'outgoing'], ['state', 'not in', ['done', 'cancel']]]);
    expect(calls[5].body).toEqual({ ids: [42], vals: { partner_shipping_id: 62 } });
    expect(calls[6].body).toEqual({ ids: [5, 6], vals: { partner_id: 62 } });
    nock.cleanAll();
    odooServer({ 'sale.order.search_read': [{ id: 42, state: 'sale', name: 'S00042', partner_id: [14, 'Deco Addict'] }], 'stock.picking.search_read': [] });
    await expect(open().push('updateShipTo', update)).rejects.toMatchObject({ code: 'VENDOR', retryable: false, record: 'fo-1', message: expect.stringContaining('no delivery left to ship') });
    nock.cleanAll();
    odooServer({ 'sale.order.search_read': [{ id: 42, state: 'cancel', name: 'S00042', partner_id: [14, 'Deco Addict'] }] });
    await expect(open().push('updateShipTo', update)).rejects.toMatchObject({ code: 'VENDOR', retryable: false });
  });
});

describe('fulfilment: outgoing picking', () => {
  const openPicking = { id: 77, state: 'assigned', move_ids: [{ id: 101, product_uom_qty: 2, sale_line_id: { id: 501 } }, { id: 102, product_uom_qty: 1, sale_line_id: { id: 502 } }] };
  const ship = { orderExternalId: '42', carrier: 'UPS', trackingNumber: '1Z999', shippedAt: '2026-01-10T12:00:00.000Z', lines: [{ orderLineExternalId: '501', quantity: 2 }], idempotencyKey: 's1' };
  const backorderWizard = { type: 'ir.actions.act_window', res_model: 'stock.backorder.confirmation', view_mode: 'form', target: 'new', context: { button_validate_picking_ids: [77], default_pick_ids: [[4, 77]] } };

  test('partial shipment: quantities and tracking written, backorder wizard answered with skip_backorder', async () => {
    const calls = odooServer({
      'stock.picking.search_read': [],
      'stock.picking.web_search_read': { length: 1, records: [openPicking] },
      'stock.move.write': true,
      'stock.picking.write': true,
      'stock.picking.button_validate': (_b: Json, n: number) => (n === 1 ? backorderWizard : true),
    });
    const res = await open().push('createShipment', ship);
    expect(res).toEqual({ externalId: '77', warnings: ['partial shipment: remaining quantities left in a backorder'] });
    const writes = calls.filter((c) => c.model === 'stock.move').map((c) => c.body);
    expect(writes).toEqual([{ ids: [102], vals: { quantity: 0, picked: false } }, { ids: [101], vals: { quantity: 2, picked: true } }]);
    expect(calls.find((c) => c.model === 'stock.picking' && c.method === 'write')!.body).toEqual({ ids: [77], vals: { carrier_tracking_ref: '1Z999' } });
    const validations = calls.filter((c) => c.method === 'button_validate').map((c) => c.body);
    expect(validations).toEqual([{ ids: [77] }, { ids: [77], context: { skip_backorder: true, button_validate_picking_ids: [77] } }]);
  });

  test('backorders: cancel passes picking_ids_not_to_backorder', async () => {
    const calls = odooServer({
      'stock.picking.search_read': [], 'stock.picking.web_search_read': { length: 1, records: [openPicking] }, 'stock.move.write': true, 'stock.picking.write': true,
      'stock.picking.button_validate': (_b: Json, n: number) => (n === 1 ? backorderWizard : true),
    });
    await open({ backorders: 'cancel' }).push('createShipment', ship);
    expect(calls.filter((c) => c.method === 'button_validate')[1].body.context).toEqual({ skip_backorder: true, button_validate_picking_ids: [77], picking_ids_not_to_backorder: [77] });
  });

  test('idempotent by tracking number; an unexpected wizard is a VENDOR error; a line not in the picking is refused', async () => {
    let calls = odooServer({ 'stock.picking.search_read': [{ id: 77 }] });
    expect(await open().push('createShipment', ship)).toMatchObject({ externalId: '77' });
    expect(calls).toHaveLength(1);
    nock.cleanAll();
    calls = odooServer({
      'stock.picking.search_read': [], 'stock.picking.web_search_read': { length: 1, records: [openPicking] }, 'stock.move.write': true, 'stock.picking.write': true,
      'stock.picking.button_validate': { type: 'ir.actions.act_window', res_model: 'confirm.stock.sms' },
    });
    await expect(open().push('createShipment', ship)).rejects.toMatchObject({ code: 'VENDOR', message: expect.stringContaining('confirm.stock.sms') });
    nock.cleanAll();
    calls = odooServer({ 'stock.picking.search_read': [], 'stock.picking.web_search_read': { length: 1, records: [openPicking] } });
    await expect(open().push('createShipment', { ...ship, lines: [{ orderLineExternalId: '999', quantity: 1 }] })).rejects.toMatchObject({ code: 'VENDOR', message: expect.stringContaining('999') });
    expect(calls.some((c) => c.method === 'write')).toBe(false);
  });
});

describe('stock counts', () => {
  const cmd = { sku: 'FURN_7', externalLocationId: '8', quantity: 12, idempotencyKey: 'c1' };

  test('existing quant: inventory_quantity then action_apply_inventory, in inventory mode', async () => {
    const calls = odooServer({ 'product.product.search_read': [{ id: 7, default_code: 'FURN_7' }], 'stock.quant.search_read': [{ id: 31, quantity: 10 }], 'stock.quant.write': true, 'stock.quant.action_apply_inventory': null });
    expect(await open().push('setStock', { ...cmd, expectedQuantity: 10 })).toEqual({ externalId: '31' });
    expect(calls.slice(2).map((c) => [c.method, c.body])).toEqual([
      ['write', { ids: [31], vals: { inventory_quantity: 12 }, context: { inventory_mode: true } }],
      ['action_apply_inventory', { ids: [31], context: { inventory_mode: true } }],
    ]);
  });

  test('no quant yet: one is created with the count; compare-and-set mismatch and outdated counts are refused', async () => {
    let calls = odooServer({ 'stock.quant.search_read': [], 'stock.quant.create': [55], 'stock.quant.action_apply_inventory': null });
    await open().push('setStock', { ...cmd, externalItemId: '7', expectedQuantity: null });
    expect(calls.find((c) => c.method === 'create')!.body).toEqual({ vals_list: [{ product_id: 7, location_id: 8, inventory_quantity: 12 }], context: { inventory_mode: true } });
    nock.cleanAll();
    odooServer({ 'stock.quant.search_read': [{ id: 31, quantity: 9 }] });
    await expect(open().push('setStock', { ...cmd, externalItemId: '7', expectedQuantity: 10 })).rejects.toMatchObject({ code: 'VENDOR', details: { actual: 9 } });
    nock.cleanAll();
    calls = odooServer({ 'stock.quant.search_read': [{ id: 31, quantity: 10 }], 'stock.quant.write': true, 'stock.quant.action_apply_inventory': { type: 'ir.actions.act_window', res_model: 'stock.inventory.conflict' } });
    await expect(open().push('setStock', { ...cmd, externalItemId: '7' })).rejects.toMatchObject({ code: 'VENDOR', retryable: true });
  });
});
