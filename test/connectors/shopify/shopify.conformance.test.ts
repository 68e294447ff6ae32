// Payloads: ../shared/fixtures/shopify/rest-2026-07/{order,refund,fulfillment,inventory_level,location}-*.json
import nock from 'nock';
import { canonicalLocationSchema, canonicalOrderSchema, canonicalRefundSchema, canonicalShipmentSchema, canonicalStockLevelSchema } from '../../../src/connectors/sdk/canonical.schema';
import { openConnection } from '../../../src/connectors/sdk/connector';
import { hmacSha256 } from '../../../src/connectors/sdk/webhooks';
import { shopifyConnector } from '../../../src/connectors/shopify/shopify.connector';
import { mapRestFulfillment, mapRestInventoryLevel, mapRestLocation, mapRestOrder, mapRestRefund } from '../../../src/connectors/shopify/shopify.mapper';
import { ORDERS_QUERY_COST } from '../../../src/connectors/shopify/shopify.queries';
import { describeConformance, type ServedRequest } from '../conformance';
import { fixtureJson } from '../fixtures';
import { gqlOrder, ORDER_FIXTURES, restOrders, THROTTLE_STATUS } from './shopify-fixtures';

const HOST = 'https://shop.test';
const GQL = '/admin/api/2026-07/graphql.json';
const SECRET = 'test_secret_key';

const list = (file: string, key: string) => {
  const j = fixtureJson(`shopify/rest-2026-07/${file}`);
  return (j[`${key}s`] ?? [j[key]]) as unknown[];
};

function windowOf(query: string): { windowStart?: string; windowEnd?: string } {
  const m = /updated_at:>='([^']+)' AND updated_at:<'([^']+)'/.exec(query ?? '');
  return m ? { windowStart: m[1], windowEnd: m[2] } : {};
}

describeConformance({
  name: 'shopify',
  stream: 'orders',
  overlapMs: 10 * 60_000,
  open: (clock, retry) =>
    openConnection(shopifyConnector, {
      config: { shop: 'switchyard-test', baseUrl: HOST, startAt: '2026-01-09T00:00:00Z' },
      credentials: { accessToken: 'shpat_test', webhookSecret: SECRET },
      clock,
      random: () => 0.5,
      retry,
    }),
  idOf: (dto) => (dto as { externalId: string }).externalId,
  rawRecord: (id, updatedAt) => gqlOrder(id, updatedAt),
  brokenRecord: (id) => {
    const { totalPriceSet: _dropped, ...rest } = gqlOrder(id, '2026-01-10T00:00:00Z');
    return rest;
  },
  servePages(pages, { from = 0, log }) {
    pages.forEach((nodes, i) => {
      if (i < from) return;
      nock(HOST)
        .post(GQL, (body) => /SwitchyardOrders/.test(body.query) && (body.variables.after ?? undefined) === (i === 0 ? undefined : `cursor-${i}`))
        .reply(function (_uri: string, body: any) { // eslint-disable-line @typescript-eslint/no-explicit-any
          log?.push({ pageToken: body.variables.after ?? undefined, ...windowOf(body.variables.query) });
          const more = i < pages.length - 1;
          return [200, { data: { orders: { pageInfo: { hasNextPage: more, endCursor: more ? `cursor-${i + 1}` : null }, nodes } }, extensions: { cost: { requestedQueryCost: ORDERS_QUERY_COST, actualQueryCost: 300, throttleStatus: THROTTLE_STATUS } } }, { 'x-request-id': `req-${i}` }];
        });
    });
  },
  serveThrottle() {
    nock(HOST)
      .post(GQL)
      .reply(200, {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
        extensions: { cost: { requestedQueryCost: ORDERS_QUERY_COST, actualQueryCost: null, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 850, restoreRate: 100 } } },
      });
    return { retryAfterMs: Math.ceil(((ORDERS_QUERY_COST - 850) / 100) * 1000) };
  },
  serveStatus(status, times) {
    nock(HOST).post(GQL).times(times).reply(status, 'upstream unavailable');
  },
  serveRawBody(body) {
    nock(HOST).post(GQL).reply(200, body, { 'content-type': 'application/json' });
  },
  webhook: {
    secret: SECRET,
    signed(deliveryId, sentAt) {
      const body = JSON.stringify(restOrders('order-1.json')[0]);
      return {
        rawBody: Buffer.from(body),
        headers: {
          'X-Shopify-Topic': 'orders/updated',
          'X-Shopify-Hmac-Sha256': hmacSha256(SECRET, body).toString('base64'),
          'X-Shopify-Event-Id': deliveryId,
          'X-Shopify-Triggered-At': sentAt.toISOString(),
        },
      };
    },
  },
  fixtures: [
    ...ORDER_FIXTURES.map((file) => ({ file: `shopify/rest-2026-07/${file}`, map: () => restOrders(file).map(mapRestOrder), schema: canonicalOrderSchema })),
    // refund-5/6 are refunds/calculate suggestions (no id, not a refund that happened); they are not refund payloads.
    ...['refund-1.json', 'refund-2.json', 'refund-3.json', 'refund-4.json'].map((file) => ({ file: `shopify/rest-2026-07/${file}`, map: () => list(file, 'refund').map(mapRestRefund), schema: canonicalRefundSchema })),
    ...[1, 2, 3, 4, 5, 6].map((n) => ({ file: `shopify/rest-2026-07/fulfillment-${n}.json`, map: () => list(`fulfillment-${n}.json`, 'fulfillment').map(mapRestFulfillment), schema: canonicalShipmentSchema })),
    ...['inventory_level-1', 'inventory_level-2', 'inventory_level-3', 'inventory_level-4', 'inventory_level-5', 'inventory_level-6', 'location-2'].map((n) => ({ file: `shopify/rest-2026-07/${n}.json`, map: () => list(`${n}.json`, 'inventory_level').map(mapRestInventoryLevel), schema: canonicalStockLevelSchema })),
    // location-2 holds a location's inventory levels, location-4 a count.
    ...[1, 3].map((n) => ({ file: `shopify/rest-2026-07/location-${n}.json`, map: () => list(`location-${n}.json`, 'location').map(mapRestLocation), schema: canonicalLocationSchema })),
  ],
});
