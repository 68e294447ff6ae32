import { createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { DEMO_DEFAULTS, generateDemoNetwork, prng } from '../../../db/seed/demo-network';
import { FixedWindow } from '../rate-limits';
import { listen, type PushLog, type SandboxBaseOptions, type SandboxStats, SandboxStore } from '../sandbox-store';

/** A store of the demo network run on Square POS. */
export interface SquareStore { code: string; name: string; city?: string; region?: string; latitude?: number; longitude?: number }

export interface SquareSandboxOptions extends SandboxBaseOptions {
  /** Stores on Square (default: the first 3 stores of the demo network for `seed`). */
  stores?: SquareStore[];
  /** Mean in-store counter sales per store per hour (default 20; 0 = none). */
  salesPerHour?: number;
  accessToken?: string;
  /**
   * Square publishes no fixed request budget (it answers 429 RATE_LIMITED when a seller's traffic is too high);
   * the sandbox enforces a fixed window of this many requests per minute (default 600, the connector's ceiling).
   */
  requestsPerMinute?: number;
  /** Minutes after creation a pushed fulfilment moves on: RESERVED (store accepted), PREPARED (ready), COMPLETED (handed over). */
  fulfilmentMinutes?: { reserved: number; prepared: number; completed: number };
}

interface Money { amount: number; currency: 'USD' }
interface LineItem { uid: string; name: string; variation_name: string; quantity: string; catalog_object_id: string; item_type: 'ITEM'; base_price_money: Money; total_money: Money }
interface Fulfillment { uid: string; type: 'PICKUP' | 'SHIPMENT'; state: string; pickup_details?: Record<string, unknown>; shipment_details?: Record<string, unknown> }
/** A Square `Order` as the API returns it. */
export interface SquareOrderView {
  id: string;
  location_id: string;
  reference_id?: string;
  source: { name: string };
  state: 'OPEN' | 'COMPLETED' | 'CANCELED';
  version: number;
  created_at: string;
  updated_at: string;
  closed_at?: string;
  line_items: LineItem[];
  fulfillments?: Fulfillment[];
  tenders?: Array<{ id: string; type: string; amount_money: Money }>;
  total_money: Money;
}

export interface SquareSandbox {
  vendor: 'square';
  baseUrl: string;
  store: SandboxStore;
  pushes: PushLog;
  /** Square location id → hub store code (what `settings.locations` needs). */
  locations: Record<string, string>;
  /** Square location id of a hub store code. */
  locationId(code: string): string;
  /** Catalog variation id of a sku. */
  variationId(sku: string): string;
  /** IN_STOCK count of a sku at a store (hub code), null when Square tracks none. */
  count(sku: string, storeCode: string): number | null;
  /** Counter sales rung up so far (generated over time). */
  sales(): SquareOrderView[];
  /** Orders created through the API (pickup / ship-from-store orders the hub pushed), in creation order. */
  pushedOrders(): SquareOrderView[];
  /** Rings up a counter sale now (deterministic tests): lines of (sku, quantity) at a store. */
  ringUp(storeCode: string, lines: Array<{ sku: string; quantity: number }>): SquareOrderView;
  stats(): SandboxStats;
  /** `openConnection(squareConnector, { ...sandbox.connection, clock })`. */
  connection: { config: { baseUrl: string; locationIds: string[]; startAt: string; requestsPerMinute: number }; credentials: { accessToken: string } };
  close(): Promise<void>;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Square-looking ids (upper-case base32), stable for a seed and a name. */
function squareId(seed: number, kind: string, name: string, length: number): string {
  const h = createHash('sha256').update(`${seed}:${kind}:${name}`).digest();
  let out = '';
  for (let i = 0; out.length < length; i++) out += B32[h[i % h.length] % 32];
  return out;
}
const cents = (price: string) => Math.round(Number(price) * 100);

/**
 * An in-process Square Connect v2 (`Square-Version` 2026-05-20 subset): Locations, Catalog (batch-retrieve, sku
 * search), Orders (create with idempotency key, retrieve, update with optimistic `version`, search by
 * `updated_at` with cursor), Inventory (`counts/batch-retrieve`, `changes/batch-create` with idempotency keys).
 * Counter sales are rung up at each store over time (Poisson, SKUs the store holds), lowering Square's counts;
 * pushed pickup / shipment orders move PROPOSED → RESERVED → PREPARED → COMPLETED as the clock passes.
 */
export async function startSquareSandbox(opts: SquareSandboxOptions): Promise<SquareSandbox> {
  const store = new SandboxStore({ ...opts, ordersPerHour: 0, backlog: 0 });
  const token = opts.accessToken ?? 'EAAAsandbox-square-token';
  const window = new FixedWindow(opts.requestsPerMinute ?? 600, 60_000);
  const limited = opts.rateLimits !== false;
  const times = opts.fulfilmentMinutes ?? { reserved: 2, prepared: 20, completed: 60 };
  const skuCount = opts.skus ?? 2000;
  const network = generateDemoNetwork({ ...DEMO_DEFAULTS, skus: skuCount }); // the hub's demo network: same stores, same stock
  const stores = opts.stores ?? network.locations.filter((l) => l.type === 'STORE').slice(0, 3).map((l) => ({ code: l.code, name: l.name, city: l.city, region: l.region, latitude: l.latitude, longitude: l.longitude }));
  if (!stores.length) throw new Error('square sandbox needs at least one store');
  const locationOf = new Map(stores.map((s) => [s.code, `L${squareId(opts.seed, 'location', s.code, 12)}`]));
  const codeOf = new Map([...locationOf].map(([c, id]) => [id, c]));
  const products = network.products;
  const varOf = new Map(products.map((p) => [p.sku, squareId(opts.seed, 'variation', p.sku, 24)]));
  const skuOf = new Map([...varOf].map(([s, id]) => [id, s]));
  const priceOf = new Map(products.map((p, i) => [p.sku, (9 + ((i * 37) % 191)) * 100 + 99]));
  const nameOf = new Map(products.map((p) => [p.sku, p.name]));

  // Counts per (variation, location), from the demo network's store stock (the store holds what the hub seeds).
  const counts = new Map<string, { quantity: number; calculatedAt: number }>();
  const ck = (variation: string, location: string) => `${variation}@${location}`;
  for (const row of network.stock()) {
    const loc = locationOf.get(row.locationCode);
    if (loc) counts.set(ck(varOf.get(row.sku)!, loc), { quantity: row.onHand, calculatedAt: store.now() });
  }
  const setCount = (variation: string, location: string, quantity: number, at: number) => counts.set(ck(variation, location), { quantity, calculatedAt: at });
  const getCount = (variation: string, location: string) => counts.get(ck(variation, location))?.quantity ?? null;

  const orders: SquareOrderView[] = [];
  const byId = new Map<string, SquareOrderView>();
  const createdAt = new Map<string, number>();
  const orderKeys = new Map<string, { hash: string; orderId: string }>();
  const changeKeys = new Map<string, { hash: string; response: unknown }>();
  const iso = (ms: number) => new Date(ms).toISOString();
  let serial = 0;
  const nextId = (kind: string) => squareId(opts.seed, kind, String(++serial), 26);

  // ---- counter sales over time: one Poisson stream per store ----
  const rate = (opts.salesPerHour ?? 20) / 3_600_000;
  const arrivals = stores.map((s, i) => {
    const r = prng((opts.seed * 7877 + i * 131) >>> 0);
    let t = store.now();
    return { code: s.code, r, next: () => (rate > 0 ? (t += -Math.log(1 - r()) / rate) : Number.POSITIVE_INFINITY), at: 0 };
  });
  for (const a of arrivals) a.at = Math.ceil(a.next() / 1000) * 1000;

  function ring(code: string, lines: Array<{ sku: string; quantity: number }>, at: number): SquareOrderView {
    const location = locationOf.get(code);
    if (!location) throw new Error(`unknown store ${code}`);
    const items: LineItem[] = lines.map((l, i) => {
      const variation = varOf.get(l.sku);
      if (!variation) throw new Error(`unknown sku ${l.sku}`);
      const price = priceOf.get(l.sku)!;
      setCount(variation, location, (getCount(variation, location) ?? 0) - l.quantity, at);
      return { uid: `li${i + 1}`, name: nameOf.get(l.sku)!, variation_name: 'Regular', quantity: String(l.quantity), catalog_object_id: variation, item_type: 'ITEM', base_price_money: { amount: price, currency: 'USD' }, total_money: { amount: price * l.quantity, currency: 'USD' } };
    });
    const total = items.reduce((n, li) => n + li.total_money.amount, 0);
    const o: SquareOrderView = {
      id: nextId('order'), location_id: location, source: { name: 'Square Point of Sale' }, state: 'COMPLETED', version: 4,
      created_at: iso(at), updated_at: iso(at), closed_at: iso(at), line_items: items,
      tenders: [{ id: nextId('tender'), type: 'CARD', amount_money: { amount: total, currency: 'USD' } }], total_money: { amount: total, currency: 'USD' },
    };
    orders.push(o);
    byId.set(o.id, o);
    return o;
  }

  /** A basket of what the store holds (Zipf-ish: lower SKU numbers more often). */
  function counterSale(code: string, r: () => number, at: number): void {
    const location = locationOf.get(code)!;
    const held = products.filter((p) => (getCount(varOf.get(p.sku)!, location) ?? 0) > 0);
    if (!held.length) return;
    const n = r() < 0.75 ? 1 : 2;
    const lines: Array<{ sku: string; quantity: number }> = [];
    for (let k = 0; k < n; k++) {
      const p = held[Math.floor(Math.pow(r(), 2.5) * held.length)];
      if (!lines.some((l) => l.sku === p.sku)) lines.push({ sku: p.sku, quantity: 1 });
    }
    ring(code, lines, at);
  }

  /** Fulfilment steps of pushed orders due by `now`, each at its own time (so `updated_at` never lies). */
  function progress(now: number): void {
    for (const o of orders) {
      const f = o.fulfillments?.[0];
      if (!f || o.state !== 'OPEN') continue;
      const t0 = createdAt.get(o.id)!;
      const steps: Array<[string, number]> = [['RESERVED', times.reserved], ['PREPARED', times.prepared], ['COMPLETED', times.completed]];
      for (const [state, min] of steps) {
        const at = t0 + min * 60_000;
        const order = ['PROPOSED', 'RESERVED', 'PREPARED', 'COMPLETED'];
        if (at > now || order.indexOf(f.state) >= order.indexOf(state)) continue;
        f.state = state;
        const details = (f.pickup_details ?? f.shipment_details)!;
        if (state === 'RESERVED') details.accepted_at = iso(at);
        if (state === 'PREPARED') details[f.type === 'PICKUP' ? 'ready_at' : 'packed_at'] = iso(at);
        if (state === 'COMPLETED') {
          details[f.type === 'PICKUP' ? 'picked_up_at' : 'shipped_at'] = iso(at);
          o.state = 'COMPLETED';
          o.closed_at = iso(at);
          for (const li of o.line_items) setCount(li.catalog_object_id, o.location_id, (getCount(li.catalog_object_id, o.location_id) ?? 0) - Number(li.quantity), at);
        }
        o.version++;
        o.updated_at = iso(at);
      }
    }
  }

  /** Brings the store up to now: counter sales in time order, then fulfilment steps. */
  function advance(): void {
    const now = store.now();
    for (;;) {
      let first: (typeof arrivals)[number] | undefined;
      for (const a of arrivals) if (a.at <= now && (!first || a.at < first.at)) first = a;
      if (!first) break;
      counterSale(first.code, first.r, first.at);
      first.at = Math.ceil(first.next() / 1000) * 1000;
    }
    progress(now);
  }

  const app = express();
  app.use(express.json({ limit: '5mb' }));
  const errors = (res: Response, op: string, status: number, category: string, code: string, detail: string, field?: string) => {
    store.record(op, status, status === 429);
    res.status(status).json({ errors: [{ category, code, detail, ...(field ? { field } : {}) }] });
  };
  const ok = (res: Response, op: string, body: unknown) => {
    store.record(op, 200, false);
    res.json(body);
  };
  const guard = (op: string) => (req: Request, res: Response, next: NextFunction) => {
    if (req.get('authorization') !== `Bearer ${token}`) return errors(res, op, 401, 'AUTHENTICATION_ERROR', 'UNAUTHORIZED', 'This request could not be authorized.');
    if (limited) {
      const admitted = window.tryTake(store.now());
      if (admitted !== true) return errors(res, op, 429, 'RATE_LIMIT_ERROR', 'RATE_LIMITED', 'Rate limit exceeded.');
    }
    advance();
    next();
  };
  const hash = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex');
  const cursorOf = (fingerprint: string, offset: number) => Buffer.from(JSON.stringify({ f: fingerprint, o: offset })).toString('base64url');
  const offsetOf = (cursor: unknown, fingerprint: string): number | Error => {
    if (cursor === undefined) return 0;
    try {
      const c = JSON.parse(Buffer.from(String(cursor), 'base64url').toString('utf8')) as { f: string; o: number };
      return c.f === fingerprint ? c.o : new Error('The cursor does not match the original query.');
    } catch {
      return new Error('Invalid cursor.');
    }
  };

  const locationView = (code: string) => {
    const s = stores.find((x) => x.code === code)!;
    return {
      id: locationOf.get(code), name: s.name, status: 'ACTIVE', type: 'PHYSICAL', country: 'US', currency: 'USD', timezone: 'America/Chicago',
      address: { address_line_1: '1 Main St', locality: s.city ?? s.name, administrative_district_level_1: s.region ?? '', country: 'US' },
      ...(s.latitude !== undefined ? { coordinates: { latitude: s.latitude, longitude: s.longitude } } : {}),
      capabilities: ['CREDIT_CARD_PROCESSING'],
    };
  };
  app.get('/v2/locations', guard('ListLocations'), (_req, res) => ok(res, 'ListLocations', { locations: stores.map((s) => locationView(s.code)) }));
  app.get('/v2/locations/:id', guard('RetrieveLocation'), (req, res) => {
    const code = codeOf.get(String(req.params.id));
    if (!code) return errors(res, 'RetrieveLocation', 404, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Location ${req.params.id} not found.`);
    ok(res, 'RetrieveLocation', { location: locationView(code) });
  });

  const variationView = (sku: string) => ({
    type: 'ITEM_VARIATION', id: varOf.get(sku), version: 1, is_deleted: false, present_at_all_locations: true,
    item_variation_data: { item_id: squareId(opts.seed, 'item', sku, 24), name: 'Regular', sku, pricing_type: 'FIXED_PRICING', price_money: { amount: priceOf.get(sku), currency: 'USD' }, track_inventory: true },
  });
  app.post('/v2/catalog/batch-retrieve', guard('BatchRetrieveCatalogObjects'), (req, res) => {
    const ids = (req.body as { object_ids?: unknown }).object_ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1000) return errors(res, 'BatchRetrieveCatalogObjects', 400, 'INVALID_REQUEST_ERROR', 'INVALID_ARRAY_LENGTH', 'object_ids must hold 1 to 1000 ids.', 'object_ids');
    const objects = ids.map((id) => skuOf.get(String(id))).filter((s): s is string => !!s).map(variationView);
    ok(res, 'BatchRetrieveCatalogObjects', objects.length ? { objects } : {});
  });
  app.post('/v2/catalog/search', guard('SearchCatalogObjects'), (req, res) => {
    const b = req.body as { object_types?: string[]; query?: { exact_query?: { attribute_name?: string; attribute_value?: string } } };
    const q = b.query?.exact_query;
    if (!q || q.attribute_name !== 'sku') return errors(res, 'SearchCatalogObjects', 400, 'INVALID_REQUEST_ERROR', 'BAD_REQUEST', 'The sandbox supports exact_query on sku only.', 'query');
    const sku = q.attribute_value ?? '';
    ok(res, 'SearchCatalogObjects', varOf.has(sku) ? { objects: [variationView(sku)] } : {});
  });

  // ---- orders ----
  app.post('/v2/orders', guard('CreateOrder'), (req, res) => {
    const op = 'CreateOrder';
    const b = req.body as { idempotency_key?: string; order?: Record<string, unknown> };
    if (!b.idempotency_key || b.idempotency_key.length > 192) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'MISSING_REQUIRED_PARAMETER', 'idempotency_key is required (at most 192 characters).', 'idempotency_key');
    const prior = orderKeys.get(b.idempotency_key);
    if (prior) {
      if (prior.hash !== hash(b.order)) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'IDEMPOTENCY_KEY_REUSED', 'The idempotency key was used with a different request.', 'idempotency_key');
      return ok(res, op, { order: byId.get(prior.orderId) });
    }
    const o = b.order ?? {};
    const location = String(o.location_id ?? '');
    if (!codeOf.has(location)) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Location ${location} not found.`, 'order.location_id');
    const lines = o.line_items as Array<{ uid?: string; quantity?: string; catalog_object_id?: string; base_price_money?: Money; note?: string }> | undefined;
    if (!Array.isArray(lines) || !lines.length) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'MISSING_REQUIRED_PARAMETER', 'An order needs line_items.', 'order.line_items');
    const items: LineItem[] = [];
    for (const [i, l] of lines.entries()) {
      const sku = skuOf.get(String(l.catalog_object_id));
      if (!sku) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Catalog object ${l.catalog_object_id} not found.`, `order.line_items[${i}].catalog_object_id`);
      if (typeof l.quantity !== 'string' || !/^[1-9]\d*$/.test(l.quantity)) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'quantity must be a positive whole number as a string.', `order.line_items[${i}].quantity`);
      const price = l.base_price_money?.amount ?? priceOf.get(sku)!;
      items.push({ uid: l.uid ?? `li${i + 1}`, name: nameOf.get(sku)!, variation_name: 'Regular', quantity: l.quantity, catalog_object_id: l.catalog_object_id!, item_type: 'ITEM', base_price_money: { amount: price, currency: 'USD' }, total_money: { amount: price * Number(l.quantity), currency: 'USD' } });
    }
    const fs = (o.fulfillments as Array<{ type?: string; state?: string; pickup_details?: Record<string, unknown>; shipment_details?: Record<string, unknown> }> | undefined) ?? [];
    if (fs.length > 1) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'Only one fulfillment per order is supported.', 'order.fulfillments');
    const fulfillments: Fulfillment[] = [];
    for (const f of fs) {
      const details = f.type === 'PICKUP' ? f.pickup_details : f.type === 'SHIPMENT' ? f.shipment_details : undefined;
      const recipient = details?.recipient as Record<string, unknown> | undefined;
      if (!details || !recipient || !(recipient.display_name || recipient.email_address || recipient.phone_number)) {
        return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'MISSING_REQUIRED_PARAMETER', 'A PICKUP or SHIPMENT fulfillment needs details with a recipient.', 'order.fulfillments[0]');
      }
      if (f.type === 'PICKUP' && !details.pickup_at && details.schedule_type !== 'ASAP') return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'MISSING_REQUIRED_PARAMETER', 'pickup_at is required for a SCHEDULED pickup.', 'order.fulfillments[0].pickup_details.pickup_at');
      fulfillments.push({ uid: nextId('fulfillment').slice(0, 22), type: f.type as Fulfillment['type'], state: f.state ?? 'PROPOSED', [f.type === 'PICKUP' ? 'pickup_details' : 'shipment_details']: { ...details, placed_at: store.nowIso() } });
    }
    const now = Math.floor(store.now() / 1000) * 1000;
    const total = items.reduce((n, li) => n + li.total_money.amount, 0);
    const order: SquareOrderView = {
      id: nextId('order'), location_id: location, ...(o.reference_id ? { reference_id: String(o.reference_id).slice(0, 40) } : {}),
      source: { name: String((o.source as { name?: string } | undefined)?.name ?? 'API') }, state: 'OPEN', version: 1,
      created_at: iso(now), updated_at: iso(now), line_items: items, ...(fulfillments.length ? { fulfillments } : {}), total_money: { amount: total, currency: 'USD' },
    };
    orders.push(order);
    byId.set(order.id, order);
    createdAt.set(order.id, now);
    orderKeys.set(b.idempotency_key, { hash: hash(b.order), orderId: order.id });
    ok(res, op, { order });
  });

  app.get('/v2/orders/:id', guard('RetrieveOrder'), (req, res) => {
    const o = byId.get(String(req.params.id));
    if (!o) return errors(res, 'RetrieveOrder', 404, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Order ${req.params.id} not found.`);
    ok(res, 'RetrieveOrder', { order: o });
  });

  /** UpdateOrder: sparse order with the current `version`; state and fulfilment states only. */
  app.put('/v2/orders/:id', guard('UpdateOrder'), (req, res) => {
    const op = 'UpdateOrder';
    const o = byId.get(String(req.params.id));
    if (!o) return errors(res, op, 404, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Order ${req.params.id} not found.`);
    const b = req.body as { idempotency_key?: string; order?: { version?: number; state?: string; fulfillments?: Array<{ uid?: string; state?: string }> } };
    if (b.order?.version !== o.version) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'VERSION_MISMATCH', `Order version ${b.order?.version} does not match the current version ${o.version}.`, 'order.version');
    if (o.state !== 'OPEN') return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'BAD_REQUEST', `An order in state ${o.state} cannot be updated.`);
    for (const f of b.order.fulfillments ?? []) {
      const mine = o.fulfillments?.find((x) => x.uid === f.uid);
      if (!mine) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Fulfillment ${f.uid} not found.`, 'order.fulfillments');
      if (f.state) mine.state = f.state;
    }
    if (b.order.state === 'CANCELED' || b.order.state === 'COMPLETED') {
      o.state = b.order.state;
      o.closed_at = store.nowIso();
      if (o.state === 'CANCELED') store.pushes.cancellations.push({ at: store.nowIso(), orderSeq: 0, orderId: o.id, accepted: true });
    }
    o.version++;
    o.updated_at = iso(Math.floor(store.now() / 1000) * 1000);
    ok(res, op, { order: o });
  });

  app.post('/v2/orders/search', guard('SearchOrders'), (req, res) => {
    const op = 'SearchOrders';
    const b = req.body as { location_ids?: string[]; cursor?: string; limit?: number; query?: { filter?: { date_time_filter?: Record<string, { start_at?: string; end_at?: string }>; state_filter?: { states?: string[] } }; sort?: { sort_field?: string; sort_order?: string } } };
    if (!Array.isArray(b.location_ids) || b.location_ids.length < 1 || b.location_ids.length > 10) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_ARRAY_LENGTH', 'location_ids must hold 1 to 10 ids.', 'location_ids');
    const unknown = b.location_ids.find((id) => !codeOf.has(id));
    if (unknown) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Location ${unknown} not found.`, 'location_ids');
    const limit = b.limit ?? 500;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'limit must be between 1 and 1000.', 'limit');
    const dtf = b.query?.filter?.date_time_filter ?? {};
    const fields = Object.keys(dtf);
    if (fields.length > 1) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'Only one date_time_filter field may be set.', 'query.filter.date_time_filter');
    const sortField = (b.query?.sort?.sort_field ?? 'CREATED_AT').toLowerCase();
    if (fields.length && fields[0] !== sortField) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', `The sort field must match the date_time_filter field (${fields[0]}).`, 'query.sort.sort_field');
    const fingerprint = hash([b.location_ids, b.query, limit]);
    const offset = offsetOf(b.cursor, fingerprint);
    if (offset instanceof Error) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_CURSOR', offset.message, 'cursor');
    const key = (o: SquareOrderView) => Date.parse(sortField === 'updated_at' ? o.updated_at : sortField === 'closed_at' ? o.closed_at ?? '' : o.created_at);
    const range = fields.length ? dtf[fields[0]] : {};
    const start = range.start_at ? Date.parse(range.start_at) : Number.NEGATIVE_INFINITY;
    const end = range.end_at ? Date.parse(range.end_at) : Number.POSITIVE_INFINITY;
    const states = b.query?.filter?.state_filter?.states;
    const hits = orders
      .filter((o) => b.location_ids!.includes(o.location_id) && (!states || states.includes(o.state)))
      .filter((o) => { const k = key(o); return !Number.isNaN(k) && k >= start && k < end; })
      .sort((x, y) => (key(x) - key(y)) * (b.query?.sort?.sort_order === 'DESC' ? -1 : 1) || (x.id < y.id ? -1 : 1));
    const page = hits.slice(offset, offset + limit);
    const more = offset + limit < hits.length;
    ok(res, op, { ...(page.length ? { orders: page } : {}), ...(more ? { cursor: cursorOf(fingerprint, offset + limit) } : {}) });
  });

  // ---- inventory ----
  const countView = (variation: string, location: string) => {
    const c = counts.get(ck(variation, location))!;
    return { catalog_object_id: variation, catalog_object_type: 'ITEM_VARIATION', state: 'IN_STOCK', location_id: location, quantity: String(c.quantity), calculated_at: iso(c.calculatedAt) };
  };
  app.post('/v2/inventory/counts/batch-retrieve', guard('BatchRetrieveInventoryCounts'), (req, res) => {
    const op = 'BatchRetrieveInventoryCounts';
    const b = req.body as { catalog_object_ids?: string[]; location_ids?: string[]; states?: string[]; updated_after?: string; cursor?: string; limit?: number };
    const limit = b.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'limit must be between 1 and 1000.', 'limit');
    const fingerprint = hash([b.catalog_object_ids, b.location_ids, b.states, b.updated_after, limit]);
    const offset = offsetOf(b.cursor, fingerprint);
    if (offset instanceof Error) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_CURSOR', offset.message, 'cursor');
    const after = b.updated_after ? Date.parse(b.updated_after) : Number.NEGATIVE_INFINITY;
    const all = [...counts.entries()]
      .map(([k, c]) => ({ variation: k.split('@')[0], location: k.split('@')[1], c }))
      .filter((x) => (!b.catalog_object_ids || b.catalog_object_ids.includes(x.variation)) && (!b.location_ids || b.location_ids.includes(x.location)) && (!b.states || b.states.includes('IN_STOCK')) && x.c.calculatedAt > after)
      .sort((x, y) => (x.variation < y.variation ? -1 : x.variation > y.variation ? 1 : x.location < y.location ? -1 : 1));
    const page = all.slice(offset, offset + limit).map((x) => countView(x.variation, x.location));
    ok(res, op, { ...(page.length ? { counts: page } : {}), ...(offset + limit < all.length ? { cursor: cursorOf(fingerprint, offset + limit) } : {}) });
  });

  app.post('/v2/inventory/changes/batch-create', guard('BatchChangeInventory'), (req, res) => {
    const op = 'BatchChangeInventory';
    const b = req.body as { idempotency_key?: string; changes?: Array<Record<string, Record<string, string> | string>>; ignore_unchanged_counts?: boolean };
    if (!b.idempotency_key || b.idempotency_key.length > 128) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'MISSING_REQUIRED_PARAMETER', 'idempotency_key is required (at most 128 characters).', 'idempotency_key');
    const prior = changeKeys.get(b.idempotency_key);
    if (prior) {
      if (prior.hash !== hash(b.changes)) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'IDEMPOTENCY_KEY_REUSED', 'The idempotency key was used with a different request.', 'idempotency_key');
      return ok(res, op, prior.response);
    }
    if (!Array.isArray(b.changes) || b.changes.length < 1 || b.changes.length > 100) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_ARRAY_LENGTH', 'changes must hold 1 to 100 changes.', 'changes');
    // Validate every change before applying any (the batch is all or nothing).
    const plan: Array<{ variation: string; location: string; kind: 'count' | 'delta'; quantity: number; at: number; reference?: string }> = [];
    for (const [i, ch] of b.changes.entries()) {
      const body = (ch.type === 'PHYSICAL_COUNT' ? ch.physical_count : ch.type === 'ADJUSTMENT' ? ch.adjustment : undefined) as Record<string, string> | undefined;
      const field = `changes[${i}]`;
      if (!body) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'type must be PHYSICAL_COUNT or ADJUSTMENT with its body.', field);
      if (!skuOf.has(body.catalog_object_id)) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Catalog object ${body.catalog_object_id} not found.`, `${field}.catalog_object_id`);
      if (!codeOf.has(body.location_id)) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Location ${body.location_id} not found.`, `${field}.location_id`);
      if (!/^\d+(\.\d{1,5})?$/.test(body.quantity ?? '')) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'quantity must be a non-negative decimal string.', `${field}.quantity`);
      const at = Date.parse(body.occurred_at ?? '');
      if (Number.isNaN(at)) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'MISSING_REQUIRED_PARAMETER', 'occurred_at is required.', `${field}.occurred_at`);
      if (at > store.now() + 60_000) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'occurred_at cannot be in the future.', `${field}.occurred_at`);
      if (ch.type === 'PHYSICAL_COUNT') {
        if (body.state !== 'IN_STOCK') return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'The sandbox counts IN_STOCK only.', `${field}.physical_count.state`);
        plan.push({ variation: body.catalog_object_id, location: body.location_id, kind: 'count', quantity: Number(body.quantity), at, reference: body.reference_id });
      } else {
        const sign = body.from_state === 'NONE' && body.to_state === 'IN_STOCK' ? 1 : body.from_state === 'IN_STOCK' && ['WASTE', 'SOLD', 'NONE'].includes(body.to_state) ? -1 : 0;
        if (!sign) return errors(res, op, 400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', `Unsupported adjustment ${body.from_state} → ${body.to_state}.`, `${field}.adjustment`);
        plan.push({ variation: body.catalog_object_id, location: body.location_id, kind: 'delta', quantity: sign * Number(body.quantity), at, reference: body.reference_id });
      }
    }
    const touched = new Set<string>();
    for (const p of plan) {
      const previous = getCount(p.variation, p.location);
      const next = p.kind === 'count' ? p.quantity : (previous ?? 0) + p.quantity;
      const unchanged = p.kind === 'count' && b.ignore_unchanged_counts !== false && previous === next;
      if (!unchanged) setCount(p.variation, p.location, next, Math.max(p.at, counts.get(ck(p.variation, p.location))?.calculatedAt ?? 0));
      touched.add(ck(p.variation, p.location));
      store.pushes.stock.push({ at: store.nowIso(), sku: skuOf.get(p.variation)!, location: p.location, quantity: next, previous, accepted: true, idempotencyKey: b.idempotency_key, ...(unchanged ? { reason: 'unchanged count ignored' } : {}) });
    }
    const response = { counts: [...touched].map((k) => countView(k.split('@')[0], k.split('@')[1])) };
    changeKeys.set(b.idempotency_key, { hash: hash(b.changes), response });
    ok(res, op, response);
  });

  app.use((req, res) => errors(res, `${req.method} ${req.path}`, 404, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Resource not found: ${req.method} ${req.path}`));

  const server = await listen(app, opts.port);
  return {
    vendor: 'square',
    baseUrl: server.baseUrl,
    store,
    pushes: store.pushes,
    locations: Object.fromEntries(codeOf),
    locationId: (code) => {
      const id = locationOf.get(code);
      if (!id) throw new Error(`store ${code} is not on Square`);
      return id;
    },
    variationId: (sku) => varOf.get(sku) ?? '',
    count: (sku, code) => {
      advance();
      const v = varOf.get(sku);
      const l = locationOf.get(code);
      return v && l ? getCount(v, l) : null;
    },
    sales: () => {
      advance();
      return orders.filter((o) => !o.fulfillments && !createdAt.has(o.id));
    },
    pushedOrders: () => {
      advance();
      return orders.filter((o) => createdAt.has(o.id));
    },
    ringUp: (code, lines) => {
      advance();
      return ring(code, lines, Math.floor(store.now() / 1000) * 1000);
    },
    stats: () => store.stats(),
    connection: {
      config: { baseUrl: server.baseUrl, locationIds: [...codeOf.keys()], startAt: new Date(store.now() - 60_000).toISOString(), requestsPerMinute: opts.requestsPerMinute ?? 600 },
      credentials: { accessToken: token },
    },
    close: server.close,
  };
}
