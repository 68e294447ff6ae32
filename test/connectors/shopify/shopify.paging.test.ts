// Nested pages and the streamed bulk backfill. Payloads are shaped from ../shared/fixtures/shopify/rest-2026-07:
// order-1.json (order and line items, via restOrderToGql) and inventory_level-1.json (item, locations, quantities).
import { Readable } from 'node:stream';
import nock from 'nock';
import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { openConnection } from '../../../src/connectors/sdk/connector';
import type { StreamState } from '../../../src/connectors/sdk/stream';
import { jsonlLines } from '../../../src/connectors/sdk/jsonl';
import { BULK_PAGE_ORDERS, collectBulkOrders } from '../../../src/connectors/shopify/shopify.bulk';
import { shopifyConnector } from '../../../src/connectors/shopify/shopify.connector';
import { mapGqlOrder } from '../../../src/connectors/shopify/shopify.mapper';
import * as Q from '../../../src/connectors/shopify/shopify.queries';
import { fixtureJson } from '../fixtures';
import { coerceVariables } from './shopify-schema';
import { gqlOrder, restOrders, restOrderToGql } from './shopify-fixtures';

const HOST = 'https://shop.test';
const STORAGE = 'https://storage.test';
const GQL = '/admin/api/2026-07/graphql.json';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function open(clock = new VirtualClock(Date.parse('2026-01-10T12:00:00Z'))) {
  return openConnection(shopifyConnector, {
    config: { shop: 'switchyard-test', baseUrl: HOST, startAt: '2026-01-09T00:00:00Z' },
    credentials: { accessToken: 'shpat_test' },
    clock,
    random: () => 0.5,
  });
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

/** Line item n of a big order: order-1.json's three line items repeated, each with its own id. */
const ORDER_1 = restOrderToGql(restOrders('order-1.json')[0]);
function lineItem(n: number): Json {
  return { ...ORDER_1.lineItems.nodes[n % 3], id: `gid://shopify/LineItem/${7_000_000 + n}` };
}
const gidOf = (gid: string) => gid.split('/').pop()!;
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_x, i) => lineItem(from + i));

describe('orders with more line items than one page', () => {
  const big = (): Json => ({
    ...gqlOrder('9001', '2026-01-10T08:00:00Z'),
    lineItems: { pageInfo: { hasNextPage: true, endCursor: 'li-50' }, nodes: lines(0, Q.LINE_ITEMS_PER_ORDER) },
  });

  test('are completed from the line-item cursor with follow-up queries and land whole', async () => {
    const followUps: Json[] = [];
    nock(HOST).post(GQL, (b) => /SwitchyardOrders\b/.test(b.query)).reply(200, {
      data: { orders: { pageInfo: { hasNextPage: false, endCursor: 'o2' }, nodes: [big(), gqlOrder('9002', '2026-01-10T09:00:00Z')] } },
    });
    nock(HOST).post(GQL, (b) => /SwitchyardOrderLineItems/.test(b.query) && b.variables.after === 'li-50' && (followUps.push(b), true)).reply(200, {
      data: { order: { id: 'gid://shopify/Order/9001', lineItems: { pageInfo: { hasNextPage: true, endCursor: 'li-300' }, nodes: lines(50, 300) } } },
    });
    nock(HOST).post(GQL, (b) => /SwitchyardOrderLineItems/.test(b.query) && b.variables.after === 'li-300' && (followUps.push(b), true)).reply(200, {
      data: { order: { id: 'gid://shopify/Order/9001', lineItems: { pageInfo: { hasNextPage: false, endCursor: 'li-320' }, nodes: lines(300, 320) } } },
    });

    const { records } = await open().readAll<ReturnType<typeof mapGqlOrder>>('orders');
    expect(nock.isDone()).toBe(true);
    expect(records.map((o) => [o.externalId, o.lines.length])).toEqual([['9001', 320], ['9002', 3]]);
    expect(records[0].lines.map((l) => l.externalId)).toEqual(Array.from({ length: 320 }, (_x, i) => String(7_000_000 + i)));
    expect(records[0].lines[319]).toMatchObject({ sku: 'IPOD2008RED', quantity: 1, unitPrice: '199.00' }); // 319 % 3 = 1 → order-1's second line
    for (const b of followUps) {
      expect(b.variables).toMatchObject({ id: 'gid://shopify/Order/9001', first: Q.ORDER_LINE_ITEMS_PAGE_SIZE });
      expect(coerceVariables(b.query, b.variables)).toEqual([]);
    }
  });

  test('an order deleted between the two reads fails the page (retryable), nothing emitted', async () => {
    nock(HOST).post(GQL, (b) => /SwitchyardOrders\b/.test(b.query)).reply(200, { data: { orders: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [big()] } } });
    nock(HOST).post(GQL, (b) => /SwitchyardOrderLineItems/.test(b.query)).reply(200, { data: { order: null } });
    const conn = open();
    const batches: unknown[] = [];
    const err = await (async () => {
      for await (const b of conn.read('orders')) batches.push(b);
    })().catch((e) => e);
    expect(batches).toEqual([]);
    expect(err).toMatchObject({ code: 'VENDOR', retryable: true, stream: 'orders', record: '9001' });
  });

  test('hasNextPage without an endCursor is a malformed payload naming the order', async () => {
    const o = big();
    o.lineItems.pageInfo.endCursor = null;
    nock(HOST).post(GQL).reply(200, { data: { orders: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [o] } } });
    await expect(open().readAll('orders')).rejects.toMatchObject({ code: 'MALFORMED_PAYLOAD', record: '9001', stream: 'orders' });
  });
});

describe('shipping a line of a big order', () => {
  // Fulfilment order ids as in fulfillment_order-3.json (1046000790…), line items as lineItem(n) above.
  const fo = (k: number, lineFrom: number, lineTo: number, more: boolean) => ({
    id: `gid://shopify/FulfillmentOrder/${1_046_000_790 + k}`,
    status: 'OPEN',
    assignedLocation: { location: { id: 'gid://shopify/Location/24826418' } },
    lineItems: {
      pageInfo: { hasNextPage: more, endCursor: more ? `fo${k}-li-${lineTo}` : null },
      nodes: Array.from({ length: lineTo - lineFrom }, (_x, i) => foLine(k, lineFrom + i)),
    },
  });
  const foLine = (k: number, n: number) => ({ id: `gid://shopify/FulfillmentOrderLineItem/${k * 1000 + n}`, remainingQuantity: 1, lineItem: { id: lineItem(k * 1000 + n).id, sku: lineItem(n).sku } });

  test('reads every fulfilment order page and their long line-item lists before planning', async () => {
    const sent: Json[] = [];
    const record = (b: Json) => (sent.push(b), true);
    nock(HOST).post(GQL, (b) => /SwitchyardFulfillmentOrders\b/.test(b.query) && b.variables.after === null && record(b)).reply(200, {
      data: { order: { id: 'gid://shopify/Order/9001', fulfillmentOrders: { pageInfo: { hasNextPage: true, endCursor: 'fo-5' }, nodes: [0, 1, 2, 3, 4].map((k) => fo(k, 0, 2, false)) } } },
    });
    nock(HOST).post(GQL, (b) => /SwitchyardFulfillmentOrders\b/.test(b.query) && b.variables.after === 'fo-5' && record(b)).reply(200, {
      data: { order: { id: 'gid://shopify/Order/9001', fulfillmentOrders: { pageInfo: { hasNextPage: false, endCursor: 'fo-6' }, nodes: [fo(5, 0, 50, true)] } } },
    });
    nock(HOST).post(GQL, (b) => /SwitchyardFulfillmentOrderLineItems/.test(b.query) && b.variables.after === 'fo5-li-50' && record(b)).reply(200, {
      data: { fulfillmentOrder: { id: 'gid://shopify/FulfillmentOrder/1046000795', lineItems: { pageInfo: { hasNextPage: false, endCursor: 'x' }, nodes: Array.from({ length: 10 }, (_x, i) => foLine(5, 50 + i)) } } },
    });
    let create: Json;
    nock(HOST).post(GQL, (b) => /SwitchyardFulfillmentCreate/.test(b.query) && ((create = b), record(b))).reply(200, { data: { fulfillmentCreate: { fulfillment: { id: 'gid://shopify/Fulfillment/255858046', status: 'SUCCESS' }, userErrors: [] } } });

    const line = gidOf(lineItem(5_055).id);
    const res = await open().push('createShipment', {
      orderExternalId: '9001', carrier: 'UPS', trackingNumber: '1Z999', shippedAt: '2026-01-10T12:00:00.000Z', lines: [{ orderLineExternalId: line, quantity: 1 }], idempotencyKey: 'ship-big',
    });
    expect(res.externalId).toBe('255858046');
    expect(create.variables.fulfillment.lineItemsByFulfillmentOrder).toEqual([
      { fulfillmentOrderId: 'gid://shopify/FulfillmentOrder/1046000795', fulfillmentOrderLineItems: [{ id: 'gid://shopify/FulfillmentOrderLineItem/5055', quantity: 1 }] },
    ]);
    expect(nock.isDone()).toBe(true);
    for (const b of sent) expect(coerceVariables(b.query, b.variables)).toEqual([]);
  });
});

describe('inventory items stocked at more locations than one page', () => {
  // inventory_level-1.json: item 808950810 at location 487838322, available 9, updated 2025-04-02T11:29:59-05:00.
  const fixture = fixtureJson('shopify/rest-2026-07/inventory_level-1.json').inventory_levels[0];
  const level = (n: number) => ({
    updatedAt: fixture.updated_at,
    location: { id: `gid://shopify/Location/${Number(fixture.location_id) + n}` },
    quantities: [{ name: 'available', quantity: fixture.available + n }, { name: 'on_hand', quantity: fixture.available + n + 1 }],
  });
  const levels = (from: number, to: number) => Array.from({ length: to - from }, (_x, i) => level(from + i));

  test('get the rest of their levels from the level cursor', async () => {
    let followUp: Json;
    nock(HOST).post(GQL, (b) => /SwitchyardInventory\b/.test(b.query)).reply(200, {
      data: { inventoryItems: { pageInfo: { hasNextPage: false, endCursor: 'i1' }, nodes: [
        { id: `gid://shopify/InventoryItem/${fixture.inventory_item_id}`, sku: 'IPOD2008GREEN', inventoryLevels: { pageInfo: { hasNextPage: true, endCursor: 'lv-75' }, nodes: levels(0, Q.LEVELS_PER_ITEM) } },
      ] } },
    });
    nock(HOST).post(GQL, (b) => /SwitchyardInventoryLevels/.test(b.query) && ((followUp = b), true)).reply(200, {
      data: { inventoryItem: { id: `gid://shopify/InventoryItem/${fixture.inventory_item_id}`, inventoryLevels: { pageInfo: { hasNextPage: false, endCursor: 'lv-90' }, nodes: levels(75, 90) } } },
    });
    const { records } = await open().readAll<{ externalLocationId: string; available: number }>('inventory');
    expect(records).toHaveLength(90);
    expect(records[89]).toEqual({ sku: 'IPOD2008GREEN', externalItemId: '808950810', externalLocationId: String(487838322 + 89), available: 98, onHand: 99, updatedAt: '2025-04-02T16:29:59.000Z' });
    expect(new Set(records.map((r) => r.externalLocationId)).size).toBe(90);
    expect(followUp.variables).toEqual({ id: 'gid://shopify/InventoryItem/808950810', first: Q.ITEM_LEVELS_PAGE_SIZE, after: 'lv-75' });
    expect(coerceVariables(followUp.query, followUp.variables)).toEqual([]);
  });
});

describe('streamed bulk backfill', () => {
  /** A grouped bulk file: each order (order-1.json's fields) followed by 1–3 line items with __parentId. */
  function bulkFile(orders: number): { text: string; ids: string[]; lineCount: number } {
    const { lineItems: _l, fulfillmentOrders: _f, ...fields } = ORDER_1;
    const out: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < orders; i++) {
      const id = `gid://shopify/Order/${5_000_000 + i}`;
      ids.push(String(5_000_000 + i));
      out.push(JSON.stringify({ ...fields, id, name: `#${10_000 + i}` }));
      for (let k = 0; k < 1 + (i % 3); k++) out.push(JSON.stringify({ ...lineItem(i * 3 + k), __parentId: id }));
    }
    return { text: out.join('\n') + '\n', ids, lineCount: out.length };
  }

  function serveBulk(objectCount: number) {
    nock(HOST).post(GQL, (b) => /SwitchyardBulkOrders/.test(b.query) && /groupObjects: true/.test(b.query)).once()
      .reply(200, { data: { bulkOperationRunQuery: { bulkOperation: { id: 'gid://shopify/BulkOperation/7', status: 'CREATED' }, userErrors: [] } } });
    nock(HOST).post(GQL, (b) => /SwitchyardBulkStatus/.test(b.query)).once()
      .reply(200, { data: { currentBulkOperation: { id: 'gid://shopify/BulkOperation/7', status: 'COMPLETED', errorCode: null, objectCount: String(objectCount), url: `${STORAGE}/bulk/7.jsonl` } } });
  }

  /** Cloud storage: honours `Range: bytes=N-` with a 206 (or ignores it, when asked to). */
  function serveFile(text: string, opts: { ignoreRange?: boolean } = {}) {
    const bytes = Buffer.from(text);
    const ranges: Array<number | null> = [];
    nock(STORAGE).get('/bulk/7.jsonl').times(100).reply(function () {
      const m = /^bytes=(\d+)-$/.exec(String(this.req.headers.range ?? ''));
      ranges.push(m ? Number(m[1]) : null);
      if (!m || opts.ignoreRange) return [200, bytes, { 'content-type': 'application/jsonl' }];
      const from = Number(m[1]);
      return [206, bytes.subarray(from), { 'content-type': 'application/jsonl', 'content-range': `bytes ${from}-${bytes.length - 1}/${bytes.length}` }];
    });
    return ranges;
  }

  test('a large JSONL lands in pages of at most BULK_PAGE_ORDERS, each read from its byte offset', async () => {
    const file = bulkFile(2_600);
    serveBulk(file.lineCount);
    const ranges = serveFile(file.text);
    const conn = open();
    const sizes: number[] = [];
    const ids: string[] = [];
    let lineTotal = 0;
    for await (const b of conn.read('ordersBackfill')) {
      sizes.push(b.records.length);
      for (const o of b.records as Array<{ externalId: string; lines: unknown[] }>) {
        ids.push(o.externalId);
        lineTotal += o.lines.length;
      }
    }
    expect(sizes).toEqual([...Array(10).fill(BULK_PAGE_ORDERS), 100]);
    expect(ids).toEqual(file.ids);
    expect(lineTotal).toBe(file.lineCount - 2_600);
    // Page k starts at the line of order k × 250: exactly where the previous page stopped.
    const starts = file.ids.map((_id, i) => i).filter((i) => i % BULK_PAGE_ORDERS === 0).map((i) => file.text.indexOf(`"id":"gid://shopify/Order/${5_000_000 + i}"`));
    const lineStarts = starts.map((at) => file.text.lastIndexOf('\n', at) + 1);
    expect(ranges).toEqual([null, ...lineStarts.slice(1)]);
  });

  test('an interrupted backfill resumes from its saved page token without re-running the bulk query', async () => {
    const file = bulkFile(900);
    serveBulk(file.lineCount); // served once: the resumed run must not start another bulk operation
    serveFile(file.text);
    const first: string[] = [];
    let state: StreamState = {};
    for await (const b of open().read('ordersBackfill', {}, { maxPages: 2 })) {
      first.push(...(b.records as Array<{ externalId: string }>).map((o) => o.externalId));
      state = b.state;
    }
    expect(first).toHaveLength(500);
    expect(state.pageToken).toBeDefined();
    const rest = await open().readAll<{ externalId: string }>('ordersBackfill', state);
    expect([...first, ...rest.records.map((o) => o.externalId)]).toEqual(file.ids);
    expect(rest.state).toEqual({});
  });

  test('a storage server that ignores Range still yields each order exactly once', async () => {
    const file = bulkFile(600);
    serveBulk(file.lineCount);
    const ranges = serveFile(file.text, { ignoreRange: true });
    const { records } = await open().readAll<{ externalId: string }>('ordersBackfill');
    expect(records.map((o) => o.externalId)).toEqual(file.ids);
    expect(ranges).toHaveLength(3);
  });

  test('a file cut short of objectCount is an error, not a silent end', async () => {
    const file = bulkFile(10);
    serveBulk(file.lineCount + 5);
    serveFile(file.text);
    await expect(open().readAll('ordersBackfill')).rejects.toMatchObject({ code: 'MALFORMED_PAYLOAD', stream: 'ordersBackfill', message: expect.stringMatching(/truncated/) });
  });

  test('a line item that does not follow its order (ungrouped output) is refused, naming the line', async () => {
    const text = '{"id":"gid://shopify/Order/1"}\n{"id":"gid://shopify/Order/2"}\n' + JSON.stringify({ ...lineItem(0), __parentId: 'gid://shopify/Order/3' }) + '\n';
    serveBulk(3);
    serveFile(text);
    await expect(open().readAll('ordersBackfill')).rejects.toMatchObject({ code: 'MALFORMED_PAYLOAD', record: 'gid://shopify/Order/3', message: expect.stringMatching(/bulk line 3 .*not grouped under its order/) });
  });

  test('collectBulkOrders stops pulling lines once a page is full', async () => {
    const file = bulkFile(1_000);
    let pulled = 0;
    async function* source() {
      for (const chunk of file.text.match(/[^\n]*\n/g)!) {
        pulled++;
        yield Buffer.from(chunk);
      }
    }
    const page = await collectBulkOrders(jsonlLines(source()), 10);
    expect(page.orders).toHaveLength(10);
    const linesOfTen = Array.from({ length: 10 }, (_x, i) => 2 + (i % 3)).reduce((a, b) => a + b, 0);
    expect(page.lines).toBe(linesOfTen);
    expect(pulled).toBe(linesOfTen + 1); // and the 11th order's line, where the next page starts
    expect(file.text.slice(page.nextOffset!)).toMatch(/^\{"id":"gid:\/\/shopify\/Order\/5000010"/);
  });

  test('jsonlLines keeps byte offsets exact across chunk boundaries and multi-byte characters', async () => {
    const text = '{"a":"é"}\r\n{"b":"日本"}\n{"c":1}';
    const chunks = [Buffer.from(text).subarray(0, 5), Buffer.from(text).subarray(5, 13), Buffer.from(text).subarray(13)];
    const out: Array<[string, number]> = [];
    for await (const l of jsonlLines(Readable.from(chunks))) out.push([l.text, l.offset]);
    const b = Buffer.from(text);
    expect(out).toEqual([['{"a":"é"}', 0], ['{"b":"日本"}', b.indexOf('{"b"')], ['{"c":1}', b.indexOf('{"c"')]]);
  });
});
