// The page path of the sync intake: new orders of a vendor page land together (OrderIntake.landPage →
// OrderService.placeOrdersIn). Vendor payloads: ../shared/fixtures/shopify/rest-2026-07/order-1.json (through
// test/connectors/shopify/shopify-fixtures.ts), re-expressed in the Admin GraphQL shape, as sync.test.ts does.
import nock from 'nock';
import type { OrderRouter } from '../../src/orders/order-router';
import type { Services } from '../../src/services';
import { assertStockInvariants, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';
import { restOrders, restOrderToGql, THROTTLE_STATUS } from '../connectors/shopify/shopify-fixtures';

const HOST = 'https://page-intake.myshopify.test';
const GQL = '/admin/api/2026-07/graphql.json';
const cost = { cost: { requestedQueryCost: 10, actualQueryCost: 10, throttleStatus: THROTTLE_STATUS } };
const base = restOrders('order-1.json')[0];
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

let t: TestHub;
let s: Services;

/** A fixture order with its own id, updated_at and lines ([sku, quantity]). */
function order(id: string, lines: [string, number][], extra: Record<string, unknown> = {}) {
  return restOrderToGql({ ...base, id: Number(id), name: `#${id}`, updated_at: minutesAgo(30), cancelled_at: null, closed_at: null, fulfillment_status: null,
    line_items: lines.map(([sku, quantity], i) => ({ ...base.line_items[0], id: Number(id) * 10 + i, sku, quantity, current_quantity: quantity })), ...extra });
}
const page = (orders: unknown[]) => ({ data: { orders: { nodes: orders, pageInfo: { hasNextPage: false, endCursor: null } } }, extensions: cost });

async function connection(name: string) {
  return s.connections.create({
    name, kind: 'shopify', settings: { channel: name },
    config: { shop: 'page-intake', baseUrl: HOST, startAt: minutesAgo(24 * 60), timeoutMs: 5000 },
    credentials: { accessToken: 'shpat_secret_token' },
  });
}

const q = <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => t.db.dataSource.query(sql, params);
const stock = async (sku: string, code: string) => (await q(`SELECT s.on_hand, s.reserved FROM stock_level s JOIN product p ON p.id = s.product_id
  JOIN location l ON l.id = s.location_id WHERE p.sku = $1 AND l.code = $2`, [sku, code]))[0];

beforeAll(async () => {
  t = await createTestHub({ config: { masterKey: 'page-intake-master-key-0123456789abcdef01' } });
  s = t.services;
  s.connections.openOptions = { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, budgetMs: 2000 }, random: () => 0.5 };
  await seedSmallNetwork(s);
  for (const code of ['WH-A', 'WH-B']) await s.inventory.set({ sku: 'A', locationCode: code, onHand: 1000 }, 'test');
  await s.inventory.set({ sku: 'B', locationCode: 'WH-A', onHand: 1000 }, 'test');
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('a page of orders lands together', () => {
  test('good, unknown-SKU, known and closed records in one page: the good ones land whole, the bad one is quarantined alone', async () => {
    const c = await connection('page-mixed');
    nock(HOST).post(GQL).reply(200, page([order('4001', [['A', 1]])]));
    expect(await s.sync.runner.run(c.id, { stream: 'orders', trigger: 'MANUAL' })).toMatchObject({ status: 'SUCCEEDED', created: 1 });

    nock(HOST).post(GQL).reply(200, page([
      order('4002', [['A', 2], ['B', 1]]),
      order('4003', [['A', 1], ['NO-SUCH-SKU', 1]]),
      { ...order('4001', [['A', 1]]), updatedAt: minutesAgo(10) }, // known: a newer version
      order('4004', [['B', 3]]),
      order('4005', [['A', 1]], { cancelled_at: minutesAgo(20), cancel_reason: 'customer' }), // closed before we saw it
    ]));
    const run = await s.sync.runner.run(c.id, { stream: 'orders', trigger: 'MANUAL', since: new Date(Date.now() - 3600_000) });
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 2, updated: 1, skipped: 1, failed: 1 });
    expect(run.errors).toEqual([expect.stringContaining('NO-SUCH-SKU')]);

    const orders = await q(`SELECT external_id, status, version FROM orders WHERE channel = 'page-mixed' ORDER BY external_id`);
    expect(orders).toEqual([
      { external_id: '4001', status: 'ALLOCATED', version: 2 },
      { external_id: '4002', status: 'ALLOCATED', version: 2 },
      { external_id: '4004', status: 'ALLOCATED', version: 2 },
    ]);
    // Nothing of the refused record was written; it waits in quarantine with the reason.
    expect(await q(`SELECT count(*)::int AS n FROM order_line WHERE sku = 'NO-SUCH-SKU'`)).toEqual([{ n: 0 }]);
    expect(await q(`SELECT record_id FROM sync_quarantine WHERE connection_id = $1`, [c.id])).toEqual([{ record_id: '4003' }]);
    // One external_ref per order (the closed one as a tombstone), the cursor with them.
    expect(await q(`SELECT external_id FROM external_ref WHERE connection_id = $1 AND entity_type = 'ORDER' ORDER BY 1`, [c.id]))
      .toEqual([{ external_id: '4001' }, { external_id: '4002' }, { external_id: '4004' }, { external_id: '4005' }]);
    expect(await q(`SELECT count(*)::int AS n FROM sync_cursor WHERE connection_id = $1`, [c.id])).toEqual([{ n: 1 }]);

    // A page-landed order carries the same record as one placed alone: lines, fulfilment, reservations, ledger, history.
    const [{ id }] = await q(`SELECT id FROM orders WHERE channel = 'page-mixed' AND external_id = '4002'`);
    expect(await q(`SELECT sku, quantity FROM order_line WHERE order_id = $1 ORDER BY line_no`, [id])).toEqual([{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }]);
    expect((await q(`SELECT sum(fol.quantity)::int AS n FROM fulfillment_order_line fol JOIN fulfillment_order fo ON fo.id = fol.fulfillment_order_id WHERE fo.order_id = $1`, [id]))[0].n).toBe(3);
    expect(await q(`SELECT count(*)::int AS n, sum(quantity)::int AS q FROM reservation WHERE order_id = $1 AND status = 'ACTIVE' AND fulfillment_order_line_id IS NOT NULL`, [id]))
      .toEqual([{ n: 2, q: 3 }]);
    expect((await q(`SELECT count(*)::int AS n FROM stock_movement WHERE reference = $1::text AND reason = 'RESERVE'`, [id]))[0].n).toBe(2);
    const history = await q(`SELECT from_status, to_status, fulfillment_order_id IS NOT NULL AS fo, reason FROM order_transition WHERE order_id = $1 ORDER BY id`, [id]);
    expect(history[0]).toEqual({ from_status: null, to_status: 'CREATED', fo: false, reason: 'placed on page-mixed' });
    expect(history.slice(1, -1).every((h: { to_status: string; fo: boolean }) => h.to_status === 'PENDING' && h.fo)).toBe(true);
    expect(history[history.length - 1]).toEqual({ from_status: 'CREATED', to_status: 'ALLOCATED', fo: false, reason: null });
    expect(await q(`SELECT status FROM routing_decision WHERE order_id = $1`, [id])).toEqual([{ status: 'ROUTED' }]);
    await assertStockInvariants(t.db.dataSource);
  });

  test('an order with a discontinued SKU is refused alone, by the same check as a single placement', async () => {
    // The page resolves its lines from the routing snapshot's product read: a product that exists but may not be
    // ordered must still be told apart from one that does not exist.
    const c = await connection('page-discontinued');
    await s.products.upsert({ sku: 'OLD', name: 'Retired product', active: false });
    nock(HOST).post(GQL).reply(200, page([order('4101', [['A', 1]]), order('4102', [['B', 1], ['OLD', 1]]), order('4103', [['B', 1]])]));
    const run = await s.sync.runner.run(c.id, { stream: 'orders', trigger: 'MANUAL' });
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 2, failed: 1 });
    expect(run.errors).toEqual([expect.stringMatching(/SKU "OLD" is discontinued/)]);
    expect(await q(`SELECT external_id, status FROM orders WHERE channel = 'page-discontinued' ORDER BY external_id`))
      .toEqual([{ external_id: '4101', status: 'ALLOCATED' }, { external_id: '4103', status: 'ALLOCATED' }]);
    expect(await q(`SELECT record_id FROM sync_quarantine WHERE connection_id = $1`, [c.id])).toEqual([{ record_id: '4102' }]);
    await assertStockInvariants(t.db.dataSource);
  });

  test('orders of one page compete for scarce stock without overselling: each later order is planned on what the earlier ones left', async () => {
    const c = await connection('page-scarce');
    await s.inventory.set({ sku: 'C', locationCode: 'WH-A', onHand: 3 }, 'test');
    await s.inventory.set({ sku: 'C', locationCode: 'WH-B', onHand: 2 }, 'test');
    nock(HOST).post(GQL).reply(200, page(['5001', '5002', '5003', '5004'].map((id) => order(id, [['C', 2]]))));
    const run = await s.sync.runner.run(c.id, { stream: 'orders', trigger: 'MANUAL' });
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 4, failed: 0 });
    const statuses = await q(`SELECT status, count(*)::int AS n FROM orders WHERE channel = 'page-scarce' GROUP BY status ORDER BY status`);
    // 5 units for 4 × 2: two orders whole; the other two wait (with whatever part could be placed).
    expect(statuses).toEqual([{ status: 'ALLOCATED', n: 2 }, { status: 'BACKORDERED', n: 2 }]);
    const a = await stock('C', 'WH-A');
    const b = await stock('C', 'WH-B');
    expect(a.reserved).toBeLessThanOrEqual(a.on_hand);
    expect(b.reserved).toBeLessThanOrEqual(b.on_hand);
    expect(a.reserved + b.reserved).toBeGreaterThanOrEqual(4);
    await assertStockInvariants(t.db.dataSource);
  });
  test('each order keeps its own routing decision, whole, even with text beyond ASCII in it', async () => {
    // The page's decisions travel together as one buffer cut at byte offsets: a multi-byte name would shift every
    // decision after it if the offsets counted characters.
    const name = 'Entrepôts d’abord — 倉庫 📦';
    await s.ruleSets.saveDraft({ id: 'page-unicode', name, rankers: [{ type: 'distance', weight: 1 }] }, 'ops');
    await s.ruleSets.publish('page-unicode', 1, 'ops');
    try {
      const c = await connection('page-decisions');
      nock(HOST).post(GQL).reply(200, page(['6001', '6002', '6003'].map((id) => order(id, [['A', 1]]))));
      expect(await s.sync.runner.run(c.id, { stream: 'orders', trigger: 'MANUAL' })).toMatchObject({ status: 'SUCCEEDED', created: 3 });
      const decisions = await q(`SELECT o.id, d.decision FROM orders o JOIN routing_decision d ON d.order_id = o.id WHERE o.channel = 'page-decisions'`);
      expect(decisions).toHaveLength(3);
      for (const { id, decision } of decisions) {
        expect(decision).toMatchObject({ orderId: id, status: 'ROUTED', trace: { ruleSetId: 'page-unicode', ruleSetName: name } });
        expect(decision.shipments).toEqual([expect.objectContaining({ lines: [{ sku: 'A', quantity: 1 }] })]);
      }
    } finally {
      await q(`UPDATE routing_rule_set SET status = 'RETIRED' WHERE id = 'page-unicode'`);
    }
  });
});

describe('an order of the page that loses a reservation race', () => {
  /**
   * A rival reservation commits on another connection right after the page planned `target`: exactly the window
   * between the page's snapshot and its row locks. `take(plannedAt)` says what the rival reserves.
   */
  async function withRival<T>(target: string, take: (plannedAt: string) => Promise<{ sku: string; locationCode: string; quantity: number }[]>, fn: () => Promise<T>): Promise<T> {
    const router = s.orders.planner as OrderRouter;
    const planWith = router.planWith;
    let fired = false;
    router.planWith = async function (this: OrderRouter, ...args: Parameters<OrderRouter['planWith']>) {
      const plan = await planWith.apply(this, args);
      if (!fired && args[2].externalId === target && plan.decision.shipments.length) {
        fired = true;
        for (const line of await take(plan.decision.shipments[0].locationCode)) {
          if (line.quantity > 0) await s.inventory.reserveStock({ lines: [line], reference: 'rival' }, 'rival');
        }
      }
      return plan;
    };
    try {
      return await fn();
    } finally {
      router.planWith = planWith;
      expect(fired).toBe(true);
    }
  }
  const free = async (sku: string, code: string) => { const r = await stock(sku, code); return r.on_hand - r.reserved; };

  test('is re-planned on fresh stock and lands allocated; the rest of the page is not disturbed', async () => {
    const c = await connection('page-race');
    await s.inventory.set({ sku: 'C', locationCode: 'WH-A', onHand: 20 }, 'test');
    await s.inventory.set({ sku: 'C', locationCode: 'WH-B', onHand: 20 }, 'test');
    // Where the target (2 units) was planned, the rival leaves 1.
    const run = await withRival('6002', async (at) => [{ sku: 'C', locationCode: at, quantity: (await free('C', at)) - 1 }], async () => {
      nock(HOST).post(GQL).reply(200, page([order('6001', [['A', 1]]), order('6002', [['C', 2]]), order('6003', [['A', 1]])]));
      return s.sync.runner.run(c.id, { stream: 'orders', trigger: 'MANUAL' });
    });
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 3, failed: 0 });
    expect(await q(`SELECT external_id, status FROM orders WHERE channel = 'page-race' ORDER BY external_id`))
      .toEqual(['6001', '6002', '6003'].map((external_id) => ({ external_id, status: 'ALLOCATED' })));
    const [{ id }] = await q(`SELECT id FROM orders WHERE channel = 'page-race' AND external_id = '6002'`);
    // The page's plan, then the re-plan that won.
    expect((await q(`SELECT count(*)::int AS n FROM routing_decision WHERE order_id = $1`, [id]))[0].n).toBe(2);
    expect((await q(`SELECT sum(quantity)::int AS n FROM reservation WHERE order_id = $1 AND status = 'ACTIVE'`, [id]))[0].n).toBe(2);
    for (const code of ['WH-A', 'WH-B']) expect(await free('C', code)).toBeGreaterThanOrEqual(0);
    await assertStockInvariants(t.db.dataSource);
  });

  test('waits as BACKORDERED when the rival took everything: placed, never lost or quarantined', async () => {
    const c = await connection('page-race-out');
    await s.inventory.set({ sku: 'B', locationCode: 'WH-B', onHand: 4 }, 'test');
    const everything = async () => Promise.all(['WH-A', 'WH-B'].map(async (code) => ({ sku: 'B', locationCode: code, quantity: await free('B', code) })));
    const run = await withRival('7001', everything, async () => {
      nock(HOST).post(GQL).reply(200, page([order('7001', [['B', 1]]), order('7002', [['A', 1]])]));
      return s.sync.runner.run(c.id, { stream: 'orders', trigger: 'MANUAL' });
    });
    expect(run).toMatchObject({ status: 'SUCCEEDED', created: 2, failed: 0 });
    expect(await q(`SELECT external_id, status FROM orders WHERE channel = 'page-race-out' ORDER BY external_id`))
      .toEqual([{ external_id: '7001', status: 'BACKORDERED' }, { external_id: '7002', status: 'ALLOCATED' }]);
    expect(await q(`SELECT count(*)::int AS n FROM sync_quarantine WHERE connection_id = $1`, [c.id])).toEqual([{ n: 0 }]);
    const [{ id }] = await q(`SELECT id FROM orders WHERE channel = 'page-race-out' AND external_id = '7001'`);
    expect(await q(`SELECT count(*)::int AS n FROM reservation WHERE order_id = $1`, [id])).toEqual([{ n: 0 }]);
    expect(await q(`SELECT count(*)::int AS n FROM order_line WHERE order_id = $1`, [id])).toEqual([{ n: 1 }]);
    await assertStockInvariants(t.db.dataSource);
  });
});
