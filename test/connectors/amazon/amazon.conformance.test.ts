// Payloads: ../shared/fixtures/amazon/orders_2026-01-01.json (searchOrders / getOrder sandbox examples).
import nock from 'nock';
import { canonicalOrderSchema } from '../../../src/connectors/sdk/canonical.schema';
import { mapSpOrder } from '../../../src/connectors/amazon/amazon.mapper';
import { describeConformance } from '../conformance';
import { HOST, openAmazon, sandboxCases, spOrder } from './amazon-fixtures';


const orderCases = [...sandboxCases('orders_2026-01-01.json', 'searchOrders'), ...sandboxCases('orders_2026-01-01.json', 'getOrder')].filter((c) => c.status === '200');

describeConformance({
  name: 'amazon',
  stream: 'orders',
  overlapMs: 5 * 60_000,
  open: openAmazon,
  idOf: (dto) => (dto as { externalId: string }).externalId,
  rawRecord: (id, updatedAt) => spOrder(id, updatedAt),
  brokenRecord: (id) => {
    const { fulfillment: _x, ...rest } = spOrder(id, '2026-01-10T00:00:00Z');
    return rest;
  },
  servePages(pages, { from = 0, log }) {
    pages.forEach((orders, i) => {
      if (i < from) return;
      nock(HOST)
        .get('/orders/2026-01-01/orders')
        .query((q) => (q.paginationToken ?? undefined) === (i === 0 ? undefined : `token-${i}`) && q.marketplaceIds === 'ATVPDKIKX0DER')
        .reply(function (uri: string) {
          const q = new URL(uri, HOST).searchParams;
          log?.push({ pageToken: q.get('paginationToken') ?? undefined, windowStart: q.get('lastUpdatedAfter') ?? undefined, windowEnd: q.get('lastUpdatedBefore') ?? undefined });
          const more = i < pages.length - 1;
          return [200, { orders, ...(more ? { pagination: { nextToken: `token-${i + 1}` } } : {}) }, { 'x-amzn-RateLimit-Limit': '0.0167', 'x-amzn-RequestId': `req-${i}` }];
        });
    });
  },
  serveThrottle() {
    // SP-API's 429 carries no Retry-After: the wait comes from the operation's token bucket.
    nock(HOST).get('/orders/2026-01-01/orders').query(true).reply(429, { errors: [{ code: 'QuotaExceeded', message: 'You exceeded your quota for the requested resource.' }] }, { 'x-amzn-RequestId': 'req-429' });
    return {};
  },
  serveStatus(status, times) {
    nock(HOST).get('/orders/2026-01-01/orders').query(true).times(times).reply(status, { errors: [{ code: 'InternalFailure', message: 'We encountered an internal error.' }] });
  },
  serveRawBody(body) {
    nock(HOST).get('/orders/2026-01-01/orders').query(true).reply(200, body, { 'content-type': 'application/json' });
  },
  fixtures: orderCases.map((c, i) => ({
    file: `amazon/${c.file} ${c.path} sandbox #${i + 1}`,
    map: () => (c.response.orders ?? [c.response.order]).map(mapSpOrder),
    schema: canonicalOrderSchema,
  })),
});
