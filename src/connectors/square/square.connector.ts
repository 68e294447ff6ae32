import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AdjustStockCommand, CanonicalOrder, CanonicalStockLevel, CreateOrderCommand, SetStockCommand } from '../sdk/canonical';
import { ConnectorError } from '../sdk/connector-error';
import { baseConfigSchema, type ConnectorContext, defineConnector } from '../sdk/connector';
import { headerAuth } from '../sdk/auth';
import type { HttpClient } from '../sdk/http-client';
import { parseJsonSafe } from '../sdk/json';
import { nextTokenNext } from '../sdk/paginators';
import { FixedWindowLimiter } from '../sdk/rate-limit';
import { expectShape } from '../sdk/shape';
import { header, hmacSha256, rawBodyBuffer, verifyHmacBase64, type WebhookRequest } from '../sdk/webhooks';
import { mapSquareCount, mapSquareEvent, mapSquareLocation, mapSquareOrder, moneyToMinor, type SkuLookup } from './square.mapper';

export const SQUARE_VERSION = '2026-05-20';
const HOUR = 3_600_000;

export const squareConfigSchema = baseConfigSchema.extend({
  /** Store locations whose sales and stock the hub follows (SearchOrders takes at most 10). */
  locationIds: z.array(z.string().min(1)).min(1).max(10),
  squareVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).default(SQUARE_VERSION),
  sandbox: z.boolean().default(false),
  startAt: z.iso.datetime({ offset: true }).default('2020-01-01T00:00:00Z'),
  pageSize: z.number().int().min(1).max(1000).default(500),
  /** Offline POS payments sync up to 72 hours late with their original timestamps: re-read that much. */
  overlapMs: z.number().int().nonnegative().default(72 * HOUR),
  /** The webhook subscription's notification URL exactly as registered (it is part of the signed text). */
  notificationUrl: z.url().optional(),
  /** Known catalog variation id → sku; others are looked up in the catalog and cached. */
  catalogSkus: z.record(z.string(), z.string()).default({}),
  requestsPerMinute: z.number().int().positive().default(600),
});
export type SquareConfig = z.infer<typeof squareConfigSchema>;

export const squareCredentialsSchema = z.object({
  accessToken: z.string().min(1),
  /** The webhook subscription's signature key. */
  webhookSignatureKey: z.string().min(1).optional(),
});
export type SquareCredentials = z.infer<typeof squareCredentialsSchema>;

type Ctx = ConnectorContext<SquareConfig, SquareCredentials>;

const errorsShape = z.array(z.looseObject({ category: z.string(), code: z.string(), detail: z.string().optional(), field: z.string().optional() })).optional();

function vendorErrors(data: unknown, operation: string, record?: string): void {
  const errors = (data as { errors?: Array<{ code: string; detail?: string }> } | null)?.errors;
  if (errors?.length) {
    throw new ConnectorError({ code: 'VENDOR', message: `${operation}: ${errors.map((e) => `${e.code}${e.detail ? ` (${e.detail})` : ''}`).join('; ')}`, retryable: false, operation, record, details: errors });
  }
}

// ---- catalog: variation id ↔ sku, cached per connection ----
const caches = new WeakMap<HttpClient, { bySku: Map<string, string>; byId: Map<string, string> }>();

function cache(ctx: Ctx) {
  let c = caches.get(ctx.http);
  if (!c) {
    c = { bySku: new Map(), byId: new Map() };
    for (const [id, sku] of Object.entries(ctx.config.catalogSkus)) {
      c.byId.set(id, sku);
      c.bySku.set(sku, id);
    }
    caches.set(ctx.http, c);
  }
  return c;
}

const catalogObjects = z.object({ objects: z.array(z.looseObject({ id: z.string(), type: z.string(), item_variation_data: z.looseObject({ sku: z.string().optional() }).optional() })).optional(), errors: errorsShape });

/** Resolves variation ids to skus (BatchRetrieveCatalogObjects), for mapping; unknown ids stay unresolved. */
async function skusFor(ctx: Ctx, ids: Iterable<string>, stream?: string): Promise<SkuLookup> {
  const c = cache(ctx);
  const missing = [...new Set(ids)].filter((id) => !c.byId.has(id));
  for (let i = 0; i < missing.length; i += 1000) {
    const res = await ctx.http.request({ method: 'POST', path: '/v2/catalog/batch-retrieve', body: { object_ids: missing.slice(i, i + 1000), include_related_objects: false }, operation: 'BatchRetrieveCatalogObjects', idempotent: true, stream });
    const body = expectShape(catalogObjects, res.data, { operation: 'BatchRetrieveCatalogObjects', stream });
    for (const o of body.objects ?? []) {
      const sku = o.item_variation_data?.sku;
      if (sku) {
        c.byId.set(o.id, sku);
        c.bySku.set(sku, o.id);
      }
    }
  }
  return Object.fromEntries(c.byId);
}

/** sku → variation id (SearchCatalogObjects, exact query on `sku`). */
async function variationFor(ctx: Ctx, sku: string, known?: string): Promise<string> {
  if (known) return known;
  const c = cache(ctx);
  const hit = c.bySku.get(sku);
  if (hit) return hit;
  const res = await ctx.http.request({
    method: 'POST', path: '/v2/catalog/search', operation: 'SearchCatalogObjects', idempotent: true,
    body: { object_types: ['ITEM_VARIATION'], query: { exact_query: { attribute_name: 'sku', attribute_value: sku } }, limit: 2 },
  });
  const body = expectShape(catalogObjects, res.data, { operation: 'SearchCatalogObjects' });
  const found = (body.objects ?? []).filter((o) => o.item_variation_data?.sku === sku);
  if (found.length !== 1) {
    throw new ConnectorError({ code: 'VENDOR', message: found.length ? `sku ${sku} matches ${found.length} Square variations` : `Square has no item variation with sku ${sku}`, retryable: false, operation: 'SearchCatalogObjects', record: sku });
  }
  c.bySku.set(sku, found[0].id);
  c.byId.set(found[0].id, sku);
  return found[0].id;
}

const searchOrdersResponse = z.object({ orders: z.array(z.unknown()).optional(), cursor: z.string().optional(), errors: errorsShape });
const countsResponse = z.object({ counts: z.array(z.unknown()).optional(), cursor: z.string().optional(), errors: errorsShape });
const orderResponse = z.object({ order: z.looseObject({ id: z.string(), version: z.number().int().optional() }).optional(), errors: errorsShape });

function lineCatalogIds(raws: unknown[]): string[] {
  const out: string[] = [];
  for (const r of raws) for (const li of ((r as { line_items?: Array<{ catalog_object_id?: unknown }> })?.line_items ?? [])) if (typeof li?.catalog_object_id === 'string') out.push(li.catalog_object_id);
  return out;
}

/** Deterministic key for a batch of commands (Square keys are at most 128 chars). */
function batchKey(keys: string[]): string {
  return keys.length === 1 && keys[0].length <= 128 ? keys[0] : createHash('sha256').update(keys.join('\n')).digest('hex');
}

async function batchChange(ctx: Ctx, changes: object[], idempotencyKey: string, record?: string) {
  const res = await ctx.http.request({
    method: 'POST', path: '/v2/inventory/changes/batch-create', operation: 'BatchChangeInventory',
    body: { idempotency_key: idempotencyKey, changes, ignore_unchanged_counts: true },
    idempotent: true, // Square dedupes on idempotency_key
  });
  const body = expectShape(countsResponse, res.data, { operation: 'BatchChangeInventory' });
  vendorErrors(body, 'BatchChangeInventory', record);
  return body;
}

async function physicalCount(ctx: Ctx, cmd: SetStockCommand) {
  const variation = await variationFor(ctx, cmd.sku, cmd.externalItemId);
  if (cmd.expectedQuantity !== undefined) {
    const res = await ctx.http.request({ method: 'POST', path: '/v2/inventory/counts/batch-retrieve', operation: 'BatchRetrieveInventoryCounts', idempotent: true, body: { catalog_object_ids: [variation], location_ids: [cmd.externalLocationId], states: ['IN_STOCK'] } });
    const body = expectShape(countsResponse, res.data, { operation: 'BatchRetrieveInventoryCounts' });
    const count = (body.counts ?? []).find((c) => (c as { location_id?: string }).location_id === cmd.externalLocationId) as { quantity?: string } | undefined;
    const actual = count?.quantity !== undefined ? Number(count.quantity) : null;
    if (actual !== cmd.expectedQuantity) {
      throw new ConnectorError({ code: 'VENDOR', message: `Square holds ${actual ?? 'no count'} of ${cmd.sku} at ${cmd.externalLocationId}, expected ${cmd.expectedQuantity}`, retryable: false, operation: 'BatchRetrieveInventoryCounts', record: cmd.sku, details: { actual } });
    }
  }
  return {
    type: 'PHYSICAL_COUNT',
    physical_count: { reference_id: cmd.idempotencyKey, catalog_object_id: variation, state: 'IN_STOCK', location_id: cmd.externalLocationId, quantity: String(cmd.quantity), occurred_at: new Date(ctx.clock.now()).toISOString() },
  };
}

async function adjustment(ctx: Ctx, cmd: AdjustStockCommand) {
  if (!Number.isInteger(cmd.delta) || cmd.delta === 0) throw new ConnectorError({ code: 'CONFIG', message: `adjustment of ${cmd.sku} must be a non-zero whole number, got ${cmd.delta}`, retryable: false, operation: 'BatchChangeInventory', record: cmd.sku });
  const variation = await variationFor(ctx, cmd.sku, cmd.externalItemId);
  // Units come from nowhere into stock (received) or leave stock as waste (damaged, lost, corrected down).
  const [from, to] = cmd.delta > 0 ? ['NONE', 'IN_STOCK'] : ['IN_STOCK', 'WASTE'];
  return {
    type: 'ADJUSTMENT',
    adjustment: { reference_id: cmd.idempotencyKey, catalog_object_id: variation, from_state: from, to_state: to, location_id: cmd.externalLocationId, quantity: String(Math.abs(cmd.delta)), occurred_at: cmd.occurredAt ?? new Date(ctx.clock.now()).toISOString() },
  };
}

/**
 * An order at a store: a Square order with one PICKUP fulfilment (SHIPMENT for ship-from-store), PROPOSED so the
 * store accepts it on the POS. Square dedupes CreateOrder on `idempotency_key`, so a resend returns the same order.
 */
async function createPickupOrder(ctx: Ctx, cmd: CreateOrderCommand) {
  const location = cmd.externalLocationId ?? ctx.config.locationIds[0];
  const lineItems = [];
  for (const l of cmd.lines) {
    const item: Record<string, unknown> = { uid: l.lineRef.slice(0, 60), quantity: String(l.quantity), catalog_object_id: await variationFor(ctx, l.sku, l.externalItemId) };
    if (l.unitPrice !== undefined) item.base_price_money = { amount: moneyToMinor(l.unitPrice, cmd.currency), currency: cmd.currency };
    if (l.title) item.note = l.title;
    lineItems.push(item);
  }
  const recipient: Record<string, string> = {};
  const name = cmd.customer?.name ?? cmd.shipTo?.name;
  if (name) recipient.display_name = name;
  if (cmd.customer?.email) recipient.email_address = cmd.customer.email;
  if (cmd.customer?.phone ?? cmd.shipTo?.phone) recipient.phone_number = (cmd.customer?.phone ?? cmd.shipTo?.phone)!;
  // Ship-from-store: a SHIPMENT fulfilment to the buyer's address, which the store packs and hands to the carrier.
  let fulfillment: Record<string, unknown>;
  if (cmd.method === 'SHIP') {
    const a = cmd.shipTo;
    if (!a?.line1 || !a.city) throw new ConnectorError({ code: 'CONFIG', message: `order ${cmd.reference} ships from a store and needs a ship-to street and city`, retryable: false, operation: 'CreateOrder', record: cmd.reference });
    const address: Record<string, string> = { address_line_1: a.line1, locality: a.city, country: a.country };
    if (a.line2) address.address_line_2 = a.line2;
    if (a.region) address.administrative_district_level_1 = a.region;
    if (a.postalCode) address.postal_code = a.postalCode;
    fulfillment = { type: 'SHIPMENT', state: 'PROPOSED', shipment_details: { recipient: { ...recipient, display_name: recipient.display_name ?? a.name ?? cmd.reference, address }, ...(cmd.note ? { shipping_note: cmd.note.slice(0, 500) } : {}) } };
  } else {
    const pickup: Record<string, unknown> = { recipient, schedule_type: cmd.pickupAt ? 'SCHEDULED' : 'ASAP', ...(cmd.pickupAt ? { pickup_at: cmd.pickupAt } : { pickup_at: new Date(ctx.clock.now()).toISOString() }) };
    if (cmd.method === 'CURBSIDE') pickup.is_curbside_pickup = true;
    if (cmd.note) pickup.note = cmd.note.slice(0, 500);
    fulfillment = { type: 'PICKUP', state: 'PROPOSED', pickup_details: pickup };
  }
  const body = {
    idempotency_key: cmd.idempotencyKey,
    order: {
      location_id: location,
      reference_id: cmd.reference.slice(0, 40),
      ...(cmd.customer?.externalId ? { customer_id: cmd.customer.externalId } : {}),
      source: { name: cmd.channel ? `Switchyard (${cmd.channel})` : 'Switchyard' },
      line_items: lineItems,
      fulfillments: [fulfillment],
    },
  };
  const res = await ctx.http.request({ method: 'POST', path: '/v2/orders', body, operation: 'CreateOrder', idempotent: true });
  const out = expectShape(orderResponse, res.data, { operation: 'CreateOrder' });
  vendorErrors(out, 'CreateOrder', cmd.reference);
  if (!out.order) throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: 'CreateOrder returned no order', retryable: false, operation: 'CreateOrder', record: cmd.reference });
  return { externalId: out.order.id };
}

async function retrieveOrder(ctx: Ctx, id: string): Promise<Record<string, unknown> | null> {
  try {
    const res = await ctx.http.request({ path: `/v2/orders/${encodeURIComponent(id)}`, operation: 'RetrieveOrder' });
    const out = expectShape(orderResponse, res.data, { operation: 'RetrieveOrder' });
    return (out.order as Record<string, unknown>) ?? null;
  } catch (e) {
    if (e instanceof ConnectorError && e.status === 404) return null;
    throw e;
  }
}

export function squareSignature(key: string, url: string, rawBody: Buffer | string): Buffer {
  return hmacSha256(key, url, Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(rawBody, 'utf8'));
}

function eventOf(req: WebhookRequest) {
  return mapSquareEvent(parseJsonSafe(rawBodyBuffer(req).toString('utf8'), { operation: 'webhook' }));
}

export const squareConnector = defineConnector<SquareConfig, SquareCredentials>({
  kind: 'square',
  displayName: 'Square (POS)',
  configSchema: squareConfigSchema as unknown as z.ZodType<SquareConfig>,
  credentialsSchema: squareCredentialsSchema,
  http: ({ config, credentials }) => ({
    baseUrl: config.sandbox ? 'https://connect.squareupsandbox.com' : 'https://connect.squareup.com',
    auth: headerAuth('authorization', `Bearer ${credentials.accessToken}`),
    headers: { 'square-version': config.squareVersion },
    requestIdHeaders: ['x-request-id', 'square-request-id'],
    limiter: new FixedWindowLimiter(config.requestsPerMinute, 60_000),
  }),

  streams: {
    /**
     * Store sales and pickup orders by `updated_at` (SearchOrders, ascending, cursor pages). The window re-reads the
     * last `overlapMs` (72 h) because offline POS sales arrive late with their original timestamps; the SDK's
     * `recent` map drops versions already emitted.
     */
    orders: {
      name: 'orders',
      primaryKey: (o: CanonicalOrder) => o.externalId,
      cursorField: (o: CanonicalOrder) => o.updatedAt,
      windows: { sizeMs: 7 * 24 * HOUR, overlapMs: 72 * HOUR, lagMs: 5_000, startAt: (ctx: Ctx) => ctx.config.startAt },
      rawId: (raw: { order?: { id?: unknown } }) => (typeof raw?.order?.id === 'string' ? raw.order.id : undefined),
      async fetchPage(ctx: Ctx, req) {
        const body = {
          location_ids: ctx.config.locationIds,
          limit: ctx.config.pageSize,
          ...(req.pageToken ? { cursor: req.pageToken } : {}),
          return_entries: false,
          query: {
            filter: { date_time_filter: { updated_at: { start_at: req.window!.start, end_at: req.window!.end } }, state_filter: { states: ['OPEN', 'COMPLETED', 'CANCELED'] } },
            sort: { sort_field: 'UPDATED_AT', sort_order: 'ASC' },
          },
        };
        const res = await ctx.http.request({ method: 'POST', path: '/v2/orders/search', body, operation: 'SearchOrders', idempotent: true, stream: 'orders' });
        const page = expectShape(searchOrdersResponse, res.data, { operation: 'SearchOrders', stream: 'orders' });
        vendorErrors(page, 'SearchOrders');
        const orders = page.orders ?? [];
        const skus = await skusFor(ctx, lineCatalogIds(orders), 'orders');
        return { records: orders.map((o) => ({ order: o, skus })), next: nextTokenNext(page.cursor) };
      },
      map: (raw: { order: unknown; skus: SkuLookup }) => mapSquareOrder(raw.order, raw.skus),
    },

    /** IN_STOCK counts per store (BatchRetrieveInventoryCounts, full snapshot, cursor pages). */
    inventory: {
      name: 'inventory',
      primaryKey: (l: CanonicalStockLevel) => `${l.externalItemId}@${l.externalLocationId}`,
      rawId: (raw: { count?: { catalog_object_id?: string; location_id?: string } }) => (raw?.count?.catalog_object_id ? `${raw.count.catalog_object_id}@${raw.count.location_id}` : undefined),
      async fetchPage(ctx: Ctx, req) {
        const body = { location_ids: ctx.config.locationIds, states: ['IN_STOCK'], limit: Math.min(ctx.config.pageSize, 1000), ...(req.pageToken ? { cursor: req.pageToken } : {}) };
        const res = await ctx.http.request({ method: 'POST', path: '/v2/inventory/counts/batch-retrieve', body, operation: 'BatchRetrieveInventoryCounts', idempotent: true, stream: 'inventory' });
        const page = expectShape(countsResponse, res.data, { operation: 'BatchRetrieveInventoryCounts', stream: 'inventory' });
        vendorErrors(page, 'BatchRetrieveInventoryCounts');
        const counts = page.counts ?? [];
        const skus = await skusFor(ctx, counts.map((c) => (c as { catalog_object_id?: string })?.catalog_object_id).filter((x): x is string => typeof x === 'string'), 'inventory');
        return { records: counts.map((count) => ({ count, skus })), next: nextTokenNext(page.cursor) };
      },
      map: (raw: { count: unknown; skus: SkuLookup }) => mapSquareCount(raw.count, raw.skus),
    },

    locations: {
      name: 'locations',
      primaryKey: (l: { externalId: string }) => l.externalId,
      rawId: (raw: { id?: string }) => raw?.id,
      async fetchPage(ctx: Ctx) {
        const res = await ctx.http.request({ path: '/v2/locations', operation: 'ListLocations', stream: 'locations' });
        const body = expectShape(z.object({ locations: z.array(z.unknown()).optional(), errors: errorsShape }), res.data, { operation: 'ListLocations', stream: 'locations' });
        return { records: body.locations ?? [], next: null };
      },
      map: (raw: unknown) => mapSquareLocation(raw),
    },
  },

  push: {
    async setStock(ctx, cmd) {
      await batchChange(ctx, [await physicalCount(ctx, cmd)], cmd.idempotencyKey, cmd.sku);
      return {};
    },
    /** Up to 100 changes per BatchChangeInventory call, each batch with a key derived from its commands. */
    async setStockBatch(ctx, cmds) {
      for (let i = 0; i < cmds.length; i += 100) {
        const chunk = cmds.slice(i, i + 100);
        const changes = [];
        for (const c of chunk) changes.push(await physicalCount(ctx, c));
        await batchChange(ctx, changes, batchKey(chunk.map((c) => c.idempotencyKey)));
      }
      return {};
    },
    async adjustStock(ctx, cmd) {
      await batchChange(ctx, [await adjustment(ctx, cmd)], cmd.idempotencyKey, cmd.sku);
      return {};
    },
    createOrder: (ctx, cmd) => createPickupOrder(ctx, cmd),
    /** Cancels the pickup: fulfilment and order to CANCELED at the order's current version (optimistic concurrency). */
    async cancelOrder(ctx, cmd) {
      const order = await retrieveOrder(ctx, cmd.orderExternalId);
      if (!order) throw new ConnectorError({ code: 'VENDOR', message: `Square has no order ${cmd.orderExternalId}`, retryable: false, operation: 'UpdateOrder', record: cmd.orderExternalId });
      if (order.state === 'CANCELED') return { accepted: true, warnings: ['already cancelled'] };
      if (order.state === 'COMPLETED') throw new ConnectorError({ code: 'VENDOR', message: `Square order ${cmd.orderExternalId} is already completed`, retryable: false, operation: 'UpdateOrder', record: cmd.orderExternalId });
      const fulfillments = ((order.fulfillments as Array<{ uid?: string }>) ?? []).filter((f) => f.uid).map((f) => ({ uid: f.uid, state: 'CANCELED', ...(cmd.reason ? { pickup_details: { cancel_reason: cmd.reason.slice(0, 100) } } : {}) }));
      const res = await ctx.http.request({
        method: 'PUT', path: `/v2/orders/${encodeURIComponent(cmd.orderExternalId)}`, operation: 'UpdateOrder', idempotent: true,
        body: { idempotency_key: cmd.idempotencyKey, order: { location_id: order.location_id, version: order.version, state: 'CANCELED', fulfillments } },
      });
      vendorErrors(res.data, 'UpdateOrder', cmd.orderExternalId);
      return { accepted: true };
    },
  },

  lookups: {
    async order(ctx, id) {
      const raw = await retrieveOrder(ctx, id);
      if (!raw) return null;
      const skus = await skusFor(ctx, lineCatalogIds([raw]));
      return mapSquareOrder(raw, skus);
    },
  },

  webhooks: {
    topics: ['order.updated', 'inventory.count.updated'],
    // Square retries failed deliveries for up to 72 hours; the event's created_at is the send time.
    replayWindowMs: 72 * HOUR,
    verify(req, secret) {
      const url = req.url;
      if (!url) return false;
      return verifyHmacBase64(squareSignature(secret, url, rawBodyBuffer(req)), header(req, 'x-square-hmacsha256-signature'));
    },
    deliveryId: (req) => {
      try {
        return eventOf(req).eventId;
      } catch {
        return undefined;
      }
    },
    sentAt: (req) => {
      try {
        const t = eventOf(req).createdAt;
        return Number.isNaN(t) ? undefined : t;
      } catch {
        return undefined;
      }
    },
    parse(req, ctx) {
      const raw = parseJsonSafe(rawBodyBuffer(req).toString('utf8'), { operation: 'webhook' });
      return mapSquareEvent(raw, Object.fromEntries(cache(ctx).byId)).events;
    },
  },

  async check(ctx) {
    const res = await ctx.http.request({ path: `/v2/locations/${encodeURIComponent(ctx.config.locationIds[0])}`, operation: 'RetrieveLocation' });
    vendorErrors(res.data, 'RetrieveLocation');
  },
});
