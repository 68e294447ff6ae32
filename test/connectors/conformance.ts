/**
 * Conformance kit: the behaviour every connector must show under faults, run against nock with the vendor's own
 * payloads. A connector's test file supplies a harness (how its vendor serves pages, throttles and signs) and calls
 * `describeConformance(harness)`.
 */
import nock from 'nock';
import type { z } from 'zod';
import { ConnectorError } from '../../src/connectors/sdk/connector-error';
import type { Connection } from '../../src/connectors/sdk/connector';
import { VirtualClock } from '../../src/connectors/sdk/clock';
import type { StreamState } from '../../src/connectors/sdk/stream';
import type { WebhookRequest } from '../../src/connectors/sdk/webhooks';
import { MemoryReplayGuard } from '../../src/connectors/sdk/webhooks';

export interface ServedRequest {
  pageToken?: string;
  windowStart?: string;
  windowEnd?: string;
}

export interface ConformanceHarness {
  name: string;
  /** Opens a connection pointed at the nock host, with a virtual clock. */
  open(clock: VirtualClock, retry?: { maxAttempts?: number; budgetMs?: number }): Connection<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The incremental stream under test, its time overlap, and the record id of a mapped DTO. */
  stream: string;
  overlapMs: number;
  idOf(dto: unknown): string;
  /** The stream's primary key for the record with this id, when it is not the id itself (e.g. `sku@location`). */
  primaryKeyOf?(id: string): string;
  /** A raw vendor record (built from a cited fixture) with this id and updated-at. */
  rawRecord(id: string, updatedAt: string): unknown;
  /** The same raw record with a required field broken. */
  brokenRecord(id: string): unknown;
  /**
   * Registers interceptors serving `pages` from index `from` on, each checking the page token it receives, and
   * recording the request in `log`.
   */
  servePages(pages: unknown[][], opts: { from?: number; log?: ServedRequest[] }): void;
  /** One response that the vendor sends when throttling (and whether it carries Retry-After). */
  serveThrottle(): { retryAfterMs?: number };
  serveStatus(status: number, times: number): void;
  serveRawBody(body: string): void;
  /** Webhooks: a correctly signed delivery with a fresh timestamp, and the secret. */
  webhook?: {
    secret: string;
    signed(deliveryId: string, sentAt: Date): WebhookRequest;
  };
  /** Every fixture payload: its file (cited) and the canonical DTO schema it must satisfy. */
  fixtures: Array<{ file: string; map(): unknown[]; schema: z.ZodType<unknown> }>;
}

const T0 = '2026-01-10T00:00:00.000Z';

async function collect(conn: Connection<any, any>, stream: string, state: StreamState = {}) { // eslint-disable-line @typescript-eslint/no-explicit-any
  const batches: Array<{ records: unknown[]; state: StreamState }> = [];
  for await (const b of conn.read(stream, state)) batches.push(b);
  return batches;
}

async function failure(p: Promise<unknown>): Promise<ConnectorError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConnectorError) return e;
    throw e;
  }
  throw new Error('expected a ConnectorError, got success');
}

export function describeConformance(h: ConformanceHarness): void {
  describe(`${h.name} conformance`, () => {
    let clock: VirtualClock;
    beforeEach(() => {
      nock.disableNetConnect();
      clock = new VirtualClock(Date.parse('2026-01-10T12:00:00Z'));
    });
    afterEach(() => {
      nock.cleanAll();
      nock.enableNetConnect();
    });

    const rec = (i: number, minutes = i) => h.rawRecord(`${1000 + i}`, new Date(Date.parse(T0) + minutes * 60_000).toISOString());

    test('pagination runs to the end and every page is consumed', async () => {
      const pages = [[rec(1), rec(2)], [rec(3), rec(4)], [rec(5)]];
      const log: ServedRequest[] = [];
      h.servePages(pages, { log });
      const batches = await collect(h.open(clock), h.stream);
      const ids = batches.flatMap((b) => b.records.map(h.idOf));
      expect(ids).toEqual(['1001', '1002', '1003', '1004', '1005']);
      expect(nock.isDone()).toBe(true);
      expect(log.map((r) => r.pageToken ?? null)).toEqual([null, expect.any(String), expect.any(String)]);
      const last = batches[batches.length - 1].state;
      expect(last.window).toBeUndefined();
      expect(typeof last.cursor).toBe('string');
    });

    test('resumes from a saved state after an interruption, without skipping or repeating', async () => {
      const pages = [[rec(1), rec(2)], [rec(3)], [rec(4)]];
      h.servePages(pages, {});
      let saved: StreamState = {};
      const first: string[] = [];
      for await (const b of h.open(clock).read(h.stream)) {
        first.push(...b.records.map(h.idOf));
        saved = b.state;
        break; // process crash after committing batch 1
      }
      expect(saved.window?.pageToken).toBeTruthy();
      nock.cleanAll();
      const log: ServedRequest[] = [];
      h.servePages(pages, { from: 1, log });
      const rest = (await collect(h.open(clock), h.stream, JSON.parse(JSON.stringify(saved)))).flatMap((b) => b.records.map(h.idOf));
      expect(log[0].pageToken).toBe(saved.window!.pageToken);
      expect([...first, ...rest]).toEqual(['1001', '1002', '1003', '1004']);
      expect(nock.isDone()).toBe(true);
    });

    test('overlapping windows re-read the overlap and emit each version once', async () => {
      const at = (msAgo: number) => new Date(clock.now() - msAgo).toISOString();
      h.servePages([[h.rawRecord('1001', at(3 * 60_000)), h.rawRecord('1002', at(2 * 60_000))]], {});
      const run1 = await collect(h.open(clock), h.stream);
      const state = run1[run1.length - 1].state;
      expect(run1.flatMap((b) => b.records.map(h.idOf))).toEqual(['1001', '1002']);
      const cursor = state.cursor!;
      // record 1002's version was emitted inside the overlap: the state remembers it across runs
      expect(Object.keys(state.recent ?? {})).toContain(h.primaryKeyOf ? h.primaryKeyOf('1002') : '1002');

      const rec2Again = h.rawRecord('1002', at(2 * 60_000));
      const lateArrival = h.rawRecord('1003', at(4 * 60_000)); // committed late with an older timestamp
      clock.advance(3_600_000);
      const newVersion = h.rawRecord('1001', at(60_000));
      const log: ServedRequest[] = [];
      nock.cleanAll();
      h.servePages([[lateArrival, rec2Again, newVersion]], { log });
      nock.disableNetConnect();
      const run2 = await collect(h.open(clock), h.stream, JSON.parse(JSON.stringify(state)));
      expect(run2.flatMap((b) => b.records.map(h.idOf))).toEqual(['1003', '1001']);
      expect(Date.parse(log[0].windowStart!)).toBe(Date.parse(cursor) - h.overlapMs);
    });

    test('429 then success within the retry budget', async () => {
      const { retryAfterMs } = h.serveThrottle();
      h.servePages([[rec(1)]], {});
      const conn = h.open(clock, { budgetMs: 60_000 });
      const ids = (await collect(conn, h.stream)).flatMap((b) => b.records.map(h.idOf));
      expect(ids).toEqual(['1001']);
      expect(conn.ctx.http.throttledResponses).toBe(1);
      expect(clock.slept).toBeGreaterThan(0);
      expect(clock.slept).toBeLessThanOrEqual(60_000);
      if (retryAfterMs !== undefined) expect(clock.sleeps).toContain(retryAfterMs);
    });

    test('5xx is retried, then reported as a permanent error naming the stream', async () => {
      h.serveStatus(503, 3);
      const err = await failure(collect(h.open(clock, { maxAttempts: 3 }), h.stream));
      expect(err).toMatchObject({ code: 'HTTP', status: 503, retryable: false, attempts: 3, stream: h.stream });
      expect(nock.isDone()).toBe(true);
    });

    test('a truncated payload is a clear error naming the stream; nothing is emitted', async () => {
      h.serveRawBody('{"data": {"orders": {"nodes": [ {"id": "gid://sh');
      const emitted: unknown[] = [];
      const err = await failure((async () => {
        for await (const b of h.open(clock).read(h.stream)) emitted.push(...b.records);
      })());
      expect(err.code).toBe('MALFORMED_PAYLOAD');
      expect(err.stream).toBe(h.stream);
      expect(err.message).toMatch(h.stream);
      expect(emitted).toEqual([]);
    });

    test('a malformed record fails its whole page, naming stream and record', async () => {
      h.servePages([[rec(1), h.brokenRecord('1002'), rec(3)]], {});
      const emitted: unknown[] = [];
      const err = await failure((async () => {
        for await (const b of h.open(clock).read(h.stream)) emitted.push(...b.records);
      })());
      expect(err).toMatchObject({ code: 'MAPPING', stream: h.stream, record: expect.stringContaining('1002'), retryable: false });
      expect(err.message).toContain('1002');
      expect(emitted).toEqual([]);
    });

    if (h.webhook) {
      const wh = h.webhook;
      test('webhook: valid signature accepted, invalid rejected, replay detected, stale rejected', async () => {
        const conn = h.open(clock);
        const replay = new MemoryReplayGuard();
        const now = new Date(clock.now());
        const ok = await conn.webhook(wh.signed('delivery-1', now), { secret: wh.secret, replay });
        expect(ok.status).toBe('accepted');
        if (ok.status === 'accepted') expect(ok.events.length).toBeGreaterThan(0);

        const again = await conn.webhook(wh.signed('delivery-1', now), { secret: wh.secret, replay });
        expect(again).toMatchObject({ status: 'duplicate', httpStatus: 200 });

        const bad = wh.signed('delivery-2', now);
        const tampered: WebhookRequest = { ...bad, rawBody: Buffer.concat([Buffer.from(bad.rawBody), Buffer.from(' ')]) };
        expect(await conn.webhook(tampered, { secret: wh.secret, replay })).toMatchObject({ status: 'rejected', httpStatus: 401 });
        expect(await conn.webhook(bad, { secret: 'another-secret', replay })).toMatchObject({ status: 'rejected', httpStatus: 401 });

        const stale = wh.signed('delivery-3', new Date(clock.now() - 7 * 86_400_000));
        expect(await conn.webhook(stale, { secret: wh.secret, replay })).toMatchObject({ status: 'rejected', httpStatus: 401 });
      });
    }

    describe('fixtures map to valid canonical DTOs and round-trip', () => {
      test.each(h.fixtures.map((f) => [f.file, f] as const))('%s', (_file, f) => {
        const dtos = f.map();
        expect(dtos.length).toBeGreaterThan(0);
        for (const dto of dtos) {
          const r = f.schema.safeParse(dto);
          if (!r.success) throw new Error(`${f.file}: ${JSON.stringify(r.error.issues.slice(0, 3))}`);
          expect(JSON.parse(JSON.stringify(dto))).toEqual(dto);
        }
        expect(f.map()).toEqual(dtos); // deterministic
      });
    });
  });
}
