import { FulfillmentMethod, FulfillmentOrderStatus as FO, LocationCapability, LocationType, OrderStatus as OS } from '../../src/model/enums';
import { FulfillmentOrder } from '../../src/model/fulfillment-order.entity';
import { TransitionRejected } from '../../src/orders/order.service';
import { assertStockInvariants, createTestHub, type TestHub } from '../support/test-hub';

let t: TestHub;
let n = 0;
const CHICAGO = { country: 'US', city: 'Chicago', latitude: 41.88, longitude: -87.63 };

beforeAll(async () => {
  t = await createTestHub();
  const s = t.services;
  const loc = (code: string, type: LocationType, latitude: number, longitude: number, extra = {}) =>
    s.locations.upsert({ code, name: code, type, country: 'US', latitude, longitude, timeZone: 'America/Chicago', ...extra });
  await loc('WH-DALLAS', LocationType.WAREHOUSE, 32.78, -96.8, { priority: 1 });
  await loc('WH-COLUMBUS', LocationType.WAREHOUSE, 39.96, -83.0, { priority: 1 });
  await loc('ST-CHICAGO', LocationType.STORE, 41.85, -87.65, { capabilities: ['SHIP', 'PICKUP', 'CURBSIDE'], priority: 3, dailyOrderCapacity: 100 });
  for (const sku of ['TENT', 'STOVE', 'KAYAK', 'LAST']) await s.products.upsert({ sku, name: sku, tags: sku === 'KAYAK' ? ['oversize'] : [] });
  const stock: [string, string, number][] = [['TENT', 'WH-DALLAS', 50], ['TENT', 'WH-COLUMBUS', 50], ['TENT', 'ST-CHICAGO', 2],
    ['STOVE', 'WH-DALLAS', 10], ['KAYAK', 'ST-CHICAGO', 3], ['KAYAK', 'WH-DALLAS', 3], ['LAST', 'WH-COLUMBUS', 5]];
  for (const [sku, locationCode, onHand] of stock) await s.inventory.set({ sku, locationCode, onHand }, 'test');
});
afterAll(async () => { await t?.close(); });

const place = (lines: { sku: string; quantity: number }[], extra: Record<string, unknown> = {}) =>
  t.services.orders.placeOrder({ channel: 'web', externalId: `R-${++n}`, lines, shipTo: CHICAGO, ...extra }, 'checkout').then((r) => r.order);

const fos = (orderId: string) => t.db.dataSource.getRepository(FulfillmentOrder).find({ where: { orderId }, relations: { lines: true }, order: { createdAt: 'ASC' } });
async function allocation(orderId: string) {
  const rows = await t.db.dataSource.query(`SELECT l.code, fol.sku, fol.quantity FROM fulfillment_order fo JOIN location l ON l.id = fo.location_id
    JOIN fulfillment_order_line fol ON fol.fulfillment_order_id = fo.id WHERE fo.order_id = $1 AND fo.status NOT IN ('REJECTED','CANCELLED') ORDER BY l.code, fol.sku`, [orderId]);
  return rows.map((r: any) => `${r.code}:${r.sku}x${r.quantity}`);
}

describe('placeOrder routes and reserves', () => {
  it('ships from the cheapest/nearest location that has everything', async () => {
    const order = await place([{ sku: 'TENT', quantity: 1 }]);
    expect(order.status).toBe(OS.ALLOCATED);
    expect(await allocation(order.id)).toEqual(['ST-CHICAGO:TENTx1']);
  });

  it('keeps an order whole where one location can, rather than splitting', async () => {
    const order = await place([{ sku: 'TENT', quantity: 1 }, { sku: 'STOVE', quantity: 1 }]);
    expect(await allocation(order.id)).toEqual(['WH-DALLAS:STOVEx1', 'WH-DALLAS:TENTx1']);
  });

  it('never sends oversize goods from a store under the default rules', async () => {
    const order = await place([{ sku: 'KAYAK', quantity: 1 }]);
    expect(await allocation(order.id)).toEqual(['WH-DALLAS:KAYAKx1']);
  });

  it('pickup reserves at the chosen store', async () => {
    const order = await place([{ sku: 'KAYAK', quantity: 2 }], { method: FulfillmentMethod.PICKUP, shipTo: null, pickupLocationCode: 'ST-CHICAGO' });
    expect(order.status).toBe(OS.ALLOCATED);
    expect(await allocation(order.id)).toEqual(['ST-CHICAGO:KAYAKx2']);
    expect((await fos(order.id))[0].method).toBe(FulfillmentMethod.PICKUP);
  });

  it('allocates what it can and backorders the rest; nothing at all when no stock exists', async () => {
    const [{ available }] = await t.db.dataSource.query(`SELECT on_hand - reserved AS available FROM stock_level s JOIN product p ON p.id = s.product_id WHERE p.sku = 'STOVE'`);
    expect(available).toBeGreaterThan(0);
    const partial = await place([{ sku: 'STOVE', quantity: 500 }]);
    expect(partial.status).toBe(OS.BACKORDERED);
    expect(await allocation(partial.id)).toEqual([`WH-DALLAS:STOVEx${available}`]);
    const [p] = await t.db.dataSource.query(`SELECT status, decision FROM routing_decision WHERE order_id = $1`, [partial.id]);
    expect(p.status).toBe('PARTIAL');
    expect(p.decision.unfilled).toEqual([expect.objectContaining({ sku: 'STOVE', quantity: 500 - available })]);

    await t.services.products.upsert({ sku: 'NEVER-STOCKED', name: 'x' });
    const none = await place([{ sku: 'NEVER-STOCKED', quantity: 1 }]);
    expect(none.status).toBe(OS.BACKORDERED);
    expect(await fos(none.id)).toEqual([]);
    const [d] = await t.db.dataSource.query(`SELECT status FROM routing_decision WHERE order_id = $1`, [none.id]);
    expect(d.status).toBe('BACKORDERED');
  });

  it('geocodes an address without coordinates by city', async () => {
    const order = await place([{ sku: 'TENT', quantity: 1 }], { shipTo: { country: 'US', city: 'Dallas', region: 'TX' } });
    expect(await allocation(order.id)).toEqual(['WH-DALLAS:TENTx1']);
    const [{ decision }] = await t.db.dataSource.query(`SELECT decision FROM routing_decision WHERE order_id = $1`, [order.id]);
    expect(decision.geocodePrecision).toBe('city');
  });
});

describe('re-routing', () => {
  it('a rejected fulfilment order is routed elsewhere, excluding the location that rejected it', async () => {
    const order = await place([{ sku: 'TENT', quantity: 1 }]);
    const [first] = await fos(order.id);
    await t.services.orders.transitionFulfillment(first.id, FO.REJECTED, 'store', { reason: 'cannot find it' });
    const live = await allocation(order.id);
    expect(live).toHaveLength(1);
    expect(live[0]).not.toMatch(/^ST-CHICAGO/);
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.ALLOCATED);
    const [latest] = await t.db.dataSource.query(`SELECT excluded_locations FROM routing_decision WHERE order_id = $1 ORDER BY id DESC LIMIT 1`, [order.id]);
    expect(latest.excluded_locations).toEqual(['ST-CHICAGO']);
    await assertStockInvariants(t.db.dataSource);
  });
});

describe('rule sets', () => {
  it('a published rule set changes decisions; a draft does not', async () => {
    const rules = t.services.ruleSets;
    const draft = await rules.saveDraft({ id: 'warehouses-only', name: 'Peak: warehouses only', filters: [{ type: 'locationType', deny: ['STORE'] }], rankers: [{ type: 'distance', weight: 1 }] }, 'ops');
    expect(draft).toMatchObject({ version: 1, status: 'DRAFT' });
    expect(await allocation((await place([{ sku: 'TENT', quantity: 1 }])).id)).toEqual(['ST-CHICAGO:TENTx1']);
    await rules.publish('warehouses-only', 1, 'ops');
    expect(await allocation((await place([{ sku: 'TENT', quantity: 1 }])).id)).toEqual(['WH-COLUMBUS:TENTx1']);
    await expect(rules.publish('warehouses-only', 1, 'ops')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await expect(rules.saveDraft({ id: 'bad', name: 'x', filters: [{ type: 'maxDistance', km: -5 }] }, 'ops')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'definition.filters[0].km' });
    await t.db.dataSource.query(`UPDATE routing_rule_set SET status = 'RETIRED' WHERE id = 'warehouses-only'`);
  });
});

describe('under concurrency', () => {
  it('40 checkouts racing for 5 units: 5 are allocated, the rest backordered, nothing oversold', async () => {
    const orders = await Promise.all(Array.from({ length: 40 }, () => place([{ sku: 'LAST', quantity: 1 }])));
    const statuses = orders.map((o) => o.status);
    expect(statuses.filter((s) => s === OS.ALLOCATED)).toHaveLength(5);
    expect(statuses.filter((s) => s === OS.BACKORDERED)).toHaveLength(35);
    const [row] = await t.db.dataSource.query(`SELECT on_hand, reserved FROM stock_level s JOIN product p ON p.id = s.product_id WHERE p.sku = 'LAST'`);
    expect(row).toEqual({ on_hand: 5, reserved: 5 });
    await assertStockInvariants(t.db.dataSource);
  });
});

describe('backorders', () => {
  it('are re-routed when stock arrives, and left alone until it does', async () => {
    await t.services.products.upsert({ sku: 'LATE', name: 'late' });
    const order = await place([{ sku: 'LATE', quantity: 2 }]);
    expect(order.status).toBe(OS.BACKORDERED);
    expect(await t.services.orders.retryBackorders(50)).toBe(0); // nothing arrived
    await t.services.inventory.adjust({ sku: 'LATE', locationCode: 'WH-COLUMBUS', delta: 5, reason: 'RECEIPT' as never }, 'dock');
    expect(await t.services.orders.retryBackorders(50)).toBeGreaterThanOrEqual(1);
    expect((await t.services.orders.get(order.id))!.status).toBe(OS.ALLOCATED);
    expect(await allocation(order.id)).toEqual(['WH-COLUMBUS:LATEx2']);
    expect(await t.services.orders.retryBackorders(50)).toBe(0);
    await assertStockInvariants(t.db.dataSource);
  });
});

describe('pickup at a store without the stock', () => {
  it('transfers from a source with a ready-by time; the pickup completes once the store has received it', async () => {
    const s = t.services;
    const ds = t.db.dataSource;
    await s.locations.upsert({ code: 'ST-EVANSTON', name: 'ST-EVANSTON', type: LocationType.STORE, country: 'US', latitude: 42.05, longitude: -87.68,
      timeZone: 'America/Chicago', capabilities: [LocationCapability.PICKUP, LocationCapability.CURBSIDE] });
    await s.products.upsert({ sku: 'LANTERN', name: 'LANTERN' });
    await s.inventory.set({ sku: 'LANTERN', locationCode: 'WH-COLUMBUS', onHand: 4 }, 'test');
    const level = async (code: string) => {
      const [r] = await ds.query(`SELECT s.on_hand, s.reserved FROM stock_level s JOIN product p ON p.id = s.product_id JOIN location l ON l.id = s.location_id
        WHERE p.sku = 'LANTERN' AND l.code = $1`, [code]);
      return r ? { onHand: r.on_hand, reserved: r.reserved } : { onHand: 0, reserved: 0 };
    };

    const order = await place([{ sku: 'LANTERN', quantity: 3 }], { method: FulfillmentMethod.PICKUP, shipTo: null, pickupLocationCode: 'ST-EVANSTON' });
    expect(order.status).toBe(OS.ALLOCATED);
    expect(await allocation(order.id)).toEqual(['ST-EVANSTON:LANTERNx3']);
    const [fo] = await fos(order.id);
    expect(fo.method).toBe(FulfillmentMethod.PICKUP);
    const [transfer, ...more] = await s.inventory.transfers(ds.manager, { sku: 'LANTERN' });
    expect(more).toEqual([]);
    expect(transfer).toMatchObject({ fromLocationCode: 'WH-COLUMBUS', toLocationCode: 'ST-EVANSTON', quantity: 3, status: 'IN_TRANSIT', reference: `fol:${fo.lines[0].id}` });
    // The units left the source for this order; nothing is on the store's shelf yet.
    expect(await level('WH-COLUMBUS')).toEqual({ onHand: 1, reserved: 0 });
    expect(await level('ST-EVANSTON')).toEqual({ onHand: 0, reserved: 0 });
    const [{ decision }] = await ds.query(`SELECT decision FROM routing_decision WHERE order_id = $1`, [order.id]);
    expect(decision.shipments).toEqual([expect.objectContaining({ kind: 'TRANSFER', locationCode: 'WH-COLUMBUS', destinationCode: 'ST-EVANSTON' })]);
    expect(Date.parse(decision.readyBy)).toBeGreaterThan(Date.parse(decision.trace.decidedAt));

    for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED]) expect(await s.orders.transitionFulfillment(fo.id, to, 'store')).not.toBeInstanceOf(TransitionRejected);
    expect(await s.orders.transitionFulfillment(fo.id, FO.READY_FOR_PICKUP, 'store')).toBeInstanceOf(TransitionRejected);

    await s.inventory.receiveTransfer(transfer.id, 'store');
    expect(await level('ST-EVANSTON')).toEqual({ onHand: 3, reserved: 3 });
    expect(await s.orders.transitionFulfillment(fo.id, FO.READY_FOR_PICKUP, 'store')).not.toBeInstanceOf(TransitionRejected);
    expect(await s.orders.transitionFulfillment(fo.id, FO.PICKED_UP, 'customer')).not.toBeInstanceOf(TransitionRejected);
    expect((await s.orders.get(order.id))!.status).toBe(OS.DELIVERED);
    expect(await level('ST-EVANSTON')).toEqual({ onHand: 0, reserved: 0 });
    await assertStockInvariants(ds);
  });
});
