/**
 * Square payloads: the examples of ../shared/fixtures/square/api.json (square/connect-api-specification @ 5733f66),
 * e.g. `CreateOrderResponse.example.order`, `BatchRetrieveInventoryCountsResponse.example.counts`,
 * `ListLocationsResponse.example`, `OrderUpdatedEvent.example`, `InventoryCountUpdatedEvent.example`.
 */
import { openConnection } from '../../../src/connectors/sdk/connector';
import type { VirtualClock } from '../../../src/connectors/sdk/clock';
import { squareConnector } from '../../../src/connectors/square/square.connector';
import { OpenApiContract } from './openapi-contract';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export const HOST = 'https://connect.squareup.test';
export const square = new OpenApiContract('square/api.json');
export const example = (schema: string): Json => JSON.parse(JSON.stringify(square.schema(schema).example));

/** Catalog ids in the spec's examples, with skus the hub knows them by. */
export const CATALOG_SKUS = { BEMYCSMIJL46OCDV4KYIKXIB: 'STEAK-NY-L', W62UWFY35CWMYGVWK6TWJDNI: 'COFFEE-BEANS-1KG', FGQ5JJWT2PYTHF35CKZ2DSKP: 'TEA-BLACK' };

/** `CreateOrderResponse.example.order` with this id and updated_at. */
export function squareOrder(id: string, updatedAt: string): Json {
  const o = example('CreateOrderResponse').order;
  return { ...o, id, updated_at: updatedAt };
}

export function openSquare(clock: VirtualClock, opts: { retry?: object; config?: object; credentials?: object } = {}) {
  return openConnection(squareConnector, {
    config: { baseUrl: HOST, locationIds: ['057P5VYJ4A5X1', '18YC4JDH91E1H'], startAt: '2026-01-09T00:00:00Z', catalogSkus: CATALOG_SKUS, notificationUrl: 'https://hub.example.com/webhooks/square', ...opts.config },
    credentials: { accessToken: 'EAAAl-token', webhookSignatureKey: 'signature-key', ...opts.credentials },
    clock,
    random: () => 0.5,
    retry: opts.retry,
  });
}
