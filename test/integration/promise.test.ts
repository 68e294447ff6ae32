import type { DomainError } from '../../src/errors';
import { FulfillmentOrderStatus as FO, LocationCapability as Cap, LocationType } from '../../src/model/enums';
import { createTestHub, type TestHub } from '../support/test-hub';

let t: TestHub;
let n = 0;
const CHICAGO = { country: 'US', city: 'Chicago', latitude: 41.88, longitude: -87.63 };

beforeAll(async () => {
  t = await createTestHub();
  const s = t.services;
  const loc = (code: string, type: LocationType, latitude: number, longitude: number, capabilities: Cap[], extra = {}) =>
    s.locations.upsert({ code, name: code, type, country: 'US', latitude, longitude, timeZone: 'America/Chicago', capabilities, ...extra });
  await loc('WH-DAL', LocationType.WAREHOUSE, 32.78, -96.8, [Cap.SHIP], { priority: 1 });
  await loc('WH-COL', LocationType.WAREHOUSE, 39.96, -83.0, [Cap.SHIP], { priority: 1, timeZone: 'America/New_York' });
  await loc('ST-CHI', LocationType.STORE, 41.85, -87.65, [Cap.SHIP, Cap.PICKUP, Cap.CURBSIDE], { priority: 3, processingHours: 2 });
  // Stock on the shelf, but no pickup counter: never offered for collection.
  await loc('ST-NOPICK', LocationType.STORE, 41.9, -87.64, [Cap.SHIP], { priority: 3 });
  for (const sku of ['TENT', 'STOVE', 'LAST', 'LANTERN', 'MUG']) await s.products.upsert({ sku, name: sku });
  const stock: [string, string, number][] = [['TENT', 'WH-DAL', 50], ['TENT', 'WH-COL', 50], ['TENT', 'ST-CHI', 2], ['STOVE', 'WH-DAL', 10],
    ['LAST', 'WH-COL', 5], ['LANTERN', 'ST-NOPICK', 5], ['LANTERN', 'WH-DAL', 5], ['MUG', 'ST-CHI', 3], ['MUG', 'WH-DAL', 10]];
  for (const [sku, locationCode, onHand] of stock) await s.inventory.set({ sku, locationCode, onHand }, 'test');
});
afterAll(async () => { await t?.close(); });

const q = (sql: string, params: unknown[] = []) => t.db.dataSource.query(sql, params);
const options = (lines: { sku: string; quantity: number }[], now?: Date, destination = CHICAGO) => t.services.promise.deliveryOptions({ lines, destination }, now);
async function placedAt(lines: { sku: string; quantity: number }[], extra: Record<string, unknown> = {}) {
  const { order } = await t.services.orders.placeOrder({ channel: 'web', externalId: `P-${++n}`, lines, shipTo: CHICAGO, ...extra }, 'checkout');
  const rows = await q(`SELECT l.code, fol.sku, fol.quantity FROM fulfillment_order fo JOIN location l ON l.id = fo.location_id
    JOIN fulfillment_order_line fol ON fol.fulfillment_order_id = fo.id WHERE fo.order_id = $1 ORDER BY l.code, fol.sku`, [order.id]);
  return { order, allocation: rows.map((r: any) => `${r.code}:${r.sku}x${r.quantity}`) };
}
const shipAllocation = (o: { shipments: { locationCode: string; lines: { sku: string; quantity: number }[] }[] }) =>
  o.shipments.flatMap((s) => s.lines.map((l) => `${s.locationCode}:${l.sku}x${l.quantity}`)).sort();

async function failure(p: Promise<unknown>): Promise<DomainError> {
  try { await p; } catch (err) { return err as DomainError; }
  throw new Error('expected a failure');
}

describe('deliveryOptions', () => {
  it('offers every active service level from the location placeOrder then routes to', async () => {
    const cart = [{ sku: 'TENT', quantity: 2 }];
    const ship = (await options(cart)).filter((o) => o.method === 'SHIP');
    expect(ship.map((o) => o.carrierServiceCode).sort()).toEqual(['PARCEL-EXPRESS', 'PARCEL-GROUND', 'PARCEL-OVERNIGHT', 'COURIER-SAME-DAY'].sort());
    for (const o of ship) {
      expect(o.split).toBe(false);
      expect(o.earliestDelivery <= o.latestDelivery).toBe(true);
      expect(Number(o.price)).toBeGreaterThan(0);
    }
    const { allocation } = await placedAt(cart);
    expect(shipAllocation(ship[0])).toEqual(allocation);
    expect(allocation).toEqual(['ST-CHI:TENTx2']);
  });

  it('says which lines would split, and placeOrder splits the same way', async () => {
    const cart = [{ sku: 'STOVE', quantity: 1 }, { sku: 'LAST', quantity: 1 }];
    const [ground] = (await options(cart)).filter((o) => o.carrierServiceCode === 'PARCEL-GROUND');
    expect(ground).toMatchObject({ split: true, locationCode: null });
    expect(shipAllocation(ground)).toEqual(['WH-COL:LASTx1', 'WH-DAL:STOVEx1']);
    // Two parcels cost the sum (Dallas → Chicago in the 2,500 km band, Columbus → Chicago in the 1,000 km band),
    // and the order arrives with the later one.
    expect(ground.price).toBe('16.98');
    expect(ground.latestDelivery).toBe([...ground.shipments.map((s) => s.latestDelivery)].sort().at(-1));
    expect((await placedAt(cart)).allocation).toEqual(shipAllocation(ground));
  });

  it('offers pickup and curbside only at stores with the capability, from their shelf or with what routing transfers in', async () => {
    const mug = await options([{ sku: 'MUG', quantity: 1 }]);
    const collect = mug.filter((o) => o.method !== 'SHIP');
    expect(collect.map((o) => `${o.method}@${o.locationCode}`)).toEqual(['PICKUP@ST-CHI', 'CURBSIDE@ST-CHI']);
    expect(collect[0]).toMatchObject({ price: '0.00', split: false });
    expect(shipAllocation(collect[0])).toEqual(['ST-CHI:MUGx1']);
    expect(new Date(collect[0].readyBy).getTime()).toBeGreaterThan(Date.now());
    const shelfReady = Date.parse(collect[0].readyBy);

    // ST-NOPICK holds lanterns but has no pickup counter: never offered for collection. ST-CHI holds none; routing
    // transfers one in from ST-NOPICK (the nearest source), so ST-CHI is offered, ready only after the transfer.
    const lantern = await options([{ sku: 'LANTERN', quantity: 1 }]);
    expect(lantern.some((o) => o.method === 'SHIP')).toBe(true);
    const viaTransfer = lantern.filter((o) => o.method !== 'SHIP');
    expect(viaTransfer.map((o) => `${o.method}@${o.locationCode}`)).toEqual(['PICKUP@ST-CHI', 'CURBSIDE@ST-CHI']);
    for (const o of viaTransfer) {
      expect(shipAllocation(o)).toEqual(['ST-NOPICK:LANTERNx1']);
      // At least the rule set's handling time and one day in transit after the store's own shelf would be ready.
      expect(Date.parse(o.readyBy) - shelfReady).toBeGreaterThanOrEqual(48 * 3_600_000);
    }

    // More than the shelf holds: the shelf's 3 and 1 transferred from Dallas (previously no offer at all).
    const [many] = (await options([{ sku: 'MUG', quantity: 4 }])).filter((o) => o.method === 'PICKUP');
    expect(many.locationCode).toBe('ST-CHI');
    expect(shipAllocation(many)).toEqual(['ST-CHI:MUGx3', 'WH-DAL:MUGx1']);
    expect(Date.parse(many.readyBy)).toBeGreaterThan(shelfReady);
    // Far away: outside the radius.
    const dallas = await t.services.promise.deliveryOptions({ lines: [{ sku: 'MUG', quantity: 1 }], destination: { country: 'US', latitude: 32.78, longitude: -96.8 } });
    expect(dallas.filter((o) => o.method !== 'SHIP')).toEqual([]);
  });

  it('the pickup promise is what placeOrder reserves', async () => {
    const [pickup] = (await options([{ sku: 'MUG', quantity: 1 }])).filter((o) => o.method === 'PICKUP');
    const { allocation } = await placedAt([{ sku: 'MUG', quantity: 1 }], { method: 'PICKUP', shipTo: null, pickupLocationCode: pickup.locationCode });
    expect(allocation).toEqual(shipAllocation(pickup));
  });

  it('dates follow cut-off, weekend and carrier calendar for a fixed instant', async () => {
    // Friday 11 July 2025, 15:00 in Dallas: after the 14:00 cut-off, ready Saturday, collected Monday 14th.
    const friday = new Date('2025-07-11T20:00:00Z');
    const ground = (await options([{ sku: 'STOVE', quantity: 1 }], friday)).find((o) => o.carrierServiceCode === 'PARCEL-GROUND')!;
    expect(ground.shipments[0]).toMatchObject({ locationCode: 'WH-DAL', shipDate: '2025-07-14' });
    // Dallas → Chicago is about 1,300 km: the 1,000-2,500 km band, 3-5 working days.
    expect([ground.earliestDelivery, ground.latestDelivery]).toEqual(['2025-07-17', '2025-07-21']);
    // A holiday added to the calendar moves the promise.
    await t.services.promise.upsertHoliday('US', '2025-07-14', 'Test closure');
    const moved = (await options([{ sku: 'STOVE', quantity: 1 }], friday)).find((o) => o.carrierServiceCode === 'PARCEL-GROUND')!;
    expect(moved.shipments[0].shipDate).toBe('2025-07-15');
    expect(await t.services.promise.deleteHoliday('US', '2025-07-14')).toBe(true);
  });

  it('the cut-off is the shipping location\'s own, in its time zone: a minute before and at it', async () => {
    const ground = async (iso: string) => (await options([{ sku: 'LAST', quantity: 1 }], new Date(iso))).find((o) => o.carrierServiceCode === 'PARCEL-GROUND')!;
    // Columbus runs on New York time: 14:00 EDT is 18:00Z, when Chicago (the shopper) is still at 13:00.
    const before = await ground('2025-07-15T17:59:00Z');
    const at = await ground('2025-07-15T18:00:00Z');
    // Before: released now, ready after 24 processing hours (Wednesday 13:59 EDT), collected that day.
    expect(before.shipments[0]).toMatchObject({ locationCode: 'WH-COL', shipDate: '2025-07-16' });
    expect(new Date(before.shipments[0].readyBy).toISOString()).toBe('2025-07-16T17:59:00.000Z');
    // At the cut-off: released at 08:00 EDT on Wednesday, ready Thursday 08:00 EDT.
    expect(at.shipments[0]).toMatchObject({ locationCode: 'WH-COL', shipDate: '2025-07-17' });
    expect(new Date(at.shipments[0].readyBy).toISOString()).toBe('2025-07-17T12:00:00.000Z');
    // Columbus → Chicago is about 440 km: 2-3 working days, so the later collection crosses the weekend.
    expect([before.earliestDelivery, before.latestDelivery]).toEqual(['2025-07-18', '2025-07-21']);
    expect([at.earliestDelivery, at.latestDelivery]).toEqual(['2025-07-21', '2025-07-22']);
  });

  it('carriers are data: a deactivated service is no longer offered, a new one is', async () => {
    const [express] = (await t.services.promise.carrierServices()).filter((c) => c.code === 'PARCEL-EXPRESS');
    await t.services.promise.upsertCarrierService({ ...express, active: false });
    await t.services.promise.upsertCarrierService({ code: 'ECO-RAIL', carrier: 'Rail', name: 'Rail economy', serviceLevel: 'ECONOMY', pickupCutoff: '12:00',
      saturdayDelivery: false, transit: [{ maxKm: 5000, minDays: 5, maxDays: 8 }], rates: [{ maxKm: 5000, maxWeightKg: 30, price: 4.5 }], co2KgPerTonneKm: 0.03 });
    const codes = (await options([{ sku: 'STOVE', quantity: 1 }])).map((o) => o.carrierServiceCode);
    expect(codes).not.toContain('PARCEL-EXPRESS');
    expect(codes).toContain('ECO-RAIL');
    await t.services.promise.upsertCarrierService({ ...express, active: true });
    expect(await failure(t.services.promise.upsertCarrierService({ ...express, transit: [{ maxKm: 100, minDays: 3, maxDays: 1 }] })))
      .toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.transit[0].maxDays' });
  });

  it('nothing to promise without stock everywhere; bad input names the field', async () => {
    expect((await options([{ sku: 'LAST', quantity: 50 }])).filter((o) => o.method === 'SHIP')).toEqual([]);
    expect(await failure(options([]))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'lines' });
    expect(await failure(options([{ sku: 'NOPE', quantity: 1 }]))).toMatchObject({ code: 'NOT_FOUND', field: 'lines[0].sku' });
    expect(await failure(options([{ sku: 'TENT', quantity: -1 }]))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'lines[0].quantity' });
    expect(await failure(options([{ sku: 'TENT', quantity: 1 }], undefined, { country: 'usa' } as never))).toMatchObject({ field: 'destination.country' });
  });
});

describe('pickup with a transfer', () => {
  // COT is only in Columbus (about 440 km from ST-CHI: one day in transit at the default 500 km a day).
  beforeAll(async () => {
    await t.services.products.upsert({ sku: 'COT', name: 'COT' });
    await t.services.inventory.set({ sku: 'COT', locationCode: 'WH-COL', onHand: 5 }, 'test');
  });
  const cot = (quantity: number, now?: Date) => options([{ sku: 'COT', quantity }], now);

  it('a store without the stock is offered with the ready time of the transfer', async () => {
    // Tuesday 15 July 2025, 11:00 in Columbus: before its 14:00 cut-off, ready after 24 processing hours (Wednesday
    // 15:00Z), 24 handling hours and one day in transit (arrives Friday 15:00Z), then ST-CHI's 2 processing hours.
    const collect = (await cot(2, new Date('2025-07-15T15:00:00Z'))).filter((o) => o.method !== 'SHIP');
    expect(collect.map((o) => `${o.method}@${o.locationCode}`)).toEqual(['PICKUP@ST-CHI', 'CURBSIDE@ST-CHI']);
    for (const o of collect) {
      expect(o).toMatchObject({ readyBy: '2025-07-18T17:00:00.000Z', earliestDelivery: '2025-07-18', latestDelivery: '2025-07-18', price: '0.00', split: false });
      expect(o.shipments).toEqual([expect.objectContaining({ locationCode: 'WH-COL', lines: [{ sku: 'COT', quantity: 2 }], readyBy: '2025-07-18T17:00:00.000Z' })]);
    }
    // More than the network holds: no pickup anywhere.
    expect((await cot(6)).filter((o) => o.method !== 'SHIP')).toEqual([]);
  });

  it('placeOrder for that pickup books the promised transfer, ready when the promise said', async () => {
    const [pickup] = (await cot(2)).filter((o) => o.method === 'PICKUP');
    const { order, allocation } = await placedAt([{ sku: 'COT', quantity: 2 }], { method: 'PICKUP', shipTo: null, pickupLocationCode: pickup.locationCode });
    // The customer collects at the store; the units travel from the promised source.
    expect(allocation).toEqual(['ST-CHI:COTx2']);
    const transfers = await t.services.inventory.transfers(t.db.dataSource.manager, { sku: 'COT' });
    expect(transfers.map((x) => `${x.fromLocationCode}->${x.toLocationCode}:${x.sku}x${x.quantity}:${x.status}`)).toEqual(['WH-COL->ST-CHI:COTx2:IN_TRANSIT']);
    expect(shipAllocation(pickup)).toEqual(['WH-COL:COTx2']);
    // At the instant the order was routed (Columbus still has 3), the promise is exactly routing's ready time.
    const [{ decision }] = await q(`SELECT decision FROM routing_decision WHERE order_id = $1`, [order.id]);
    const [then] = (await cot(2, new Date(decision.trace.decidedAt))).filter((o) => o.method === 'PICKUP');
    expect(then.readyBy).toBe(decision.readyBy);
    expect(then.shipments.map((s) => s.readyBy)).toEqual(decision.shipments.map((s: { readyBy: string }) => s.readyBy));
  });

  it('follows the rule set: no transfers, or a filter that tells pickup from curbside', async () => {
    // Rule sets for windows far ahead, so that the rest of this file keeps the default.
    const publish = async (id: string, validFrom: string, validTo: string, extra: Record<string, unknown>) => {
      const draft = await t.services.ruleSets.saveDraft({ id, name: id, validFrom, validTo, rankers: [{ type: 'distance', weight: 1 }], ...extra }, 'test');
      await t.services.ruleSets.publish(id, draft.version, 'test');
    };
    await publish('no-transfers', '2031-01-01T00:00:00Z', '2031-02-01T00:00:00Z', { pickup: { allowTransfer: false } });
    await publish('curbside-from-stores', '2032-01-01T00:00:00Z', '2032-02-01T00:00:00Z',
      { filters: [{ type: 'locationType', methods: ['CURBSIDE'], deny: ['WAREHOUSE'] }] });
    const collect = async (at: string, sku: string, quantity: number) =>
      (await options([{ sku, quantity }], new Date(at))).filter((o) => o.method !== 'SHIP').map((o) => `${o.method}@${o.locationCode}`);
    // Without transfers only a shelf holding the whole cart counts.
    expect(await collect('2031-01-14T15:00:00Z', 'COT', 1)).toEqual([]);
    expect(await collect('2031-01-14T15:00:00Z', 'MUG', 1)).toEqual(['PICKUP@ST-CHI', 'CURBSIDE@ST-CHI']);
    // Curbside orders may not draw on warehouses: COT (Columbus only) can be picked up but not collected at the curb.
    expect(await collect('2032-01-13T15:00:00Z', 'COT', 1)).toEqual(['PICKUP@ST-CHI']);
    // From the shelf, both.
    expect(await collect('2032-01-13T15:00:00Z', 'MUG', 1)).toEqual(['PICKUP@ST-CHI', 'CURBSIDE@ST-CHI']);
  });
});

describe('promise accuracy', () => {
  async function deliver(orderId: string) {
    for (const { id } of await q(`SELECT id FROM fulfillment_order WHERE order_id = $1`, [orderId])) {
      for (const to of [FO.ACCEPTED, FO.PICKED, FO.PACKED, FO.SHIPPED, FO.DELIVERED]) await t.services.orders.transitionFulfillment(id, to, 'carrier');
    }
  }

  it('records the actual day on delivery and reports the share kept', async () => {
    const before = await t.services.promise.accuracy();
    const kept = await placedAt([{ sku: 'TENT', quantity: 1 }], { shipTo: { ...CHICAGO, region: 'IL' } });
    const late = await placedAt([{ sku: 'TENT', quantity: 1 }]);
    const pending = await placedAt([{ sku: 'TENT', quantity: 1 }]);
    const promise = await t.services.promise.recordPromise({ orderId: kept.order.id, carrierServiceCode: 'PARCEL-GROUND', earliestDelivery: '2099-01-01', latestDelivery: '2099-01-05' }, 'checkout');
    expect(promise).toMatchObject({ serviceLevel: 'STANDARD', timeZone: 'America/Chicago', kept: null });
    await t.services.promise.recordPromise({ orderId: late.order.id, carrierServiceCode: 'PARCEL-OVERNIGHT', earliestDelivery: '2000-01-01', latestDelivery: '2000-01-02' }, 'checkout');
    await t.services.promise.recordPromise({ orderId: pending.order.id, earliestDelivery: '2099-01-01', latestDelivery: '2099-01-02' }, 'checkout');
    await deliver(kept.order.id);
    await deliver(late.order.id);
    const keptNow = (await t.services.promise.promiseFor(kept.order.id))!;
    expect(keptNow.kept).toBe(true);
    expect(keptNow.deliveredDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect((await t.services.promise.promiseFor(late.order.id))!.kept).toBe(false);
    const after = await t.services.promise.accuracy();
    expect(after.promised - before.promised).toBe(3);
    expect(after.delivered - before.delivered).toBe(2);
    expect(after.kept - before.kept).toBe(1);
    expect(after.late - before.late).toBe(1);
    expect(after.byServiceLevel).toEqual(expect.arrayContaining([
      expect.objectContaining({ serviceLevel: 'STANDARD', delivered: 1, kept: 1, keptShare: 1 }),
      expect.objectContaining({ serviceLevel: 'OVERNIGHT', delivered: 1, kept: 0, keptShare: 0 }),
    ]));
    // Once delivered, the promise cannot be rewritten.
    expect(await failure(t.services.promise.recordPromise({ orderId: kept.order.id, earliestDelivery: '2000-01-01', latestDelivery: '2000-01-01' }, 'x'))).toMatchObject({ code: 'INVALID_TRANSITION' });
    expect(await failure(t.services.promise.recordPromise({ orderId: pending.order.id, earliestDelivery: '2099-01-03', latestDelivery: '2099-01-01' }, 'x'))).toMatchObject({ field: 'input.latestDelivery' });
  });
});
