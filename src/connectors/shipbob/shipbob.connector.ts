import { z } from 'zod';
import type { CanonicalReturn, CanonicalShipment, CanonicalStockLevel, CreateOrderCommand, UpdateShipToCommand } from '../sdk/canonical';
import { ConnectorError } from '../sdk/connector-error';
import { baseConfigSchema, type ConnectorContext, defineConnector } from '../sdk/connector';
import { headerAuth } from '../sdk/auth';
import { parseJsonSafe } from '../sdk/json';
import { bodyLinkNext } from '../sdk/paginators';
import { FixedWindowLimiter } from '../sdk/rate-limit';
import { expectShape } from '../sdk/shape';
import { header, rawBodyBuffer, standardWebhookSentAt, verifyStandardWebhook } from '../sdk/webhooks';
import { shipbobCreateReturn } from './return';
import { mapShipBobInventory, mapShipBobLocation, mapShipBobOrderShipments, mapShipBobReturn, mapShipBobShipment, mapShipBobWebhook } from './shipbob.mapper';

export const SHIPBOB_API = '2026-01';

export const shipbobConfigSchema = baseConfigSchema.extend({
  /** The channel orders are created in (`shipbob_channel_id`, from GET /channel). */
  channelId: z.string().regex(/^\d+$/),
  sandbox: z.boolean().default(false),
  startAt: z.iso.datetime({ offset: true }).default('2020-01-01T00:00:00Z'),
  pageSize: z.number().int().min(1).max(250).default(250),
  /** ShipBob allows 150 requests per minute per token. */
  requestsPerMinute: z.number().int().positive().max(150).default(150),
  /** `shipping_method` for orders whose command names none (must exist in ShipBob's ship option mapping). */
  defaultShippingMethod: z.string().min(1).default('Standard'),
});
export type ShipBobConfig = z.infer<typeof shipbobConfigSchema>;

export const shipbobCredentialsSchema = z.object({
  /** Personal access token or OAuth access token. */
  accessToken: z.string().min(1),
  /** `whsec_...` secret of the webhook subscription. */
  webhookSecret: z.string().regex(/^whsec_/).optional(),
});
export type ShipBobCredentials = z.infer<typeof shipbobCredentialsSchema>;

type Ctx = ConnectorContext<ShipBobConfig, ShipBobCredentials>;

const P = `/${SHIPBOB_API}`;
const channel = (ctx: Ctx) => ({ shipbob_channel_id: ctx.config.channelId });
const pagedLinks = z.object({ items: z.array(z.unknown()).nullish(), next: z.string().nullish() });
const orderList = z.array(z.looseObject({ id: z.union([z.number().int(), z.string()]), reference_id: z.string().nullish() }));

async function findByReference(ctx: Ctx, reference: string) {
  const res = await ctx.http.request({ path: `${P}/order`, params: { ReferenceIds: reference }, headers: channel(ctx), operation: 'GET /order' });
  const orders = expectShape(orderList, res.data ?? [], { operation: 'GET /order' });
  return orders.find((o) => o.reference_id === reference);
}

/** `Orders.CreateOrderModel` from the hub's command (products by reference_id = sku). */
export function createOrderBody(cmd: CreateOrderCommand, config: Pick<ShipBobConfig, 'defaultShippingMethod'>) {
  const a = cmd.shipTo;
  if (!a?.line1 || !a.city) {
    throw new ConnectorError({ code: 'CONFIG', message: `order ${cmd.reference} needs a ship-to address with a street and a city for ShipBob`, retryable: false, operation: 'POST /order', record: cmd.reference });
  }
  const address: Record<string, string> = { address1: a.line1, city: a.city, country: a.country };
  if (a.line2) address.address2 = a.line2;
  if (a.region) address.state = a.region;
  if (a.postalCode) address.zip_code = a.postalCode;
  const recipient: Record<string, unknown> = { name: a.name ?? cmd.customer?.name ?? cmd.reference, address };
  if (cmd.customer?.email) recipient.email = cmd.customer.email;
  if (cmd.customer?.phone ?? a.phone) recipient.phone_number = cmd.customer?.phone ?? a.phone;
  const body: Record<string, unknown> = {
    reference_id: cmd.reference,
    order_number: cmd.name ?? cmd.reference,
    type: 'DTC',
    shipping_method: cmd.shippingMethod ?? config.defaultShippingMethod,
    recipient,
    products: cmd.lines.map((l) => {
      const p: Record<string, unknown> = { reference_id: l.sku, name: l.title ?? l.sku, quantity: l.quantity };
      if (/^\d{1,9}$/.test(l.lineRef)) p.external_line_id = Number(l.lineRef);
      if (l.unitPrice !== undefined) p.unit_price = Number(l.unitPrice);
      return p;
    }),
  };
  if (cmd.placedAt) body.purchase_date = cmd.placedAt;
  if (cmd.externalLocationId) body.location_id = Number(cmd.externalLocationId);
  if (cmd.channel) body.tags = [{ name: 'channel', value: cmd.channel }];
  return body;
}

/**
 * Pushes a fulfilment order. ShipBob rejects a second order with the same reference_id, but a create whose
 * answer was lost would otherwise be resent blind: look the reference up first, and again after a 422.
 */
async function createOrder(ctx: Ctx, cmd: CreateOrderCommand) {
  const existing = await findByReference(ctx, cmd.reference);
  if (existing) return { externalId: String(existing.id), warnings: ['order already existed for this reference_id'] };
  const body = createOrderBody(cmd, ctx.config);
  try {
    const res = await ctx.http.request({ method: 'POST', path: `${P}/order`, body, headers: channel(ctx), operation: 'POST /order' });
    const created = expectShape(z.looseObject({ id: z.union([z.number().int(), z.string()]) }), res.data, { operation: 'POST /order' });
    return { externalId: String(created.id) };
  } catch (e) {
    if (e instanceof ConnectorError && e.status === 422) {
      const again = await findByReference(ctx, cmd.reference);
      if (again) return { externalId: String(again.id), warnings: ['order already existed for this reference_id'] };
    }
    throw e instanceof ConnectorError ? e.withContext({ record: cmd.reference }) : e;
  }
}

/** Shipment statuses whose address ShipBob still changes: not labelled, shipped, cancelled or swept. */
const ADDRESS_CAN_CHANGE = new Set(['None', 'Processing', 'Exception', 'OnHold', 'ImportReview']);

/** `Orders.UpdateAddressRequest` from the hub's address. */
export function updateAddressBody(cmd: UpdateShipToCommand) {
  const a = cmd.shipTo;
  if (!a.line1 || !a.city) {
    throw new ConnectorError({ code: 'CONFIG', message: `order ${cmd.reference} needs a ship-to address with a street and a city for ShipBob`, retryable: false, operation: 'PUT /shipment/{shipmentId}:updateAddress', record: cmd.reference });
  }
  const body: Record<string, string> = { street_address1: a.line1, city: a.city, country_code: a.country };
  if (a.line2) body.street_address2 = a.line2;
  if (a.region) body.state = a.region;
  if (a.postalCode) body.zip_code = a.postalCode;
  const name = a.name ?? cmd.customer?.name;
  if (name) body.recipient_name = name;
  if (cmd.customer?.email) body.email = cmd.customer.email;
  if (cmd.customer?.phone ?? a.phone) body.phone_number = (cmd.customer?.phone ?? a.phone)!;
  return body;
}

/**
 * ShipBob keeps the address per shipment: `PUT /shipment/{id}:updateAddress` on each shipment of the order that has
 * not been labelled yet. None left means the goods are on their way: a permanent failure, for an operator.
 */
async function updateShipTo(ctx: Ctx, cmd: UpdateShipToCommand) {
  const list = 'GET /order/{orderId}/shipment';
  const res = await ctx.http.request({ path: `${P}/order/${encodeURIComponent(cmd.orderExternalId)}/shipment`, headers: channel(ctx), operation: list });
  const shipments = expectShape(z.array(z.looseObject({ id: z.union([z.number().int(), z.string()]), status: z.string().nullish() })), res.data ?? [], { operation: list });
  const open = shipments.filter((s) => ADDRESS_CAN_CHANGE.has(s.status ?? 'None'));
  if (!open.length) {
    throw new ConnectorError({ code: 'VENDOR', message: `ShipBob order ${cmd.orderExternalId} has no shipment whose address can still change (${shipments.map((s) => `${s.id}: ${s.status}`).join(', ') || 'no shipments'})`,
      retryable: false, operation: list, record: cmd.reference });
  }
  const body = updateAddressBody(cmd);
  const op = 'PUT /shipment/{shipmentId}:updateAddress';
  for (const s of open) {
    const put = await ctx.http.request({ method: 'PUT', path: `${P}/shipment/${encodeURIComponent(String(s.id))}:updateAddress`, body, headers: channel(ctx), operation: op, idempotent: true });
    const r = expectShape(z.looseObject({ is_success: z.boolean().nullish(), error: z.looseObject({ code: z.string().nullish(), message: z.string().nullish() }).nullish() }), put.data ?? {}, { operation: op });
    if (r.is_success === false) {
      throw new ConnectorError({ code: 'VENDOR', message: `ShipBob did not change the address of shipment ${s.id}: ${r.error?.message ?? r.error?.code ?? 'no reason given'}`, retryable: false, operation: op, record: cmd.reference, details: r });
    }
  }
  return { externalId: cmd.orderExternalId };
}

const DAY = 86_400_000;

export const shipbobConnector = defineConnector<ShipBobConfig, ShipBobCredentials>({
  kind: 'shipbob',
  displayName: 'ShipBob (3PL, API 2026-01)',
  configSchema: shipbobConfigSchema as unknown as z.ZodType<ShipBobConfig>,
  credentialsSchema: shipbobCredentialsSchema,
  http: ({ config, credentials }) => ({
    baseUrl: config.sandbox ? 'https://sandbox-api.shipbob.com' : 'https://api.shipbob.com',
    auth: headerAuth('authorization', `Bearer ${credentials.accessToken}`),
    // 150/min; a 429 carries `x-retry-after` (seconds), which the SDK's client honours.
    limiter: new FixedWindowLimiter(config.requestsPerMinute, 60_000),
  }),

  streams: {
    /**
     * Shipments and tracking: orders updated in the window (`LastUpdateStartDate`/`LastUpdateEndDate`, oldest
     * first, numbered pages; `Total-Pages` says when to stop, else a short page does), each order's shipments.
     */
    shipments: {
      name: 'shipments',
      primaryKey: (s: CanonicalShipment) => s.externalId,
      cursorField: (s: CanonicalShipment) => s.updatedAt!,
      windows: { sizeMs: 7 * DAY, overlapMs: 10 * 60_000, lagMs: 5_000, startAt: (ctx: Ctx) => ctx.config.startAt },
      rawId: (raw: { id?: unknown; reference_id?: string }) => (raw?.id !== undefined ? `${raw.id}${raw.reference_id ? ` (${raw.reference_id})` : ''}` : undefined),
      async fetchPage(ctx: Ctx, req) {
        const page = Number(req.pageToken ?? '1');
        const res = await ctx.http.request({
          path: `${P}/order`,
          params: { LastUpdateStartDate: req.window!.start, LastUpdateEndDate: req.window!.end, SortOrder: 'Oldest', Page: page, Limit: ctx.config.pageSize },
          headers: channel(ctx),
          operation: 'GET /order',
          stream: 'shipments',
        });
        const orders = expectShape(z.array(z.unknown()), res.data ?? [], { operation: 'GET /order', stream: 'shipments' });
        const total = Number(res.headers['total-pages']);
        const more = Number.isFinite(total) && total > 0 ? page < total : orders.length === ctx.config.pageSize;
        return { records: orders, next: orders.length && more ? String(page + 1) : null };
      },
      map: (raw: unknown) => mapShipBobOrderShipments(raw),
    },

    /** Stock per fulfilment centre (GET /inventory-level/locations), following the body's `next` links. */
    inventory: {
      name: 'inventory',
      primaryKey: (l: CanonicalStockLevel) => `${l.externalItemId}@${l.externalLocationId}`,
      rawId: (raw: { inventory_id?: unknown; sku?: string }) => (raw?.inventory_id !== undefined ? `${raw.inventory_id}${raw.sku ? ` (${raw.sku})` : ''}` : undefined),
      async fetchPage(ctx: Ctx, req) {
        const res = req.pageToken
          ? await ctx.http.request({ path: req.pageToken, operation: 'GET /inventory-level/locations', stream: 'inventory' })
          : await ctx.http.request({ path: `${P}/inventory-level/locations`, params: { PageSize: ctx.config.pageSize, IsActive: true }, operation: 'GET /inventory-level/locations', stream: 'inventory' });
        const body = expectShape(pagedLinks, res.data, { operation: 'GET /inventory-level/locations', stream: 'inventory' });
        const items = body.items ?? [];
        return { records: items, next: items.length ? bodyLinkNext(body.next) : null };
      },
      map: (raw: unknown) => mapShipBobInventory(raw),
    },

    /** Return orders (GET /return, cursor links), full refresh; `return.*` webhooks carry changes in between. */
    returns: {
      name: 'returns',
      primaryKey: (r: CanonicalReturn) => r.externalId,
      rawId: (raw: { id?: unknown }) => (raw?.id !== undefined ? String(raw.id) : undefined),
      async fetchPage(ctx: Ctx, req) {
        const res = req.pageToken
          ? await ctx.http.request({ path: req.pageToken, headers: channel(ctx), operation: 'GET /return', stream: 'returns' })
          : await ctx.http.request({ path: `${P}/return`, params: { Limit: ctx.config.pageSize, SortOrder: 'Ascending' }, headers: channel(ctx), operation: 'GET /return', stream: 'returns' });
        const body = expectShape(pagedLinks, res.data, { operation: 'GET /return', stream: 'returns' });
        const items = body.items ?? [];
        return { records: items, next: items.length ? bodyLinkNext(body.next) : null };
      },
      map: (raw: unknown) => mapShipBobReturn(raw),
    },

    locations: {
      name: 'locations',
      primaryKey: (l: { externalId: string }) => l.externalId,
      rawId: (raw: { id?: unknown }) => (raw?.id !== undefined ? String(raw.id) : undefined),
      async fetchPage(ctx: Ctx) {
        const res = await ctx.http.request({ path: `${P}/location`, operation: 'GET /location', stream: 'locations' });
        return { records: expectShape(z.array(z.unknown()), res.data ?? [], { operation: 'GET /location', stream: 'locations' }), next: null };
      },
      map: (raw: unknown) => mapShipBobLocation(raw),
    },
  },

  push: {
    createOrder: (ctx, cmd) => createOrder(ctx, cmd),
    updateShipTo: (ctx, cmd) => updateShipTo(ctx, cmd),
    createReturn: (ctx, cmd) => shipbobCreateReturn(ctx, cmd),
    /** `POST /2026-01/order/{orderId}:cancel`: cancels the order and its shipments; Failure means it already left. */
    async cancelOrder(ctx, cmd) {
      const op = 'POST /order/{orderId}:cancel';
      const res = await ctx.http.request({ method: 'POST', path: `${P}/order/${encodeURIComponent(cmd.orderExternalId)}:cancel`, headers: channel(ctx), operation: op, idempotent: true });
      const body = expectShape(z.looseObject({ status: z.enum(['Success', 'Failure', 'PartialSuccess']).nullish(), canceled_shipment_results: z.array(z.looseObject({ shipment_id: z.union([z.number(), z.string()]).nullish(), is_success: z.boolean().nullish(), reason: z.string().nullish() })).nullish() }), res.data, { operation: op });
      const failed = (body.canceled_shipment_results ?? []).filter((r) => r.is_success === false).map((r) => `shipment ${r.shipment_id}: ${r.reason ?? 'not cancelled'}`);
      if (body.status === 'Failure') throw new ConnectorError({ code: 'VENDOR', message: `ShipBob could not cancel order ${cmd.orderExternalId}${failed.length ? ` (${failed.join('; ')})` : ''}`, retryable: false, operation: op, record: cmd.orderExternalId, details: body });
      return { accepted: true, ...(failed.length ? { warnings: failed } : {}) };
    },
  },

  lookups: {
    async shipments(ctx, orderId) {
      const res = await ctx.http.request({ path: `${P}/order/${encodeURIComponent(orderId)}/shipment`, headers: channel(ctx), operation: 'GET /order/{orderId}/shipment' });
      return expectShape(z.array(z.unknown()), res.data ?? [], { operation: 'GET /order/{orderId}/shipment' }).map((s) => mapShipBobShipment(s, { id: orderId }));
    },
  },

  /** Standard Webhooks: signature over `<webhook-id>.<webhook-timestamp>.<body>`, timestamp within 5 minutes. */
  webhooks: {
    topics: ['order.shipped', 'order.shipment.delivered', 'order.shipment.exception', 'order.shipment.on_hold', 'order.shipment.cancelled', 'return.created', 'return.updated', 'return.completed'],
    replayWindowMs: 5 * 60_000,
    verify: (req, secret) => verifyStandardWebhook(req, secret),
    deliveryId: (req) => header(req, 'webhook-id'),
    sentAt: (req) => standardWebhookSentAt(req),
    parse(req) {
      const raw = parseJsonSafe(rawBodyBuffer(req).toString('utf8'), { operation: 'webhook' }) as Record<string, unknown>;
      const topic = header(req, 'x-webhook-topic') ?? (typeof raw?.topic === 'string' ? raw.topic : typeof raw?.type === 'string' ? raw.type : undefined);
      if (!topic) throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: 'ShipBob webhook without a topic', retryable: false, operation: 'webhook' });
      return mapShipBobWebhook(topic, raw);
    },
  },

  async check(ctx) {
    await ctx.http.request({ path: `${P}/channel`, params: { RecordsPerPage: 1 }, operation: 'GET /channel' });
  },
});
