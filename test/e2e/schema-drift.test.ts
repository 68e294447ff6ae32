import { readFileSync } from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { buildHubSchema } from '../../src/schema/build-schema';

// The committed schema.graphql is the public contract; regenerate it with `npm run schema:print` when it changes.
test('schema.graphql matches the schema built from code', async () => {
  const committed = readFileSync(path.join(__dirname, '../../schema.graphql'), 'utf8');
  expect(printSchema(await buildHubSchema()) + '\n').toBe(committed);
});

test('keeps the public names of DESIGN.md §5', async () => {
  const schema = await buildHubSchema();
  const fields = (type: string) => Object.keys((schema.getType(type) as any).getFields());
  expect(fields('Query')).toEqual(expect.arrayContaining(['availability', 'order', 'orders', 'locations', 'products', 'stockLevels']));
  expect(fields('Mutation')).toEqual(expect.arrayContaining(['placeOrder', 'adjustInventory', 'setInventory', 'cancelOrder', 'upsertLocation', 'setLocationActive', 'upsertProduct', 'tagOrder', 'untagOrder']));
  expect(fields('Subscription')).toEqual(expect.arrayContaining(['inventoryChanged', 'orderUpdated']));
  expect(fields('Order')).toEqual(expect.arrayContaining(['id', 'externalId', 'channel', 'status', 'fulfillmentOrders']));
  expect(fields('LocationAvailability')).toEqual(expect.arrayContaining(['locationCode', 'onHand', 'reserved', 'available', 'distanceKm']));
});
