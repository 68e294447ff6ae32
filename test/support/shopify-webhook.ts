import { hmacSha256 } from '../../src/connectors/sdk/webhooks';
import type { TestHub } from './test-hub';

let deliveries = 0;

/**
 * One orders/* delivery to a Shopify connection, as Shopify sends it (HMAC-SHA256 of the raw body, a fresh event id),
 * processed from the queue before it returns.
 */
export async function deliverShopifyOrder(t: TestHub, connection: { name: string; secret: string }, topic: string, order: object): Promise<void> {
  const body = JSON.stringify(order);
  const r = await t.services.sync.webhooks.receive(connection.name, { rawBody: Buffer.from(body),
    headers: { 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': hmacSha256(connection.secret, body).toString('base64'), 'x-shopify-event-id': `evt-${++deliveries}` } });
  if (r.status !== 'accepted') throw new Error(`${topic} delivery not accepted: ${JSON.stringify(r)}`);
  await t.services.sync.queue.drain();
}
