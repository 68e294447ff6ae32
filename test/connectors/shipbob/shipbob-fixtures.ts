/**
 * ShipBob payloads: the examples of ../shared/fixtures/shipbob/openapi-2026-01.json (brianzinn/shipbob-node-sdk
 * @ 8a10229, a third party's copy of ShipBob's 2026-01 OpenAPI). Its example values are mostly placeholders
 * (ids 0, "string"), so tests overwrite ids, dates and statuses and keep the shapes.
 */
import { openConnection } from '../../../src/connectors/sdk/connector';
import type { VirtualClock } from '../../../src/connectors/sdk/clock';
import { shipbobConnector } from '../../../src/connectors/shipbob/shipbob.connector';
import { OpenApiContract } from '../square/openapi-contract';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export const HOST = 'https://sandbox-api.shipbob.test';
export const shipbob = new OpenApiContract('shipbob/openapi-2026-01.json');

export function responseExample(path: string, method: string, status = '200'): Json {
  return JSON.parse(JSON.stringify(shipbob.doc.paths[path][method].responses[status].content['application/json'].example));
}

/** `GET /2026-01/order` example order, with one shipment (`Orders.ShipmentViewModel` example) made concrete. */
export function shipbobOrder(id: string, updatedAt: string): Json {
  const o = responseExample('/2026-01/order', 'get')[0];
  const s = o.shipments[0];
  return {
    ...o,
    id: Number(id),
    reference_id: `hub-${id}`,
    status: 'Fulfilled',
    products: [{ ...o.products[0], external_line_id: 1 }],
    shipments: [{ ...s, id: Number(id), order_id: Number(id), status: 'Completed', last_update_at: updatedAt, last_tracking_update_at: updatedAt, delivery_date: null, location: { id: 10, name: 'Cicero (IL)' } }],
  };
}

export function openShipBob(clock: VirtualClock, opts: { retry?: object; config?: object } = {}) {
  return openConnection(shipbobConnector, {
    config: { baseUrl: HOST, channelId: '128944', pageSize: 2, startAt: '2026-01-09T00:00:00Z', ...opts.config },
    credentials: { accessToken: 'pat-token', webhookSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
    clock,
    random: () => 0.5,
    retry: opts.retry,
  });
}
