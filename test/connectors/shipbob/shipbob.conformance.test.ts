// Payloads: ../shared/fixtures/shipbob/openapi-2026-01.json response examples (see shipbob-fixtures.ts).
import nock from 'nock';
import { canonicalEventSchema, canonicalLocationSchema, canonicalReturnSchema, canonicalShipmentSchema, canonicalStockLevelSchema } from '../../../src/connectors/sdk/canonical.schema';
import { standardWebhookSignature } from '../../../src/connectors/sdk/webhooks';
import { mapShipBobInventory, mapShipBobLocation, mapShipBobOrderShipments, mapShipBobReturn, mapShipBobWebhook } from '../../../src/connectors/shipbob/shipbob.mapper';
import { describeConformance } from '../conformance';
import { HOST, openShipBob, responseExample, shipbobOrder } from './shipbob-fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describeConformance({
  name: 'shipbob',
  stream: 'shipments',
  overlapMs: 10 * 60_000,
  open: (clock, retry) => openShipBob(clock, { retry }),
  idOf: (dto) => (dto as { externalId: string }).externalId,
  rawRecord: (id, updatedAt) => shipbobOrder(id, updatedAt),
  brokenRecord: (id) => {
    const o = shipbobOrder(id, '2026-01-10T00:00:00Z');
    return { ...o, shipments: [{ ...o.shipments[0], status: 'Teleported' }] };
  },
  servePages(pages, { from = 0, log }) {
    pages.forEach((orders, i) => {
      if (i < from) return;
      nock(HOST)
        .get('/2026-01/order')
        .matchHeader('shipbob_channel_id', '128944')
        .query((q) => q.Page === String(i + 1) && q.Limit === '2' && q.SortOrder === 'Oldest')
        .reply(function (uri: string) {
          const q = new URL(uri, HOST).searchParams;
          log?.push({ pageToken: i === 0 ? undefined : q.get('Page')!, windowStart: q.get('LastUpdateStartDate')!, windowEnd: q.get('LastUpdateEndDate')! });
          return [200, orders, { 'Total-Pages': String(pages.length), 'Page-Number': String(i + 1) }];
        });
    });
  },
  serveThrottle() {
    nock(HOST).get('/2026-01/order').query(true).reply(429, { message: 'API calls quota exceeded! maximum admitted 150 per 1m.' }, { 'x-retry-after': '7' });
    return { retryAfterMs: 7000 };
  },
  serveStatus(status, times) {
    nock(HOST).get('/2026-01/order').query(true).times(times).reply(status, { message: 'upstream error' });
  },
  serveRawBody(body) {
    nock(HOST).get('/2026-01/order').query(true).reply(200, body, { 'content-type': 'application/json' });
  },
  webhook: {
    secret: SECRET,
    signed(deliveryId, sentAt) {
      const body = JSON.stringify(shipbobOrder('5001', '2026-01-10T11:00:00Z'));
      const ts = String(Math.floor(sentAt.getTime() / 1000));
      return { rawBody: Buffer.from(body), headers: { 'webhook-id': deliveryId, 'webhook-timestamp': ts, 'webhook-signature': standardWebhookSignature(SECRET, deliveryId, ts, body), 'x-webhook-topic': 'order.shipped' } };
    },
  },
  fixtures: [
    { file: 'shipbob openapi GET /2026-01/order example (concrete ids)', map: () => mapShipBobOrderShipments(shipbobOrder('7', '2026-01-09T10:00:00Z')), schema: canonicalShipmentSchema },
    { file: 'shipbob openapi GET /2026-01/inventory-level/locations example', map: () => responseExample('/2026-01/inventory-level/locations', 'get').items.flatMap(mapShipBobInventory), schema: canonicalStockLevelSchema },
    { file: 'shipbob openapi GET /2026-01/return example', map: () => responseExample('/2026-01/return', 'get').items.map(mapShipBobReturn), schema: canonicalReturnSchema },
    { file: 'shipbob openapi GET /2026-01/location example', map: () => responseExample('/2026-01/location', 'get').map(mapShipBobLocation), schema: canonicalLocationSchema },
    { file: 'shipbob openapi GET /2026-01/shipment/{shipmentId} example as order.shipment.delivered', map: () => mapShipBobWebhook('order.shipment.delivered', { ...responseExample('/2026-01/shipment/{shipmentId}', 'get'), status: 'Completed' }), schema: canonicalEventSchema },
  ] as Array<{ file: string; map(): unknown[]; schema: Json }>,
});
