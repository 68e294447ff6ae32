/**
 * The sync engine's fault matrix, table-driven: for one connector stream, each vendor fault on page 2 of a window
 * (throttle, 500, 503, timeout, connection reset, malformed JSON, a truncated record) is served with nock in the
 * vendor's own shapes, and the real SyncRunner runs against the test database. Every case must end with no
 * unhandled error, exactly page 1's records committed (with the cursor at page 2's token), nothing half-written,
 * and a clean resume that lands the rest once. The vendor throttle case also checks the wait the vendor asked
 * for (Retry-After / x-retry-after) was the one taken, on a virtual clock.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { VirtualClock } from '../../src/connectors/sdk/clock';
import type { CanonicalOrder } from '../../src/connectors/sdk/canonical';
import { openConnection } from '../../src/connectors/sdk/connector';
import type { Services } from '../../src/services';
import { assertStockInvariants, type TestHub } from '../support/test-hub';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface FaultTarget {
  /** Connector kind ("amazon"). */
  kind: string;
  stream: string;
  /** What a landed record leaves in external_ref. */
  entity: 'ORDER' | 'SHIPMENT';
  config: Record<string, unknown>;
  credentials: Record<string, unknown>;
  settings?: Record<string, unknown>;
  /** A raw vendor record (from the connector's cited fixtures) with this numeric id and updated-at. */
  record(id: string, updatedAt: string): Json;
  /** The same record with a required field missing or wrong. */
  broken(id: string): Json;
  /** The page token page 1's response carries (what the cursor must hold after a fault on page 2). */
  token: string;
  /** An interceptor for page 1 (0) or page 2 (1) of the first window. */
  request(page: 0 | 1): nock.Interceptor;
  /** The vendor's 200 answer for a page; `more`: another page follows. */
  reply(page: 0 | 1, records: Json[], more: boolean): [number, Json, Record<string, string>?];
  /** Replies once with the vendor's throttling answer; returns the wait it asks for, when it names one. */
  throttle(i: nock.Interceptor): { waitMs?: number };
  /** A 5xx body as the vendor sends it. */
  errorBody(status: number): Json;
  /** The SKUs the records carry, where mapping a lone raw record needs more than the record (Square's catalog lookup). */
  skus?: string[];
  /** The config that points the connector at another base URL (the connection-reset case uses a real local server). */
  at(baseUrl: string): Record<string, unknown>;
  /** Persistent interceptors the connector needs besides pages (token endpoints). */
  setup?(): void;
  /** Makes a record landable on the hub side (a shipment needs the fulfilment order the hub sent). */
  prepare?(s: Services, connectionId: string, id: string): Promise<void>;
}

type Fault = [label: string, apply: (tg: FaultTarget, i: nock.Interceptor) => { waitMs?: number } | void, expected: 'SUCCEEDED' | 'FAILED'];

const ATTEMPTS = 3;

const TIMEOUT_MS = 300;

export const FAULTS: Fault[] = [
  ['vendor throttle then success (the asked wait honoured)', (tg, i) => tg.throttle(i), 'SUCCEEDED'],
  ['500 every time', (tg, i) => { i.times(ATTEMPTS).reply(500, tg.errorBody(500)); }, 'FAILED'],
  ['503 every time', (tg, i) => { i.times(ATTEMPTS).reply(503, tg.errorBody(503)); }, 'FAILED'],
  // The reply comes after the client gave up: the request times out on every attempt.
  ['timeout', (_tg, i) => { i.times(ATTEMPTS).delay(TIMEOUT_MS * 10).reply(500, 'too late'); }, 'FAILED'],
  // Served by a real local server that drops the TCP connection of every page-2 request (see resettingVendor): nock's
  // replyWithError emits its error on the mock socket again after the request let go of it, an unhandled error in jest.
  ['connection reset', () => undefined, 'FAILED'],
  ['malformed JSON', (_tg, i) => { i.reply(200, '{"items": [{"id": 1003, "upd', { 'content-type': 'application/json' }); }, 'FAILED'],
  ['truncated page (a record missing required fields)', (tg, i) => { i.reply(...tg.reply(1, [tg.broken('1003')], false)); }, 'FAILED'],
];

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

/** Registers the matrix for one target as a `describe` block; `hub()` gives the file's test hub (seeded). */
export function describeSyncFaults(title: string, tg: FaultTarget, hub: () => TestHub): void {
  describe(`${title}: fault on page 2 under the sync engine`, () => {
    const unhandled: unknown[] = [];
    let saved: Services['connections']['openOptions'] = {};
    const onUnhandled = (err: unknown) => { unhandled.push(err); };
    beforeAll(() => {
      process.on('unhandledRejection', onUnhandled);
      process.on('uncaughtException', onUnhandled);
    });
    afterAll(() => {
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUnhandled);
    });
    beforeEach(() => {
      saved = hub().services.connections.openOptions;
      nock.disableNetConnect();
      tg.setup?.();
    });
    afterEach(() => {
      hub().services.connections.openOptions = saved;
      nock.cleanAll();
      nock.enableNetConnect();
    });

    test.each(FAULTS)('%s → no unhandled error, page 1 committed whole, cursor at page 2, clean resume', async (label, apply, expected) => {
      const t = hub();
      const s = t.services;
      const ds = t.db.dataSource;
      const clock = new VirtualClock(Date.now());
      s.connections.openOptions = { clock, random: () => 0.5, retry: { maxAttempts: ATTEMPTS, baseDelayMs: 1, maxDelayMs: 5, budgetMs: 120_000 } };
      const name = `${tg.kind}-${tg.stream}-${label.replace(/[^a-z0-9]+/gi, '-').slice(0, 30)}`;
      // A short timeout only where the fault is a timeout: elsewhere a slow CI machine must not time out by itself.
      const page1 = [tg.record('1001', minutesAgo(60)), tg.record('1002', minutesAgo(50))];
      const page2 = [tg.record('1003', minutesAgo(40))];
      const reset = label === 'connection reset' ? await resettingVendor(tg, page1, page2) : undefined;
      const conn = await s.connections.create({ name, kind: tg.kind, credentials: tg.credentials, settings: tg.settings,
        config: { ...tg.config, ...(reset ? tg.at(reset.url) : {}), startAt: minutesAgo(24 * 60), timeoutMs: label === 'timeout' ? TIMEOUT_MS : 20_000 } });
      for (const id of ['1001', '1002', '1003']) await tg.prepare?.(s, conn.id, id);
      await seedProductsOf(s, tg, [...page1, ...page2]);

      let asked: { waitMs?: number } = {};
      if (!reset) {
        tg.request(0).reply(...tg.reply(0, page1, true));
        asked = apply(tg, tg.request(1)) ?? {};
        if (expected === 'SUCCEEDED') tg.request(1).reply(...tg.reply(1, page2, false));
      }
      try {

      const run = await s.sync.runner.run(conn.id, { stream: tg.stream, trigger: 'MANUAL' });
      expect(unhandled).toEqual([]);
      expect(run.status).toBe(expected);
      const landed = async () => (await ds.query(`SELECT external_id FROM external_ref WHERE connection_id = $1 AND entity_type = $2 ORDER BY external_id`, [conn.id, tg.entity]))
        .map((r: { external_id: string }) => r.external_id);
      const quarantined = await ds.query(`SELECT record_id, reason FROM sync_quarantine WHERE connection_id = $1`, [conn.id]);
      expect(quarantined).toEqual([]); // every fault is the page's, never pinned on a record

      if (expected === 'SUCCEEDED') {
        expect(run).toMatchObject({ pages: 2, failed: 0 });
        expect(await landed()).toEqual(['1001', '1002', '1003']);
        if (asked.waitMs !== undefined) expect(clock.sleeps).toContain(asked.waitMs);
        else expect(clock.slept).toBeGreaterThan(0);
      } else {
        expect(run).toMatchObject({ pages: 1, failed: 0 });
        expect(run.errors.length).toBeGreaterThan(0);
        expect(await landed()).toEqual(['1001', '1002']);
        const [{ cursor }] = await ds.query(`SELECT cursor FROM sync_cursor WHERE connection_id = $1 AND stream = $2`, [conn.id, tg.stream]);
        expect(cursor.window?.pageToken).toBe(tg.token); // resumes at the failed page, not past it
        const [row] = await ds.query(`SELECT status, pages FROM sync_run WHERE id = $1`, [run.id]);
        expect(row).toEqual({ status: 'FAILED', pages: 1 });

        if (reset) reset.resume();
        else {
          nock.cleanAll();
          tg.setup?.();
          tg.request(1).reply(...tg.reply(1, page2, false));
          tg.request(0).reply(...tg.reply(0, [], false)).persist(); // the next (empty) window, as time moved on
        }
        const resumed = await s.sync.runner.run(conn.id, { stream: tg.stream, trigger: 'MANUAL' });
        expect(unhandled).toEqual([]);
        expect(resumed).toMatchObject({ status: 'SUCCEEDED', failed: 0 });
        expect(await landed()).toEqual(['1001', '1002', '1003']);
      }
      if (tg.entity === 'ORDER') {
        // Nothing half-written: every order of the channel has its lines, none twice.
        const [{ bare }] = await ds.query(`SELECT count(*)::int AS bare FROM orders o WHERE o.channel = $1 AND NOT EXISTS (SELECT 1 FROM order_line l WHERE l.order_id = o.id)`, [name]);
        expect(bare).toBe(0);
        const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM orders WHERE channel = $1`, [name]);
        expect(n).toBe(3);
      } else {
        const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM shipment s JOIN external_ref r ON r.internal_id = s.id AND r.entity_type = 'SHIPMENT' WHERE r.connection_id = $1`, [conn.id]);
        expect(n).toBe(3);
      }
      await assertStockInvariants(ds);
      } finally {
        await reset?.close();
      }
    });
  });
}

/**
 * A vendor on a real local socket: page 1, then every request's TCP connection is destroyed (the client sees
 * ECONNRESET / socket hang up) until `resume()`, after which it serves page 2 and then empty windows.
 */
async function resettingVendor(tg: FaultTarget, page1: Json[], page2: Json[]): Promise<{ url: string; resume(): void; close(): Promise<void> }> {
  let phase: 'fault' | 'resume' = 'fault';
  let n = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    n++;
    if (phase === 'fault' && n > 1) { req.socket.destroy(); return; }
    const [status, body, headers] = phase === 'fault' ? tg.reply(0, page1, true) : n === 1 ? tg.reply(1, page2, false) : tg.reply(0, [], false);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  nock.enableNetConnect('127.0.0.1');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    resume: () => { phase = 'resume'; n = 0; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** The hub must know the SKUs the vendor's fixture orders carry (else they are quarantined, not landed). */
async function seedProductsOf(s: Services, tg: FaultTarget, raws: Json[]): Promise<void> {
  if (tg.entity !== 'ORDER') return;
  const def = s.connections.registry.get(tg.kind)!;
  const vendor = openConnection(def, { config: { ...tg.config, startAt: minutesAgo(24 * 60) }, credentials: tg.credentials });
  const skus = new Set<string>(tg.skus ?? []);
  if (!tg.skus) for (const raw of raws) {
    const mapped = def.streams[tg.stream].map(raw, vendor.ctx) as CanonicalOrder | CanonicalOrder[] | null;
    for (const o of [mapped ?? []].flat()) for (const l of o.lines) skus.add(l.sku);
  }
  for (const sku of skus) {
    await s.products.upsert({ sku, name: `Product ${sku}` });
    await s.inventory.set({ sku, locationCode: 'WH-A', onHand: 1000 }, 'test');
  }
}

/** For 3PL/ERP shipment streams: a hub order whose fulfilment order was sent to the vendor as order `id`. */
export async function fulfilmentOrderSentAs(s: Services, connectionId: string, id: string): Promise<void> {
  const channel = `fo-source-${connectionId.slice(0, 8)}`;
  const { order } = await s.orders.placeOrder({ channel, externalId: id, lines: [{ sku: 'A', quantity: 1 }], shipTo: { country: 'US', city: 'Chicago', region: 'IL' } }, 'test');
  const [fo] = await s.dataSource.query(`SELECT id FROM fulfillment_order WHERE order_id = $1 ORDER BY id LIMIT 1`, [order.id]);
  expect(fo).toBeDefined();
  await s.dataSource.query(`INSERT INTO external_ref (connection_id, entity_type, external_id, internal_id) VALUES ($1, 'FULFILLMENT_ORDER', $2, $3)`, [connectionId, id, fo.id]);
}
