// Payloads: ../shared/fixtures/square/api.json — CreateOrderResponse / OrderUpdatedEvent / BatchRetrieveInventoryCountsResponse /
// ListLocationsResponse / InventoryCountUpdatedEvent examples (see square-fixtures.ts).
import nock from 'nock';
import { canonicalEventSchema, canonicalLocationSchema, canonicalOrderSchema, canonicalStockLevelSchema } from '../../../src/connectors/sdk/canonical.schema';
import { mapSquareCount, mapSquareEvent, mapSquareLocation, mapSquareOrder } from '../../../src/connectors/square/square.mapper';
import { squareSignature } from '../../../src/connectors/square/square.connector';
import { describeConformance } from '../conformance';
import { CATALOG_SKUS, example, HOST, openSquare, squareOrder } from './square-fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const URL_ = 'https://hub.example.com/webhooks/square';

describeConformance({
  name: 'square',
  stream: 'orders',
  overlapMs: 72 * 3_600_000,
  open: (clock, retry) => openSquare(clock, { retry }),
  idOf: (dto) => (dto as { externalId: string }).externalId,
  rawRecord: (id, updatedAt) => squareOrder(id, updatedAt),
  brokenRecord: (id) => ({ ...squareOrder(id, '2026-01-10T00:00:00Z'), total_money: { amount: '61.76', currency: 'USD' } }),
  servePages(pages, { from = 0, log }) {
    pages.forEach((orders, i) => {
      if (i < from) return;
      const expectCursor = i === 0 ? undefined : `cursor-${i}`;
      nock(HOST)
        .post('/v2/orders/search', (b: Json) => b.cursor === expectCursor && b.query.sort.sort_field === 'UPDATED_AT')
        .matchHeader('square-version', '2026-05-20')
        .reply(function (_uri: string, body: Json) {
          const r = body.query.filter.date_time_filter.updated_at;
          log?.push({ pageToken: body.cursor, windowStart: r.start_at, windowEnd: r.end_at });
          return [200, { orders, ...(i < pages.length - 1 ? { cursor: `cursor-${i + 1}` } : {}) }];
        });
    });
  },
  serveThrottle() {
    // Square's 429 RATE_LIMITED carries no Retry-After: backoff.
    nock(HOST).post('/v2/orders/search').reply(429, { errors: [{ category: 'RATE_LIMIT_ERROR', code: 'RATE_LIMITED', detail: 'Rate limited' }] });
    return {};
  },
  serveStatus(status, times) {
    nock(HOST).post('/v2/orders/search').times(times).reply(status, { errors: [{ category: 'API_ERROR', code: 'SERVICE_UNAVAILABLE', detail: 'Service unavailable' }] });
  },
  serveRawBody(body) {
    nock(HOST).post('/v2/orders/search').reply(200, body, { 'content-type': 'application/json' });
  },
  webhook: {
    secret: 'signature-key',
    signed(deliveryId, sentAt) {
      const ev = example('OrderUpdatedEvent');
      const body = JSON.stringify({ ...ev, event_id: deliveryId, created_at: sentAt.toISOString() });
      return { rawBody: Buffer.from(body), url: URL_, headers: { 'x-square-hmacsha256-signature': squareSignature('signature-key', URL_, body).toString('base64') } };
    },
  },
  fixtures: [
    ...['CreateOrderResponse', 'RetrieveOrderResponse', 'UpdateOrderResponse', 'PayOrderResponse'].map((s) => ({ file: `square/api.json ${s}.example.order`, map: () => [mapSquareOrder(example(s).order, CATALOG_SKUS)], schema: canonicalOrderSchema })),
    { file: 'square/api.json BatchRetrieveOrdersResponse.example.orders', map: () => example('BatchRetrieveOrdersResponse').orders.map((o: Json) => mapSquareOrder({ state: 'OPEN', created_at: '2020-01-17T20:47:53.293Z', updated_at: '2020-01-17T20:47:53.293Z', ...o }, CATALOG_SKUS)), schema: canonicalOrderSchema },
    { file: 'square/api.json BatchRetrieveInventoryCountsResponse.example.counts', map: () => example('BatchRetrieveInventoryCountsResponse').counts.map((c: Json) => mapSquareCount(c, CATALOG_SKUS)), schema: canonicalStockLevelSchema },
    { file: 'square/api.json ListLocationsResponse.example.locations', map: () => example('ListLocationsResponse').locations.map(mapSquareLocation), schema: canonicalLocationSchema },
    { file: 'square/api.json OrderUpdatedEvent / InventoryCountUpdatedEvent examples', map: () => [...mapSquareEvent(example('OrderUpdatedEvent')).events, ...mapSquareEvent(example('InventoryCountUpdatedEvent'), CATALOG_SKUS).events], schema: canonicalEventSchema },
  ],
});
