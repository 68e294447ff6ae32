import express, { type NextFunction, type Request, type Response } from 'express';
import { DEMO_DEFAULTS, generateDemoNetwork } from '../../../db/seed/demo-network';
import { FixedWindow } from '../rate-limits';
import { listen, type PushLog, type SandboxBaseOptions, type SandboxStats, SandboxStore } from '../sandbox-store';

/** ShipBob's published budget: 150 requests per minute per token, 429 with `x-retry-after` (seconds). */
export const SHIPBOB_REQUESTS_PER_MINUTE = 150;

/** A fulfilment centre, optionally standing for a hub location (its stock comes from the demo network). */
export interface ShipBobCentre { id: number; name: string; city: string; state: string; hubCode?: string }

export interface ShipBobSandboxOptions extends SandboxBaseOptions {
  accessToken?: string;
  channelId?: number;
  /** Default: Memphis (TN) holding the demo network's 3PL-MEMPHIS stock, and Cicero (IL) with a little of the head. */
  centres?: ShipBobCentre[];
  requestsPerMinute?: number;
  /** Minutes after an order is created that its shipment gets a label (with tracking), leaves, and is delivered. */
  shipmentMinutes?: { labeled: number; shipped: number; delivered: number };
  /** Minutes after a return order is opened that its goods arrive at the centre, and that they are processed (restocked). */
  returnMinutes?: { arrived: number; completed: number };
}

interface InventoryItem { id: number; sku: string; name: string }
interface ShipmentState {
  id: number;
  orderId: number;
  referenceId: string;
  status: 'Processing' | 'LabeledCreated' | 'Completed' | 'Cancelled';
  centre: ShipBobCentre;
  createdAt: number;
  updatedAt: number;
  trackingAt?: number;
  shippedAt?: number;
  deliveredAt?: number;
  tracking?: { carrier: string; carrier_service: string; tracking_number: string; tracking_url: string };
  products: Array<{ id: number; reference_id: string; sku: string; quantity: number }>;
  /** Where it goes: the order's recipient, until `:updateAddress` changes this shipment's. */
  recipient?: Record<string, unknown>;
}
interface ReturnStateSb {
  id: number;
  referenceId: string;
  centre: ShipBobCentre;
  status: 'Awaiting Arrival' | 'Arrived' | 'Completed';
  createdAt: number;
  arrivedAt?: number;
  completedAt?: number;
  history: { status: string; at: number }[];
  inventory: { id: number; sku: string; quantity: number }[];
}
interface OrderStateSb {
  id: number;
  body: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  status: 'Processing' | 'Fulfilled' | 'Cancelled';
  products: Array<{ id: number; reference_id: string; sku: string; quantity: number; external_line_id?: number; unit_price?: number }>;
  shipments: ShipmentState[];
}

export interface ShipBobSandbox {
  vendor: 'shipbob';
  baseUrl: string;
  store: SandboxStore;
  pushes: PushLog;
  centres: ShipBobCentre[];
  /** ShipBob location id → hub location code (what `settings.locations` needs). */
  locations: Record<string, string>;
  /** Orders the hub created, as ShipBob shows them (GET /order/{id}). */
  orders(): Array<Record<string, unknown>>;
  /** Return orders the hub opened, as ShipBob shows them (GET /return). */
  returns(): Array<Record<string, unknown>>;
  /** Fulfillable / on-hand quantity of a sku at a centre. */
  quantity(sku: string, centreId: number): { onHand: number; committed: number; fulfillable: number } | null;
  stats(): SandboxStats;
  /** `openConnection(shipbobConnector, { ...sandbox.connection, clock })`. */
  connection: { config: { baseUrl: string; channelId: string; startAt: string }; credentials: { accessToken: string } };
  close(): Promise<void>;
}

const DEFAULT_CENTRES: ShipBobCentre[] = [
  { id: 152, name: 'Memphis (TN)', city: 'Memphis', state: 'TN', hubCode: '3PL-MEMPHIS' },
  { id: 181, name: 'Cicero (IL)', city: 'Cicero', state: 'IL' },
];

/**
 * An in-process ShipBob API 2026-01 (subset): channels, locations, orders (create with `shipbob_channel_id`,
 * unique `reference_id`, list by last update with numbered pages and `total-pages`, get, `:cancel`), shipments of
 * an order, inventory per fulfilment centre with cursor links (`next`) and by SKU, return orders (create with a
 * unique `reference_id`, list with cursor links). Each order gets one shipment at a centre holding its goods; it is
 * labelled (tracking), leaves and is delivered as the clock passes. A return order's goods arrive and are then
 * processed — every unit restocked at the centre — as the clock passes.
 * 150 requests per minute per token; beyond, 429 with `x-retry-after`.
 */
export async function startShipBobSandbox(opts: ShipBobSandboxOptions): Promise<ShipBobSandbox> {
  const store = new SandboxStore({ ...opts, ordersPerHour: 0, backlog: 0 });
  const token = opts.accessToken ?? 'shipbob-sandbox-pat';
  const channelId = opts.channelId ?? 128944;
  const limit = opts.requestsPerMinute ?? SHIPBOB_REQUESTS_PER_MINUTE;
  const window = new FixedWindow(limit, 60_000);
  const limited = opts.rateLimits !== false;
  const times = opts.shipmentMinutes ?? { labeled: 30, shipped: 120, delivered: 48 * 60 };
  const returnTimes = opts.returnMinutes ?? { arrived: 3 * 24 * 60, completed: 4 * 24 * 60 };
  const centres = opts.centres ?? DEFAULT_CENTRES;
  const network = generateDemoNetwork({ ...DEMO_DEFAULTS, skus: opts.skus ?? 2000 });
  const items = new Map<string, InventoryItem>();
  network.products.forEach((p, i) => items.set(p.sku, { id: 8_000_001 + i, sku: p.sku, name: p.name }));
  const onHand = new Map<string, number>();
  const committed = new Map<string, number>();
  const qk = (sku: string, centre: number) => `${sku}@${centre}`;
  for (const row of network.stock()) {
    for (const c of centres) if (c.hubCode === row.locationCode) onHand.set(qk(row.sku, c.id), row.onHand);
  }
  // Centres standing for no hub location hold a little of the head (so inventory pages show several centres).
  for (const c of centres.filter((x) => !x.hubCode)) network.products.slice(0, 50).forEach((p, i) => onHand.set(qk(p.sku, c.id), 5 + (i % 7)));
  const fulfillable = (sku: string, c: number) => (onHand.get(qk(sku, c)) ?? 0) - (committed.get(qk(sku, c)) ?? 0);

  const orders: OrderStateSb[] = [];
  const returns: ReturnStateSb[] = [];
  let nextReturn = 510_000_000;
  let nextOrder = 310_000_000;
  let nextShipment = 420_000_000;
  let nextProduct = 9_100_000;
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  const sec = (ms: number) => Math.floor(ms / 1000) * 1000;

  /** Moves every shipment along its timeline up to now; each step stamped with its own time. */
  function advance(): void {
    const now = store.now();
    for (const o of orders) {
      for (const s of o.shipments) {
        if (s.status === 'Cancelled') continue;
        const label = s.createdAt + times.labeled * 60_000;
        const ship = s.createdAt + times.shipped * 60_000;
        const deliver = s.createdAt + times.delivered * 60_000;
        if (s.status === 'Processing' && label <= now) {
          s.status = 'LabeledCreated';
          s.tracking = { carrier: 'USPS', carrier_service: 'Ground Advantage', tracking_number: `9400${String(s.id).padStart(18, '0')}`, tracking_url: `https://tools.usps.com/go/TrackConfirmAction?tLabels=9400${String(s.id).padStart(18, '0')}` };
          s.trackingAt = s.updatedAt = o.updatedAt = Math.max(o.updatedAt, label);
        }
        if (s.status === 'LabeledCreated' && ship <= now) {
          s.status = 'Completed';
          s.shippedAt = s.updatedAt = ship;
          o.updatedAt = Math.max(o.updatedAt, ship);
          for (const p of s.products) {
            const k = qk(p.sku, s.centre.id);
            onHand.set(k, (onHand.get(k) ?? 0) - p.quantity);
            committed.set(k, (committed.get(k) ?? 0) - p.quantity);
          }
          store.pushes.shipments.push({ id: String(s.id), at: iso(ship), orderSeq: 0, orderId: String(o.id), lines: s.products.map((p, i) => ({ lineIndex: i + 1, lineId: String(p.id), sku: p.sku, quantity: p.quantity })), carrier: s.tracking!.carrier, trackingNumber: s.tracking!.tracking_number, trackingUrl: s.tracking!.tracking_url, location: String(s.centre.id) });
        }
        if (s.status === 'Completed' && !s.deliveredAt && deliver <= now) {
          s.deliveredAt = s.trackingAt = deliver;
          o.updatedAt = Math.max(o.updatedAt, deliver);
        }
      }
      if (o.status === 'Processing' && o.shipments.length && o.shipments.every((s) => s.status === 'Completed')) o.status = 'Fulfilled';
    }
    for (const r of returns) {
      const arrive = r.createdAt + returnTimes.arrived * 60_000;
      const complete = r.createdAt + returnTimes.completed * 60_000;
      if (r.status === 'Awaiting Arrival' && arrive <= now) {
        r.status = 'Arrived';
        r.arrivedAt = arrive;
        r.history.push({ status: 'Arrived', at: arrive });
      }
      if (r.status === 'Arrived' && complete <= now) {
        r.status = 'Completed';
        r.completedAt = complete;
        r.history.push({ status: 'Completed', at: complete });
        for (const i of r.inventory) onHand.set(qk(i.sku, r.centre.id), (onHand.get(qk(i.sku, r.centre.id)) ?? 0) + i.quantity);
      }
    }
  }

  const shipmentView = (s: ShipmentState) => ({
    id: s.id, order_id: s.orderId, reference_id: s.referenceId, status: s.status,
    created_date: iso(s.createdAt), last_update_at: iso(s.updatedAt), last_tracking_update_at: s.trackingAt ? iso(s.trackingAt) : null,
    actual_fulfillment_date: s.shippedAt ? iso(s.shippedAt) : null, delivery_date: s.deliveredAt ? iso(s.deliveredAt) : null,
    estimated_fulfillment_date: iso(s.createdAt + times.shipped * 60_000), is_tracking_uploaded: !!s.shippedAt,
    location: { id: s.centre.id, name: s.centre.name },
    recipient: s.recipient ?? orders.find((o) => o.id === s.orderId)?.body.recipient ?? null,
    tracking: s.tracking ? { ...s.tracking, shipping_date: s.shippedAt ? iso(s.shippedAt) : null } : null,
    products: s.products.map((p) => ({ id: p.id, reference_id: p.reference_id, sku: p.sku, name: items.get(p.sku)?.name, inventory_items: [{ id: items.get(p.sku)!.id, name: items.get(p.sku)!.name, quantity: p.quantity }] })),
  });
  const orderView = (o: OrderStateSb) => ({
    id: o.id, created_date: iso(o.createdAt), purchase_date: o.body.purchase_date ?? null, reference_id: o.body.reference_id, order_number: o.body.order_number ?? null,
    status: o.status, type: o.body.type ?? 'DTC', channel: { id: channelId, name: 'Switchyard' }, shipping_method: o.body.shipping_method,
    recipient: o.body.recipient, tags: o.body.tags ?? [],
    products: o.products.map((p) => ({ id: p.id, reference_id: p.reference_id, sku: p.sku, quantity: p.quantity, external_line_id: p.external_line_id ?? null, unit_price: p.unit_price ?? null })),
    shipments: o.shipments.map(shipmentView),
  });

  const app = express();
  app.use(express.json({ limit: '5mb' }));
  // ShipBob errors are ASP.NET problem details (400/422) or a bare message (401/404).
  const fail = (res: Response, op: string, status: number, detail: string, errors?: Record<string, string[]>) => {
    store.record(op, status, false);
    res.status(status).json(errors ? { type: 'https://tools.ietf.org/html/rfc7231#section-6.5.1', title: 'One or more validation errors occurred.', status, errors } : { message: detail });
  };
  const ok = (res: Response, op: string, body: unknown, status = 200) => {
    store.record(op, status, false);
    res.status(status).json(body);
  };
  const guard = (op: string, needsChannel = false) => (req: Request, res: Response, next: NextFunction) => {
    if (req.get('authorization') !== `Bearer ${token}`) return fail(res, op, 401, 'Authorization has been denied for this request.');
    if (limited) {
      const admitted = window.tryTake(store.now());
      if (admitted !== true) {
        store.record(op, 429, true);
        res.set('x-retry-after', String(Math.max(1, Math.ceil(admitted / 1000))));
        return void res.status(429).json({ message: 'API calls quota exceeded! maximum admitted 150 per 1m.' });
      }
    }
    if (needsChannel && req.get('shipbob_channel_id') !== String(channelId)) return fail(res, op, 403, `shipbob_channel_id ${req.get('shipbob_channel_id') ?? '(missing)'} is not a channel of this token`);
    advance();
    next();
  };
  const P = '/2026-01';
  /** A page-size parameter (default 50, at most 250), or undefined once the 400 is sent. */
  const sizeParam = (res: Response, op: string, value: string | undefined, name: 'Limit' | 'PageSize'): number | undefined => {
    const size = value === undefined ? 50 : Number(value);
    if (Number.isInteger(size) && size >= 1 && size <= 250) return size;
    fail(res, op, 400, 'size', { [name]: [`${name} must be between 1 and 250.`] });
    return undefined;
  };
  /** An opaque cursor (`<tag><offset>`, base64url) as its offset, 0 when absent, or undefined once the 400 is sent. */
  const cursorParam = (res: Response, op: string, value: string | undefined, tag: string): number | undefined => {
    if (value === undefined) return 0;
    const m = new RegExp(`^${tag}(\\d+)$`).exec(Buffer.from(value, 'base64url').toString('utf8'));
    if (m) return Number(m[1]);
    fail(res, op, 400, 'cursor', { Cursor: ['Invalid cursor.'] });
    return undefined;
  };
  const cursorOf = (tag: string, offset: number) => Buffer.from(`${tag}${offset}`).toString('base64url');

  app.get(`${P}/channel`, guard('GET /channel'), (_req, res) => ok(res, 'GET /channel', { items: [{ id: channelId, name: 'Switchyard', application_name: 'SMA', scopes: ['orders_read', 'orders_write', 'inventory_read', 'fulfillments_read', 'returns_read', 'locations_read'] }], next: null }));
  app.get(`${P}/location`, guard('GET /location'), (_req, res) => ok(res, 'GET /location', centres.map((c) => ({
    id: c.id, name: c.name, abbreviation: c.city.slice(0, 3).toUpperCase(), is_active: true, is_receiving_enabled: true, is_shipping_enabled: true, access_granted: true, timezone: 'Central Standard Time',
    region: { id: 1, name: 'US' }, services: [{ service_type: 'Receiving', enabled: true, address: { address1: '1 Logistics Way', city: c.city, state: c.state, country: 'USA', zip_code: '00000', name: c.name } }],
  }))));

  app.post(`${P}/order`, guard('POST /order', true), (req, res) => {
    const op = 'POST /order';
    const b = req.body as Record<string, unknown>;
    const problems: Record<string, string[]> = {};
    const ref = typeof b.reference_id === 'string' ? b.reference_id : '';
    if (!ref) problems.reference_id = ['The reference_id field is required.'];
    if (typeof b.shipping_method !== 'string' || !b.shipping_method) problems.shipping_method = ['The shipping_method field is required.'];
    const r = b.recipient as { name?: string; address?: { address1?: string; city?: string; country?: string } } | undefined;
    if (!r?.name) problems['recipient.name'] = ['The name field is required.'];
    if (!r?.address?.address1 || !r.address.city || !r.address.country) problems['recipient.address'] = ['address1, city and country are required.'];
    const products = b.products as Array<{ reference_id?: string; quantity?: number; external_line_id?: number; unit_price?: number }> | undefined;
    if (!Array.isArray(products) || !products.length) problems.products = ['At least one product is required.'];
    (products ?? []).forEach((p, i) => {
      if (!p.reference_id || !items.has(p.reference_id)) problems[`products[${i}].reference_id`] = [`No product with reference_id ${p.reference_id}.`];
      if (!Number.isInteger(p.quantity) || (p.quantity as number) < 1) problems[`products[${i}].quantity`] = ['quantity must be a positive whole number.'];
    });
    if (Object.keys(problems).length) return fail(res, op, 400, 'validation', problems);
    if (orders.some((o) => o.body.reference_id === ref)) return fail(res, op, 422, 'duplicate', { reference_id: [`An order with reference_id ${ref} already exists for this channel.`] });
    const lines = products!.map((p) => ({ id: nextProduct++, reference_id: p.reference_id!, sku: p.reference_id!, quantity: p.quantity!, external_line_id: p.external_line_id, unit_price: p.unit_price }));
    // The centre: the one asked for, else the first that can ship everything, else the first (an exception later).
    const asked = b.location_id !== undefined ? centres.find((c) => c.id === Number(b.location_id)) : undefined;
    if (b.location_id !== undefined && !asked) return fail(res, op, 422, 'location', { location_id: [`Location ${b.location_id} is not available to this merchant.`] });
    const centre = asked ?? centres.find((c) => lines.every((l) => fulfillable(l.sku, c.id) >= l.quantity)) ?? centres[0];
    const now = sec(store.now());
    const o: OrderStateSb = { id: nextOrder++, body: b, createdAt: now, updatedAt: now, status: 'Processing', products: lines, shipments: [] };
    o.shipments.push({ id: nextShipment++, orderId: o.id, referenceId: ref, status: 'Processing', centre, createdAt: now, updatedAt: now, products: lines.map((l) => ({ ...l })) });
    for (const l of lines) committed.set(qk(l.sku, centre.id), (committed.get(qk(l.sku, centre.id)) ?? 0) + l.quantity);
    orders.push(o);
    ok(res, op, orderView(o), 201);
  });

  app.get(`${P}/order`, guard('GET /order', true), (req, res) => {
    const op = 'GET /order';
    const q = req.query as Record<string, string | undefined>;
    const page = q.Page === undefined ? 1 : Number(q.Page);
    if (!Number.isInteger(page) || page < 1) return fail(res, op, 400, 'page', { Page: ['Page must be 1 or more.'] });
    const size = sizeParam(res, op, q.Limit, 'Limit');
    if (size === undefined) return;
    const time = (v?: string) => (v === undefined ? undefined : Date.parse(v));
    const from = time(q.LastUpdateStartDate);
    const to = time(q.LastUpdateEndDate);
    if (Number.isNaN(from) || Number.isNaN(to)) return fail(res, op, 400, 'dates', { LastUpdateStartDate: ['Dates must be ISO 8601.'] });
    const refs = q.ReferenceIds?.split(',');
    const ids = q.IDs?.split(',').map(Number);
    const hits = orders
      .filter((o) => (!refs || refs.includes(String(o.body.reference_id))) && (!ids || ids.includes(o.id)))
      .filter((o) => (from === undefined || o.updatedAt >= from) && (to === undefined || o.updatedAt <= to))
      .sort((a, b) => (q.SortOrder === 'Newest' ? b.updatedAt - a.updatedAt || b.id - a.id : a.updatedAt - b.updatedAt || a.id - b.id));
    const totalPages = Math.max(1, Math.ceil(hits.length / size));
    res.set({ 'total-pages': String(totalPages), 'total-count': String(hits.length), 'page-number': String(page), 'page-size': String(size) });
    ok(res, op, hits.slice((page - 1) * size, page * size).map(orderView));
  });

  const orderOf = (id: unknown) => orders.find((o) => String(o.id) === String(id));
  app.get(`${P}/order/:orderId/shipment`, guard('GET /order/{orderId}/shipment', true), (req, res) => {
    const o = orderOf(req.params.orderId);
    if (!o) return fail(res, 'GET /order/{orderId}/shipment', 404, `Order ${req.params.orderId} not found`);
    ok(res, 'GET /order/{orderId}/shipment', o.shipments.map(shipmentView));
  });
  // Express reads `:cancel` as part of the parameter: one route for both GET /order/{id} and POST /order/{id}:cancel.
  app.get(`${P}/order/:orderId`, guard('GET /order/{orderId}', true), (req, res) => {
    const o = orderOf(req.params.orderId);
    if (!o) return fail(res, 'GET /order/{orderId}', 404, `Order ${req.params.orderId} not found`);
    ok(res, 'GET /order/{orderId}', orderView(o));
  });
  app.post(`${P}/order/:orderAction`, guard('POST /order/{orderId}:cancel'), (req, res) => {
    const op = 'POST /order/{orderId}:cancel';
    const m = /^(\d+):cancel$/.exec(String(req.params.orderAction));
    if (!m) return fail(res, op, 404, 'Not found');
    const o = orderOf(m[1]);
    if (!o) return fail(res, op, 404, `Order ${m[1]} not found`);
    const results = o.shipments.map((s) => {
      if (s.status === 'Cancelled') return { shipment_id: s.id, action: 'Cancel', is_success: true, reason: 'already cancelled' };
      if (s.status !== 'Processing') return { shipment_id: s.id, action: 'Cancel', is_success: false, reason: `shipment is ${s.status}` };
      s.status = 'Cancelled';
      s.updatedAt = sec(store.now());
      for (const p of s.products) committed.set(qk(p.sku, s.centre.id), (committed.get(qk(p.sku, s.centre.id)) ?? 0) - p.quantity);
      return { shipment_id: s.id, action: 'Cancel', is_success: true, reason: null };
    });
    const okCount = results.filter((r) => r.is_success).length;
    const status = okCount === results.length ? 'Success' : okCount ? 'PartialSuccess' : 'Failure';
    if (status === 'Success') o.status = 'Cancelled';
    o.updatedAt = sec(store.now());
    store.pushes.cancellations.push({ at: store.nowIso(), orderSeq: 0, orderId: String(o.id), accepted: status !== 'Failure', ...(status === 'Failure' ? { reason: results.map((r) => r.reason).join('; ') } : {}) });
    ok(res, op, { order_id: o.id, order: orderView(o), status, canceled_shipment_results: results });
  });

  // Express reads `:updateAddress` as part of the parameter. Before the label, the shipment takes the new address.
  app.put(`${P}/shipment/:shipmentAction`, guard('PUT /shipment/{shipmentId}:updateAddress'), (req, res) => {
    const op = 'PUT /shipment/{shipmentId}:updateAddress';
    const m = /^(\d+):updateAddress$/.exec(String(req.params.shipmentAction));
    if (!m) return fail(res, op, 404, 'Not found');
    const s = orders.flatMap((o) => o.shipments).find((x) => x.id === Number(m[1]));
    if (!s) return fail(res, op, 404, `Shipment ${m[1]} not found`);
    const b = req.body as Record<string, string | null | undefined>;
    if (!b.street_address1 || !b.city) return ok(res, op, { id: s.id, is_success: false, error: { code: 'INVALID_PARAMETER', message: 'Request body is invalid or missing required fields' } });
    if (s.status !== 'Processing') return ok(res, op, { id: s.id, is_success: false, error: { code: 'INVALID_OPERATION', message: `shipment is ${s.status}; its address can no longer change` } });
    const previous = (s.recipient ?? orders.find((o) => o.id === s.orderId)!.body.recipient ?? {}) as Record<string, unknown>;
    s.recipient = { ...previous, name: b.recipient_name ?? previous.name, ...(b.email ? { email: b.email } : {}), ...(b.phone_number ? { phone_number: b.phone_number } : {}),
      address: { address1: b.street_address1, address2: b.street_address2 ?? null, city: b.city, state: b.state ?? null, zip_code: b.zip_code ?? null, country: b.country_code ?? 'US', company_name: b.company_name ?? null } };
    s.updatedAt = sec(store.now());
    ok(res, op, { id: s.id, is_success: true, error: null });
  });

  /** Inventory grouped by centre; `next` is a path with an opaque cursor, as ShipBob's links are. */
  app.get(`${P}/inventory-level/locations`, guard('GET /inventory-level/locations'), (req, res) => {
    const op = 'GET /inventory-level/locations';
    const q = req.query as Record<string, string | undefined>;
    const size = sizeParam(res, op, q.PageSize, 'PageSize');
    const offset = size === undefined ? undefined : cursorParam(res, op, q.Cursor, 'c');
    if (size === undefined || offset === undefined) return;
    const held = [...items.values()].filter((it) => centres.some((c) => onHand.has(qk(it.sku, c.id))));
    const pageItems = held.slice(offset, offset + size).map((it) => ({
      inventory_id: it.id, sku: it.sku, name: it.name,
      locations: centres.filter((c) => onHand.has(qk(it.sku, c.id))).map((c) => ({
        location_id: c.id, name: c.name, on_hand_quantity: onHand.get(qk(it.sku, c.id)) ?? 0, committed_quantity: committed.get(qk(it.sku, c.id)) ?? 0,
        fulfillable_quantity: Math.max(0, fulfillable(it.sku, c.id)), awaiting_quantity: 0, internal_transfer_quantity: 0,
      })),
    }));
    const link = (o: number) => `${P}/inventory-level/locations?PageSize=${size}&Cursor=${cursorOf('c', o)}`;
    ok(res, op, { first: link(0), items: pageItems, next: offset + size < held.length ? link(offset + size) : null, prev: offset > 0 ? link(Math.max(0, offset - size)) : null, last: link(Math.max(0, Math.floor((held.length - 1) / size) * size)) });
  });

  /** Inventory items by SKU (`SearchBy`: SKU or name contains) or by id. */
  app.get(`${P}/inventory-level`, guard('GET /inventory-level'), (req, res) => {
    const op = 'GET /inventory-level';
    const q = req.query as Record<string, string | undefined>;
    const size = sizeParam(res, op, q.PageSize, 'PageSize');
    if (size === undefined) return;
    const term = q.SearchBy?.toLowerCase();
    const ids = q.InventoryIds?.split(',').map(Number);
    const hits = [...items.values()].filter((it) => (!term || it.sku.toLowerCase().includes(term) || it.name.toLowerCase().includes(term)) && (!ids || ids.includes(it.id)));
    const total = (f: (c: ShipBobCentre) => number) => centres.reduce((sum, c) => sum + f(c), 0);
    ok(res, op, { first: null, prev: null, next: null, last: null, items: hits.slice(0, size).map((it) => ({
      inventory_id: it.id, sku: it.sku, name: it.name,
      total_on_hand_quantity: total((c) => onHand.get(qk(it.sku, c.id)) ?? 0), total_committed_quantity: total((c) => committed.get(qk(it.sku, c.id)) ?? 0),
      total_fulfillable_quantity: total((c) => Math.max(0, fulfillable(it.sku, c.id))), total_sellable_quantity: total((c) => Math.max(0, fulfillable(it.sku, c.id))),
      total_awaiting_quantity: 0, total_backordered_quantity: 0, total_exception_quantity: 0, total_internal_transfer_quantity: 0,
    })) });
  });

  const returnView = (r: ReturnStateSb) => ({
    id: r.id, reference_id: r.referenceId, status: r.status, return_type: 'Regular', channel: { id: channelId, name: 'Switchyard' },
    fulfillment_center: { id: r.centre.id, name: r.centre.name }, customer_name: null, store_order_id: null, original_shipment_id: null,
    tracking_number: null, shipment_tracking_number: null,
    insert_date: iso(r.createdAt), awaiting_arrival_date: iso(r.createdAt), arrived_date: r.arrivedAt ? iso(r.arrivedAt) : null,
    processing_date: r.completedAt ? iso(r.completedAt) : null, completed_date: r.completedAt ? iso(r.completedAt) : null, cancelled_date: null,
    status_history: r.history.map((h) => ({ status: h.status, timestamp: iso(h.at) })),
    inventory: r.inventory.map((i) => ({
      id: i.id, sku: i.sku, name: items.get(i.sku)?.name ?? i.sku, quantity: i.quantity, barcodes: [], lot_information: null,
      action_requested: { action: 'Default', action_type: 'Default', instructions: null },
      action_taken: r.status === 'Completed' ? [{ action: 'Restock', action_reason: 'Good condition', image_url: null, quantity_processed: i.quantity }] : [],
    })),
    invoice: null, transactions: [],
  });

  /** `Returns.CreateReturnRequest`: a return order the centre then expects; `reference_id` is unique per channel. */
  app.post(`${P}/return`, guard('POST /return', true), (req, res) => {
    const op = 'POST /return';
    const b = req.body as { reference_id?: unknown; fulfillment_center?: { id?: unknown }; inventory?: Array<{ id?: unknown; quantity?: unknown }> };
    const problems: Record<string, string[]> = {};
    const ref = typeof b.reference_id === 'string' ? b.reference_id : '';
    if (!ref) problems.reference_id = ['The reference_id field is required.'];
    else if (ref.length > 50) problems.reference_id = ['reference_id is limited to 50 characters.'];
    const centre = centres.find((c) => c.id === Number(b.fulfillment_center?.id));
    if (!centre) problems['fulfillment_center.id'] = [`Fulfillment center ${String(b.fulfillment_center?.id)} is not available to this merchant.`];
    const byId = new Map([...items.values()].map((it) => [it.id, it]));
    if (!Array.isArray(b.inventory) || !b.inventory.length) problems.inventory = ['At least one inventory item is required.'];
    (Array.isArray(b.inventory) ? b.inventory : []).forEach((i, k) => {
      if (!byId.has(Number(i.id))) problems[`inventory[${k}].id`] = [`No inventory item ${String(i.id)}.`];
      if (!Number.isInteger(i.quantity) || (i.quantity as number) < 1) problems[`inventory[${k}].quantity`] = ['quantity must be a positive whole number.'];
    });
    if (Object.keys(problems).length) return fail(res, op, 400, 'validation', problems);
    if (returns.some((r) => r.referenceId === ref)) return fail(res, op, 422, 'duplicate', { reference_id: [`A return with reference_id ${ref} already exists.`] });
    const now = sec(store.now());
    const r: ReturnStateSb = { id: nextReturn++, referenceId: ref, centre: centre!, status: 'Awaiting Arrival', createdAt: now, history: [{ status: 'Awaiting Arrival', at: now }],
      inventory: b.inventory!.map((i) => ({ id: Number(i.id), sku: byId.get(Number(i.id))!.sku, quantity: i.quantity as number })) };
    returns.push(r);
    ok(res, op, returnView(r), 201);
  });

  /** Return orders, oldest first (or `SortOrder=Descending`), `Limit` per page, `next` a link with an opaque cursor. */
  app.get(`${P}/return`, guard('GET /return', true), (req, res) => {
    const op = 'GET /return';
    const q = req.query as Record<string, string | undefined>;
    const size = sizeParam(res, op, q.Limit, 'Limit');
    const offset = size === undefined ? undefined : cursorParam(res, op, q.Cursor, 'r');
    if (size === undefined || offset === undefined) return;
    const refs = q.ReferenceIds?.split(',');
    const ids = q.Ids?.split(',').map(Number);
    const hits = returns.filter((r) => (!refs || refs.includes(r.referenceId)) && (!ids || ids.includes(r.id)));
    if (q.SortOrder === 'Descending') hits.reverse();
    const link = (o: number) => `${P}/return?Limit=${size}${q.SortOrder ? `&SortOrder=${q.SortOrder}` : ''}&Cursor=${cursorOf('r', o)}`;
    ok(res, op, { items: hits.slice(offset, offset + size).map(returnView), next: offset + size < hits.length ? link(offset + size) : null });
  });

  app.use((req, res) => fail(res, `${req.method} ${req.path}`, 404, `No route ${req.method} ${req.path}`));

  const server = await listen(app, opts.port);
  return {
    vendor: 'shipbob',
    baseUrl: server.baseUrl,
    store,
    pushes: store.pushes,
    centres,
    locations: Object.fromEntries(centres.filter((c) => c.hubCode).map((c) => [String(c.id), c.hubCode!])),
    orders: () => {
      advance();
      return orders.map(orderView);
    },
    returns: () => {
      advance();
      return returns.map(returnView);
    },
    quantity: (sku, centreId) => {
      advance();
      return onHand.has(qk(sku, centreId)) ? { onHand: onHand.get(qk(sku, centreId))!, committed: committed.get(qk(sku, centreId)) ?? 0, fulfillable: fulfillable(sku, centreId) } : null;
    },
    stats: () => store.stats(),
    connection: { config: { baseUrl: server.baseUrl, channelId: String(channelId), startAt: new Date(store.now() - 60_000).toISOString() }, credentials: { accessToken: token } },
    close: server.close,
  };
}
