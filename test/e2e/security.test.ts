import { serverAudits } from 'graphql-http';
import WebSocket from 'ws';
import { TOPIC } from '../../src/events/hub-events';
import { ADMIN, ADMIN_KEY, count, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';
import { collect, gql, waitForSubscribers, wsClient } from '../support/graphql-client';

let t: TestHub;
let url: string;
const logs: string[] = [];
const keys: Record<string, string> = {};
let connectionId: string;

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename ... on Order { id status } } }`;
const input = (externalId: string) => ({ channel: 'web', externalId, lines: [{ sku: 'A', quantity: 1 }], shipTo: { country: 'US', latitude: 41.9, longitude: -87.6 } });

beforeAll(async () => {
  t = await createTestHub({ serve: true, logs, config: { rateLimitPerMinute: 100_000 } });
  url = `http://127.0.0.1:${t.hub!.port}/graphql`;
  await seedSmallNetwork(t.services);
  await t.services.inventory.set({ sku: 'A', locationCode: 'WH-A', onHand: 100 }, 'test');
  [{ id: connectionId }] = await t.db.dataSource.query(`INSERT INTO connection (kind, name) VALUES ('shopify', 'shopify-us') RETURNING id`);
  const create = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id role keyPrefix } } }`;
  for (const [name, role, conn] of [['viewer', 'VIEWER'], ['operator', 'OPERATOR'], ['integration', 'INTEGRATION', true], ['other-integration', 'INTEGRATION']] as const) {
    const res = await gql(url, create, { input: { name, role, ...(conn ? { connectionId } : {}) } }, ADMIN);
    expect(res.errors).toBeUndefined();
    keys[name] = res.data.createApiKey.key;
    expect(res.data.createApiKey.apiKey.keyPrefix).toBe(keys[name].slice(0, 7));
  }
});
afterAll(async () => { await t?.close(); });

describe('authentication', () => {
  it('refuses anonymous and unknown callers with 401 UNAUTHENTICATED', async () => {
    const anon = await gql(url, `{ orders { edges { cursor } } }`);
    expect(anon.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const bad = await gql(url, `{ whoami { actor } }`, undefined, bearer('sy_notarealkeynotarealkeynotarealkey1'));
    expect(bad.status).toBe(401);
    expect(bad.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const malformed = await gql(url, `{ whoami { actor } }`, undefined, { authorization: 'Basic abc' });
    expect(malformed.status).toBe(401);
  });

  it('knows who is calling', async () => {
    expect((await gql(url, `{ whoami { actor role } }`, undefined, bearer(keys.viewer))).data.whoami.role).toBe('VIEWER');
    expect((await gql(url, `{ whoami { actor role } }`, undefined, ADMIN)).data.whoami).toEqual({ actor: 'admin:bootstrap', role: 'ADMIN' });
  });

  it('a revoked key stops working at once', async () => {
    const created = await gql(url, `mutation { createApiKey(input: { name: "temp", role: VIEWER }) { key apiKey { id } } }`, undefined, ADMIN);
    const key = created.data.createApiKey.key;
    expect((await gql(url, `{ whoami { role } }`, undefined, bearer(key))).data.whoami.role).toBe('VIEWER');
    await gql(url, `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, { id: created.data.createApiKey.apiKey.id }, ADMIN);
    expect((await gql(url, `{ whoami { role } }`, undefined, bearer(key))).status).toBe(401);
  });
});

describe('authorisation', () => {
  it('a viewer cannot place orders: FORBIDDEN, nothing written, and the refusal is audited', async () => {
    const before = await count(t.db.dataSource, 'orders');
    const res = await gql(url, PLACE, { input: input('V-1') }, bearer(keys.viewer));
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await count(t.db.dataSource, 'orders')).toBe(before);
    const [entry] = await t.db.dataSource.query(`SELECT outcome, fields, error_codes FROM audit_log WHERE actor LIKE 'key:%' AND outcome = 'REJECTED' ORDER BY id DESC LIMIT 1`);
    expect(entry).toEqual({ outcome: 'REJECTED', fields: ['placeOrder'], error_codes: ['FORBIDDEN'] });
  });

  it('an operator cannot manage keys or read the audit log', async () => {
    for (const q of [`mutation { createApiKey(input: { name: "x", role: ADMIN }) { key } }`, `{ auditLog { edges { cursor } } }`, `{ apiKeys { id } }`]) {
      expect((await gql(url, q, undefined, bearer(keys.operator))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('an integration key places orders for its connection and sees only those', async () => {
    const placed = await gql(url, PLACE, { input: input('I-1') }, bearer(keys.integration));
    expect(placed.data.placeOrder.__typename).toBe('Order');
    const id = placed.data.placeOrder.id;
    const [{ connection_id }] = await t.db.dataSource.query(`SELECT connection_id FROM orders WHERE id = $1`, [id]);
    expect(connection_id).toBe(connectionId);
    const mine = await gql(url, `{ orders { edges { node { externalId } } } }`, undefined, bearer(keys.integration));
    expect(mine.data.orders.edges.map((e: any) => e.node.externalId)).toEqual(['I-1']);
    const other = await gql(url, `query($id: ID!) { order(id: $id) { id } orders { edges { cursor } } }`, { id }, bearer(keys['other-integration']));
    expect(other.data).toEqual({ order: null, orders: { edges: [] } });
    const hijack = await gql(url, PLACE, { input: input('I-1') }, bearer(keys['other-integration']));
    expect(hijack.errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('anonymous storefront availability only when configured', async () => {
    const q = `{ availability(skus: ["A"]) { sku available } }`;
    expect((await gql(url, q)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const open = await createTestHub({ serve: true, config: { anonymousAvailability: true } });
    try {
      const res = await gql(`http://127.0.0.1:${open.hub!.port}/graphql`, q);
      expect(res.data).toEqual({ availability: [{ sku: 'A', available: 0 }] });
      expect((await gql(`http://127.0.0.1:${open.hub!.port}/graphql`, `{ orders { edges { cursor } } }`)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      await open.close();
    }
  });
});

describe('subscriptions', () => {
  it('a socket without credentials is closed with 4403', async () => {
    const ws = new WebSocket(url.replace('http', 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer nope' } })));
    expect(await closed).toBe(4403);
  });

  it('each subscription is checked against the role', async () => {
    const integration = wsClient(url, bearer(keys.integration));
    const denied = collect(integration, `subscription { orderUpdated { id } }`);
    await expect(denied.next(1)).rejects.toThrow(/FORBIDDEN|may not use orderUpdated/);
    await integration.dispose();

    const viewer = wsClient(url, bearer(keys.viewer));
    const before = t.services.events.subscriberCount(TOPIC.inventoryChanged);
    const sub = collect(viewer, `subscription { inventoryChanged(skus: ["B"]) { sku onHand } }`);
    await waitForSubscribers(() => t.services.events.subscriberCount(TOPIC.inventoryChanged), before + 1);
    await t.services.inventory.adjust({ sku: 'B', locationCode: 'WH-A', delta: 2, reason: 'RECEIPT' as never }, 'test');
    expect(await sub.next(1)).toEqual([{ inventoryChanged: { sku: 'B', onHand: 2 } }]);
    sub.dispose();
    await viewer.dispose();
  });
});

describe('abusive requests are refused before any resolver runs', () => {
  const aliasFlood = `mutation { ${Array.from({ length: 40 }, (_, i) => `o${i}: placeOrder(input: { channel: "web", externalId: "FLOOD-${i}", lines: [{ sku: "A", quantity: 1 }], shipTo: { country: "US" } }) { __typename }`).join(' ')} }`;
  const deep = `{ orders { edges { node { ... on Order { fulfillmentOrders { shipments { lines { quantity } } } } } } } }`;
  it.each([
    ['alias flood of mutations', aliasFlood, 'QUERY_TOO_COMPLEX'],
    ['huge page', `{ orders(first: 100000) { edges { cursor } } }`, 'BAD_USER_INPUT'],
    ['costly nesting', `{ a: orders(first: 200) { edges { node { lines { sku } fulfillmentOrders { lines { sku } shipments { lines { quantity } } } } } } b: orders(first: 200) { edges { node { lines { sku } fulfillmentOrders { lines { sku } shipments { lines { quantity } } } } } } }`, 'QUERY_TOO_COMPLEX'],
    ['token flood', `{ whoami { ${'actor '.repeat(5000)} } }`, 'GRAPHQL_PARSE_FAILED'],
  ])('%s', async (_name, query, code) => {
    const before = await count(t.db.dataSource, 'orders');
    const res = await gql(url, query, undefined, ADMIN);
    expect(res.errors?.[0].extensions?.code).toBe(code);
    expect(res.data ?? null).toBeNull();
    expect(await count(t.db.dataSource, 'orders')).toBe(before);
    void deep;
  });

  it('batched requests and oversized bodies', async () => {
    const batch = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...ADMIN }, body: JSON.stringify([{ query: '{ whoami { actor } }' }, { query: '{ whoami { actor } }' }]) });
    expect(batch.status).toBe(400);
    const big = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...ADMIN }, body: JSON.stringify({ query: `{ whoami { actor } }`, variables: { pad: 'x'.repeat(300 * 1024) } }) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('CSRF prevention: a simple cross-site GET/POST without a preflight header is refused', async () => {
    const res = await fetch(`${url}?query=${encodeURIComponent('{ whoami { actor } }')}`, { headers: { ...ADMIN } });
    expect(res.status).toBe(400);
  });

  it('per-key rate limit answers 429 with Retry-After, on HTTP and on subscriptions', async () => {
    // 6 per minute gives a burst of one request and a token every 10 s: the second call in a row is refused.
    const limited = await createTestHub({ serve: true, config: { rateLimitPerMinute: 6 } });
    try {
      const u = `http://127.0.0.1:${limited.hub!.port}/graphql`;
      const { key: viewerKey } = await limited.services.apiKeys.create({ name: 'limited-viewer', role: 'VIEWER' as never }, 'test');
      const first = await gql(u, `{ whoami { actor } }`, undefined, ADMIN);
      const res = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/json', ...ADMIN }, body: JSON.stringify({ query: '{ whoami { actor } }' }) });
      expect(first.status).toBe(200);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(10);
      // Another key has its own bucket.
      expect((await gql(u, `{ whoami { actor } }`, undefined, bearer(viewerKey))).status).toBe(200);

      const viewer = wsClient(u, bearer(viewerKey)); // its one token went on the HTTP call above
      const sub = collect(viewer, `subscription { inventoryChanged(skus: ["B"]) { sku } }`);
      await expect(sub.next(1)).rejects.toThrow(/rate limit|RATE_LIMITED|retry/i);
      await viewer.dispose();
    } finally {
      await limited.close();
    }
  });
});

describe('audit log and idempotency', () => {
  it('every mutation is recorded with the caller and redacted variables; the log is append-only', async () => {
    await gql(url, PLACE, { input: { ...input('AUD-1'), attributes: { password: 'hunter2', note: 'gift' } } }, bearer(keys.operator));
    const res = await gql(url, `{ auditLog(first: 5, field: "placeOrder") { edges { node { actor role outcome variables } } } }`, undefined, ADMIN);
    const node = res.data.auditLog.edges[0].node;
    expect(node).toMatchObject({ role: 'OPERATOR', outcome: 'OK' });
    expect(node.actor).toMatch(/^key:/);
    expect(node.variables.input.attributes).toEqual({ password: '[redacted]', note: 'gift' });
    await expect(t.db.dataSource.query(`UPDATE audit_log SET outcome = 'OK'`)).rejects.toThrow(/append-only/);
    await expect(t.db.dataSource.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
    await expect(t.db.dataSource.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
  });

  it('Idempotency-Key: same key and body → stored response; different body → IDEMPOTENCY_KEY_REUSED', async () => {
    const headers = { ...bearer(keys.operator), 'idempotency-key': 'checkout-42' };
    const send = (externalId: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: PLACE, variables: { input: input(externalId) } }) });
    const first = await send('IDEM-1');
    const firstBody = await first.json();
    const again = await send('IDEM-1');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(firstBody);
    const other = (await (await send('IDEM-2')).json()) as any;
    expect(other.errors[0].extensions.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const [{ n }] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM orders WHERE external_id LIKE 'IDEM-%'`);
    expect(n).toBe(1);
  });
});

describe('GraphQL over HTTP conformance (graphql-http audit suite)', () => {
  it('passes every MUST rule', async () => {
    const audits = serverAudits({ url, fetchFn: (input: any, init: any = {}) => fetch(input, { ...init, headers: { ...(init.headers ?? {}), ...ADMIN } }) });
    const results = await Promise.all(audits.map((a) => a.fn()));
    const failedMust = results.filter((r) => r.status !== 'ok' && r.name.startsWith('MUST'));
    expect(failedMust.map((r) => `${r.name}: ${(r as any).reason}`)).toEqual([]);
    expect(results.length).toBeGreaterThan(20);
  });
});

describe('secrets never reach the logs', () => {
  it('no API key or the admin key appears in anything the hub logged', () => {
    expect(logs.length).toBeGreaterThan(0);
    const all = logs.join('\n');
    for (const key of [ADMIN_KEY, ...Object.values(keys)]) expect(all).not.toContain(key);
    expect(all).not.toContain('hunter2');
  });
});
