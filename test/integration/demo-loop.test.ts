import type { OdooSandbox, ShipBobSandbox, ShopifySandbox, SquareSandbox } from '../../src/connectors/sandbox';
import { loadDemoNetwork } from '../../src/db/seed/load-demo';
import { queryAvailability } from '../../src/inventory/availability.query';
import { startDemoChannels } from '../../src/demo/demo-channels';
import { createLogger } from '../../src/logger';
import { FulfillmentMethod, StockMovementReason } from '../../src/model/enums';
import { assertStockInvariants, createTestHub, type TestHub } from '../support/test-hub';

/**
 * The demo's loop with the sandbox Square (stores), ShipBob (3PL) and Odoo (ERP) beside sandbox Shopify, as
 * `npm start` wires them (startDemoChannels), driven step by step: sandbox clocks advance explicitly, syncs and
 * outbox rounds are run by hand, nothing waits on wall time.
 */
jest.setTimeout(60_000);

const HOUR = 3_600_000;

class HybridClock {
  private readonly realStart = Date.now();
  constructor(private readonly start: number, private offset = 0) {}
  now(): number {
    return this.start + (Date.now() - this.realStart) + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

describe('demo loop: POS sales, pickup orders, 3PL shipments, ERP books', () => {
  let t: TestHub;
  let demo: Awaited<ReturnType<typeof startDemoChannels>>;
  // Sandboxes' time: a day behind the hub's (its sync windows end at its now), moved on explicitly; it also
  // follows the wall clock so the vendors' rate-limit buckets refill while the hub's connectors wait for them.
  const clock = new HybridClock(Date.now() - 24 * HOUR);

  beforeAll(async () => {
    t = await createTestHub({ autoRoute: false, config: { masterKey: `test:${Buffer.alloc(32, 7).toString('base64')}` } });
    await loadDemoNetwork(t.db.dataSource, { locations: 8, skus: 50, seed: 42 });
    demo = await startDemoChannels(t.services, createLogger('silent'), { clock, skus: 50, firstPull: false });
  });
  afterAll(async () => {
    await demo?.stop();
    await t?.close();
  });

  const shopify = () => demo.sandboxes[0] as unknown as ShopifySandbox;
  const square = () => demo.sandboxes[2] as unknown as SquareSandbox;
  const shipbob = () => demo.sandboxes[3] as unknown as ShipBobSandbox;
  const odoo = () => demo.sandboxes[4] as unknown as OdooSandbox;
  const sync = (name: string, stream: string) => t.services.sync.runner.run(name, { stream, trigger: 'MANUAL' });
  const stockAt = async (sku: string, code: string) => {
    const [r] = await t.db.dataSource.query(`SELECT s.on_hand, s.reserved, s.on_hand - s.reserved - s.safety_stock AS atp FROM stock_level s JOIN product p ON p.id = s.product_id
      JOIN location l ON l.id = s.location_id WHERE p.sku = $1 AND l.code = $2`, [sku, code]);
    return r as { on_hand: number; reserved: number; atp: number };
  };
  /** A sku the store holds at least `n` of, in the hub and on Square alike. */
  const heldAt = async (code: string, n: number) => {
    const rows: { sku: string }[] = await t.db.dataSource.query(`SELECT p.sku FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id
      WHERE l.code = $1 AND s.on_hand - s.reserved - s.safety_stock >= $2 ORDER BY p.sku`, [code, n]);
    return rows.map((r) => r.sku).find((sku) => (square().count(sku, code) ?? 0) >= n)!;
  };

  test('a Shopify order routed to the 3PL goes to ShipBob; its shipment comes back as tracking on Shopify; Odoo books the order', async () => {
    const run = await sync('demo-shopify', 'orders');
    expect(run).toMatchObject({ status: 'SUCCEEDED', failed: 0 });
    const [order] = await t.db.dataSource.query(`SELECT o.id, o.external_id FROM orders o WHERE o.channel = 'demo-shopify' ORDER BY o.placed_at, o.id LIMIT 1`);
    expect(order).toBeDefined();
    const lines: { sku: string; quantity: number }[] = await t.db.dataSource.query(`SELECT sku, quantity FROM order_line WHERE order_id = $1 ORDER BY id`, [order.id]);
    for (const l of lines) await t.services.inventory.adjust({ sku: l.sku, locationCode: '3PL-MEMPHIS', delta: l.quantity, reason: StockMovementReason.RECEIPT }, 'test');
    const allocated = await t.services.orders.allocate(order.id, [{ locationCode: '3PL-MEMPHIS', lines }], 'test');
    expect(allocated).toHaveProperty('id');
    await t.services.sync.outbox.drain();

    const sent = shipbob().orders();
    expect(sent).toHaveLength(1);
    expect(sent[0].status).toBe('Processing');
    const bySku = (a: { reference_id?: unknown; sku?: string }, b: { reference_id?: unknown; sku?: string }) => String(a.reference_id ?? a.sku).localeCompare(String(b.reference_id ?? b.sku));
    expect((sent[0].products as { reference_id: string; quantity: number }[]).map((p) => ({ reference_id: p.reference_id, quantity: p.quantity })).sort(bySku)).toEqual(lines.map((l) => ({ reference_id: l.sku, quantity: l.quantity })).sort(bySku));
    // Odoo saw the order in its books (order.book: create + action_confirm).
    const sales = odoo().records('sale.order').filter((s) => s.client_order_ref === `order:${order.id}`);
    expect(sales).toHaveLength(1);
    expect(sales[0].state).toBe('sale');

    // Labelled after 30 min, gone after 2 h (sandbox timeline); the hub pulls shipments.
    clock.advance(3 * HOUR);
    const pulled = await sync('demo-shipbob', 'shipments');
    expect(pulled).toMatchObject({ status: 'SUCCEEDED', failed: 0 });
    const [fo] = await t.db.dataSource.query(`SELECT status FROM fulfillment_order WHERE order_id = $1`, [order.id]);
    expect(fo.status).toBe('SHIPPED');
    const [shipment] = await t.db.dataSource.query(`SELECT s.tracking_number FROM shipment s JOIN fulfillment_order fo ON fo.id = s.fulfillment_order_id WHERE fo.order_id = $1`, [order.id]);
    expect(shipment.tracking_number).toBe(shipbob().store.pushes.shipments[0].trackingNumber);

    // The shipment goes back to the origin channel as tracking (outbox, to demo-shopify), sent after commit.
    await t.services.sync.outbox.drain();
    const tracked = shopify().pushes.shipments.filter((s) => s.trackingNumber === shipment.tracking_number);
    expect(tracked).toHaveLength(1);
    expect(tracked[0].orderId).toBe(order.external_id);
    await assertStockInvariants(t.db.dataSource);
  });

  test('a counter sale rung up on Square lowers the store stock and the web ATP, once', async () => {
    const code = Object.values(square().locations)[0];
    const sku = await heldAt(code, 2);
    expect(sku).toBeDefined();
    // Headroom, so the simulated shoppers' sales landing in the same sync cannot take the ATP to its floor of 0
    // (availability never shows less), which would make the web's drop smaller than the units sold.
    await t.services.inventory.adjust({ sku, locationCode: code, delta: 20, reason: StockMovementReason.RECEIPT }, 'test');
    const before = await stockAt(sku, code);
    // What the web is promised from this store (availability is what storefronts query).
    const web = async () => (await queryAvailability(t.db.dataSource, { skus: [sku] }))[0].locations.find((l) => l.locationCode === code)?.available ?? 0;
    const webBefore = await web();

    const rung = square().ringUp(code, [{ sku, quantity: 2 }]);
    const run = await sync('demo-square', 'orders');
    expect(run).toMatchObject({ status: 'SUCCEEDED', failed: 0 });
    // Every sale the store rang up lands as a SALE movement: ours, and any the simulated shoppers made meanwhile.
    const sales = async () => t.db.dataSource.query(`SELECT m.reference, m.on_hand_delta FROM stock_movement m JOIN location l ON l.id = m.location_id JOIN product p ON p.id = m.product_id
      WHERE p.sku = $1 AND l.code = $2 AND m.reason = 'SALE' ORDER BY m.id`, [sku, code]) as Promise<{ reference: string; on_hand_delta: number }[]>;
    const landed = await sales();
    expect(landed).toContainEqual({ reference: `square:${rung.id}`, on_hand_delta: -2 });
    const sold = -landed.reduce((n, m) => n + m.on_hand_delta, 0);
    expect((await stockAt(sku, code)).on_hand).toBe(before.on_hand - sold);
    expect(await web()).toBe(webBefore - sold);

    // Square's window re-reads the last 72 hours: a sale already landed lands no second time.
    await sync('demo-square', 'orders');
    expect((await sales()).filter((m) => m.reference === `square:${rung.id}`)).toHaveLength(1);
    // The counter sale is not an order to route.
    const [{ n }] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM orders WHERE channel = 'demo-square'`);
    expect(n).toBe(0);
    await assertStockInvariants(t.db.dataSource);
  });

  test('a pickup order routed to a Square store reaches its POS, and its state comes back', async () => {
    const code = Object.values(square().locations)[1];
    // The simulated shoppers may have emptied the store by now: a unit arrives for the pickup.
    const sku = 'SKU-000001';
    await t.services.inventory.adjust({ sku, locationCode: code, delta: 1, reason: StockMovementReason.RECEIPT }, 'test');
    const placed = await t.services.orders.placeOrder({ channel: 'web', externalId: 'PICKUP-1', lines: [{ sku, quantity: 1, unitPrice: '12.50' }], method: FulfillmentMethod.PICKUP, pickupLocationCode: code,
      customer: { name: 'Ava Garcia', email: 'ava@example.com' } }, 'test');
    const orderId = placed.order.id;
    const allocated = await t.services.orders.allocate(orderId, [{ locationCode: code, lines: [{ sku, quantity: 1 }] }], 'test');
    expect(allocated).toHaveProperty('id');
    await t.services.sync.outbox.drain();

    const pushed = square().pushedOrders();
    expect(pushed).toHaveLength(1);
    expect(pushed[0]).toMatchObject({ location_id: square().locationId(code), state: 'OPEN', fulfillments: [{ type: 'PICKUP', state: 'PROPOSED' }], line_items: [{ catalog_object_id: square().variationId(sku), quantity: '1' }] });

    // The store prepares it (sandbox: 20 minutes): the hub's fulfilment order becomes ready for pickup.
    clock.advance(25 * 60_000);
    await sync('demo-square', 'orders');
    const [fo] = await t.db.dataSource.query(`SELECT fo.status FROM fulfillment_order fo WHERE fo.order_id = $1`, [orderId]);
    expect(fo.status).toBe('READY_FOR_PICKUP');
    const [{ n }] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM orders WHERE channel = 'demo-square'`);
    expect(n).toBe(0); // our own pickup order read back is not a new order
  });


  test('last (it moves the sandboxes an hour on): a mailed return of the shipped order to the 3PL becomes a ShipBob return order; polled back in transit, then received, refunded and restocked', async () => {
    const [order] = await t.db.dataSource.query(`SELECT o.id FROM orders o WHERE o.channel = 'demo-shopify' AND o.status = 'SHIPPED' ORDER BY o.placed_at LIMIT 1`);
    const [line] = await t.db.dataSource.query(`SELECT sku FROM order_line WHERE order_id = $1 ORDER BY line_no LIMIT 1`, [order.id]);
    const ret = await t.services.returns.create({ orderId: order.id, lines: [{ sku: line.sku, quantity: 1 }], method: 'MAIL', locationCode: '3PL-MEMPHIS' }, 'customer');
    await t.services.sync.outbox.drain();
    expect(shipbob().returns()).toEqual([expect.objectContaining({ reference_id: ret.rma, status: 'Awaiting Arrival', fulfillment_center: expect.objectContaining({ id: 152 }) })]);
    const before = await stockAt(line.sku, '3PL-MEMPHIS');

    expect(await sync('demo-shipbob', 'returns')).toMatchObject({ status: 'SUCCEEDED', updated: 1, failed: 0 });
    expect((await t.services.returns.get(ret.id))!.status).toBe('IN_TRANSIT');
    // The demo's ShipBob receives within 20 minutes and processes within 40 (every unit restocked).
    clock.advance(HOUR);
    expect(await sync('demo-shipbob', 'returns')).toMatchObject({ status: 'SUCCEEDED', updated: 1, failed: 0 });
    const done = (await t.services.returns.get(ret.id))!;
    expect(done).toMatchObject({ status: 'COMPLETED' });
    expect(done.units.map((u) => [u.sku, u.condition, u.quantity, u.locationCode])).toEqual([[line.sku, 'RESELLABLE', 1, '3PL-MEMPHIS']]);
    expect((await stockAt(line.sku, '3PL-MEMPHIS')).on_hand).toBe(before.on_hand + 1);
    expect(await sync('demo-shipbob', 'returns')).toMatchObject({ status: 'SUCCEEDED', updated: 0 });
    await assertStockInvariants(t.db.dataSource);
  });
});
