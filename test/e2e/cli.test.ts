// Vendor payloads: ../shared/fixtures/shopify/rest-2026-07/order-1.json, via test/connectors/shopify/shopify-fixtures.ts.
import nock from 'nock';
import { main } from '../../src/main';
import { count, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';
import { restOrders, restOrderToGql, THROTTLE_STATUS } from '../connectors/shopify/shopify-fixtures';

const HOST = 'https://cli-test.myshopify.test';
const MASTER = 'cli-test-master-key-0123456789abcdef0123456';
let t: TestHub;
const saved = { ...process.env };

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => { chunks.push(String(chunk)); return true; }) as typeof process.stdout.write;
  try {
    return { code: await main(argv), out: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

beforeAll(async () => {
  t = await createTestHub({ config: { masterKey: MASTER } });
  await seedSmallNetwork(t.services);
  await t.services.inventory.set({ sku: 'A', locationCode: 'WH-A', onHand: 100 }, 'test');
  Object.assign(process.env, { DATABASE_URL: t.db.url, SWITCHYARD_MASTER_KEY: MASTER, LOG_LEVEL: 'silent' });
});
afterAll(async () => {
  process.env = saved;
  await t?.close();
});
afterEach(() => nock.cleanAll());

test('sync pulls a connection stream, lands the orders and prints a machine-readable summary', async () => {
  await t.services.connections.create({
    name: 'shopify-cli', kind: 'shopify',
    config: { shop: 'cli-test', baseUrl: HOST, startAt: new Date(Date.now() - 86_400_000).toISOString() },
    credentials: { accessToken: 'shpat_cli_token', webhookSecret: 'whsec' },
  });
  const base = restOrders('order-1.json')[0];
  const order = (id: number) => restOrderToGql({ ...base, id, name: `#${id}`, updated_at: new Date(Date.now() - 3_600_000).toISOString(), cancelled_at: null, closed_at: null,
    fulfillment_status: null, line_items: [{ ...base.line_items[0], id: id * 10, sku: 'A', quantity: 1, current_quantity: 1 }] });
  nock(HOST).post('/admin/api/2026-07/graphql.json').reply(200, {
    data: { orders: { nodes: [order(9001), order(9002)], pageInfo: { hasNextPage: false, endCursor: null } } },
    extensions: { cost: { requestedQueryCost: 10, actualQueryCost: 10, throttleStatus: THROTTLE_STATUS } },
  });
  const before = await count(t.db.dataSource, 'orders');
  const { code, out } = await run(['sync', 'shopify-cli', '--stream', 'orders', '--json']);
  expect(code).toBe(0);
  const [summary] = JSON.parse(out);
  expect(summary).toMatchObject({ stream: 'orders', status: 'SUCCEEDED', created: 2, failed: 0 });
  expect(await count(t.db.dataSource, 'orders')).toBe(before + 2);
});

test('usage mistakes are refused clearly', async () => {
  await expect(run(['sync'])).rejects.toThrow(/needs a connection/);
  await expect(run(['sync', 'shopify-cli', '--since', 'yesterday-ish'])).rejects.toThrow(/is not a date/);
  await expect(run(['sync', 'no-such-connection'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  await expect(run(['teleport'])).rejects.toThrow(/unknown command/);
});

test('seed --demo is idempotent and reports what it added', async () => {
  const first = JSON.parse((await run(['seed', '--demo', '--locations', '8', '--skus', '40', '--json'])).out);
  expect(first).toMatchObject({ locations: 8, products: 40 });
  expect(first.stockRows).toBeGreaterThan(40);
  const again = JSON.parse((await run(['seed', '--demo', '--locations', '8', '--skus', '40', '--json'])).out);
  expect(again).toMatchObject({ locations: 0, products: 0, stockRows: 0 });
});

test('print-schema prints the SDL', async () => {
  const { code, out } = await run(['print-schema']);
  expect(code).toBe(0);
  expect(out).toContain('placeOrder(');
});
