// The outbox dispatcher sends an event when the transaction that wrote it commits (the NOTIFY of migration 830), not
// at its next poll: here the poll is an hour, so an event that is sent was sent because of the wake. The shop's
// answer is the shape the Shopify connector's tests check against the 2026 Admin schema.
import nock from 'nock';
import { createLogger } from '../../src/logger';
import { OUTBOX_CHANNEL, OutboxDispatcher } from '../../src/sync/outbox-dispatcher';
import { createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';
import { until } from '../support/until';

const HOUR = 3_600_000;
const SHOP = 'https://outbox-wake.myshopify.test';
let t: TestHub;
let dispatcher: OutboxDispatcher;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  t = await createTestHub({ config: { masterKey: 'outbox-wake-master-key-0123456789abcdef01' } });
  await seedSmallNetwork(t.services);
  await t.services.inventory.set({ sku: 'A', locationCode: 'WH-A', onHand: 10 }, 'test');
  await t.services.connections.create({ name: 'shop-outbox-wake', kind: 'shopify', config: { shop: 'outbox-wake', baseUrl: SHOP },
    credentials: { accessToken: 'shpat_unused' } });
  dispatcher = new OutboxDispatcher(t.db.dataSource, t.services.connections, createLogger('silent'), { pollMs: HOUR, baseBackoffMs: 1 });
  await t.services.events.onNotify(OUTBOX_CHANNEL, () => dispatcher.wake());
  dispatcher.start();
  await new Promise((r) => setTimeout(r, 200)); // its first round found nothing; the next poll is an hour away
});
afterAll(async () => {
  await dispatcher.stop();
  await t.close();
  nock.cleanAll();
  nock.enableNetConnect();
});

test('a cancellation is sent to the shop when it commits; a dead event replayed is sent at once', async () => {
  const conn = (await t.services.connections.find('shop-outbox-wake'))!;
  const { order } = await t.services.orders.placeOrder({ channel: 'shop-outbox-wake', externalId: '880001', connectionId: conn.id,
    lines: [{ sku: 'A', quantity: 1, externalId: '8800011' }], shipTo: { country: 'US', city: 'Chicago', latitude: 41.9, longitude: -87.7 } }, 'test');
  const status = async () => (await t.db.dataSource.query(`SELECT status FROM outbox_event WHERE topic = 'order.cancel' AND aggregate_id = $1`, [order.id]))[0]?.status;

  // The shop refuses at first (a permanent error: the event is dead), then accepts the replay.
  const refused = nock(SHOP).post(/graphql/).reply(200, { data: { orderCancel: { job: null, orderCancelUserErrors: [{ field: ['orderId'], message: 'Order is locked', code: 'INVALID' }] } } });
  await t.services.orders.cancel(order.id, 'customer asked', 'ops');
  await until('the shop was asked', () => refused.isDone());
  await until('the event is dead', async () => (await status()) === 'DEAD');

  const accepted = nock(SHOP).post(/graphql/).reply(200, { data: { orderCancel: { job: null, orderCancelUserErrors: [] } } });
  const [{ id }] = await t.db.dataSource.query(`SELECT id FROM outbox_event WHERE topic = 'order.cancel' AND aggregate_id = $1`, [order.id]);
  expect(await dispatcher.retry(id)).toBe(true);
  await until('the replay was sent', async () => accepted.isDone() && (await status()) === 'SENT');
});
