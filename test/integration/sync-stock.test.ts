// Vendor payloads: MSI source items shaped per ../shared/fixtures/magento/admin-schema-2.4.9.yaml
// (inventory-api-data-source-item-interface), served with nock.
import nock from 'nock';
import { ADMIN, count, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

const HOST = 'https://reconcile.magento.test';
const ITEMS = '/rest/default/V1/inventory/source-items';
const oauth = { type: 'oauth1', consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'ats' };
let t: TestHub;

/** Magento's view of the stock: A shows 7 at berlin (the hub has 10 there), B shows 1 (as the hub, after the push test). */
const serveSourceItems = () => nock(HOST).get(ITEMS).query(true).reply(200, {
  items: [
    { sku: 'A', source_code: 'berlin', quantity: 7, status: 1 },
    { sku: 'B', source_code: 'berlin', quantity: 1, status: 1 },
    { sku: 'C', source_code: 'unmapped-source', quantity: 4, status: 1 },
  ],
  search_criteria: {}, total_count: 3,
});

const magento = (name: string, schedules: Record<string, string> = {}) => t.services.connections.create({
  name, kind: 'magento', config: { storeUrl: HOST, pageSize: 100 }, credentials: oauth, schedules,
  settings: { pushStock: [{ externalLocationId: 'berlin', locationCodes: ['WH-A'] }] },
});

beforeAll(async () => {
  t = await createTestHub({ serve: true, config: { masterKey: 'reconcile-test-master-key-0123456789abcdef' } });
  await seedSmallNetwork(t.services);
  await t.services.inventory.set({ sku: 'A', locationCode: 'WH-A', onHand: 10 }, 'test');
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1'); // the hub under test
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

test('stock goes out to the channel when ATP changes: coalesced per channel, read at send time, not resent when unchanged', async () => {
  // Earlier stock changes while no channel publishes stock: their marks are only cleared, nothing is queued.
  expect(await count(t.db.dataSource, 'stock_push_dirty')).toBeGreaterThan(0);
  await t.services.sync.outbox.drain();
  expect(await count(t.db.dataSource, 'stock_push_dirty')).toBe(0);
  expect(await count(t.db.dataSource, `outbox_event WHERE topic = 'stock.push'`)).toBe(0);
  const c = await t.services.connections.create({
    name: 'mage-push', kind: 'magento', config: { storeUrl: HOST, pageSize: 100 }, credentials: oauth,
    settings: { pushStock: [{ externalLocationId: 'berlin', locationCodes: ['WH-A'] }, { externalLocationId: 'everywhere' }] },
  });
  const sent: { sourceItems: { sku: string; source_code: string; quantity: number; status: number }[] }[] = [];
  const serve = () => nock(HOST).post(ITEMS, (b) => (sent.push(b), true)).reply(200, '[]');
  const bySource = (b: (typeof sent)[number]) => [...b.sourceItems].sort((x, y) => x.source_code.localeCompare(y.source_code));

  // Three changes to one item before the dispatcher runs: one push, with the level at send time.
  await t.services.inventory.adjust({ sku: 'B', locationCode: 'WH-A', delta: 5, reason: 'RECEIPT' as never }, 'test');
  await t.services.inventory.adjust({ sku: 'B', locationCode: 'WH-B', delta: 2, reason: 'RECEIPT' as never }, 'test');
  await t.services.inventory.adjust({ sku: 'B', locationCode: 'WH-A', delta: -1, reason: 'DAMAGE' as never }, 'test');
  serve();
  await t.services.sync.outbox.drain();
  expect(sent).toHaveLength(1);
  expect(bySource(sent[0])).toEqual([
    { sku: 'B', source_code: 'berlin', quantity: 4, status: 1 },
    { sku: 'B', source_code: 'everywhere', quantity: 6, status: 1 },
  ]);
  const events = await t.db.dataSource.query(`SELECT status FROM outbox_event WHERE topic = 'stock.push' AND connection_id = $1`, [c.id]);
  expect(events).toEqual([{ status: 'SENT' }]);

  // Nothing changed: no event, no request.
  await t.services.sync.outbox.drain();
  expect(await count(t.db.dataSource, `outbox_event WHERE topic = 'stock.push' AND connection_id = '${c.id}'`)).toBe(1);

  // A reservation lowers ATP: the channel hears the new level; a location outside a mapping does not trigger it.
  await t.services.inventory.reserveStock({ lines: [{ sku: 'B', locationCode: 'WH-A', quantity: 3 }] }, 'test');
  serve();
  await t.services.sync.outbox.drain();
  expect(sent).toHaveLength(2);
  expect(bySource(sent[1])).toEqual([
    { sku: 'B', source_code: 'berlin', quantity: 1, status: 1 },
    { sku: 'B', source_code: 'everywhere', quantity: 3, status: 1 },
  ]);
  expect(nock.isDone()).toBe(true);
});

test('a reconciliation records the drift, queues a correcting push and appears in the run history', async () => {
  const c = await magento('mage-reconcile');
  serveSourceItems();
  expect(await t.services.sync.reconciler.reconcile(c.id)).toEqual({ checked: 2, drifted: 1 });
  expect(await t.services.sync.reconciler.drift(c.id)).toEqual([
    { sku: 'A', externalLocationId: 'berlin', channelQuantity: 7, hubAvailable: 10, drift: -3, seenAt: expect.any(Date) },
  ]);
  const pushes = await t.db.dataSource.query(`SELECT payload FROM outbox_event WHERE topic = 'stock.push' AND connection_id = $1`, [c.id]);
  expect(pushes).toEqual([{ payload: { items: [{ sku: 'A', externalLocationId: 'berlin' }] } }]);
  const runs = await t.db.dataSource.query(`SELECT stream, trigger, status, updated, skipped FROM sync_run WHERE connection_id = $1`, [c.id]);
  expect(runs).toEqual([{ stream: 'reconcile', trigger: 'MANUAL', status: 'SUCCEEDED', updated: 1, skipped: 1 }]);

  // The correction goes out with the hub's level, and the drift is gone.
  let body: { sourceItems: unknown[] } | undefined;
  nock(HOST).post(ITEMS, (b) => ((body = b), true)).reply(200, '[]');
  await t.services.sync.outbox.drain();
  expect(body).toEqual({ sourceItems: [{ sku: 'A', source_code: 'berlin', quantity: 10, status: 1 }] });
  expect(await t.services.sync.reconciler.drift(c.id)).toEqual([]);
  nock(HOST).get(ITEMS).query(true).reply(200, { items: [{ sku: 'A', source_code: 'berlin', quantity: 7, status: 1 }], search_criteria: {}, total_count: 1 });
  await t.services.sync.reconciler.reconcile(c.id); // drifted again (someone edited it in Magento): recorded again
});

test('a failed reconciliation is recorded as FAILED with the reason, and leaves no drift or push behind', async () => {
  const c = await magento('mage-reconcile-fail');
  nock(HOST).get(ITEMS).query(true).reply(200, { items: [{ sku: 'A', source_code: 'berlin' }], search_criteria: {}, total_count: 1 }); // truncated record
  await expect(t.services.sync.reconciler.reconcile(c.id)).rejects.toThrow(/source item/);
  const [run] = await t.db.dataSource.query(`SELECT status, errors FROM sync_run WHERE connection_id = $1`, [c.id]);
  expect(run.status).toBe('FAILED');
  expect(run.errors[0]).toMatch(/source item/);
  expect(await t.services.sync.reconciler.drift(c.id)).toEqual([]);
  expect(await count(t.db.dataSource, `outbox_event WHERE connection_id = '${c.id}'`)).toBe(0);
});

test('a "reconcile" schedule is accepted where the vendor reports stock, and its tick runs the reconciliation once', async () => {
  await expect(t.services.connections.create({ name: 'no-stock-stream', kind: 'shopify', config: { shop: 'x', baseUrl: 'https://x.myshopify.test' },
    credentials: { accessToken: 'shpat_x', webhookSecret: 's' }, schedules: { reconsile: '0 * * * *' } }))
    .rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.schedules.reconsile' });
  const c = await magento('mage-scheduled', { reconcile: '*/15 * * * *' });
  serveSourceItems();
  const at = new Date('2026-11-23T10:15:00Z');
  expect(await t.services.sync.scheduler.tick(c.id, 'reconcile', at)).toBe(true);
  expect(await t.services.sync.scheduler.tick(c.id, 'reconcile', at)).toBe(false); // another instance's claim of the same tick
  await t.services.sync.queue.drain();
  const runs = await t.db.dataSource.query(`SELECT stream, trigger, status, updated FROM sync_run WHERE connection_id = $1`, [c.id]);
  expect(runs).toEqual([{ stream: 'reconcile', trigger: 'SCHEDULE', status: 'SUCCEEDED', updated: 1 }]);
});

test('GET /metrics reports drift and backlogs to an authenticated scraper only', async () => {
  const url = new URL('/metrics', t.hub!.url).toString();
  expect((await fetch(url)).status).toBe(401);
  expect((await fetch(url, { headers: { authorization: 'Bearer not-a-key' } })).status).toBe(401);
  const res = await fetch(url, { headers: ADMIN });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const body = await res.text();
  expect(body).toContain('# TYPE switchyard_stock_drift_items gauge');
  expect(body).toContain('switchyard_stock_drift_items{connection="mage-reconcile"} 1');
  expect(body).toContain('switchyard_stock_drift_units{connection="mage-reconcile"} 3');
  expect(body).toContain('switchyard_stock_drift_items{connection="mage-reconcile-fail"} 0');
  expect(body).toMatch(/switchyard_outbox_events\{topic="stock.push",status="PENDING"\} \d+/);
  expect(body).toMatch(/switchyard_sync_last_success_timestamp_seconds\{connection="mage-scheduled",stream="reconcile"\} \d+/);
});
