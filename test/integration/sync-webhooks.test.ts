// Webhook intake at scale (issue #6): deliveries × 3 replays, shuffled, 10 % of them stale versions; and forged
// signatures. Payload: ../shared/fixtures/shopify/rest-2026-07/order-1.json, the REST shape Shopify's orders/*
// webhooks carry, signed as Shopify signs (base64 HMAC-SHA256 of the raw body with the app's client secret).
// Size: SYNC_WEBHOOK_DELIVERIES (issue size 1,000) and SYNC_WEBHOOK_FORGED (issue size 10,000); CI defaults are smaller.
import { hmacSha256 } from '../../src/connectors/sdk/webhooks';
import { restOrders } from '../connectors/shopify/shopify-fixtures';
import { assertStockInvariants, count, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

const DELIVERIES = Number(process.env.SYNC_WEBHOOK_DELIVERIES ?? 100);
const FORGED = Number(process.env.SYNC_WEBHOOK_FORGED ?? 400);
const SECRET = 'shopify_webhook_secret_scale';
const CONNECTION = 'shop-webhook-scale';
const base = restOrders('order-1.json')[0];

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub({ config: { masterKey: 'sync-webhooks-master-key-0123456789abcd' } });
  await seedSmallNetwork(t.services);
  for (const code of ['WH-A', 'WH-B']) await t.services.inventory.set({ sku: 'A', locationCode: code, onHand: 1_000_000 }, 'test');
  await t.services.connections.create({ name: CONNECTION, kind: 'shopify', config: { shop: 'webhook-scale', baseUrl: 'https://webhook-scale.myshopify.test' },
    credentials: { accessToken: 'shpat_unused', webhookSecret: SECRET } });
});
afterAll(async () => {
  await t.close();
});

function restOrder(id: number, updatedAt: string, extra: Record<string, unknown> = {}) {
  return { ...base, id, name: `#${id}`, updated_at: updatedAt, cancelled_at: null, closed_at: null, fulfillment_status: null,
    line_items: [{ ...base.line_items[0], id: id * 10, sku: 'A', quantity: 1, current_quantity: 1 }], ...extra };
}
function delivery(topic: string, eventId: string, order: Record<string, unknown>, secret = SECRET) {
  const body = JSON.stringify(order);
  return { rawBody: Buffer.from(body), headers: { 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': hmacSha256(secret, body).toString('base64'), 'x-shopify-event-id': eventId } };
}
function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

test(`${DELIVERIES} deliveries × 3 replays, shuffled, 10 % stale → no duplicate, none lost, no stale overwrite`, async () => {
  const s = t.services;
  const ds = t.db.dataSource;
  const stale = Math.floor(DELIVERIES / 10);
  const orders = DELIVERIES - stale;
  // Order i's current version: a cancellation at 11:00 for the first `stale` orders (their 10:00 create is the stale
  // delivery), a create at 10:00 for the rest. Every delivery is sent three times (the vendor retries).
  const current = new Map<string, { at: string; cancelled: boolean }>();
  const all: ReturnType<typeof delivery>[] = [];
  for (let i = 0; i < orders; i++) {
    const id = 600_000 + i;
    const create = delivery('orders/create', `evt-${id}-create`, restOrder(id, '2026-01-01T10:00:00Z'));
    all.push(create, create, create);
    if (i < stale) {
      const cancel = delivery('orders/cancelled', `evt-${id}-cancel`, restOrder(id, '2026-01-01T11:00:00Z', { cancelled_at: '2026-01-01T11:00:00Z', cancel_reason: 'customer' }));
      all.push(cancel, cancel, cancel);
      current.set(String(id), { at: '2026-01-01T11:00:00.000Z', cancelled: true });
    } else current.set(String(id), { at: '2026-01-01T10:00:00.000Z', cancelled: false });
  }
  shuffle(all);
  const statuses: Record<string, number> = {};
  const t0 = Date.now();
  for (const d of all) {
    const r = await s.sync.webhooks.receive(CONNECTION, d);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    // Process as deliveries arrive (two jobs at a time), so stale versions really land after newer ones.
    if (Math.random() < 0.3) await s.sync.queue.drain();
  }
  await s.sync.queue.drain();
  const seconds = (Date.now() - t0) / 1000;
  expect(statuses).toEqual({ accepted: DELIVERIES, duplicate: 2 * DELIVERIES });

  const refs = await ds.query(`SELECT r.external_id, r.source_updated_at, r.internal_id, o.status, (SELECT count(*)::int FROM orders x WHERE x.channel = $2 AND x.external_id = r.external_id) AS copies
                                 FROM external_ref r JOIN connection c ON c.id = r.connection_id LEFT JOIN orders o ON o.id = r.internal_id
                                WHERE c.name = $1 AND r.entity_type = 'ORDER'`, [CONNECTION, CONNECTION]);
  expect(refs).toHaveLength(orders); // none lost
  const wrong = refs.filter((r: { external_id: string; source_updated_at: Date; status: string | null; copies: number }) => {
    const want = current.get(r.external_id)!;
    // No stale overwrite: each order is at its newest version. A cancellation seen before its create leaves a
    // tombstone (never placed); otherwise the order exists once, cancelled exactly when the channel cancelled it.
    return r.source_updated_at.toISOString() !== want.at || r.copies > 1
      || (want.cancelled ? !(r.status === null || r.status === 'CANCELLED') : r.status !== 'ALLOCATED');
  });
  expect(wrong).toEqual([]);
  const receipts = await ds.query(`SELECT w.status, count(*)::int AS n FROM webhook_receipt w JOIN connection c ON c.id = w.connection_id WHERE c.name = $1 GROUP BY w.status`, [CONNECTION]);
  expect(receipts).toEqual([{ status: 'PROCESSED', n: DELIVERIES }]);
  await assertStockInvariants(ds);
  console.log(`sync-webhooks: ${DELIVERIES} deliveries × 3 (${stale} stale) received and processed in ${seconds.toFixed(1)} s: 0 duplicated, 0 lost, 0 stale overwrites`);
}, Math.max(120_000, DELIVERIES * 1_500));

test(`a burst of ${DELIVERIES} queued deliveries lands in batches: each receipt keeps its own outcome`, async () => {
  const s = t.services;
  const ds = t.db.dataSource;
  // Queued, not processed: the worker then finds them all waiting. One names an unknown SKU, one cancels another
  // delivery's order (newer), one is an older version of another (queued after the newer). Two workers' batches can
  // land them in either order; the outcome must not depend on it.
  const ids = Array.from({ length: DELIVERIES }, (_, i) => 700_000 + i);
  for (const id of ids) expect((await s.sync.webhooks.receive(CONNECTION, delivery('orders/create', `burst-${id}`, restOrder(id, '2026-01-01T10:00:00Z')))).status).toBe('accepted');
  const unknown = restOrder(799_999, '2026-01-01T10:00:00Z');
  (unknown.line_items as Record<string, unknown>[])[0].sku = 'NO-SUCH-SKU';
  await s.sync.webhooks.receive(CONNECTION, delivery('orders/create', 'burst-unknown', unknown));
  await s.sync.webhooks.receive(CONNECTION, delivery('orders/cancelled', 'burst-cancel', restOrder(ids[0], '2026-01-01T11:00:00Z', { cancelled_at: '2026-01-01T11:00:00Z' })));
  await s.sync.webhooks.receive(CONNECTION, delivery('orders/updated', 'burst-stale', restOrder(ids[1], '2026-01-01T09:00:00Z', { note: 'older' })));
  const t0 = Date.now();
  await s.sync.queue.drain();
  const seconds = (Date.now() - t0) / 1000;

  const receipts = await ds.query(`SELECT w.delivery_id, w.status FROM webhook_receipt w JOIN connection c ON c.id = w.connection_id
                                    WHERE c.name = $1 AND w.delivery_id LIKE 'burst-%' AND w.status <> 'PROCESSED'`, [CONNECTION]);
  expect(receipts).toEqual([{ delivery_id: 'burst-unknown', status: 'QUARANTINED' }]);
  const landed = await ds.query(`SELECT r.external_id, o.status, r.source_updated_at FROM external_ref r JOIN connection c ON c.id = r.connection_id
                                   LEFT JOIN orders o ON o.id = r.internal_id WHERE c.name = $1 AND r.external_id = ANY($2)`, [CONNECTION, ids.map(String)]);
  expect(landed).toHaveLength(DELIVERIES);
  const byId = new Map(landed.map((o: { external_id: string }) => [o.external_id, o]));
  // Cancelled after its create landed, or seen cancelled first (a tombstone: never placed).
  expect(byId.get(String(ids[0]))).toMatchObject({ source_updated_at: new Date('2026-01-01T11:00:00Z') });
  expect([null, 'CANCELLED']).toContain((byId.get(String(ids[0])) as { status: string | null }).status);
  expect(byId.get(String(ids[1]))).toMatchObject({ status: 'ALLOCATED', source_updated_at: new Date('2026-01-01T10:00:00Z') });
  expect(landed.filter((o: { status: string }) => o.status !== 'ALLOCATED').map((o: { external_id: string }) => o.external_id)).toEqual([String(ids[0])]);
  expect(await ds.query(`SELECT count(*)::int AS n FROM orders WHERE external_id = '799999'`)).toEqual([{ n: 0 }]);
  await assertStockInvariants(ds);
  console.log(`sync-webhooks: a burst of ${DELIVERIES + 3} queued deliveries processed in ${seconds.toFixed(1)} s`);
}, Math.max(120_000, DELIVERIES * 1_500));

test(`${FORGED} forged signatures → none accepted, nothing stored`, async () => {
  const s = t.services;
  const ds = t.db.dataSource;
  const receiptsBefore = await count(ds, 'webhook_receipt');
  const ordersBefore = await count(ds, 'orders');
  const outcomes: Record<string, number> = {};
  const t0 = Date.now();
  for (let i = 0; i < FORGED; i++) {
    const d = delivery('orders/create', `forged-${i}`, restOrder(900_000 + i, '2026-01-01T10:00:00Z'));
    const body = d.rawBody.toString();
    const kind = i % 4;
    if (kind === 0) d.headers['x-shopify-hmac-sha256'] = hmacSha256('not-the-secret', body).toString('base64');
    if (kind === 1) d.headers['x-shopify-hmac-sha256'] = hmacSha256(SECRET, `${body} `).toString('base64'); // signed another body
    if (kind === 2) d.rawBody = Buffer.from(body.replace('"quantity":1', '"quantity":9')); // tampered after signing
    if (kind === 3) delete (d.headers as Record<string, string>)['x-shopify-hmac-sha256'];
    const r = await s.sync.webhooks.receive(CONNECTION, d);
    outcomes[`${r.httpStatus} ${r.status}`] = (outcomes[`${r.httpStatus} ${r.status}`] ?? 0) + 1;
  }
  const seconds = (Date.now() - t0) / 1000;
  expect(outcomes).toEqual({ '401 rejected': FORGED });
  expect(await count(ds, 'webhook_receipt')).toBe(receiptsBefore);
  expect(await count(ds, 'orders')).toBe(ordersBefore);
  console.log(`sync-webhooks: ${FORGED} forged deliveries rejected in ${seconds.toFixed(1)} s, 0 accepted`);
}, Math.max(120_000, FORGED * 100));
