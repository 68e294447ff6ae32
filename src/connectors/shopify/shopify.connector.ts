import { z } from 'zod';
import type { CanonicalEvent, CanonicalOrder } from '../sdk/canonical';
import { ConnectorError } from '../sdk/connector-error';
import { baseConfigSchema, type ConnectorContext, defineConnector } from '../sdk/connector';
import { headerAuth } from '../sdk/auth';
import type { HttpResponse, ResponseVerdict } from '../sdk/http-client';
import { parseJsonSafe } from '../sdk/json';
import { graphqlCursorNext } from '../sdk/paginators';
import { CostBucketLimiter } from '../sdk/rate-limit';
import { expectShape } from '../sdk/shape';
import { header, hmacSha256, rawBodyBuffer, verifyHmacBase64, type WebhookRequest } from '../sdk/webhooks';
import {
  gidToId, mapGqlInventoryItem, mapGqlLocation, mapGqlOrder, mapRestFulfillment, mapRestInventoryLevel, mapRestOrder, mapRestRefund, toGid,
} from './shopify.mapper';
import * as Q from './shopify.queries';
import { splitPersonName } from '../sdk/address';
import { decodeBulkCursor, readBulkOrdersPage, startBulkOrders } from './shopify.bulk';
import { completeInventoryLevels, completeLineItems, readFulfillmentOrders } from './shopify.nested';
import { shopifyCancelLines, shopifyRefund } from './refund';

export const SHOPIFY_API_VERSION = '2026-07';

export const shopifyConfigSchema = baseConfigSchema.extend({
  /** `my-shop` or `my-shop.myshopify.com`. */
  shop: z.string().regex(/^[a-z0-9][a-z0-9-]*(\.myshopify\.com)?$/i, 'shop must be a myshopify domain or handle'),
  apiVersion: z.string().regex(/^\d{4}-\d{2}$/).default(SHOPIFY_API_VERSION),
  /** Where the first incremental read starts when there is no cursor. */
  startAt: z.iso.datetime({ offset: true }).default('2020-01-01T00:00:00Z'),
  /** Reason reported to Shopify for stock changes. */
  inventoryReason: z.string().default('correction'),
});
export type ShopifyConfig = z.infer<typeof shopifyConfigSchema>;

export const shopifyCredentialsSchema = z.object({
  accessToken: z.string().min(1),
  /** App client secret: signs webhooks. */
  webhookSecret: z.string().min(1).optional(),
});
export type ShopifyCredentials = z.infer<typeof shopifyCredentialsSchema>;

type Ctx = ConnectorContext<ShopifyConfig, ShopifyCredentials>;

interface GqlBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
  extensions?: { cost?: { requestedQueryCost?: number; throttleStatus?: { currentlyAvailable: number; restoreRate: number } } };
}

/** Shopify reports throttling inside a 200; wait exactly long enough for the bucket to refill to the query's cost. */
export function inspectShopify(res: HttpResponse): ResponseVerdict {
  const body = res.data as GqlBody<unknown> | null;
  const throttled = body?.errors?.some((e) => e.extensions?.code === 'THROTTLED');
  if (!throttled) return undefined;
  const cost = body?.extensions?.cost;
  const st = cost?.throttleStatus;
  const delayMs = st && cost?.requestedQueryCost ? Math.max(0, Math.ceil(((cost.requestedQueryCost - st.currentlyAvailable) / st.restoreRate) * 1000)) : undefined;
  return { retry: true, delayMs, reason: 'THROTTLED' };
}

/** Runs one GraphQL document; GraphQL errors (other than throttling) become VENDOR errors. */
export async function shopifyGraphql<T>(
  ctx: Ctx,
  doc: string,
  variables: Record<string, unknown>,
  opts: { operation: string; cost?: number; stream?: string; idempotent?: boolean; shape?: z.ZodType<T> },
): Promise<T> {
  const res = await ctx.http.request<GqlBody<T>>({
    method: 'POST',
    path: `/admin/api/${ctx.config.apiVersion}/graphql.json`,
    body: { query: doc, variables },
    operation: opts.operation,
    cost: opts.cost ?? 10,
    // Queries are reads; mutations are safe to resend only with @idempotent.
    idempotent: opts.idempotent ?? !/^\s*mutation/.test(doc),
    stream: opts.stream,
  });
  const body = res.data;
  if (!body || typeof body !== 'object') {
    throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `${opts.operation}: empty GraphQL response`, retryable: false, operation: opts.operation, stream: opts.stream, requestId: res.requestId });
  }
  if (body.errors?.length) {
    throw new ConnectorError({
      code: 'VENDOR',
      message: `${opts.operation}: ${body.errors.map((e) => e.message).join('; ')}`,
      retryable: false,
      status: res.status,
      requestId: res.requestId,
      operation: opts.operation,
      stream: opts.stream,
      details: body.errors,
    });
  }
  return opts.shape ? expectShape(opts.shape, body.data, { operation: opts.operation, stream: opts.stream, requestId: res.requestId }) : (body.data as T);
}

const connection = z.object({
  pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() }),
  nodes: z.array(z.unknown()),
});

function userErrors(op: string, errs: Array<{ message: string; field?: string[] | null; code?: string | null }> | undefined, requestHint?: string): void {
  if (!errs?.length) return;
  throw new ConnectorError({
    code: 'VENDOR',
    message: `${op} rejected: ${errs.map((e) => `${e.field?.join('.') ?? ''}${e.code ? ` [${e.code}]` : ''} ${e.message}`.trim()).join('; ')}${requestHint ?? ''}`,
    retryable: false,
    operation: op,
    details: errs,
  });
}

/** Shopify's search syntax for the [start, end) window on updated_at. */
export function updatedAtSearch(start: string, end: string): string {
  return `updated_at:>='${start}' AND updated_at:<'${end}'`;
}

const DAY = 86_400_000;

export const shopifyConnector = defineConnector<ShopifyConfig, ShopifyCredentials>({
  kind: 'shopify',
  displayName: 'Shopify (Admin GraphQL API)',
  configSchema: shopifyConfigSchema as unknown as z.ZodType<ShopifyConfig>,
  credentialsSchema: shopifyCredentialsSchema,
  http: ({ config, credentials }) => ({
    baseUrl: `https://${config.shop.includes('.') ? config.shop : `${config.shop}.myshopify.com`}`,
    auth: headerAuth('X-Shopify-Access-Token', credentials.accessToken),
    // Standard plan bucket; corrected from throttleStatus on the first response.
    limiter: new CostBucketLimiter({ maximumAvailable: 2000, restoreRate: 100 }),
    inspect: inspectShopify,
    requestIdHeaders: ['x-request-id'],
  }),

  streams: {
    orders: {
      name: 'orders',
      description: 'Orders by updated_at, in windows with a 10-minute overlap.',
      primaryKey: (o: CanonicalOrder) => o.externalId,
      cursorField: (o: CanonicalOrder) => o.updatedAt,
      windows: { sizeMs: 30 * DAY, overlapMs: 10 * 60_000, lagMs: 5_000, startAt: (ctx: Ctx) => ctx.config.startAt },
      rawId: (raw: { id?: unknown }) => (raw?.id ? gidToId(raw.id) : undefined),
      async fetchPage(ctx: Ctx, req) {
        const data = await shopifyGraphql(ctx, Q.ORDERS_QUERY, { first: Q.ORDERS_PAGE_SIZE, after: req.pageToken ?? null, query: updatedAtSearch(req.window!.start, req.window!.end) }, {
          operation: 'graphql:orders', cost: Q.ORDERS_QUERY_COST, stream: 'orders', shape: z.object({ orders: connection }),
        });
        await completeLineItems(ctx, data.orders.nodes);
        return { records: data.orders.nodes, next: graphqlCursorNext(data.orders.pageInfo) };
      },
      map: (raw: unknown) => mapGqlOrder(raw),
    },

    locations: {
      name: 'locations',
      primaryKey: (l: { externalId: string }) => l.externalId,
      rawId: (raw: { id?: unknown }) => (raw?.id ? gidToId(raw.id) : undefined),
      async fetchPage(ctx: Ctx, req) {
        const data = await shopifyGraphql(ctx, Q.LOCATIONS_QUERY, { first: 100, after: req.pageToken ?? null }, {
          operation: 'graphql:locations', cost: 102, stream: 'locations', shape: z.object({ locations: connection }),
        });
        return { records: data.locations.nodes, next: graphqlCursorNext(data.locations.pageInfo) };
      },
      map: (raw: unknown) => mapGqlLocation(raw),
    },

    /** Full snapshot of stock levels; between snapshots, inventory_levels/update webhooks carry the changes. */
    inventory: {
      name: 'inventory',
      primaryKey: (l: { externalItemId?: string; externalLocationId: string }) => `${l.externalItemId}@${l.externalLocationId}`,
      rawId: (raw: { id?: unknown; sku?: string }) => (raw?.id ? `${gidToId(raw.id)}${raw.sku ? ` (${raw.sku})` : ''}` : undefined),
      async fetchPage(ctx: Ctx, req) {
        const data = await shopifyGraphql(ctx, Q.INVENTORY_QUERY, { first: Q.INVENTORY_PAGE_SIZE, after: req.pageToken ?? null }, {
          operation: 'graphql:inventoryItems', cost: Q.INVENTORY_QUERY_COST, stream: 'inventory', shape: z.object({ inventoryItems: connection }),
        });
        await completeInventoryLevels(ctx, data.inventoryItems.nodes);
        return { records: data.inventoryItems.nodes, next: graphqlCursorNext(data.inventoryItems.pageInfo) };
      },
      map: (raw: unknown) => mapGqlInventoryItem(raw),
    },

    /**
     * First backfill through a bulk operation, streamed in pages of BULK_PAGE_ORDERS (see shopify.bulk.ts).
     * Afterwards the sync engine starts `orders` with cursor = the time this backfill started.
     */
    ordersBackfill: {
      name: 'ordersBackfill',
      primaryKey: (o: CanonicalOrder) => o.externalId,
      rawId: (raw: { id?: unknown }) => (raw?.id ? gidToId(raw.id) : undefined),
      async fetchPage(ctx: Ctx, req) {
        const at = req.pageToken ? decodeBulkCursor(req.pageToken) : await startBulkOrders(ctx);
        return at ? readBulkOrdersPage(ctx, at) : { records: [], next: null };
      },
      map: (raw: unknown) => mapGqlOrder(raw),
    },
  },

  push: {
    refund: (ctx, cmd) => shopifyRefund(ctx, cmd),
    cancelLines: (ctx, cmd) => shopifyCancelLines(ctx, cmd),
    async setStock(ctx, cmd) {
      if (!cmd.externalItemId) throw new ConnectorError({ code: 'CONFIG', message: `setStock ${cmd.sku}: Shopify needs the inventory item id`, retryable: false, operation: 'inventorySetQuantities' });
      const data = await shopifyGraphql<{ inventorySetQuantities: { inventoryAdjustmentGroup: { id: string } | null; userErrors: Array<{ field?: string[]; message: string; code?: string }> } }>(
        ctx,
        Q.INVENTORY_SET_QUANTITIES,
        {
          idempotencyKey: cmd.idempotencyKey,
          input: {
            name: 'available',
            reason: ctx.config.inventoryReason,
            referenceDocumentUri: `switchyard://stock/${encodeURIComponent(cmd.idempotencyKey)}`,
            quantities: [
              {
                inventoryItemId: toGid('InventoryItem', cmd.externalItemId),
                locationId: toGid('Location', cmd.externalLocationId),
                quantity: cmd.quantity,
                // Compare-and-set: Shopify refuses the change if its quantity moved since the hub last read it.
                changeFromQuantity: cmd.expectedQuantity === undefined ? null : cmd.expectedQuantity,
              },
            ],
          },
        },
        { operation: 'inventorySetQuantities', cost: 10, idempotent: true },
      );
      userErrors('inventorySetQuantities', data.inventorySetQuantities.userErrors);
      return { externalId: data.inventorySetQuantities.inventoryAdjustmentGroup?.id ? gidToId(data.inventorySetQuantities.inventoryAdjustmentGroup.id) : undefined };
    },

    async createShipment(ctx, cmd) {
      const fos = await readFulfillmentOrders<FulfillmentOrderNode>(ctx, toGid('Order', cmd.orderExternalId));
      if (!fos) throw new ConnectorError({ code: 'HTTP', message: `order ${cmd.orderExternalId} not found`, retryable: false, status: 404, operation: 'graphql:fulfillmentOrders' });
      const lineItemsByFulfillmentOrder = planFulfillment(fos, cmd.lines, cmd.externalLocationId);
      const data = await shopifyGraphql<{ fulfillmentCreate: { fulfillment: { id: string } | null; userErrors: Array<{ field?: string[]; message: string }> } }>(
        ctx,
        Q.FULFILLMENT_CREATE,
        {
          fulfillment: {
            notifyCustomer: cmd.notifyCustomer ?? true,
            trackingInfo: { company: cmd.carrier, number: cmd.trackingNumber, ...(cmd.trackingUrl ? { url: cmd.trackingUrl } : {}) },
            lineItemsByFulfillmentOrder,
          },
        },
        // Not idempotent on Shopify's side: retried only on 429; the hub reconciles via fulfillments webhooks.
        { operation: 'fulfillmentCreate', cost: 10 },
      );
      userErrors('fulfillmentCreate', data.fulfillmentCreate.userErrors);
      return { externalId: data.fulfillmentCreate.fulfillment ? gidToId(data.fulfillmentCreate.fulfillment.id) : undefined };
    },

    /** `orderUpdate` with the order's `shippingAddress`. */
    async updateShipTo(ctx, cmd) {
      const a = cmd.shipTo;
      const name = splitPersonName(a.name ?? cmd.customer?.name);
      const shippingAddress = Object.fromEntries(Object.entries({
        address1: a.line1, address2: a.line2, city: a.city, zip: a.postalCode, countryCode: a.country, provinceCode: a.region, phone: a.phone ?? cmd.customer?.phone,
        firstName: name.first, lastName: name.last,
      }).filter(([, v]) => v !== undefined && v !== null && v !== ''));
      const data = await shopifyGraphql<{ orderUpdate: { order: { id: string } | null; userErrors: Array<{ field?: string[]; message: string }> } }>(
        ctx, Q.ORDER_UPDATE_SHIPPING, { input: { id: toGid('Order', cmd.orderExternalId), shippingAddress } },
        // Setting the same address twice leaves one address.
        { operation: 'orderUpdate', cost: 10, idempotent: true },
      );
      userErrors('orderUpdate', data.orderUpdate.userErrors);
      return { externalId: cmd.orderExternalId };
    },

    async cancelOrder(ctx, cmd) {
      const data = await shopifyGraphql<{ orderCancel: { job: { id: string } | null; orderCancelUserErrors: Array<{ field?: string[]; message: string; code?: string }> } }>(
        ctx,
        Q.ORDER_CANCEL,
        {
          orderId: toGid('Order', cmd.orderExternalId),
          reason: 'OTHER',
          refund: true,
          restock: cmd.restock ?? true,
          notifyCustomer: cmd.notifyCustomer ?? true,
          staffNote: cmd.reason ?? null,
        },
        // Cancelling twice is refused by Shopify, never applied twice.
        { operation: 'orderCancel', cost: 10, idempotent: true },
      );
      userErrors('orderCancel', data.orderCancel.orderCancelUserErrors);
      return { externalId: data.orderCancel.job ? gidToId(data.orderCancel.job.id) : undefined, accepted: true };
    },
  },

  webhooks: {
    topics: ['orders/create', 'orders/updated', 'orders/cancelled', 'refunds/create', 'inventory_levels/update', 'fulfillments/create', 'fulfillments/update'],
    // Shopify retries failed deliveries for up to 48 hours with the original trigger time.
    replayWindowMs: 49 * 3_600_000,
    verify(req: WebhookRequest, secret: string) {
      return verifyHmacBase64(hmacSha256(secret, rawBodyBuffer(req)), header(req, 'x-shopify-hmac-sha256'));
    },
    deliveryId: (req) => header(req, 'x-shopify-event-id') ?? header(req, 'x-shopify-webhook-id'),
    sentAt(req) {
      const t = header(req, 'x-shopify-triggered-at');
      const ms = t ? Date.parse(t) : NaN;
      return Number.isNaN(ms) ? undefined : ms;
    },
    parse(req): CanonicalEvent[] {
      const topic = header(req, 'x-shopify-topic');
      const body = parseJsonSafe(rawBodyBuffer(req).toString('utf8'), { operation: `webhook ${topic}` }) as Record<string, unknown>;
      const record = body && (body.id !== undefined ? String(body.id) : undefined);
      try {
        switch (topic) {
          case 'orders/create':
          case 'orders/updated':
            return [{ type: 'order.upserted', order: mapRestOrder(body) }];
          case 'orders/cancelled': {
            const order = mapRestOrder(body);
            return [{ type: 'order.cancelled', orderExternalId: order.externalId, at: order.cancelledAt ?? order.updatedAt, reason: (body.cancel_reason as string) ?? undefined, order }];
          }
          case 'refunds/create':
            return [{ type: 'refund.created', refund: mapRestRefund(body) }];
          case 'inventory_levels/update':
            return [{ type: 'stock.changed', level: mapRestInventoryLevel(body) }];
          case 'fulfillments/create':
          case 'fulfillments/update':
            return [{ type: 'shipment.upserted', shipment: mapRestFulfillment(body) }];
          default:
            throw new Error(`unsupported topic ${JSON.stringify(topic)}`);
        }
      } catch (e) {
        if (e instanceof ConnectorError) throw e;
        throw new ConnectorError({ code: 'MAPPING', message: `webhook ${topic}, record ${record ?? '?'}: ${(e as Error).message}`, retryable: false, stream: `webhook:${topic}`, record, cause: e });
      }
    },
  },

  async check(ctx) {
    await shopifyGraphql(ctx, Q.SHOP_QUERY, {}, { operation: 'graphql:shop', cost: 1, shape: z.object({ shop: z.object({ name: z.string() }) }) });
  },
});

interface FulfillmentOrderNode {
  id: string;
  status: string;
  assignedLocation: { location: { id: string } | null };
  lineItems: { nodes: Array<{ id: string; remainingQuantity: number; lineItem: { id: string; sku?: string | null } }> };
}

/**
 * Spreads the shipped order lines over the order's open fulfillment orders (at the given location when set).
 * Pure; throws when the lines cannot be covered, so nothing is half-fulfilled.
 */
export function planFulfillment(
  fos: FulfillmentOrderNode[],
  lines: Array<{ orderLineExternalId: string; quantity: number }>,
  locationId?: string,
): Array<{ fulfillmentOrderId: string; fulfillmentOrderLineItems: Array<{ id: string; quantity: number }> }> {
  const open = fos.filter((fo) => ['OPEN', 'IN_PROGRESS'].includes(fo.status) && (!locationId || (fo.assignedLocation.location && gidToId(fo.assignedLocation.location.id) === locationId)));
  const plan = new Map<string, Array<{ id: string; quantity: number }>>();
  for (const line of lines) {
    let left = line.quantity;
    for (const fo of open) {
      for (const li of fo.lineItems.nodes) {
        if (left === 0) break;
        if (gidToId(li.lineItem.id) !== line.orderLineExternalId || li.remainingQuantity <= 0) continue;
        const take = Math.min(left, li.remainingQuantity);
        li.remainingQuantity -= take;
        left -= take;
        const list = plan.get(fo.id) ?? [];
        list.push({ id: li.id, quantity: take });
        plan.set(fo.id, list);
      }
    }
    if (left > 0) {
      throw new ConnectorError({
        code: 'VENDOR',
        message: `line ${line.orderLineExternalId}: ${left} of ${line.quantity} not open for fulfilment${locationId ? ` at location ${locationId}` : ''}`,
        retryable: false,
        operation: 'fulfillmentCreate',
        record: line.orderLineExternalId,
      });
    }
  }
  return [...plan.entries()].map(([fulfillmentOrderId, fulfillmentOrderLineItems]) => ({ fulfillmentOrderId, fulfillmentOrderLineItems }));
}
