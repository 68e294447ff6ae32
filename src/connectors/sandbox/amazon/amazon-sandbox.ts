import { createHash, randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { generateDemoNetwork } from '../../../db/seed/demo-network';
import { TokenBucket } from '../rate-limits';
import { listen, type OrderState, pad, type PushLog, type SandboxBaseOptions, type SandboxStats, SandboxStore, type ShipmentRecord } from '../sandbox-store';

/** SP-API usage plans as published in the models (../shared/fixtures/amazon/*.json): requests/second and burst. */
export const SP_API_PUBLISHED_LIMITS: Record<string, { rate: number; burst: number }> = {
  searchOrders: { rate: 0.0056, burst: 20 },
  getOrder: { rate: 0.5, burst: 30 },
  confirmShipment: { rate: 2, burst: 10 },
  patchListingsItem: { rate: 5, burst: 5 },
  getListingsItem: { rate: 5, burst: 10 },
};

export interface AmazonSandboxOptions extends SandboxBaseOptions {
  sellerId?: string;
  marketplaceId?: string;
  credentials?: { clientId: string; clientSecret: string; refreshToken: string };
  /** Override the published usage plans (e.g. a faster searchOrders for a demo). */
  limits?: Partial<Record<string, { rate: number; burst: number }>>;
  /** Listings: the first N demo SKUs (default 200), quantities from the demo network's DC stock. */
  listingSkus?: number;
  /** LWA access token lifetime (default 3600 s). */
  tokenLifetimeSec?: number;
}

export interface AmazonSandbox {
  vendor: 'amazon';
  baseUrl: string;
  store: SandboxStore;
  pushes: PushLog;
  /** Amazon order id of the n-th generated order (`113-0000001-0000001` style). */
  orderId(seq: number): string;
  /** Merchant-fulfilled quantity of a listing (fulfillment channel DEFAULT), null when unknown. */
  quantity(sku: string, channel?: string): number | null;
  /** Buyer-side cancellation (Amazon cancels; the hub learns it by reading the order). */
  cancelByBuyer(seq: number, reason?: string): void;
  orders(): OrderState[];
  stats(): SandboxStats;
  /** `openConnection(amazonConnector, { ...sandbox.connection, clock })`. */
  connection: {
    config: { endpoint: string; baseUrl: string; lwaTokenUrl: string; sellerId: string; marketplaceIds: string[]; startAt: string };
    credentials: { clientId: string; clientSecret: string; refreshToken: string };
  };
  close(): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const TWO_MINUTES = 120_000;

/**
 * An in-process Selling Partner API: LWA token endpoint, Orders v2026-01-01 `searchOrders`/`getOrder`, Listings
 * `patchListingsItem` (fulfillment_availability quantity), Orders v0 `confirmShipment`. Each operation has its
 * published token bucket; every answer carries `x-amzn-RateLimit-Limit`; a 429 carries no Retry-After.
 */
export async function startAmazonSandbox(opts: AmazonSandboxOptions): Promise<AmazonSandbox> {
  const store = new SandboxStore(opts);
  const sellerId = opts.sellerId ?? 'A2SANDBOXSELLER';
  const marketplaceId = opts.marketplaceId ?? 'ATVPDKIKX0DER';
  const creds = opts.credentials ?? { clientId: 'amzn1.application-oa2-client.sandbox', clientSecret: 'sandbox-secret', refreshToken: 'Atzr|sandbox-refresh' };
  const limits = { ...SP_API_PUBLISHED_LIMITS, ...opts.limits } as Record<string, { rate: number; burst: number }>;
  const buckets = new Map<string, TokenBucket>();
  const tokens = new Map<string, number>();
  const lifetime = (opts.tokenLifetimeSec ?? 3600) * 1000;
  const limited = opts.rateLimits !== false;

  const network = generateDemoNetwork({ seed: opts.seed, skus: opts.skus ?? 2000, locations: 6 });
  const listingSkus = new Set(network.products.slice(0, opts.listingSkus ?? 200).map((p) => p.sku));
  for (const row of network.stock()) if (row.locationCode === 'WH-COLUMBUS' && listingSkus.has(row.sku)) store.setStock(row.sku, 'DEFAULT', row.onHand);
  for (const sku of listingSkus) if (store.getStock(sku, 'DEFAULT') === null) store.setStock(sku, 'DEFAULT', 0);

  const orderId = (seq: number) => `113-${pad(Math.floor(seq / 10_000_000), 7)}-${pad(seq % 10_000_000, 7)}`;
  const seqOf = (id: string) => {
    const m = /^113-(\d{7})-(\d{7})$/.exec(id);
    return m ? Number(m[1]) * 10_000_000 + Number(m[2]) : NaN;
  };
  const itemId = (seq: number, index: number) => `${pad(seq, 12)}${pad(index, 2)}`;

  function status(o: OrderState): string {
    if (o.cancelledAt) return 'CANCELLED';
    const shipped = o.shipped.reduce((a, b) => a + b, 0);
    const open = o.gen.lines.reduce((a, _l, i) => a + store.open(o, i), 0);
    if (shipped === 0) return 'UNSHIPPED';
    return open === 0 ? 'SHIPPED' : 'PARTIALLY_SHIPPED';
  }

  function orderView(o: OrderState, included: Set<string>) {
    const g = o.gen;
    const money = (amount: string) => ({ amount, currencyCode: g.currency });
    const out: Record<string, unknown> = {
      orderId: orderId(g.seq),
      createdTime: iso(g.placedAt),
      lastUpdatedTime: iso(o.updatedAt),
      programs: [],
      salesChannel: { channelName: 'AMAZON', marketplaceId, marketplaceName: 'Amazon.com' },
      fulfillment: { fulfillmentStatus: status(o), fulfilledBy: 'MERCHANT', ...(included.has('FULFILLMENT') ? { fulfillmentServiceLevel: 'STANDARD' } : {}) },
      orderItems: g.lines.map((l, i) => ({
        orderItemId: itemId(g.seq, l.index),
        quantityOrdered: l.quantity,
        product: { sellerSku: l.sku, title: l.title, condition: { conditionType: 'NEW' }, price: { unitPrice: money(l.unitPrice) } },
        ...(included.has('PROCEEDS') ? { proceeds: { proceedsTotal: money(mul(l.unitPrice, l.quantity)) } } : {}),
        ...(included.has('FULFILLMENT') ? { fulfillment: { quantityFulfilled: o.shipped[i], quantityUnfulfilled: store.open(o, i) } } : {}),
        ...(o.cancelled[i] && included.has('CANCELLATION') ? { cancellation: { cancellationRequest: { requester: 'BUYER', cancelReason: o.cancelReason ?? 'OTHER' } } } : {}),
      })),
    };
    if (included.has('BUYER')) out.buyer = { buyerName: `${g.customer.firstName} ${g.customer.lastName}`, buyerEmail: `${g.seq}.${g.customer.lastName.toLowerCase()}@marketplace.amazon.com` };
    if (included.has('RECIPIENT')) {
      out.recipient = {
        deliveryAddress: { name: g.shipTo.name, addressLine1: g.shipTo.line1, city: g.shipTo.city, stateOrRegion: g.shipTo.region, countryCode: 'US', phone: g.shipTo.phone, addressType: 'RESIDENTIAL' },
      };
    }
    if (included.has('PROCEEDS')) out.proceeds = { grandTotal: money(g.total) };
    if (included.has('PACKAGES') && o.shipments.length) {
      out.packages = o.shipments.map((s) => ({
        packageReferenceId: s.id, createdTime: s.at.replace('.000Z', 'Z'), carrier: s.carrier, trackingNumber: s.trackingNumber,
        packageItems: s.lines.map((l) => ({ orderItemId: l.lineId, quantity: l.quantity })),
      }));
    }
    return out;
  }

  const app = express();
  app.use(express.json({ limit: '5mb' }));
  app.use(express.urlencoded({ extended: false }));

  const fail = (res: Response, op: string, status: number, code: string, message: string) => {
    store.record(op, status, false);
    res.status(status).json({ errors: [{ code, message, details: '' }] });
  };

  /** LWA: refresh-token grant. Not an SP-API operation: no usage plan. */
  app.post('/auth/o2/token', (req, res) => {
    const b = req.body as Record<string, string>;
    if (b.grant_type !== 'refresh_token') return void res.status(400).json({ error: 'unsupported_grant_type', error_description: 'grant_type must be refresh_token' });
    if (b.client_id !== creds.clientId || b.client_secret !== creds.clientSecret) return void res.status(401).json({ error: 'invalid_client', error_description: 'Client authentication failed' });
    if (b.refresh_token !== creds.refreshToken) return void res.status(400).json({ error: 'invalid_grant', error_description: 'The request has an invalid grant parameter : refresh_token' });
    const token = `Atza|${randomBytes(12).toString('base64url')}`;
    tokens.set(token, store.now() + lifetime);
    res.json({ access_token: token, refresh_token: creds.refreshToken, token_type: 'bearer', expires_in: lifetime / 1000 });
  });

  /** Auth, then the operation's token bucket. */
  const guard = (op: string) => (req: Request, res: Response, next: NextFunction) => {
    const plan = limits[op] ?? { rate: 1, burst: 5 };
    res.set('x-amzn-RateLimit-Limit', String(plan.rate));
    res.set('x-amzn-RequestId', randomBytes(8).toString('hex'));
    const t = req.get('x-amz-access-token');
    const exp = t ? tokens.get(t) : undefined;
    if (!exp || exp <= store.now()) return fail(res, op, 403, 'Unauthorized', 'Access to requested resource is denied.');
    if (limited) {
      let b = buckets.get(op);
      if (!b) buckets.set(op, (b = new TokenBucket(plan.rate, plan.burst, store.now())));
      if (!b.tryTake(store.now())) {
        store.record(op, 429, true);
        return void res.status(429).json({ errors: [{ code: 'QuotaExceeded', message: 'You exceeded your quota for the requested resource.', details: '' }] });
      }
    }
    next();
  };

  const csv = (v: unknown) => (typeof v === 'string' && v ? v.split(',') : []);

  app.get('/orders/2026-01-01/orders', guard('searchOrders'), (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const op = 'searchOrders';
    const now = store.now();
    const time = (name: string) => {
      const v = q[name];
      if (v === undefined) return undefined;
      const ms = Date.parse(v);
      if (Number.isNaN(ms)) throw new Error(`${name} is not an ISO 8601 date`);
      return ms;
    };
    let filter: { createdAfter?: number; createdBefore?: number; lastUpdatedAfter?: number; lastUpdatedBefore?: number };
    try {
      filter = { createdAfter: time('createdAfter'), createdBefore: time('createdBefore'), lastUpdatedAfter: time('lastUpdatedAfter'), lastUpdatedBefore: time('lastUpdatedBefore') };
    } catch (e) {
      return fail(res, op, 400, 'InvalidInput', (e as Error).message);
    }
    if ((filter.createdAfter === undefined) === (filter.lastUpdatedAfter === undefined)) return fail(res, op, 400, 'InvalidInput', 'Exactly one of createdAfter and lastUpdatedAfter must be provided.');
    if (filter.createdAfter !== undefined && (filter.lastUpdatedBefore !== undefined)) return fail(res, op, 400, 'InvalidInput', 'lastUpdatedBefore may not be provided with createdAfter.');
    for (const k of ['createdBefore', 'lastUpdatedBefore'] as const) {
      const v = filter[k];
      if (v !== undefined && v > now - TWO_MINUTES) return fail(res, op, 400, 'InvalidInput', `${k} must be at least two minutes before the time of the request.`);
    }
    const size = q.maxResultsPerPage === undefined ? 100 : Number(q.maxResultsPerPage);
    if (!Number.isInteger(size) || size < 1 || size > 100) return fail(res, op, 400, 'InvalidInput', 'maxResultsPerPage must be between 1 and 100.');
    const markets = csv(q.marketplaceIds);
    const statuses = csv(q.fulfillmentStatuses);
    const included = new Set(csv(q.includedData));
    const fingerprint = createHash('sha256').update(JSON.stringify([filter, markets, statuses, q.fulfilledBy ?? ''])).digest('hex').slice(0, 16);
    let after: [number, number] | undefined;
    if (q.paginationToken) {
      try {
        const t = JSON.parse(Buffer.from(q.paginationToken, 'base64url').toString('utf8')) as { f: string; a: [number, number] };
        if (t.f !== fingerprint) return fail(res, op, 400, 'InvalidInput', 'paginationToken does not match the other parameters of the request.');
        after = t.a;
      } catch {
        return fail(res, op, 400, 'InvalidInput', 'Invalid paginationToken.');
      }
    }
    const byCreated = filter.createdAfter !== undefined;
    const key = (o: OrderState) => (byCreated ? o.gen.placedAt : o.updatedAt);
    const source = byCreated ? store.orders() : store.byUpdatedAt();
    const upper = byCreated ? filter.createdBefore ?? now - TWO_MINUTES : filter.lastUpdatedBefore ?? now - TWO_MINUTES;
    const lower = byCreated ? filter.createdAfter! : filter.lastUpdatedAfter!;
    const hits: OrderState[] = [];
    let more = false;
    for (const o of source) {
      const k = key(o);
      if (k < lower || k > upper) continue;
      if (markets.length && !markets.includes(marketplaceId)) continue;
      if (statuses.length && !statuses.includes(status(o))) continue;
      if (q.fulfilledBy && !csv(q.fulfilledBy).includes('MERCHANT')) continue;
      if (after && (k < after[0] || (k === after[0] && o.gen.seq <= after[1]))) continue;
      if (hits.length === size) {
        more = true;
        break;
      }
      hits.push(o);
    }
    store.record(op, 200, false);
    const last = hits[hits.length - 1];
    res.json({
      orders: hits.map((o) => orderView(o, included)),
      ...(more && last ? { pagination: { nextToken: Buffer.from(JSON.stringify({ f: fingerprint, a: [key(last), last.gen.seq] })).toString('base64url') } } : {}),
      ...(byCreated ? { createdBefore: iso(upper) } : { lastUpdatedBefore: iso(upper) }),
    });
  });

  app.get('/orders/2026-01-01/orders/:orderId', guard('getOrder'), (req, res) => {
    const o = store.order(seqOf(String(req.params.orderId)));
    if (!o) return fail(res, 'getOrder', 404, 'NotFound', `Order ${req.params.orderId} not found`);
    store.record('getOrder', 200, false);
    res.json({ order: orderView(o, new Set(csv((req.query as Record<string, string>).includedData))) });
  });

  app.patch('/listings/2021-08-01/items/:sellerId/:sku', guard('patchListingsItem'), (req, res) => {
    const op = 'patchListingsItem';
    if (req.params.sellerId !== sellerId) return fail(res, op, 403, 'Unauthorized', 'Access to requested resource is denied.');
    const sku = String(req.params.sku);
    const body = req.body as { productType?: string; patches?: Array<{ op: string; path: string; value?: Array<{ fulfillment_channel_code?: string; quantity?: number }> }> };
    if (!(req.query as Record<string, string>).marketplaceIds) return fail(res, op, 400, 'InvalidInput', 'Missing required marketplaceIds');
    if (!body?.productType || !Array.isArray(body.patches) || body.patches.length === 0) return fail(res, op, 400, 'InvalidInput', 'productType and patches are required');
    const submissionId = randomBytes(16).toString('hex');
    const at = store.nowIso();
    store.record(op, 200, false);
    if (!listingSkus.has(sku)) {
      return void res.json({ sku, status: 'INVALID', submissionId, issues: [{ code: '4000004', message: `SKU ${sku} not found for seller ${sellerId}.`, severity: 'ERROR' }] });
    }
    for (const p of body.patches) {
      if (p.path !== '/attributes/fulfillment_availability' || (p.op !== 'replace' && p.op !== 'merge')) continue;
      for (const v of p.value ?? []) {
        const channel = v.fulfillment_channel_code ?? 'DEFAULT';
        const previous = store.getStock(sku, channel);
        const ok = Number.isInteger(v.quantity) && (v.quantity as number) >= 0;
        if (ok) store.setStock(sku, channel, v.quantity as number);
        store.pushes.stock.push({ at, sku, location: channel, quantity: v.quantity as number, previous, accepted: ok, ...(ok ? {} : { reason: 'quantity must be a whole number ≥ 0' }) });
        if (!ok) return void res.json({ sku, status: 'INVALID', submissionId, issues: [{ code: '90220', message: "'quantity' must be an integer ≥ 0", severity: 'ERROR', attributeNames: ['fulfillment_availability'] }] });
      }
    }
    res.json({ sku, status: 'ACCEPTED', submissionId, issues: [] });
  });

  app.post('/orders/v0/orders/:orderId/shipmentConfirmation', guard('confirmShipment'), (req, res) => {
    const op = 'confirmShipment';
    const id = String(req.params.orderId);
    const o = store.order(seqOf(id));
    if (!o) return fail(res, op, 404, 'NotFound', `Order ${id} not found`);
    const b = req.body as { marketplaceId?: string; packageDetail?: { packageReferenceId?: string; carrierCode?: string; carrierName?: string; trackingNumber?: string; shipDate?: string; shipFromSupplySourceId?: string; orderItems?: Array<{ orderItemId: string; quantity: number }> } };
    const p = b?.packageDetail;
    if (!b?.marketplaceId || !p?.packageReferenceId || !p.carrierCode || !p.trackingNumber || !p.shipDate || !Array.isArray(p.orderItems)) {
      return fail(res, op, 400, 'InvalidInput', 'marketplaceId and packageDetail (packageReferenceId, carrierCode, trackingNumber, shipDate, orderItems) are required');
    }
    if (o.cancelledAt) return fail(res, op, 400, 'InvalidInput', `Order ${id} is cancelled`);
    const existing = o.shipments.find((s) => s.id === p.packageReferenceId);
    if (existing) {
      store.record(op, 204, false);
      return void res.status(204).end(); // the same package confirmed again changes nothing
    }
    const take: Array<{ i: number; quantity: number }> = [];
    for (const it of p.orderItems) {
      const i = o.gen.lines.findIndex((l) => itemId(o.gen.seq, l.index) === it.orderItemId);
      if (i < 0) return fail(res, op, 400, 'InvalidInput', `orderItemId ${it.orderItemId} is not in order ${id}`);
      if (!Number.isInteger(it.quantity) || it.quantity < 1 || it.quantity > store.open(o, i)) return fail(res, op, 400, 'InvalidInput', `quantity ${it.quantity} exceeds the unshipped quantity of ${it.orderItemId}`);
      take.push({ i, quantity: it.quantity });
    }
    for (const t of take) o.shipped[t.i] += t.quantity;
    const rec: ShipmentRecord = {
      id: p.packageReferenceId, at: store.nowIso(), orderSeq: o.gen.seq, orderId: id,
      lines: take.map((t) => ({ lineIndex: t.i + 1, lineId: itemId(o.gen.seq, o.gen.lines[t.i].index), sku: o.gen.lines[t.i].sku, quantity: t.quantity })),
      carrier: p.carrierCode === 'Other' ? p.carrierName ?? 'Other' : p.carrierCode, trackingNumber: p.trackingNumber,
      ...(p.shipFromSupplySourceId ? { location: p.shipFromSupplySourceId } : {}),
    };
    o.shipments.push(rec);
    store.pushes.shipments.push(rec);
    store.touch(o);
    store.record(op, 204, false);
    res.status(204).end();
  });

  app.use((req, res) => fail(res, `${req.method} ${req.path}`, 404, 'NotFound', 'Resource not found'));

  const server = await listen(app, opts.port);
  const startAt = new Date(store.generator.opts.start - (opts.backlogHours ?? 24) * 3_600_000 - 60_000).toISOString();
  return {
    vendor: 'amazon',
    baseUrl: server.baseUrl,
    store,
    pushes: store.pushes,
    orderId,
    quantity: (sku, channel = 'DEFAULT') => store.getStock(sku, channel),
    cancelByBuyer(seq, reason) {
      const o = store.order(seq);
      if (!o || o.cancelledAt) return;
      o.gen.lines.forEach((_l, i) => (o.cancelled[i] += store.open(o, i)));
      o.cancelledAt = Math.floor(store.now() / 1000) * 1000;
      o.cancelReason = reason ?? 'BUYER_CANCELLED';
      store.touch(o);
    },
    orders: () => store.orders(),
    stats: () => store.stats(),
    connection: {
      config: { endpoint: server.baseUrl, baseUrl: server.baseUrl, lwaTokenUrl: `${server.baseUrl}/auth/o2/token`, sellerId, marketplaceIds: [marketplaceId], startAt },
      credentials: { ...creds },
    },
    close: server.close,
  };
}

/** unitPrice × quantity, exact in cents. */
function mul(price: string, q: number): string {
  const [w, f = ''] = price.split('.');
  const c = (Number(w) * 100 + Number((f + '00').slice(0, 2))) * q;
  return `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
}
