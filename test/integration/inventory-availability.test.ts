import { queryAvailability, type SkuAvailability } from '../../src/inventory/availability.query';
import { setChannelAllocation, setChannelSafetyStock } from '../../src/inventory/channel-allocation';
import { FulfillmentMethod, LocationCapability, LocationType } from '../../src/model/enums';
import { createTestHub, type TestHub } from '../support/test-hub';

/**
 * The availability read is two prepared statements per pooled connection (their generic plans are used from the
 * sixth call on), run side by side: the locations in (distance, code) order, and the SKUs' stock rows, put in that
 * order in JS. These check
 * the order and that every change of a location or a channel rule shows on the very next call, through the
 * prepared path and inside a transaction alike.
 */
let t: TestHub;
const base = { country: 'US', timeZone: 'America/Chicago' };
const near = { latitude: 41.9, longitude: -87.7 };

beforeAll(async () => {
  t = await createTestHub();
  const { locations, products, inventory } = t.services;
  // Two stores at the same point (a tie on distance, broken by code), one further warehouse, one far away.
  await locations.upsert({ ...base, code: 'AV-S2', name: 'Store 2', type: LocationType.STORE, latitude: 41.91, longitude: -87.68, capabilities: [LocationCapability.SHIP, LocationCapability.PICKUP] });
  await locations.upsert({ ...base, code: 'AV-S1', name: 'Store 1', type: LocationType.STORE, latitude: 41.91, longitude: -87.68, capabilities: [LocationCapability.SHIP, LocationCapability.PICKUP] });
  await locations.upsert({ ...base, code: 'AV-W1', name: 'Warehouse 1', type: LocationType.WAREHOUSE, latitude: 42.5, longitude: -88.0 });
  await locations.upsert({ ...base, code: 'AV-W0', name: 'Warehouse 0', type: LocationType.WAREHOUSE, latitude: 32.78, longitude: -96.8 });
  for (const sku of ['AV-X', 'AV-Y', 'AV-Z']) await products.upsert({ sku, name: sku });
  const stock: [string, string, number][] = [
    ['AV-X', 'AV-S1', 5], ['AV-X', 'AV-S2', 6], ['AV-X', 'AV-W1', 7], ['AV-X', 'AV-W0', 8],
    ['AV-Y', 'AV-W0', 3], ['AV-Y', 'AV-S2', 4],
    ['AV-Z', 'AV-W1', 9],
  ];
  for (const [sku, locationCode, onHand] of stock) await inventory.set({ sku, locationCode, onHand }, 'test');
});
afterAll(async () => { await t?.close(); });

const shape = (answer: SkuAvailability[]) => answer.map((a) => [a.sku, a.available, a.locations.map((l) => l.locationCode)]);
const read = (q: Partial<Parameters<typeof queryAvailability>[1]> = {}) => queryAvailability(t.db.dataSource, { skus: ['AV-Z', 'AV-X', 'AV-NONE', 'AV-Y'], near, ...q });

describe('availability read', () => {
  it('answers SKUs in the order asked, each with its locations by distance, then code', async () => {
    const expected = [
      ['AV-Z', 9, ['AV-W1']],
      ['AV-X', 26, ['AV-S1', 'AV-S2', 'AV-W1', 'AV-W0']],
      ['AV-NONE', 0, []],
      ['AV-Y', 7, ['AV-S2', 'AV-W0']],
    ];
    // Past the prepared statement's switch to its generic plan, and the same inside a transaction.
    for (let i = 0; i < 8; i++) expect(shape(await read())).toEqual(expected);
    await t.db.dataSource.transaction(async (em) => {
      expect(shape(await queryAvailability(em, { skus: ['AV-Z', 'AV-X', 'AV-NONE', 'AV-Y'], near }))).toEqual(expected);
    });
    const [x] = await read({ skus: ['AV-X'] });
    expect(x.locations.map((l) => l.distanceKm)).toEqual([...x.locations.map((l) => l.distanceKm)].sort((a, b) => a! - b!));
    // Without a point: by code, no distances.
    const [plain] = await read({ skus: ['AV-X'], near: null });
    expect(plain.locations.map((l) => [l.locationCode, l.distanceKm])).toEqual([['AV-S1', null], ['AV-S2', null], ['AV-W0', null], ['AV-W1', null]]);
  });

  it('a location deactivated, moved, or no longer offering the method shows on the next call', async () => {
    const { locations } = t.services;
    for (let i = 0; i < 6; i++) await read();
    await locations.setActive('AV-S1', false);
    expect(shape(await read({ skus: ['AV-X'] }))).toEqual([['AV-X', 21, ['AV-S2', 'AV-W1', 'AV-W0']]]);
    await locations.setActive('AV-S1', true);
    expect(shape(await read({ skus: ['AV-X'] }))).toEqual([['AV-X', 26, ['AV-S1', 'AV-S2', 'AV-W1', 'AV-W0']]]);
    // The far warehouse moves next to the point: now first.
    await locations.upsert({ ...base, code: 'AV-W0', name: 'Warehouse 0', type: LocationType.WAREHOUSE, latitude: 41.9, longitude: -87.7 });
    expect(shape(await read({ skus: ['AV-X'] }))).toEqual([['AV-X', 26, ['AV-W0', 'AV-S1', 'AV-S2', 'AV-W1']]]);
    expect(shape(await read({ skus: ['AV-X'], near: { ...near, radiusKm: 3 } }))).toEqual([['AV-X', 19, ['AV-W0', 'AV-S1', 'AV-S2']]]);
    // Pickup: only the stores offer it, until one stops.
    expect(shape(await read({ skus: ['AV-X'], method: FulfillmentMethod.PICKUP }))).toEqual([['AV-X', 11, ['AV-S1', 'AV-S2']]]);
    await locations.upsert({ ...base, code: 'AV-S2', name: 'Store 2', type: LocationType.STORE, latitude: 41.91, longitude: -87.68, capabilities: [LocationCapability.SHIP] });
    expect(shape(await read({ skus: ['AV-X'], method: FulfillmentMethod.PICKUP }))).toEqual([['AV-X', 5, ['AV-S1']]]);
  });

  it('channel rules changed show on the next call', async () => {
    const ds = t.db.dataSource;
    const channel = 'av-channel';
    const x = async () => shape(await read({ skus: ['AV-X'], channel }))[0];
    for (let i = 0; i < 6; i++) await x();
    expect(await x()).toEqual(['AV-X', 26, ['AV-W0', 'AV-S1', 'AV-S2', 'AV-W1']]);
    await setChannelAllocation(ds, { channel, locationCode: 'AV-W1', buffer: 2 });
    expect(await x()).toEqual(['AV-X', 5, ['AV-W1']]);
    await setChannelAllocation(ds, { channel, locationCode: 'AV-S1' });
    expect(await x()).toEqual(['AV-X', 10, ['AV-S1', 'AV-W1']]);
    await setChannelSafetyStock(ds, { channel, safetyStock: 3 });
    expect(await x()).toEqual(['AV-X', 7, ['AV-S1', 'AV-W1']]);
    await setChannelAllocation(ds, { channel, locationCode: 'AV-W1', remove: true });
    expect(await x()).toEqual(['AV-X', 2, ['AV-S1']]);
    await t.services.locations.setActive('AV-S1', false);
    expect(await x()).toEqual(['AV-X', 0, []]);
    await t.services.locations.setActive('AV-S1', true);
  });
});
