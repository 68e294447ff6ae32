// Odoo 19 JSON-2 API (no vendor fixture: shapes from the Odoo 19 docs, see odoo-fixtures.ts).
import nock from 'nock';
import { canonicalLocationSchema, canonicalShipmentSchema, canonicalStockLevelSchema } from '../../../src/connectors/sdk/canonical.schema';
import { openConnection } from '../../../src/connectors/sdk/connector';
import { toUtcIso } from '../../../src/connectors/sdk/time';
import { odooConnector } from '../../../src/connectors/odoo/odoo.connector';
import { mapOdooLocation, mapOdooPicking, mapOdooQuant } from '../../../src/connectors/odoo/odoo.mapper';
import { describeConformance } from '../conformance';
import { HOST, picking, quant, quantRow } from './odoo-fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const tokenOf = (body: Json): string | undefined => {
  const t = (body.domain as Json[]).find((c) => Array.isArray(c) && c[0] === 'id' && c[1] === '>');
  return t ? String(t[2]) : undefined;
};
const windowOf = (body: Json, op: string) => (body.domain as Json[]).find((c) => Array.isArray(c) && c[0] === 'write_date' && c[1] === op)?.[2];

describeConformance({
  name: 'odoo',
  stream: 'inventory',
  overlapMs: 10 * 60_000,
  open: (clock, retry) =>
    openConnection(odooConnector, { config: { url: HOST, database: 'prod', pageSize: 2, startAt: '2026-01-09T00:00:00Z' }, credentials: { apiKey: 'k' }, clock, random: () => 0.5, retry }),
  idOf: (dto) => (dto as { externalItemId: string }).externalItemId,
  primaryKeyOf: (id) => `${id}@8`,
  rawRecord: (id, updatedAt) => quant(Number(id), updatedAt),
  brokenRecord: (id) => ({ ...quant(Number(id), '2026-01-10T00:00:00Z'), quantity: 'lots' }),
  servePages(pages, { from = 0, log }) {
    const all = pages.flat() as Json[];
    pages.forEach((records, i) => {
      if (i < from) return;
      const after = i === 0 ? undefined : String((pages[i - 1][pages[i - 1].length - 1] as Json).id);
      const remaining = pages.slice(i).reduce((n, p) => n + p.length, 0);
      nock(HOST)
        .post('/json/2/stock.quant/web_search_read', (b: Json) => tokenOf(b) === after && b.order === 'id asc' && b.limit === 2)
        .reply(function (_uri: string, body: Json) {
          log?.push({ pageToken: tokenOf(body), windowStart: toUtcIso(windowOf(body, '>=')), windowEnd: toUtcIso(windowOf(body, '<')) });
          return [200, { length: remaining, records }];
        });
      // The totals of the changed (product, location) pairs.
      nock(HOST)
        .post('/json/2/stock.quant/search_read')
        .reply(200, (_uri: string, body: Json) => {
          const ids: number[] = body.domain.find((c: Json) => c[0] === 'product_id')[2];
          return all.filter((q) => ids.includes(q.product_id?.id) && typeof q.quantity === 'number').map(quantRow);
        });
    });
  },
  serveThrottle() {
    // Odoo itself does not throttle; odoo.sh and reverse proxies answer 429 with Retry-After.
    nock(HOST).post('/json/2/stock.quant/web_search_read').reply(429, 'Too Many Requests', { 'Retry-After': '2' });
    return { retryAfterMs: 2000 };
  },
  serveStatus(status, times) {
    nock(HOST).post('/json/2/stock.quant/web_search_read').times(times).reply(status, { name: 'odoo.exceptions.ServiceUnavailable', message: 'Service Unavailable', arguments: ['Service Unavailable'], context: {}, debug: '' });
  },
  serveRawBody(body) {
    nock(HOST).post('/json/2/stock.quant/web_search_read').reply(200, body, { 'content-type': 'application/json; charset=utf-8' });
  },
  fixtures: [
    { file: 'odoo 19 stock.quant web_search_read (docs shape)', map: () => [mapOdooQuant(quant(1, '2026-01-09T10:00:00Z')), mapOdooQuant(quant(2, '2026-01-09T10:00:00Z', { sku: false }))], schema: canonicalStockLevelSchema },
    { file: 'odoo 19 stock.picking web_search_read (docs shape)', map: () => [mapOdooPicking(picking(5, '2026-01-09T10:00:00Z')), mapOdooPicking(picking(6, '2026-01-09T10:00:00Z', 'assigned'))], schema: canonicalShipmentSchema },
    { file: 'odoo 19 stock.location web_search_read (docs shape)', map: () => [mapOdooLocation({ id: 8, name: 'Stock', complete_name: 'WH/Stock', active: true, usage: 'internal', warehouse_id: { id: 1 } })], schema: canonicalLocationSchema },
  ],
});
