import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CanonicalEvent, CanonicalOrder, SetStockCommand } from '../sdk/canonical';
import { ConnectorError } from '../sdk/connector-error';
import { baseConfigSchema, type ConnectorContext, defineConnector } from '../sdk/connector';
import { lwaAuth } from '../sdk/auth';
import { parseJsonSafe } from '../sdk/json';
import { nextTokenNext } from '../sdk/paginators';
import { TokenBucketLimiter } from '../sdk/rate-limit';
import { expectShape } from '../sdk/shape';
import type { ReplayGuard } from '../sdk/webhooks';
import { mapOrderChange, mapSpOrder } from './amazon.mapper';

export const amazonConfigSchema = baseConfigSchema.extend({
  /** Regional endpoint; the sandbox is `https://sandbox.sellingpartnerapi-na.amazon.com`. */
  endpoint: z.url().default('https://sellingpartnerapi-na.amazon.com'),
  sellerId: z.string().min(1),
  marketplaceIds: z.array(z.string().min(1)).min(1).max(50),
  lwaTokenUrl: z.url().default('https://api.amazon.com/auth/o2/token'),
  /** productType sent with listings patches (Amazon requires one; quantity patches accept the generic PRODUCT). */
  productType: z.string().default('PRODUCT'),
  fulfillmentChannelCode: z.string().default('DEFAULT'),
  startAt: z.iso.datetime({ offset: true }).default('2020-01-01T00:00:00Z'),
});
export type AmazonConfig = z.infer<typeof amazonConfigSchema>;

export const amazonCredentialsSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  refreshToken: z.string().min(1),
});
export type AmazonCredentials = z.infer<typeof amazonCredentialsSchema>;

type Ctx = ConnectorContext<AmazonConfig, AmazonCredentials>;

/** Published default buckets (requests/second, burst); `x-amzn-RateLimit-Limit` overrides the rate as it arrives. */
export const SP_API_LIMITS = {
  searchOrders: { rate: 0.0167, burst: 20 },
  getOrder: { rate: 0.5, burst: 30 },
  confirmShipment: { rate: 2, burst: 10 },
  patchListingsItem: { rate: 5, burst: 10 },
  createFeedDocument: { rate: 0.5, burst: 15 },
  createFeed: { rate: 0.0083, burst: 15 },
  uploadFeedDocument: { rate: 10, burst: 10 },
} as const;

export const INCLUDED_DATA = ['BUYER', 'RECIPIENT', 'PROCEEDS', 'FULFILLMENT', 'PACKAGES'];

// Loose: the envelope keeps fields we do not use (createdBefore, lastUpdatedBefore) for callers that want them.
const ordersPage = z.looseObject({ orders: z.array(z.unknown()), pagination: z.object({ nextToken: z.string().nullish() }).nullish() });

/** SP-API serialises arrays in the query as CSV (Swagger 2 default). */
function csv(v: string[] | undefined): string | undefined {
  return v && v.length ? v.join(',') : undefined;
}

/** searchOrders, exactly as the model defines its query parameters. */
export async function searchOrders(
  ctx: Ctx,
  q: { createdAfter?: string; createdBefore?: string; lastUpdatedAfter?: string; lastUpdatedBefore?: string; fulfillmentStatuses?: string[]; marketplaceIds: string[]; fulfilledBy?: string[]; maxResultsPerPage?: number; paginationToken?: string; includedData?: string[] },
  stream?: string,
) {
  const res = await ctx.http.request({
    path: '/orders/2026-01-01/orders',
    params: {
      createdAfter: q.createdAfter, createdBefore: q.createdBefore, lastUpdatedAfter: q.lastUpdatedAfter, lastUpdatedBefore: q.lastUpdatedBefore,
      fulfillmentStatuses: csv(q.fulfillmentStatuses), marketplaceIds: csv(q.marketplaceIds), fulfilledBy: csv(q.fulfilledBy),
      maxResultsPerPage: q.maxResultsPerPage, paginationToken: q.paginationToken, includedData: csv(q.includedData),
    },
    operation: 'searchOrders',
    stream,
  });
  return expectShape(ordersPage, res.data, { operation: 'searchOrders', stream, requestId: res.requestId });
}

export async function getOrder(ctx: Ctx, orderId: string, includedData: string[] = INCLUDED_DATA): Promise<CanonicalOrder> {
  const res = await ctx.http.request({ path: `/orders/2026-01-01/orders/${encodeURIComponent(orderId)}`, params: { includedData: csv(includedData) }, operation: 'getOrder' });
  const body = expectShape(z.object({ order: z.unknown() }), res.data, { operation: 'getOrder', requestId: res.requestId });
  try {
    return mapSpOrder(body.order);
  } catch (e) {
    throw new ConnectorError({ code: 'MAPPING', message: `getOrder ${orderId}: ${(e as Error).message}`, retryable: false, operation: 'getOrder', record: orderId, cause: e });
  }
}

/** Carrier codes Amazon accepts as-is; anything else is sent as "Other" with the name. */
const KNOWN_CARRIERS = ['UPS', 'USPS', 'FedEx', 'DHL', 'DHL eCommerce', 'Amazon Shipping', 'OnTrac', 'LaserShip', 'Royal Mail', 'DPD', 'Hermes', 'Yodel', 'Canada Post', 'Japan Post', 'Yamato Transport', 'Australia Post'];

/** Amazon wants a positive number unique per order; derive it from the idempotency key so a resend names the same package. */
export function packageReferenceId(idempotencyKey: string): string {
  return String(Number.parseInt(createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 8), 16) + 1);
}

function listingsPatch(cmd: SetStockCommand, channel: string) {
  return [{ op: 'replace', path: '/attributes/fulfillment_availability', value: [{ fulfillment_channel_code: channel, quantity: cmd.quantity }] }];
}

/** patchListingsItem as the model defines it; returns the submission response. */
export async function patchListingsItem(
  ctx: Ctx,
  sku: string,
  body: unknown,
  q: { marketplaceIds: string[]; includedData?: string[]; mode?: string; issueLocale?: string },
) {
  const res = await ctx.http.request({
    method: 'PATCH',
    path: `/listings/2021-08-01/items/${encodeURIComponent(ctx.config.sellerId)}/${encodeURIComponent(sku)}`,
    params: { marketplaceIds: csv(q.marketplaceIds), includedData: csv(q.includedData), mode: q.mode, issueLocale: q.issueLocale },
    body,
    operation: 'patchListingsItem',
    idempotent: true, // absolute quantities: resending is harmless
  });
  return {
    requestId: res.requestId,
    ...expectShape(
      z.looseObject({ sku: z.string(), status: z.enum(['ACCEPTED', 'INVALID', 'VALID']), submissionId: z.string(), issues: z.array(z.looseObject({ code: z.string(), message: z.string(), severity: z.string() })).default([]) }),
      res.data,
      { operation: 'patchListingsItem', requestId: res.requestId },
    ),
  };
}

export async function createFeedDocument(ctx: Ctx, contentType: string) {
  const doc = await ctx.http.request({ method: 'POST', path: '/feeds/2021-06-30/documents', body: { contentType }, operation: 'createFeedDocument', idempotent: true });
  return expectShape(z.object({ feedDocumentId: z.string(), url: z.string() }), doc.data, { operation: 'createFeedDocument', requestId: doc.requestId });
}

export async function createFeed(ctx: Ctx, spec: { feedType: string; marketplaceIds: string[]; inputFeedDocumentId: string }) {
  const created = await ctx.http.request({ method: 'POST', path: '/feeds/2021-06-30/feeds', body: spec, operation: 'createFeed' });
  return expectShape(z.object({ feedId: z.string() }), created.data, { operation: 'createFeed', requestId: created.requestId });
}

/** confirmShipment (Orders v0, still its home in 2026): 204 on success. Not idempotent on Amazon's side. */
export async function confirmShipment(ctx: Ctx, orderId: string, payload: unknown): Promise<void> {
  await ctx.http.request({ method: 'POST', path: `/orders/v0/orders/${encodeURIComponent(orderId)}/shipmentConfirmation`, body: payload, operation: 'confirmShipment' });
}

const DAY = 86_400_000;

export const amazonConnector = defineConnector<AmazonConfig, AmazonCredentials>({
  kind: 'amazon',
  displayName: 'Amazon Selling Partner API',
  configSchema: amazonConfigSchema as unknown as z.ZodType<AmazonConfig>,
  credentialsSchema: amazonCredentialsSchema,
  http: ({ config, credentials }) => ({
    baseUrl: config.endpoint,
    auth: lwaAuth({ ...credentials, tokenUrl: config.lwaTokenUrl }),
    limiter: new TokenBucketLimiter(SP_API_LIMITS, { rate: 1, burst: 5 }),
    requestIdHeaders: ['x-amzn-requestid', 'x-amz-request-id'],
  }),

  streams: {
    orders: {
      name: 'orders',
      description: 'searchOrders by lastUpdated, 7-day windows with a 5-minute overlap.',
      primaryKey: (o: CanonicalOrder) => o.externalId,
      cursorField: (o: CanonicalOrder) => o.updatedAt,
      // SP-API only returns orders updated at least 2 minutes ago.
      windows: { sizeMs: 7 * DAY, overlapMs: 5 * 60_000, lagMs: 2 * 60_000 + 5_000, startAt: (ctx: Ctx) => ctx.config.startAt },
      rawId: (raw: { orderId?: string }) => raw?.orderId,
      async fetchPage(ctx: Ctx, req) {
        const page = await searchOrders(
          ctx,
          {
            lastUpdatedAfter: req.window!.start,
            lastUpdatedBefore: req.window!.end,
            marketplaceIds: ctx.config.marketplaceIds,
            maxResultsPerPage: 100,
            includedData: INCLUDED_DATA,
            paginationToken: req.pageToken,
          },
          'orders',
        );
        return { records: page.orders, next: nextTokenNext(page.pagination?.nextToken) };
      },
      map: (raw: unknown) => mapSpOrder(raw),
    },
  },

  push: {
    /** patchListingsItem with a fulfillment_availability replace. */
    async setStock(ctx, cmd) {
      const body = await patchListingsItem(
        ctx,
        cmd.sku,
        { productType: ctx.config.productType, patches: listingsPatch(cmd, cmd.externalLocationId || ctx.config.fulfillmentChannelCode) },
        { marketplaceIds: ctx.config.marketplaceIds, issueLocale: 'en_US' },
      );
      const errors = body.issues.filter((i) => i.severity === 'ERROR');
      if (body.status === 'INVALID' || errors.length) {
        throw new ConnectorError({ code: 'VENDOR', message: `patchListingsItem ${cmd.sku} ${body.status}: ${errors.map((i) => `${i.code} ${i.message}`).join('; ')}`, retryable: false, operation: 'patchListingsItem', record: cmd.sku, requestId: body.requestId, details: body.issues });
      }
      return { externalId: body.submissionId, accepted: true, warnings: body.issues.map((i) => `${i.severity} ${i.code}: ${i.message}`) };
    },

    /** JSON_LISTINGS_FEED: create a document, upload the feed, create the feed. */
    async setStockBatch(ctx, cmds) {
      const feed = buildListingsFeed(ctx.config.sellerId, cmds, ctx.config.productType, ctx.config.fulfillmentChannelCode);
      const { feedDocumentId, url } = await createFeedDocument(ctx, 'application/json; charset=UTF-8');
      // The upload URL is pre-signed: no LWA token, exact content type.
      await ctx.http.request({ method: 'PUT', path: url, rawBody: JSON.stringify(feed), headers: { 'content-type': 'application/json; charset=UTF-8' }, operation: 'uploadFeedDocument', anonymous: true, idempotent: true });
      const { feedId } = await createFeed(ctx, { feedType: 'JSON_LISTINGS_FEED', marketplaceIds: ctx.config.marketplaceIds, inputFeedDocumentId: feedDocumentId });
      return { externalId: feedId, accepted: true };
    },

    async createShipment(ctx, cmd) {
      const known = KNOWN_CARRIERS.find((c) => c.toLowerCase() === cmd.carrier.toLowerCase());
      await confirmShipment(ctx, cmd.orderExternalId, {
        marketplaceId: ctx.config.marketplaceIds[0],
        packageDetail: {
          packageReferenceId: packageReferenceId(cmd.idempotencyKey),
          carrierCode: known ?? 'Other',
          ...(known ? {} : { carrierName: cmd.carrier }),
          trackingNumber: cmd.trackingNumber,
          shipDate: cmd.shippedAt,
          ...(cmd.externalLocationId ? { shipFromSupplySourceId: cmd.externalLocationId } : {}),
          orderItems: cmd.lines.map((l) => ({ orderItemId: l.orderLineExternalId, quantity: l.quantity })),
        },
      });
      return { accepted: true };
    },
  },

  async check(ctx) {
    await searchOrders(ctx, { lastUpdatedAfter: new Date(ctx.clock.now() - DAY).toISOString(), marketplaceIds: ctx.config.marketplaceIds, maxResultsPerPage: 1 });
  },
});

/** The JSON_LISTINGS_FEED document (schemas/feeds/listings-feed-schema-v2): one PATCH message per sku. */
export function buildListingsFeed(sellerId: string, cmds: SetStockCommand[], productType: string, defaultChannel: string) {
  return {
    header: { sellerId, version: '2.0', issueLocale: 'en_US' },
    messages: cmds.map((cmd, i) => ({
      messageId: i + 1,
      sku: cmd.sku,
      operationType: 'PATCH',
      productType,
      patches: listingsPatch(cmd, cmd.externalLocationId || defaultChannel),
    })),
  };
}

/**
 * SP-API notifications arrive through SQS/EventBridge, not signed HTTP webhooks; the sync engine's queue poller
 * hands each message body here. Duplicates (SQS is at-least-once) are caught by NotificationId.
 */
export async function handleAmazonNotification(body: string, replay: ReplayGuard): Promise<{ status: 'accepted' | 'duplicate' | 'ignored'; events: CanonicalEvent[] }> {
  const json = parseJsonSafe(body, { operation: 'notification' }) as { NotificationType?: string };
  if (json?.NotificationType !== 'ORDER_CHANGE') return { status: 'ignored', events: [] };
  let parsed: ReturnType<typeof mapOrderChange>;
  try {
    parsed = mapOrderChange(json);
  } catch (e) {
    throw new ConnectorError({ code: 'MAPPING', message: `ORDER_CHANGE: ${(e as Error).message}`, retryable: false, stream: 'notifications' });
  }
  if (!(await replay.firstSeen(parsed.notificationId))) return { status: 'duplicate', events: [] };
  return { status: 'accepted', events: parsed.events };
}
