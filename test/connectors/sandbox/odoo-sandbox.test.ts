import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { openConnection } from '../../../src/connectors/sdk/connector';
import { ConnectorError } from '../../../src/connectors/sdk/connector-error';
import type { CanonicalShipment, CanonicalStockLevel, CreateOrderCommand } from '../../../src/connectors/sdk/canonical';
import { odooConnector } from '../../../src/connectors/odoo/odoo.connector';
import { type OdooSandbox, startOdooSandbox } from '../../../src/connectors/sandbox';

const T0 = Date.parse('2026-03-02T12:00:00Z');

describe('Odoo 19 JSON-2 sandbox with the real Odoo connector', () => {
  let sb: OdooSandbox | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  async function setup(extra: Partial<Parameters<typeof startOdooSandbox>[0]> = {}) {
    const clock = new VirtualClock(T0);
    sb = await startOdooSandbox({ seed: 1, clock, skus: 50, products: 50, shipAfterMinutes: 0, ...extra });
    const conn = openConnection(odooConnector, { config: { ...sb.connection.config, startAt: new Date(T0 - 3_600_000).toISOString() }, credentials: sb.connection.credentials, clock, random: () => 0.5 });
    return { clock, sandbox: sb, conn };
  }
  /** SKUs the ERP-run warehouse holds at least 5 of. */
  const stocked = (sandbox: OdooSandbox) => {
    const products = new Map(sandbox.records('product.product').map((p) => [p.id, String(p.default_code)]));
    return sandbox.records('stock.quant').filter((q) => q.location_id === sandbox.ids.stockLocation && (q.quantity as number) >= 5).map((q) => products.get(q.product_id as number)!);
  };
  const order = (ref: string, lines: Array<[string, number]>): CreateOrderCommand => ({
    reference: ref, name: `W-${ref}`, channel: 'web', currency: 'USD', method: 'SHIP', customer: { name: 'Ava Garcia', email: 'ava@example.com' },
    shipTo: { country: 'US', city: 'Columbus', line1: '1 Main St' }, lines: lines.map(([sku, quantity], i) => ({ lineRef: `l${i}`, sku, quantity, unitPrice: '10.00' })), idempotencyKey: ref,
  });

  test('stock per location from stock.quant, a count applied in inventory mode, a wrong API key refused', async () => {
    const { clock, sandbox, conn } = await setup();
    clock.advance(60_000);
    const { records } = await conn.readAll<CanonicalStockLevel>('inventory');
    expect(records.length).toBeGreaterThan(10);
    const sku = stocked(sandbox)[0];
    const one = records.find((r) => r.sku === sku)!;
    expect(one).toMatchObject({ externalLocationId: String(sandbox.ids.stockLocation), onHand: sandbox.quantity(sku) });

    await conn.push('setStock', { sku, externalLocationId: String(sandbox.ids.stockLocation), quantity: 7, expectedQuantity: one.onHand, idempotencyKey: 'count-1' });
    expect(sandbox.quantity(sku)).toBe(7);
    await expect(conn.push('setStock', { sku, externalLocationId: String(sandbox.ids.stockLocation), quantity: 9, expectedQuantity: 3, idempotencyKey: 'count-2' })).rejects.toThrow(/is 7 in Odoo, expected 3/);

    const bad = openConnection(odooConnector, { config: sandbox.connection.config, credentials: { apiKey: 'wrong' }, clock });
    expect((await bad.check()).ok).toBe(false);
  });

  test('sale.order create + action_confirm (idempotent by reference), a partial shipment answers the backorder wizard, deliveries read back with tracking', async () => {
    const { clock, sandbox, conn } = await setup();
    const [a, b] = stocked(sandbox);
    const wh = String(sandbox.ids.stockLocation);
    const { externalId } = await conn.push('createOrder', { ...order('FO-1', [[a, 3], [b, 1]]), externalLocationId: wh });
    expect((await conn.push('createOrder', { ...order('FO-1', [[a, 3], [b, 1]]), externalLocationId: wh })).externalId).toBe(externalId);
    const sales = sandbox.records('sale.order');
    expect(sales).toHaveLength(1);
    expect(sales[0]).toMatchObject({ id: Number(externalId), state: 'sale', client_order_ref: 'FO-1' });
    const lines = sandbox.records('sale.order.line');
    const [open] = sandbox.records('stock.picking');
    expect(open).toMatchObject({ state: 'assigned', picking_type_code: 'outgoing' });
    const before = sandbox.quantity(a);

    // Ship 2 of 3 of the first line only: Odoo asks about a backorder; the rest stays in one.
    clock.advance(60_000);
    await conn.push('createShipment', { orderExternalId: externalId!, carrier: 'UPS', trackingNumber: '1ZSANDBOX1', shippedAt: new Date(clock.now()).toISOString(), lines: [{ orderLineExternalId: String(lines[0].id), quantity: 2 }], idempotencyKey: 's1' });
    const pickings = sandbox.records('stock.picking');
    expect(pickings).toHaveLength(2);
    expect(pickings[0]).toMatchObject({ state: 'done', carrier_tracking_ref: '1ZSANDBOX1' });
    expect(pickings[1]).toMatchObject({ backorder_id: pickings[0].id, state: 'assigned' });
    expect(sandbox.quantity(a)).toBe(before - 2);
    // Sending the same shipment again changes nothing.
    await conn.push('createShipment', { orderExternalId: externalId!, carrier: 'UPS', trackingNumber: '1ZSANDBOX1', shippedAt: new Date(clock.now()).toISOString(), lines: [{ orderLineExternalId: String(lines[0].id), quantity: 2 }], idempotencyKey: 's1' });
    expect(sandbox.records('stock.picking')).toHaveLength(2);

    clock.advance(60_000);
    const { records } = await conn.readAll<CanonicalShipment>('shipments');
    expect(records.find((s) => s.status === 'SHIPPED')).toMatchObject({ orderExternalId: externalId, trackingNumber: '1ZSANDBOX1', lines: [{ sku: a, quantity: 2, orderLineExternalId: String(lines[0].id) }] });
    expect(records.filter((s) => s.status === 'PENDING')).toHaveLength(1);
  });

  test('the ERP-run warehouse validates its deliveries with tracking as time passes', async () => {
    const { clock, sandbox, conn } = await setup({ shipAfterMinutes: 45 });
    const { externalId } = await conn.push('createOrder', { ...order('FO-2', [[stocked(sandbox)[2], 1]]), externalLocationId: String(sandbox.ids.stockLocation) });
    expect(sandbox.records('sale.order')[0].warehouse_id).toBe(sandbox.ids.warehouse); // the mapped location's warehouse
    clock.advance(50 * 60_000);
    const { records } = await conn.readAll<CanonicalShipment>('shipments');
    expect(records).toEqual([expect.objectContaining({ orderExternalId: externalId, status: 'SHIPPED', carrier: 'UPS Ground', trackingNumber: expect.stringMatching(/^1Z/) })]);
  });

  test('a delivery goes to the order\'s own address; a new one reaches the order and its open delivery, and nothing once it is done', async () => {
    const { clock, sandbox, conn } = await setup({ shipAfterMinutes: 45 });
    const { externalId } = await conn.push('createOrder', { ...order('FO-4', [[stocked(sandbox)[3], 1]]), externalLocationId: String(sandbox.ids.stockLocation) });
    const sale = () => sandbox.records('sale.order').find((o) => String(o.id) === externalId)!;
    const delivery = () => sandbox.records('stock.picking').find((p) => p.sale_id === sale().id)!;
    const partner = (id: unknown) => sandbox.records('res.partner').find((p) => p.id === id)!;
    expect(partner(sale().partner_shipping_id)).toMatchObject({ type: 'delivery', street: '1 Main St', city: 'Columbus', parent_id: sale().partner_id });
    expect(delivery().partner_id).toBe(sale().partner_shipping_id);

    const update = { orderExternalId: externalId!, reference: 'FO-4', shipTo: { country: 'US', city: 'Dayton', line1: '9 Elm St', postalCode: '45402' }, idempotencyKey: 'a' };
    await conn.push('updateShipTo', update);
    await conn.push('updateShipTo', update); // again: the same contact, not a second one
    expect(partner(sale().partner_shipping_id)).toMatchObject({ type: 'delivery', street: '9 Elm St', city: 'Dayton', zip: '45402' });
    expect(delivery().partner_id).toBe(sale().partner_shipping_id);
    expect(sandbox.records('res.partner').filter((p) => p.street === '9 Elm St')).toHaveLength(1);

    clock.advance(50 * 60_000);
    await conn.readAll<CanonicalShipment>('shipments'); // the warehouse validates the delivery as time passes
    await expect(conn.push('updateShipTo', { ...update, shipTo: { ...update.shipTo, line1: '10 Elm St' } })).rejects.toMatchObject({ code: 'VENDOR', retryable: false });
  });

  test('a return through the return wizard (stock.return.picking), once per RMA', async () => {
    const { clock, sandbox, conn } = await setup({ shipAfterMinutes: 45 });
    const sku = stocked(sandbox)[3];
    const loc = String(sandbox.ids.stockLocation);
    await conn.push('createOrder', { ...order('FO-3', [[sku, 2]]), externalLocationId: loc });
    clock.advance(50 * 60_000);
    const after = sandbox.quantity(sku);
    const cmd = { reference: 'RMA-1001', orderExternalId: 'W-FO-3', externalLocationId: loc, lines: [{ sku, quantity: 1 }], idempotencyKey: 'r1' };
    const { externalId } = await conn.push('createReturn', cmd);
    const ret = sandbox.records('stock.picking').find((p) => p.id === Number(externalId))!;
    expect(ret).toMatchObject({ picking_type_code: 'incoming', state: 'assigned', return_id: expect.any(Number), origin: expect.stringContaining('RMA-1001') });
    expect(sandbox.records('stock.move').filter((m) => m.picking_id === ret.id)).toEqual([expect.objectContaining({ product_uom_qty: 1 })]);
    expect((await conn.push('createReturn', cmd)).externalId).toBe(externalId);
    expect(sandbox.records('stock.picking').filter((p) => p.picking_type_code === 'incoming')).toHaveLength(1);
    expect(sandbox.quantity(sku)).toBe(after); // expected, not yet received

    const err = await conn.push('createReturn', { ...cmd, reference: 'RMA-1002', orderExternalId: 'W-NOPE' }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err.message).toMatch(/no done delivery of order W-NOPE/);
  });

  test('past the request budget Odoo answers 429 with Retry-After, and the connector waits', async () => {
    const { clock, sandbox } = await setup({ requestsPerMinute: 5 });
    const conn = openConnection(odooConnector, { config: { ...sandbox.connection.config, requestsPerMinute: 300 }, credentials: sandbox.connection.credentials, clock, random: () => 0.5 });
    for (let i = 0; i < 5; i++) await conn.check();
    const raw = await fetch(`${sandbox.baseUrl}/json/2/res.users/context_get`, { method: 'POST', headers: { authorization: `bearer ${sandbox.connection.credentials.apiKey}`, 'content-type': 'application/json' }, body: '{}' });
    expect(raw.status).toBe(429);
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await conn.check()).ok).toBe(true);
    expect(clock.slept).toBeGreaterThan(0);
  });
});
