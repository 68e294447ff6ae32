// Contract: ../shared/fixtures/magento/admin-schema-2.4.9.yaml (payloads checked against it in magento-fixtures.ts).
import nock from 'nock';
import { canonicalLocationSchema, canonicalOrderSchema, canonicalStockLevelSchema } from '../../../src/connectors/sdk/canonical.schema';
import { openConnection } from '../../../src/connectors/sdk/connector';
import { toUtcIso } from '../../../src/connectors/sdk/time';
import { magentoConnector } from '../../../src/connectors/magento/magento.connector';
import { mapMagentoOrder, mapSource, mapSourceItem } from '../../../src/connectors/magento/magento.mapper';
import { describeConformance } from '../conformance';
import { magentoOrder, zoneless } from './magento-fixtures';

const HOST = 'https://magento.test';
const ORDERS = '/rest/default/V1/orders';
const F = (g: number, k: string) => `searchCriteria[filterGroups][${g}][filters][0][${k}]`;

describeConformance({
  name: 'magento',
  stream: 'orders',
  overlapMs: 10 * 60_000,
  open: (clock, retry) =>
    openConnection(magentoConnector, {
      config: { storeUrl: HOST, startAt: '2026-01-09T00:00:00Z' },
      credentials: { type: 'oauth1', consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'ats' },
      clock,
      random: () => 0.5,
      retry,
    }),
  idOf: (dto) => (dto as { externalId: string }).externalId,
  rawRecord: (id, updatedAt) => magentoOrder(Number(id), zoneless(updatedAt)),
  brokenRecord: (id) => ({ ...magentoOrder(Number(id), '2026-01-10 00:00:00'), grand_total: 'lots' }),
  servePages(pages, { from = 0, log }) {
    pages.forEach((items, i) => {
      if (i < from) return;
      const after = i === 0 ? undefined : String((pages[i - 1][pages[i - 1].length - 1] as { entity_id: number }).entity_id);
      const remaining = pages.slice(i).reduce((n, p) => n + p.length, 0);
      nock(HOST)
        .get(ORDERS)
        .query((q) => q[F(2, 'value')] === after && q[F(0, 'field')] === 'updated_at' && q[F(0, 'conditionType')] === 'gteq' && q[F(1, 'conditionType')] === 'lt' && q['searchCriteria[currentPage]'] === '1')
        .reply(function (uri: string) {
          const q = new URL(uri, HOST).searchParams;
          log?.push({ pageToken: q.get(F(2, 'value')) ?? undefined, windowStart: toUtcIso(q.get(F(0, 'value'))!), windowEnd: toUtcIso(q.get(F(1, 'value'))!) });
          return [200, { items, search_criteria: {}, total_count: remaining }];
        });
    });
  },
  serveThrottle() {
    nock(HOST).get(ORDERS).query(true).reply(429, { message: 'Too Many Requests' }, { 'Retry-After': '3' });
    return { retryAfterMs: 3000 };
  },
  serveStatus(status, times) {
    nock(HOST).get(ORDERS).query(true).times(times).reply(status, { message: 'Internal Error. Details are available in Magento log file.' });
  },
  serveRawBody(body) {
    nock(HOST).get(ORDERS).query(true).reply(200, body, { 'content-type': 'application/json' });
  },
  fixtures: [
    { file: 'magento contract: sales-data-order-interface (magentoOrder)', map: () => [mapMagentoOrder(magentoOrder(7, '2026-01-09 10:00:00'))], schema: canonicalOrderSchema },
    { file: 'magento contract: inventory-api-data-source-item-interface', map: () => [mapSourceItem({ sku: '24-MB01', source_code: 'berlin', quantity: 12, status: 1 })], schema: canonicalStockLevelSchema },
    { file: 'magento contract: inventory-api-data-source-interface', map: () => [mapSource({ source_code: 'berlin', name: 'Berlin store', enabled: true, country_id: 'DE', city: 'Berlin', postcode: '10115', latitude: 52.53, longitude: 13.38 })], schema: canonicalLocationSchema },
  ],
});
