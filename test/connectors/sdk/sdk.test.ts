// SDK building blocks, tested directly (no vendor fixtures needed except where cited).
import nock from 'nock';
import fc from 'fast-check';
import { VirtualClock } from '../../../src/connectors/sdk/clock';
import { addDecimal, sumDecimal } from '../../../src/connectors/sdk/decimal';
import { HttpClient, retryAfterMs } from '../../../src/connectors/sdk/http-client';
import JSONbig from 'json-bigint';
import { idString, parseJsonSafe } from '../../../src/connectors/sdk/json';
import { fixtureText } from '../fixtures';
import { linkHeaderNext, offsetNext } from '../../../src/connectors/sdk/paginators';
import { CostBucketLimiter, FixedWindowLimiter, TokenBucketLimiter } from '../../../src/connectors/sdk/rate-limit';
import { readStream, type StreamDefinition } from '../../../src/connectors/sdk/stream';
import { money, toUtcIso } from '../../../src/connectors/sdk/time';
import { hmacSha256, MemoryReplayGuard, verifyHmacBase64 } from '../../../src/connectors/sdk/webhooks';

describe('json', () => {
  test('integers above 2^53 stay exact; others are numbers', () => {
    expect(parseJsonSafe('{"id":820982911946154508,"n":12,"p":1.5,"a":[9007199254740993]}')).toEqual({ id: '820982911946154508', n: 12, p: 1.5, a: ['9007199254740993'] });
    expect(JSON.parse('{"id":820982911946154508}').id).not.toBe(820982911946154508n.toString()); // what we avoid
  });
  test('the native fast path gives exactly what the exact parser gives (vendor fixtures and edge cases)', () => {
    const exact = JSONbig({ storeAsString: true });
    const texts = [
      ...['order-1.json', 'order-6.json', 'refund-1.json', 'inventory_level-1.json', 'fulfillment_order-3.json'].map((f) => fixtureText(`shopify/rest-2026-07/${f}`)),
      fixtureText('amazon/OrderChangeNotification.json'),
      '{"p":-12345.67890123456,"q":123456789012345,"r":1234567890123456,"s":"12345678901234567890","t":1e5,"u":[0.5,-0]}',
    ];
    for (const t of texts) expect(parseJsonSafe(t)).toEqual(structuredClone(exact.parse(t)));
    expect(() => parseJsonSafe('{"a":1e400}')).toThrow(expect.objectContaining({ code: 'MALFORMED_PAYLOAD' }));
  });
  test('truncated JSON is MALFORMED_PAYLOAD, not retryable', () => {
    expect(() => parseJsonSafe('{"a":[1,2', { operation: 'op', stream: 's' })).toThrow(expect.objectContaining({ code: 'MALFORMED_PAYLOAD', retryable: false, stream: 's' }));
  });
  test('idString refuses numbers that already lost precision', () => {
    expect(idString(450789469)).toBe('450789469');
    expect(() => idString(820982911946154508)).toThrow(/2\^53/);
  });
});

describe('time and money', () => {
  test('zone-less timestamps are UTC; offsets are converted', () => {
    expect(toUtcIso('2026-01-09 10:00:00')).toBe('2026-01-09T10:00:00.000Z');
    expect(toUtcIso('2025-04-02T11:38:15-05:00')).toBe('2025-04-02T16:38:15.000Z');
    expect(() => toUtcIso('yesterday')).toThrow(/unparseable/);
  });
  test('money stays a decimal string', () => {
    expect(money('199.00')).toBe('199.00');
    expect(money(139.9)).toBe('139.90');
    expect(money(100)).toBe('100.00');
    expect(money(0.1234)).toBe('0.1234');
    expect(() => money('1e3')).toThrow();
  });
  test('decimal sums are exact (property)', () => {
    expect(sumDecimal(['0.10', '0.20'])).toBe('0.30');
    expect(addDecimal('-1.5', '0.25')).toBe('-1.25');
    fc.assert(fc.property(fc.array(fc.integer({ min: -1e9, max: 1e9 })), (cents) => {
      const s = sumDecimal(cents.map((c) => (c / 100).toFixed(2)));
      expect(Math.round(Number(s) * 100)).toBe(cents.reduce((a, b) => a + b, 0));
    }));
  });
});

describe('paginators', () => {
  test('Link header rel=next', () => {
    expect(linkHeaderNext('<https://x.test/a?page_info=abc>; rel="previous", <https://x.test/a?page_info=def>; rel="next"')).toBe('https://x.test/a?page_info=def');
    expect(linkHeaderNext('<https://x.test/a?page_info=abc>; rel="previous"')).toBeNull();
    expect(linkHeaderNext(undefined)).toBeNull();
  });
  test('offset pagination stops on total_count, and on an empty page', () => {
    expect(offsetNext({ page: 1, pageSize: 2, totalCount: 3, received: 2 })).toBe('2');
    expect(offsetNext({ page: 2, pageSize: 2, totalCount: 3, received: 2 })).toBeNull();
    expect(offsetNext({ page: 1, pageSize: 2, totalCount: 10, received: 0 })).toBeNull();
  });
});

describe('rate limiters', () => {
  test('cost bucket restores at restoreRate and follows throttleStatus', async () => {
    const c = new VirtualClock();
    const b = new CostBucketLimiter({ maximumAvailable: 100, restoreRate: 50 });
    await b.acquire('q', 100, c);
    await b.acquire('q', 50, c);
    expect(c.sleeps).toEqual([1000]);
    b.observe('q', { status: 200, headers: {}, data: { extensions: { cost: { throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 100 } } } } }, c);
    await b.acquire('q', 200, c);
    expect(c.sleeps).toEqual([1000, 2000]);
  });
  test('token buckets are per operation and a 429 empties the bucket', async () => {
    const c = new VirtualClock();
    const t = new TokenBucketLimiter({ a: { rate: 1, burst: 2 }, b: { rate: 10, burst: 1 } });
    await t.acquire('a', 1, c);
    await t.acquire('a', 1, c);
    await t.acquire('b', 1, c);
    expect(c.sleeps).toEqual([]);
    await t.acquire('a', 1, c);
    expect(c.sleeps).toEqual([1000]);
    t.observe('b', { status: 429, headers: { 'x-amzn-ratelimit-limit': '2' }, data: null }, c);
    expect(t.rateOf('b', c)).toBe(2);
    expect(t.throttleDelay('b', c)).toBe(500);
  });
  test('fixed window', async () => {
    const c = new VirtualClock();
    const f = new FixedWindowLimiter(2, 60_000);
    await f.acquire('x', 1, c);
    c.advance(10_000);
    await f.acquire('x', 1, c);
    await f.acquire('x', 1, c);
    expect(c.sleeps).toEqual([50_000]);
  });
});

describe('http client', () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  test('Retry-After (seconds or date) and x-retry-after', () => {
    expect(retryAfterMs({ 'retry-after': '2' }, 0)).toBe(2000);
    expect(retryAfterMs({ 'x-retry-after': '0.5' }, 0)).toBe(500);
    expect(retryAfterMs({ 'retry-after': 'Sat, 10 Jan 2026 12:00:05 GMT' }, Date.parse('2026-01-10T12:00:00Z'))).toBe(5000);
    expect(retryAfterMs({}, 0)).toBeUndefined();
  });

  test('x-retry-after (ShipBob style) is honoured, and jittered backoff grows when no header is sent', async () => {
    const c = new VirtualClock();
    const http = new HttpClient({ baseUrl: 'https://api.test', clock: c, random: () => 0, retry: { baseDelayMs: 1000 } });
    nock('https://api.test').get('/x').reply(429, {}, { 'x-retry-after': '7' });
    nock('https://api.test').get('/x').times(2).reply(500, {});
    nock('https://api.test').get('/x').reply(200, { ok: true }, { 'x-request-id': 'r1' });
    const res = await http.request({ path: '/x', operation: 'x' });
    expect(res).toMatchObject({ status: 200, data: { ok: true }, requestId: 'r1', attempts: 4 });
    expect(c.sleeps).toEqual([7000, 1000, 2000]); // equal jitter with random()=0: half of 2^n * base
  });

  test('gives up when the backoff budget would be exceeded', async () => {
    const c = new VirtualClock();
    const http = new HttpClient({ baseUrl: 'https://api.test', clock: c, retry: { budgetMs: 5000 } });
    nock('https://api.test').get('/x').reply(429, {}, { 'retry-after': '60' });
    await expect(http.request({ path: '/x', operation: 'x' })).rejects.toMatchObject({ code: 'THROTTLED', status: 429, retryable: false });
    expect(c.sleeps).toEqual([]);
  });

  test('network errors: idempotent requests are retried then reported retryable; writes are not resent', async () => {
    nock.enableNetConnect('127.0.0.1');
    const c = new VirtualClock();
    const http = new HttpClient({ baseUrl: 'http://127.0.0.1:1', clock: c, random: () => 0.5, retry: { maxAttempts: 3 } });
    await expect(http.request({ path: '/x', operation: 'x' })).rejects.toMatchObject({ code: 'NETWORK', retryable: true, attempts: 3 });
    expect(c.sleeps).toHaveLength(2);
    await expect(http.request({ method: 'POST', path: '/w', body: {}, operation: 'w' })).rejects.toMatchObject({ code: 'NETWORK', retryable: false, attempts: 1 });
    expect(c.sleeps).toHaveLength(2);
  });
});

describe('webhook primitives', () => {
  test('HMAC comparison rejects wrong lengths and trailing garbage', () => {
    const d = hmacSha256('k', 'body');
    expect(verifyHmacBase64(d, d.toString('base64'))).toBe(true);
    expect(verifyHmacBase64(d, `${d.toString('base64')}x`)).toBe(false);
    expect(verifyHmacBase64(d, undefined)).toBe(false);
  });
  test('SOURCES.md Standard Webhooks vector verifies with the same primitive', () => {
    const key = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64');
    const d = hmacSha256(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}');
    expect(verifyHmacBase64(d, 'g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=')).toBe(true);
  });
  test('SOURCES.md Square vector (URL + body)', () => {
    const d = hmacSha256('signature-key', 'https://webhook.site/webhooks', '{"data":{"type":"webhooks","id":"fake_id"}}');
    expect(verifyHmacBase64(d, 'W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA=')).toBe(true);
  });
  test('replay guard', () => {
    const g = new MemoryReplayGuard(2);
    expect([g.firstSeen('a'), g.firstSeen('a'), g.firstSeen('b'), g.firstSeen('c'), g.firstSeen('a')]).toEqual([true, false, true, true, true]);
  });
});

describe('readStream progress', () => {
  const DAY = 86_400_000;
  const now = Date.parse('2026-03-05T00:00:00Z');
  // One record per window, two pages in each window (the first page hands out a token).
  const def: StreamDefinition<object, { id: string; at: string }, { id: string; at: string }> = {
    name: 'orders',
    primaryKey: (r) => r.id,
    cursorField: (r) => r.at,
    windows: { sizeMs: DAY, overlapMs: 60_000, startAt: '2026-03-01T00:00:00Z' },
    fetchPage: async (_ctx, req) => req.pageToken
      ? { records: [{ id: `${req.window!.start}-b`, at: req.window!.start }], next: null }
      : { records: [{ id: `${req.window!.start}-a`, at: req.window!.start }], next: 'p2' },
    map: (r) => r,
  };

  it('reports how far through the time range a windowed read is, rising to 1 at the end', async () => {
    const seen: number[] = [];
    for await (const b of readStream(def, {}, {}, { now })) seen.push(b.progress!);
    expect(seen.length).toBeGreaterThan(4);
    expect(seen.every((p, i) => p >= 0 && p <= 1 && (i === 0 || p >= seen[i - 1]))).toBe(true);
    expect(seen.at(-1)).toBe(1);
    expect(seen[1]).toBeCloseTo(1 / 4, 2); // after the first whole day of four
  });

  it('counts from where a resumed read starts, not from the stream\'s start date', async () => {
    const seen: number[] = [];
    for await (const b of readStream(def, {}, { cursor: new Date(now - 2 * DAY).toISOString() }, { now })) seen.push(b.progress!);
    expect(seen[1]).toBeGreaterThan(0.45);
    expect(seen[1]).toBeLessThan(0.55);
  });
});

describe('readStream checkpoints in a long window', () => {
  const MIN = 60_000;
  const start = Date.parse('2026-03-01T00:00:00Z');
  const iso = (ms: number) => new Date(start + ms).toISOString();
  // One window of 10 hours read in pages of 10 records, one record a minute (600 in all), with a 10-minute
  // overlap. The window starts at the last run's cursor − overlap, so its first minutes were read last time.
  const page = (p: number) => Array.from({ length: 10 }, (_, i) => ({ id: `o${p * 10 + i}`, at: iso((p * 10 + i) * MIN) }));
  const def: StreamDefinition<object, { id: string; at: string }, { id: string; at: string }> = {
    name: 'orders',
    primaryKey: (r) => r.id,
    cursorField: (r) => r.at,
    windows: { sizeMs: 10 * 60 * MIN, overlapMs: 10 * MIN, startAt: iso(0) },
    fetchPage: async (_ctx, req) => {
      const p = Number(req.pageToken ?? 0);
      // The vendor shows o3 (read in the last run, inside the overlap) again on a later page, as a shifting offset can.
      const records = p === 30 ? [...page(p), { id: 'o3', at: iso(3 * MIN) }] : page(p);
      return { records, next: p < 59 ? String(p + 1) : null };
    },
    map: (r) => r,
  };

  it('stay as small as the two overlaps, and still drop what the last run emitted in the overlap', async () => {
    const carried = { o3: iso(3 * MIN) };
    const sizes: number[] = [];
    const emitted: string[] = [];
    let last: { cursor?: string; recent?: Record<string, string> } = {};
    for await (const b of readStream(def, {}, { cursor: iso(10 * MIN), recent: carried }, { now: start + 600 * MIN })) {
      sizes.push(Object.keys(b.state.recent ?? {}).length);
      emitted.push(...b.records.map((r) => r.id));
      last = b.state;
    }
    expect(emitted.filter((id) => id === 'o3')).toEqual([]); // the last run's version, on the first page and on page 30
    expect(emitted).toHaveLength(599);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(21); // the first overlap's minutes, then the last one's
    // The next run re-reads from cursor − overlap: the keys it must not emit again are all there.
    expect(last.cursor).toBe(iso(600 * MIN));
    expect(Object.keys(last.recent!).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `o${590 + i}`).sort());
  });
});
