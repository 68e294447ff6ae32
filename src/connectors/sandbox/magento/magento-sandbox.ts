import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { generateDemoNetwork } from '../../../db/seed/demo-network';
import { oauth1Header } from '../../sdk/auth';
import { FixedWindow } from '../rate-limits';
import { listen, type OrderState, type PushLog, type SandboxBaseOptions, type SandboxStats, SandboxStore, type ShipmentRecord } from '../sandbox-store';

export interface MagentoSandboxOptions extends SandboxBaseOptions {
  admin?: { username: string; password: string };
  /** Integration (OAuth 1.0a) credentials, verified with HMAC-SHA256 signatures. */
  integration?: { consumerKey: string; consumerSecret: string; accessToken: string; accessTokenSecret: string };
  /**
   * Magento publishes no request limit; hosting WAFs impose one. The sandbox enforces a fixed window of this many
   * requests per minute (default 600, the connector's default ceiling), answering 429 with Retry-After.
   */
  requestsPerMinute?: number;
  /** Web API "maximum page size" (Stores › Configuration › Services › Web API Limits; default 300). */
  maxPageSize?: number;
  /** MSI sources: the first N demo-network locations (default 5). */
  sources?: number;
  /** Source items: the first N demo SKUs (default 200), quantities from the demo network's stock. */
  sourceSkus?: number;
}

export interface MagentoSandbox {
  vendor: 'magento';
  baseUrl: string;
  store: SandboxStore;
  pushes: PushLog;
  /** MSI source codes (the demo network's location codes). */
  sources: string[];
  /** Magento entity_id of the n-th generated order (as a string, as the connector keeps ids). */
  orderId(seq: number): string;
  /** MSI quantity of a SKU at a source, null when no source item exists. */
  quantity(sku: string, source: string): number | null;
  orders(): OrderState[];
  stats(): SandboxStats;
  /** `openConnection(magentoConnector, { ...sandbox.connection, clock })` (admin-token credentials). */
  connection: { config: { storeUrl: string; baseUrl: string; startAt: string; requestsPerMinute: number }; credentials: { type: 'admin'; username: string; password: string } };
  close(): Promise<void>;
}

const ENTITY_BASE = 10_000;
/** Magento's own format: `YYYY-MM-DD HH:MM:SS`, UTC, no zone. */
const zonelessCache = new Map<number, string>();
const zoneless = (ms: number) => {
  let s = zonelessCache.get(ms);
  if (s === undefined) {
    s = new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
    if (zonelessCache.size > 200_000) zonelessCache.clear();
    zonelessCache.set(ms, s);
  }
  return s;
};

interface Filter { field: string; value: string; conditionType: string }
interface Criteria { groups: Filter[][]; sort: Array<{ field: string; direction: string }>; pageSize?: number; currentPage?: number }

/** Parses Magento's bracketed `searchCriteria[...]` query keys (express's parser leaves them flat). */
export function parseSearchCriteria(url: string): Criteria {
  const params = new URL(url, 'http://x').searchParams;
  const groups: Record<string, Record<string, Partial<Filter>>> = {};
  const sorts: Record<string, { field?: string; direction?: string }> = {};
  const c: Criteria = { groups: [], sort: [] };
  for (const [k, v] of params) {
    let m = /^searchCriteria\[filter_?[gG]roups\]\[(\d+)\]\[filters\]\[(\d+)\]\[(field|value|condition_?[tT]ype)\]$/.exec(k);
    if (m) {
      const f = ((groups[m[1]] ??= {})[m[2]] ??= {});
      const key = m[3].startsWith('condition') ? 'conditionType' : (m[3] as 'field' | 'value');
      f[key] = v;
      continue;
    }
    m = /^searchCriteria\[sort_?[oO]rders\]\[(\d+)\]\[(field|direction)\]$/.exec(k);
    if (m) {
      (sorts[m[1]] ??= {})[m[2] as 'field' | 'direction'] = v;
      continue;
    }
    if (k === 'searchCriteria[pageSize]' || k === 'searchCriteria[page_size]') c.pageSize = Number(v);
    if (k === 'searchCriteria[currentPage]' || k === 'searchCriteria[current_page]') c.currentPage = Number(v);
  }
  c.groups = Object.keys(groups).sort((a, b) => +a - +b).map((g) => Object.values(groups[g]).map((f) => ({ field: f.field ?? '', value: f.value ?? '', conditionType: f.conditionType ?? 'eq' })));
  c.sort = Object.keys(sorts).sort((a, b) => +a - +b).map((s) => ({ field: sorts[s].field ?? '', direction: (sorts[s].direction ?? 'ASC').toUpperCase() }));
  return c;
}

function test(value: unknown, f: Filter): boolean {
  const numeric = typeof value === 'number';
  const a = numeric ? (value as number) : String(value ?? '');
  const b = numeric ? Number(f.value) : f.value;
  switch (f.conditionType) {
    case 'eq': return a === b;
    case 'neq': return a !== b;
    case 'gt': return a > b;
    case 'gteq': return a >= b;
    case 'lt': return a < b;
    case 'lteq': return a <= b;
    case 'in': return f.value.split(',').map((x) => (numeric ? Number(x) : x)).includes(a);
    case 'nin': return !f.value.split(',').map((x) => (numeric ? Number(x) : x)).includes(a);
    case 'like': return new RegExp(`^${f.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*')}$`, 'i').test(String(a));
    default: throw new Error(`unsupported conditionType ${f.conditionType}`);
  }
}

/**
 * An in-process Magento 2.4.9 REST API: admin token (and OAuth 1.0a integration signatures), orders by
 * searchCriteria with total_count paging (asking past the last page returns the last page again, as Magento
 * does), MSI sources and source items (read and write), ship with tracks and source_code, cancel. Timestamps are
 * `YYYY-MM-DD HH:MM:SS` UTC with no zone.
 */
export async function startMagentoSandbox(opts: MagentoSandboxOptions): Promise<MagentoSandbox> {
  const store = new SandboxStore(opts);
  const admin = opts.admin ?? { username: 'sandbox-admin', password: 'sandbox-password1' };
  const rpm = opts.requestsPerMinute ?? 600;
  const window = new FixedWindow(rpm, 60_000);
  const maxPageSize = opts.maxPageSize ?? 300;
  const tokens = new Set<string>();
  const limited = opts.rateLimits !== false;

  const network = generateDemoNetwork({ seed: opts.seed, skus: opts.skus ?? 2000, locations: Math.max(6, opts.sources ?? 5) });
  const sources = network.locations.slice(0, opts.sources ?? 5);
  const sourceCodes = sources.map((s) => s.code);
  const skus = new Set(network.products.slice(0, opts.sourceSkus ?? 200).map((p) => p.sku));
  const sourceItemIds = new Map<string, number>();
  const setItem = (sku: string, source: string, q: number) => {
    const k = `${sku}@${source}`;
    if (!sourceItemIds.has(k)) sourceItemIds.set(k, sourceItemIds.size + 1);
    store.setStock(sku, source, q);
  };
  for (const row of network.stock()) if (skus.has(row.sku) && sourceCodes.includes(row.locationCode)) setItem(row.sku, row.locationCode, row.onHand);
  let shipments = 0;

  const entityId = (seq: number) => ENTITY_BASE + seq;
  const itemId = (seq: number, index: number) => (ENTITY_BASE + seq) * 10 + index;

  function state(o: OrderState): string {
    if (o.cancelledAt) return 'canceled';
    const shipped = o.shipped.reduce((a, b) => a + b, 0);
    const open = o.gen.lines.reduce((a, _l, i) => a + store.open(o, i), 0);
    if (shipped === 0) return 'new';
    return open === 0 ? 'complete' : 'processing';
  }

  function orderView(o: OrderState) {
    const g = o.gen;
    const st = state(o);
    const address = (o.shippingAddress as unknown as Record<string, unknown> | undefined) ?? {
      entity_id: entityId(g.seq) * 2, parent_id: entityId(g.seq), address_type: 'shipping', firstname: g.customer.firstName, lastname: g.customer.lastName,
      street: [g.shipTo.line1], city: g.shipTo.city, region_code: g.shipTo.region, postcode: '', country_id: 'US', telephone: g.shipTo.phone,
    };
    return {
      entity_id: entityId(g.seq),
      increment_id: String(100_000_000 + g.seq),
      state: st,
      status: st === 'new' ? 'pending' : st,
      created_at: zoneless(g.placedAt),
      updated_at: zoneless(o.updatedAt),
      order_currency_code: g.currency,
      base_currency_code: g.currency,
      grand_total: Number(g.total),
      base_grand_total: Number(g.total),
      customer_email: g.customer.email,
      customer_firstname: g.customer.firstName,
      customer_lastname: g.customer.lastName,
      customer_is_guest: 1,
      items: g.lines.map((l, i) => ({
        item_id: itemId(g.seq, l.index), order_id: entityId(g.seq), sku: l.sku, name: l.title, product_type: 'simple',
        qty_ordered: l.quantity, qty_shipped: o.shipped[i], qty_canceled: o.cancelled[i], price: Number(l.unitPrice), base_price: Number(l.unitPrice),
      })),
      billing_address: { ...address, address_type: 'billing' },
      extension_attributes: { shipping_assignments: [{ shipping: { address, method: 'flatrate_flatrate' }, items: [] }] },
    };
  }

  const app = express();
  app.use(express.json({ limit: '5mb' }));

  const error = (res: Response, op: string, status: number, message: string, extra: object = {}) => {
    store.record(op, status, status === 429);
    res.status(status).json({ message, ...extra });
  };

  app.post('/rest/V1/integration/admin/token', (req, res) => {
    const b = req.body as { username?: string; password?: string };
    if (b?.username !== admin.username || b?.password !== admin.password) {
      return void res.status(401).json({ message: 'The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later.' });
    }
    const t = randomBytes(16).toString('hex');
    tokens.add(t);
    res.json(t);
  });

  const opName = (req: Request) => `${req.method} /V1${req.route?.path ? String(req.route.path).replace(/^\/rest\/:store\/V1/, '').replace(/:(\w+)/g, '{$1}') : req.path}`;

  /** Auth (admin bearer token or OAuth 1.0a), then the request window. */
  const guard = (req: Request, res: Response, next: NextFunction) => {
    const op = opName(req);
    const auth = req.get('authorization') ?? '';
    let ok = false;
    if (auth.startsWith('Bearer ')) ok = tokens.has(auth.slice(7));
    else if (auth.startsWith('OAuth ') && opts.integration) {
      const p = Object.fromEntries([...auth.slice(6).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], decodeURIComponent(m[2])]));
      const i = opts.integration;
      if (p.oauth_consumer_key === i.consumerKey && p.oauth_token === i.accessToken) {
        const url = `http://${req.get('host')}${req.originalUrl.split('?')[0]}`;
        const params = [...new URL(req.originalUrl, 'http://x').searchParams.entries()];
        const expected = oauth1Header({ method: req.method, url, params }, { consumerKey: i.consumerKey, consumerSecret: i.consumerSecret, token: i.accessToken, tokenSecret: i.accessTokenSecret }, {
          timestamp: Number(p.oauth_timestamp), nonce: p.oauth_nonce, signatureMethod: p.oauth_signature_method === 'HMAC-SHA1' ? 'HMAC-SHA1' : 'HMAC-SHA256',
        });
        ok = expected.signature === p.oauth_signature;
      }
    }
    if (!ok) return error(res, op, 401, "The consumer isn't authorized to access %resources.", { parameters: { resources: 'Magento_Sales::sales' } });
    if (limited) {
      const r = window.tryTake(store.now());
      if (r !== true) {
        res.set('Retry-After', String(Math.max(1, Math.ceil(r / 1000))));
        return error(res, op, 429, 'Too Many Requests');
      }
    }
    next();
  };

  /** Filters, sorts and pages `rows` reading fields through `get`; only the returned page is rendered with `view`. */
  function search<T>(req: Request, res: Response, rows: T[], op: string, get: (row: T, field: string) => unknown = (r, f) => (r as Record<string, unknown>)[f], view: (row: T) => unknown = (r) => r) {
    let c: Criteria;
    try {
      c = parseSearchCriteria(req.originalUrl);
    } catch (e) {
      return error(res, op, 400, (e as Error).message);
    }
    const pageSize = c.pageSize ?? 20;
    if (!Number.isInteger(pageSize) || pageSize < 1) return error(res, op, 400, 'pageSize must be a positive integer');
    if (pageSize > maxPageSize) return error(res, op, 400, `Maximum SearchCriteria pageSize is ${maxPageSize}`);
    let list: T[];
    try {
      list = rows.filter((r) => c.groups.every((g) => g.some((f) => test(get(r, f.field), f))));
    } catch (e) {
      return error(res, op, 400, (e as Error).message);
    }
    for (const s of [...c.sort].reverse()) {
      const dir = s.direction === 'DESC' ? -1 : 1;
      // Each row's key is read once (formatting timestamps inside the comparator made every page O(n log n)
      // formats, time the benchmark then charged to the connector). Array sort is stable, so keys chain.
      const keyed = list.map((row) => ({ row, key: get(row, s.field) as number | string }));
      keyed.sort((a, b) => (a.key === b.key ? 0 : a.key < b.key ? -dir : dir));
      list = keyed.map((k) => k.row);
    }
    const total = list.length;
    const lastPage = Math.max(1, Math.ceil(total / pageSize));
    // Magento clamps currentPage: past the end it serves the last page again.
    const page = Math.min(Math.max(1, c.currentPage ?? 1), lastPage);
    store.record(op, 200, false);
    res.json({
      items: list.slice((page - 1) * pageSize, page * pageSize).map(view),
      search_criteria: {
        filter_groups: c.groups.map((g) => ({ filters: g.map((f) => ({ field: f.field, value: f.value, condition_type: f.conditionType })) })),
        ...(c.sort.length ? { sort_orders: c.sort } : {}),
        page_size: pageSize,
        current_page: page,
      },
      total_count: total,
    });
  }

  const orderField = (o: OrderState, field: string): unknown => {
    switch (field) {
      case 'entity_id': return entityId(o.gen.seq);
      case 'updated_at': return zoneless(o.updatedAt);
      case 'created_at': return zoneless(o.gen.placedAt);
      case 'increment_id': return String(100_000_000 + o.gen.seq);
      case 'state': return state(o);
      case 'customer_email': return o.gen.customer.email;
      default: return (orderView(o) as Record<string, unknown>)[field];
    }
  };
  // Search keys of every order, formatted once and rebuilt whenever an order is placed or changes (the store then
  // replaces its sorted list): filtering thousands of orders per page must not cost the connector's benchmark.
  let orderRows: { basis: OrderState[]; rows: Array<{ o: OrderState; updated_at: string; created_at: string }> } | undefined;
  const orderSearchRows = () => {
    const basis = store.byUpdatedAt();
    if (orderRows?.basis !== basis) orderRows = { basis, rows: store.orders().map((o) => ({ o, updated_at: zoneless(o.updatedAt), created_at: zoneless(o.gen.placedAt) })) };
    return orderRows.rows;
  };
  app.get('/rest/:store/V1/orders', guard, (req, res) =>
    search(req, res, orderSearchRows(), 'GET /V1/orders', (r, f) => (f === 'updated_at' ? r.updated_at : f === 'created_at' ? r.created_at : orderField(r.o, f)), (r) => orderView(r.o)));

  app.get('/rest/:store/V1/orders/:id', guard, (req, res) => {
    const o = store.order(Number(req.params.id) - ENTITY_BASE);
    if (!o) return error(res, 'GET /V1/orders/{id}', 404, "The entity that was requested doesn't exist. Verify the entity and try again.");
    store.record('GET /V1/orders/{id}', 200, false);
    res.json(orderView(o));
  });

  app.get('/rest/:store/V1/inventory/sources', guard, (req, res) =>
    search(req, res, sources.map((s) => ({ source_code: s.code, name: s.name, enabled: true, latitude: s.latitude, longitude: s.longitude, country_id: 'US', region: s.region, city: s.city, postcode: '' })), 'GET /V1/inventory/sources'));

  app.get('/rest/:store/V1/inventory/source-items', guard, (req, res) =>
    search(req, res, store.stockEntries().map((e) => ({ source_item_id: sourceItemIds.get(`${e.sku}@${e.location}`) ?? 0, sku: e.sku, source_code: e.location, quantity: e.quantity, status: e.quantity > 0 ? 1 : 0 })), 'GET /V1/inventory/source-items'));

  app.post('/rest/:store/V1/inventory/source-items', guard, (req, res) => {
    const op = 'POST /V1/inventory/source-items';
    const items = (req.body as { sourceItems?: Array<{ sku?: string; source_code?: string; quantity?: number; status?: number }> })?.sourceItems;
    if (!Array.isArray(items) || items.length === 0) return error(res, op, 400, '"sourceItems" is required. Enter and try again.');
    const errors: Array<{ message: string; parameters: Record<string, string> }> = [];
    items.forEach((it) => {
      if (!it.sku) errors.push({ message: '"%field" can not be empty.', parameters: { field: 'sku' } });
      else if (!it.source_code || !sourceCodes.includes(it.source_code)) errors.push({ message: 'Source "%code" does not exist.', parameters: { code: String(it.source_code) } });
      else if (typeof it.quantity !== 'number' || it.quantity < 0) errors.push({ message: '"%field" should be numeric and not negative.', parameters: { field: 'quantity' } });
    });
    const at = store.nowIso();
    if (errors.length) {
      for (const it of items) store.pushes.stock.push({ at, sku: String(it.sku), location: String(it.source_code), quantity: Number(it.quantity), previous: store.getStock(String(it.sku), String(it.source_code)), accepted: false, reason: 'Validation Failed' });
      return error(res, op, 400, 'Validation Failed', { errors });
    }
    for (const it of items) {
      const previous = store.getStock(it.sku!, it.source_code!);
      setItem(it.sku!, it.source_code!, it.quantity!);
      store.pushes.stock.push({ at, sku: it.sku!, location: it.source_code!, quantity: it.quantity!, previous, accepted: true });
    }
    store.record(op, 200, false);
    res.json([]);
  });

  app.post('/rest/:store/V1/order/:orderId/ship', guard, (req, res) => {
    const op = 'POST /V1/order/{orderId}/ship';
    const o = store.order(Number(req.params.orderId) - ENTITY_BASE);
    if (!o) return error(res, op, 404, "The entity that was requested doesn't exist. Verify the entity and try again.");
    const b = req.body as { items?: Array<{ order_item_id: number; qty: number }>; tracks?: Array<{ track_number: string; title: string; carrier_code: string }>; arguments?: { extension_attributes?: { source_code?: string } } };
    const invalid = () => error(res, op, 400, 'Shipment Document Validation Error(s):\nThe order does not allow a shipment to be created.');
    if (o.cancelledAt) return invalid();
    const source = b?.arguments?.extension_attributes?.source_code;
    if (source !== undefined && !sourceCodes.includes(source)) return error(res, op, 400, `Source "${source}" does not exist.`);
    const wanted = b?.items?.length ? b.items : o.gen.lines.map((l, i) => ({ order_item_id: itemId(o.gen.seq, l.index), qty: store.open(o, i) })).filter((x) => x.qty > 0);
    const take: Array<{ i: number; quantity: number }> = [];
    for (const it of wanted) {
      const i = o.gen.lines.findIndex((l) => itemId(o.gen.seq, l.index) === Number(it.order_item_id));
      if (i < 0 || !Number.isInteger(it.qty) || it.qty < 1 || it.qty > store.open(o, i)) return invalid();
      take.push({ i, quantity: it.qty });
    }
    if (!take.length) return invalid();
    for (const t of take) o.shipped[t.i] += t.quantity;
    const track = b?.tracks?.[0];
    const rec: ShipmentRecord = {
      id: String(++shipments), at: store.nowIso(), orderSeq: o.gen.seq, orderId: String(entityId(o.gen.seq)),
      lines: take.map((t) => ({ lineIndex: t.i + 1, lineId: String(itemId(o.gen.seq, o.gen.lines[t.i].index)), sku: o.gen.lines[t.i].sku, quantity: t.quantity })),
      carrier: track ? `${track.title} (${track.carrier_code})` : '', trackingNumber: track?.track_number ?? '', ...(source ? { location: source } : {}),
    };
    o.shipments.push(rec);
    store.pushes.shipments.push(rec);
    store.touch(o);
    store.record(op, 200, false);
    res.json(shipments);
  });

  // salesOrderAddressRepositoryV1Save: the body's `entity` replaces the order address it names (the shipping one here).
  app.put('/rest/:store/V1/orders/:id', guard, (req, res) => {
    const op = 'PUT /V1/orders/{parent_id}';
    const o = store.order(Number(req.params.id) - ENTITY_BASE);
    if (!o) return error(res, op, 404, "The entity that was requested doesn't exist. Verify the entity and try again.");
    const entity = (req.body as { entity?: Record<string, unknown> })?.entity;
    const missing = ['address_type', 'city', 'country_id', 'firstname', 'lastname', 'postcode', 'telephone'].filter((k) => entity?.[k] === undefined || entity[k] === null);
    if (!entity || missing.length) return error(res, op, 400, `"${missing[0] ?? 'entity'}" is required. Enter and try again.`);
    if (entity.entity_id !== entityId(o.gen.seq) * 2 || entity.address_type !== 'shipping') return error(res, op, 400, 'Only the order\'s shipping address can be saved here.');
    store.record(op, 200, false);
    o.shippingAddress = entity as unknown as Record<string, string | null>;
    store.touch(o);
    res.json(entity);
  });

  app.post('/rest/:store/V1/orders/:id/cancel', guard, (req, res) => {
    const op = 'POST /V1/orders/{id}/cancel';
    const o = store.order(Number(req.params.id) - ENTITY_BASE);
    if (!o) return error(res, op, 404, "The entity that was requested doesn't exist. Verify the entity and try again.");
    const at = store.nowIso();
    const can = !o.cancelledAt && o.gen.lines.some((_l, i) => store.open(o, i) > 0) && o.shipped.every((s) => s === 0);
    store.record(op, 200, false);
    store.pushes.cancellations.push({ at, orderSeq: o.gen.seq, orderId: String(entityId(o.gen.seq)), accepted: can, ...(can ? {} : { reason: 'order cannot be cancelled (shipped or already cancelled)' }) });
    if (can) {
      o.gen.lines.forEach((_l, i) => (o.cancelled[i] += store.open(o, i)));
      o.cancelledAt = Math.floor(store.now() / 1000) * 1000;
      store.touch(o);
    }
    res.json(can);
  });

  app.use((req, res) => error(res, `${req.method} ${req.path}`, 404, `Request does not match any route.`));

  const server = await listen(app, opts.port);
  const startAt = new Date(store.generator.opts.start - (opts.backlogHours ?? 24) * 3_600_000 - 60_000).toISOString();
  return {
    vendor: 'magento',
    baseUrl: server.baseUrl,
    store,
    pushes: store.pushes,
    sources: sourceCodes,
    orderId: (seq) => String(entityId(seq)),
    quantity: (sku, source) => store.getStock(sku, source),
    orders: () => store.orders(),
    stats: () => store.stats(),
    connection: { config: { storeUrl: server.baseUrl, baseUrl: server.baseUrl, startAt, requestsPerMinute: rpm }, credentials: { type: 'admin', ...admin } },
    close: server.close,
  };
}
