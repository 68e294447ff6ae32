import axios from 'axios';
import { z } from 'zod';
import type { CanonicalOrder, SetStockCommand, UpdateShipToCommand } from '../sdk/canonical';
import { ConnectorError } from '../sdk/connector-error';
import { baseConfigSchema, type ConnectorContext, defineConnector } from '../sdk/connector';
import { type AuthProvider, FetchedTokenAuth, oauth1Auth } from '../sdk/auth';
import type { QueryParams } from '../sdk/http-client';
import { parseJsonSafe } from '../sdk/json';
import { offsetNext } from '../sdk/paginators';
import { FixedWindowLimiter } from '../sdk/rate-limit';
import { splitPersonName } from '../sdk/address';
import { expectShape } from '../sdk/shape';
import { toZonelessUtc } from '../sdk/time';
import { mapMagentoOrder, mapSource, mapSourceItem } from './magento.mapper';
import { magentoRefund } from './refund';

export const magentoConfigSchema = baseConfigSchema.extend({
  storeUrl: z.url(),
  /** REST store scope: `default`, a store view code, or `all`. */
  storeCode: z.string().default('default'),
  startAt: z.iso.datetime({ offset: true }).default('2020-01-01T00:00:00Z'),
  pageSize: z.number().int().min(1).max(1000).default(100),
  /** Self-imposed ceiling (Magento has no published limit; hosting WAFs do). */
  requestsPerMinute: z.number().int().positive().default(600),
});
export type MagentoConfig = z.infer<typeof magentoConfigSchema>;

export const magentoCredentialsSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('oauth1'), consumerKey: z.string().min(1), consumerSecret: z.string().min(1), accessToken: z.string().min(1), accessTokenSecret: z.string().min(1) }),
  z.object({ type: z.literal('admin'), username: z.string().min(1), password: z.string().min(1) }),
]);
export type MagentoCredentials = z.infer<typeof magentoCredentialsSchema>;

type Ctx = ConnectorContext<MagentoConfig, MagentoCredentials>;

const searchResult = z.looseObject({ items: z.array(z.unknown()).nullish(), total_count: z.number().int() });

type Filter = { field: string; value: string; conditionType: string };

/** Magento's bracketed searchCriteria query; each filter is its own group (groups are ANDed). */
export function searchCriteria(filters: Filter[], sort: { field: string; direction: 'ASC' | 'DESC' } | undefined, pageSize: number, currentPage: number): Array<[string, string]> {
  const q: Array<[string, string]> = [];
  filters.forEach((f, g) => {
    q.push([`searchCriteria[filterGroups][${g}][filters][0][field]`, f.field]);
    q.push([`searchCriteria[filterGroups][${g}][filters][0][value]`, f.value]);
    q.push([`searchCriteria[filterGroups][${g}][filters][0][conditionType]`, f.conditionType]);
  });
  if (sort) {
    q.push(['searchCriteria[sortOrders][0][field]', sort.field]);
    q.push(['searchCriteria[sortOrders][0][direction]', sort.direction]);
  }
  q.push(['searchCriteria[pageSize]', String(pageSize)]);
  q.push(['searchCriteria[currentPage]', String(currentPage)]);
  return q;
}

function rest(ctx: Ctx, path: string): string {
  return `/rest/${ctx.config.storeCode}/V1${path}`;
}

async function search(ctx: Ctx, path: string, params: QueryParams, operation: string, stream?: string) {
  const res = await ctx.http.request({ path: rest(ctx, path), params, operation, stream });
  return expectShape(searchResult, res.data, { operation, stream, requestId: res.requestId });
}

/** Admin token: POST /V1/integration/admin/token, valid 4 hours by default; re-fetched on 401. */
function adminTokenAuth(config: MagentoConfig, creds: { username: string; password: string }): AuthProvider {
  return new FetchedTokenAuth(async () => {
    const res = await axios.post(`${(config.baseUrl ?? config.storeUrl).replace(/\/+$/, '')}/rest/V1/integration/admin/token`, { username: creds.username, password: creds.password }, {
      timeout: config.timeoutMs ?? 15_000,
      responseType: 'text',
      transformResponse: [(d) => d],
      validateStatus: () => true,
    });
    if (res.status !== 200) {
      throw new ConnectorError({ code: 'AUTH', message: `Magento admin token request failed with ${res.status}`, retryable: res.status >= 500, status: res.status, operation: 'integration/admin/token' });
    }
    const token = parseJsonSafe(String(res.data), { operation: 'integration/admin/token' });
    if (typeof token !== 'string' || !token) throw new ConnectorError({ code: 'AUTH', message: 'Magento returned no admin token', retryable: false, operation: 'integration/admin/token' });
    return { token, expiresIn: 4 * 3600 };
  });
}

function sourceItemsBody(cmds: SetStockCommand[]) {
  return { sourceItems: cmds.map((c) => ({ sku: c.sku, source_code: c.externalLocationId, quantity: c.quantity, status: c.quantity > 0 ? 1 : 0 })) };
}

const DAY = 86_400_000;

export const magentoConnector = defineConnector<MagentoConfig, MagentoCredentials>({
  kind: 'magento',
  displayName: 'Magento / Adobe Commerce 2.4 (REST)',
  configSchema: magentoConfigSchema as unknown as z.ZodType<MagentoConfig>,
  credentialsSchema: magentoCredentialsSchema,
  http: ({ config, credentials }) => ({
    baseUrl: config.storeUrl,
    auth:
      credentials.type === 'oauth1'
        ? oauth1Auth({ consumerKey: credentials.consumerKey, consumerSecret: credentials.consumerSecret, token: credentials.accessToken, tokenSecret: credentials.accessTokenSecret })
        : adminTokenAuth(config, credentials),
    limiter: new FixedWindowLimiter(config.requestsPerMinute, 60_000),
  }),

  streams: {
    /**
     * Orders by updated_at. Within a window, pages are keyed on entity_id (not currentPage), so an order updated
     * mid-read cannot shift the pages and hide another; the read stops on total_count.
     */
    orders: {
      name: 'orders',
      primaryKey: (o: CanonicalOrder) => o.externalId,
      cursorField: (o: CanonicalOrder) => o.updatedAt,
      windows: { sizeMs: 7 * DAY, overlapMs: 10 * 60_000, lagMs: 5_000, startAt: (ctx: Ctx) => ctx.config.startAt },
      rawId: (raw: { entity_id?: unknown; increment_id?: string }) => (raw?.entity_id !== undefined ? `${raw.entity_id}${raw.increment_id ? ` (#${raw.increment_id})` : ''}` : undefined),
      async fetchPage(ctx: Ctx, req) {
        const filters: Filter[] = [
          { field: 'updated_at', value: toZonelessUtc(req.window!.start), conditionType: 'gteq' },
          { field: 'updated_at', value: toZonelessUtc(req.window!.end), conditionType: 'lt' },
        ];
        if (req.pageToken) filters.push({ field: 'entity_id', value: req.pageToken, conditionType: 'gt' });
        const page = await search(ctx, '/orders', searchCriteria(filters, { field: 'entity_id', direction: 'ASC' }, ctx.config.pageSize, 1), 'GET /V1/orders', 'orders');
        const items = (page.items ?? []) as Array<{ entity_id?: unknown }>;
        const more = items.length > 0 && items.length < page.total_count;
        return { records: items, next: more ? String(items[items.length - 1].entity_id) : null };
      },
      map: (raw: unknown) => mapMagentoOrder(raw),
    },

    locations: {
      name: 'locations',
      primaryKey: (l: { externalId: string }) => l.externalId,
      rawId: (raw: { source_code?: string }) => raw?.source_code,
      async fetchPage(ctx: Ctx, req) {
        const current = Number(req.pageToken ?? '1');
        const page = await search(ctx, '/inventory/sources', searchCriteria([], undefined, ctx.config.pageSize, current), 'GET /V1/inventory/sources', 'locations');
        const items = page.items ?? [];
        return { records: items, next: offsetNext({ page: current, pageSize: ctx.config.pageSize, totalCount: page.total_count, received: items.length }) };
      },
      map: (raw: unknown) => mapSource(raw),
    },

    /** MSI source items, full snapshot; offset pages stop on total_count (Magento repeats the last page past the end). */
    inventory: {
      name: 'inventory',
      primaryKey: (l: { sku?: string; externalLocationId: string }) => `${l.sku}@${l.externalLocationId}`,
      rawId: (raw: { sku?: string; source_code?: string }) => (raw?.sku ? `${raw.sku}@${raw.source_code}` : undefined),
      async fetchPage(ctx: Ctx, req) {
        const current = Number(req.pageToken ?? '1');
        const page = await search(ctx, '/inventory/source-items', searchCriteria([], { field: 'source_item_id', direction: 'ASC' }, ctx.config.pageSize, current), 'GET /V1/inventory/source-items', 'inventory');
        const items = page.items ?? [];
        return { records: items, next: offsetNext({ page: current, pageSize: ctx.config.pageSize, totalCount: page.total_count, received: items.length }) };
      },
      map: (raw: unknown) => mapSourceItem(raw),
    },
  },

  push: {
    refund: (ctx, cmd) => magentoRefund(ctx, cmd),
    updateShipTo: (ctx, cmd) => updateShipTo(ctx, cmd),
    /** MSI has no compare-and-set: `expectedQuantity` is not enforced by Magento. Absolute, so safe to resend. */
    async setStock(ctx, cmd) {
      await ctx.http.request({ method: 'POST', path: rest(ctx, '/inventory/source-items'), body: sourceItemsBody([cmd]), operation: 'POST /V1/inventory/source-items', idempotent: true });
      return {};
    },
    async setStockBatch(ctx, cmds) {
      await ctx.http.request({ method: 'POST', path: rest(ctx, '/inventory/source-items'), body: sourceItemsBody(cmds), operation: 'POST /V1/inventory/source-items', idempotent: true });
      return {};
    },
    /** Creates the shipment with tracking from the given MSI source. Not idempotent: retried on 429 only. */
    async createShipment(ctx, cmd) {
      const res = await ctx.http.request({
        method: 'POST',
        path: rest(ctx, `/order/${encodeURIComponent(cmd.orderExternalId)}/ship`),
        body: {
          items: cmd.lines.map((l) => ({ order_item_id: Number(l.orderLineExternalId), qty: l.quantity })),
          notify: cmd.notifyCustomer ?? true,
          tracks: [{ track_number: cmd.trackingNumber, title: cmd.carrier, carrier_code: carrierCode(cmd.carrier) }],
          ...(cmd.externalLocationId ? { arguments: { extension_attributes: { source_code: cmd.externalLocationId } } } : {}),
        },
        operation: 'POST /V1/order/{orderId}/ship',
      });
      if (typeof res.data !== 'number' && typeof res.data !== 'string') {
        throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `ship returned ${JSON.stringify(res.data)} instead of a shipment id`, retryable: false, operation: 'POST /V1/order/{orderId}/ship' });
      }
      return { externalId: String(res.data) };
    },
    async cancelOrder(ctx, cmd) {
      const res = await ctx.http.request({ method: 'POST', path: rest(ctx, `/orders/${encodeURIComponent(cmd.orderExternalId)}/cancel`), operation: 'POST /V1/orders/{id}/cancel', idempotent: true });
      if (res.data !== true) {
        throw new ConnectorError({ code: 'VENDOR', message: `Magento refused to cancel order ${cmd.orderExternalId} (already shipped, invoiced or cancelled)`, retryable: false, operation: 'POST /V1/orders/{id}/cancel', record: cmd.orderExternalId });
      }
      return { accepted: true };
    },
  },

  async check(ctx) {
    await search(ctx, '/inventory/sources', searchCriteria([], undefined, 1, 1), 'GET /V1/inventory/sources');
  },
});

const orderAddress = z.looseObject({ entity_id: z.number().int().nullish(), telephone: z.string().nullish(), firstname: z.string().nullish(), lastname: z.string().nullish() });
const orderForAddress = z.looseObject({
  state: z.string().nullish(),
  extension_attributes: z.looseObject({ shipping_assignments: z.array(z.looseObject({ shipping: z.looseObject({ address: orderAddress.nullish() }).nullish() })).nullish() }).nullish(),
});

/**
 * `PUT /V1/orders/{parent_id}` saves an order address (`entity`, a sales-data-order-address): the order's shipping
 * address, found by its `entity_id` on the order first, with the new street, city, region, postcode, country and
 * name. A completed, closed or cancelled order has left: a permanent error.
 */
async function updateShipTo(ctx: Ctx, cmd: UpdateShipToCommand) {
  const read = 'GET /V1/orders/{id}';
  const op = 'PUT /V1/orders/{parent_id}';
  const id = encodeURIComponent(cmd.orderExternalId);
  const order = expectShape(orderForAddress, (await ctx.http.request({ path: rest(ctx, `/orders/${id}`), operation: read })).data, { operation: read });
  const current = order.extension_attributes?.shipping_assignments?.[0]?.shipping?.address;
  if (['complete', 'closed', 'canceled'].includes(order.state ?? '') || !current?.entity_id) {
    throw new ConnectorError({ code: 'VENDOR', message: `Magento order ${cmd.orderExternalId} (${order.state ?? 'no state'}) has no shipping address that can still change`, retryable: false, operation: op, record: cmd.reference });
  }
  const a = cmd.shipTo;
  const name = splitPersonName(a.name ?? cmd.customer?.name);
  // A new region is named by its code; the old region's id would contradict it.
  const { region_id: _oldRegion, ...kept } = current as typeof current & { region_id?: unknown };
  const entity: Record<string, unknown> = {
    ...(a.region ? kept : current), address_type: 'shipping', parent_id: Number(cmd.orderExternalId),
    // Both required by Magento: a name that does not split keeps the ones the address had.
    ...(name.first ? { firstname: name.first, lastname: name.last } : { firstname: current.firstname ?? name.last ?? '', lastname: current.lastname ?? name.last ?? '' }),
    street: [a.line1, a.line2].filter(Boolean), city: a.city, postcode: a.postalCode ?? '', country_id: a.country,
    // Required by Magento; the customer's when the new address carries none.
    telephone: a.phone ?? cmd.customer?.phone ?? current.telephone ?? '',
    ...(a.region ? { region_code: a.region, region: a.region } : {}),
  };
  await ctx.http.request({ method: 'PUT', path: rest(ctx, `/orders/${id}`), body: { entity }, operation: op, idempotent: true });
  return { externalId: cmd.orderExternalId };
}

/** Magento's built-in carrier codes; anything else is a custom carrier with its name as title. */
export function carrierCode(carrier: string): string {
  const c = carrier.toLowerCase();
  if (c.includes('ups')) return 'ups';
  if (c.includes('usps')) return 'usps';
  if (c.includes('fedex')) return 'fedex';
  if (c.includes('dhl')) return 'dhl';
  return 'custom';
}
