import type { Readable } from 'node:stream';
import axios, { AxiosInstance, AxiosResponse } from 'axios';
import { ConnectorError } from './connector-error';
import { type AuthProvider, noAuth, oauthPercentEncode, type OutgoingRequest } from './auth';
import { type Clock, systemClock } from './clock';
import { parseJsonSafe } from './json';
import { noLimit, type RateLimiter } from './rate-limit';

export type QueryParams = Record<string, string | number | boolean | undefined | null> | Array<[string, string]>;

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path relative to the base URL (or an absolute URL, e.g. a pre-signed feed upload). */
  path: string;
  params?: QueryParams;
  /** Serialised as JSON unless `rawBody` is given. */
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  /** Vendor operation name: the rate-limit bucket and the label in errors ("searchOrders", "graphql:orders"). */
  operation: string;
  /** Estimated cost for cost-based limiters (Shopify query cost); 1 otherwise. */
  cost?: number;
  /**
   * Safe to resend after the vendor may have applied it: GETs, and writes that carry an idempotency key or are
   * naturally idempotent (absolute sets). Non-idempotent writes are only retried on 429 (never processed).
   */
  idempotent?: boolean;
  /** Skip auth (public endpoints such as token issuance). */
  anonymous?: boolean;
  stream?: string;
  /** Return the body as text, undecoded (JSONL downloads, XML). */
  text?: boolean;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string | undefined>;
  data: T;
  requestId?: string;
  attempts: number;
}

/** Decision of a connector about a 2xx response (e.g. a GraphQL body that says THROTTLED). */
export type ResponseVerdict = { retry: true; delayMs?: number; reason: string } | { error: ConnectorError } | undefined;

export interface RetryPolicy {
  /** Attempts in total, first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Give up once the waits of one call would exceed this. */
  budgetMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, budgetMs: 120_000 };

export interface HttpClientOptions {
  baseUrl: string;
  timeoutMs?: number;
  auth?: AuthProvider;
  limiter?: RateLimiter;
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  /** Source of jitter in [0,1); injectable for deterministic tests. */
  random?: () => number;
  headers?: Record<string, string>;
  /** Response headers holding the vendor's request id, first match wins. */
  requestIdHeaders?: string[];
  /** Inspects 2xx responses for vendor-level failures. */
  inspect?: (res: HttpResponse, req: HttpRequest) => ResponseVerdict;
}

const DEFAULT_REQUEST_ID_HEADERS = ['x-request-id', 'x-amzn-requestid', 'x-amz-request-id', 'x-correlation-id'];

/**
 * The one HTTP client every connector uses. It owns: base URL (overridable for sandboxes and tests), auth
 * injection and refresh-on-401, timeouts, rate limiting before each attempt, retries with jittered exponential
 * backoff honouring `Retry-After` / `x-retry-after`, big-int-safe JSON, and typed `ConnectorError`s.
 *
 * Retries are hand-rolled rather than axios-retry because a retry decision here also depends on the body
 * (GraphQL THROTTLED inside a 200), on the vendor limiter's state (SP-API 429s carry no Retry-After) and on
 * a token refresh; one loop keeps those rules in one place.
 */
export class HttpClient {
  readonly baseUrl: string;
  readonly clock: Clock;
  private readonly axios: AxiosInstance;
  private readonly retry: RetryPolicy;
  private readonly auth: AuthProvider;
  private readonly limiter: RateLimiter;
  private readonly random: () => number;
  private readonly requestIdHeaders: string[];
  /** Count of responses with status 429 or a throttled verdict (for benchmarks and metrics). */
  throttledResponses = 0;
  requestsSent = 0;

  constructor(private readonly opts: HttpClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.clock = opts.clock ?? systemClock;
    this.retry = { ...defaultRetryPolicy, ...opts.retry };
    this.auth = opts.auth ?? noAuth;
    this.limiter = opts.limiter ?? noLimit;
    this.random = opts.random ?? Math.random;
    this.requestIdHeaders = opts.requestIdHeaders ?? DEFAULT_REQUEST_ID_HEADERS;
    this.axios = axios.create({
      timeout: opts.timeoutMs ?? 30_000,
      responseType: 'text',
      transformResponse: [(d) => d],
      validateStatus: () => true,
      maxRedirects: 0,
    });
  }

  async request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
    const method = req.method ?? 'GET';
    const idempotent = req.idempotent ?? method === 'GET';
    const url = /^https?:\/\//.test(req.path) ? req.path : `${this.baseUrl}${req.path.startsWith('/') ? '' : '/'}${req.path}`;
    const params = toPairs(req.params);
    const body = req.rawBody ?? (req.body === undefined ? undefined : JSON.stringify(req.body));
    let waited = 0;
    let refreshed = false;
    let last: { status?: number; requestId?: string; message: string; details?: unknown } = { message: 'not sent' };

    // The retry budget bounds ALL waiting between the first attempt and the last: the backoff or Retry-After sleep
    // and whatever the rate limiter adds before the retry may be sent (a failed request may have emptied its bucket).
    const mayRetry = (attempt: number, delay: number) => {
      if (attempt >= this.retry.maxAttempts) return false;
      const pacing = this.limiter.waitMs?.(req.operation, req.cost ?? 1, this.clock) ?? 0;
      return waited + Math.max(delay, pacing) <= this.retry.budgetMs;
    };

    let made = 0;
    for (let attempt = 1; attempt <= this.retry.maxAttempts; attempt++) {
      made = attempt;
      const acquiring = this.clock.now();
      await this.limiter.acquire(req.operation, req.cost ?? 1, this.clock);
      if (attempt > 1) waited += this.clock.now() - acquiring;
      const out: OutgoingRequest = {
        method,
        url,
        params,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...this.opts.headers,
          ...req.headers,
        },
        body,
      };
      if (!req.anonymous) await this.auth.apply(out, this.clock);

      let raw: AxiosResponse<string>;
      try {
        this.requestsSent++;
        raw = await this.axios.request<string>({
          method,
          url: params.length ? `${url}?${params.map(([k, v]) => `${oauthPercentEncode(k)}=${oauthPercentEncode(v)}`).join('&')}` : url,
          headers: out.headers,
          data: body,
        });
      } catch (cause) {
        const e = cause as { code?: string; message?: string };
        const timeout = e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT';
        last = { message: `${timeout ? 'timeout' : 'network error'} calling ${req.operation}: ${e.code ?? ''} ${e.message ?? ''}`.trim() };
        if (!idempotent) {
          // The vendor may have applied it; the caller must reconcile, not blindly resend.
          throw new ConnectorError({ code: 'NETWORK', message: last.message, retryable: false, operation: req.operation, stream: req.stream, attempts: attempt, cause });
        }
        const delay = this.backoff(attempt);
        if (!mayRetry(attempt, delay)) {
          throw new ConnectorError({ code: 'NETWORK', message: last.message, retryable: true, operation: req.operation, stream: req.stream, attempts: attempt, cause });
        }
        waited += delay;
        await this.clock.sleep(delay);
        continue;
      }

      const headers = lowerHeaders(raw.headers as Record<string, unknown>);
      const requestId = this.requestIdHeaders.map((h) => headers[h]).find(Boolean);
      const ok = raw.status >= 200 && raw.status < 300;
      const data = req.text ? raw.data : decodeBody(raw.data, headers['content-type'], ok, req, requestId, raw.status);
      this.limiter.observe(req.operation, { status: raw.status, headers, data, cost: req.cost ?? 1 }, this.clock);
      const res: HttpResponse<T> = { status: raw.status, headers, data: data as T, requestId, attempts: attempt };

      if (ok) {
        const verdict = this.opts.inspect?.(res, req);
        if (!verdict) return res;
        if ('error' in verdict) throw verdict.error;
        this.throttledResponses++;
        last = { status: raw.status, requestId, message: `${req.operation}: ${verdict.reason}`, details: data };
        const delay = verdict.delayMs ?? this.limiter.throttleDelay?.(req.operation, this.clock) ?? this.backoff(attempt);
        if (!mayRetry(attempt, delay)) break;
        waited += delay;
        await this.clock.sleep(delay);
        continue;
      }

      last = { status: raw.status, requestId, message: `${req.operation} failed with HTTP ${raw.status}: ${snippet(data)}`, details: data };
      if (raw.status === 401 && !refreshed && this.auth.refresh && !req.anonymous) {
        refreshed = true;
        await this.auth.refresh(this.clock);
        continue;
      }
      const throttled = raw.status === 429;
      if (throttled) this.throttledResponses++;
      const transient = throttled || raw.status === 408 || raw.status >= 500;
      if (!transient) {
        throw new ConnectorError({
          code: raw.status === 401 || raw.status === 403 ? 'AUTH' : 'HTTP',
          message: last.message,
          retryable: false,
          status: raw.status,
          requestId,
          operation: req.operation,
          stream: req.stream,
          attempts: attempt,
          details: data,
        });
      }
      if (!throttled && !idempotent) {
        throw new ConnectorError({ code: 'HTTP', message: `${last.message} (not retried: request is not idempotent)`, retryable: false, status: raw.status, requestId, operation: req.operation, stream: req.stream, attempts: attempt, details: data });
      }
      const delay =
        retryAfterMs(headers, this.clock.now()) ?? (throttled ? this.limiter.throttleDelay?.(req.operation, this.clock) : undefined) ?? this.backoff(attempt);
      if (!mayRetry(attempt, delay)) break;
      waited += delay;
      await this.clock.sleep(delay);
    }

    const throttled = last.status === 429 || (last.status !== undefined && last.status < 300);
    throw new ConnectorError({
      code: throttled ? 'THROTTLED' : 'HTTP',
      message: `${last.message} — gave up after ${made} attempts (at most ${this.retry.maxAttempts}, or ${this.retry.budgetMs} ms of waiting)`,
      retryable: false,
      status: last.status,
      requestId: last.requestId,
      operation: req.operation,
      stream: req.stream,
      attempts: made,
      details: last.details,
    });
  }

  /**
   * GETs a large file as a stream (bulk exports, reports), from byte `from` on. Asks for `Range: bytes=from-`;
   * `offset` in the result says where the body starts (0 when the server ignored the range and sent it all, so
   * the caller skips to `from` itself). Rate limiting, auth and retries of 429/5xx/network errors are as in
   * `request`, up to the moment the body starts. The caller must consume or `destroy()` the body.
   */
  async download(req: Omit<HttpRequest, 'method' | 'body' | 'rawBody' | 'text' | 'idempotent'> & { from?: number }): Promise<{ body: Readable; offset: number; status: number; headers: Record<string, string | undefined>; requestId?: string }> {
    const url = /^https?:\/\//.test(req.path) ? req.path : `${this.baseUrl}${req.path.startsWith('/') ? '' : '/'}${req.path}`;
    const from = req.from ?? 0;
    let waited = 0;
    let last = 'not sent';
    for (let attempt = 1; attempt <= this.retry.maxAttempts; attempt++) {
      await this.limiter.acquire(req.operation, req.cost ?? 1, this.clock);
      const out: OutgoingRequest = { method: 'GET', url, params: toPairs(req.params), headers: { ...this.opts.headers, ...req.headers, ...(from > 0 ? { range: `bytes=${from}-` } : {}) } };
      if (!req.anonymous) await this.auth.apply(out, this.clock);
      let raw: AxiosResponse<Readable> | undefined;
      try {
        this.requestsSent++;
        const query = out.params.map(([k, v]) => `${oauthPercentEncode(k)}=${oauthPercentEncode(v)}`).join('&');
        raw = await this.axios.request<Readable>({ method: 'GET', url: query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url, headers: out.headers, responseType: 'stream' });
      } catch (cause) {
        const e = cause as { code?: string; message?: string };
        last = `network error downloading (${req.operation}): ${e.code ?? ''} ${e.message ?? ''}`.trim();
      }
      if (raw) {
        const headers = lowerHeaders(raw.headers as Record<string, unknown>);
        const requestId = this.requestIdHeaders.map((h) => headers[h]).find(Boolean);
        if (raw.status === 200 || raw.status === 206) {
          // A 206 must start where we asked; anything else is treated as the whole file.
          const offset = raw.status === 206 && new RegExp(`^bytes ${from}-`).test(headers['content-range'] ?? '') ? from : 0;
          return { body: raw.data, offset, status: raw.status, headers, requestId };
        }
        const text = await readCapped(raw.data, 2_000);
        last = `${req.operation} failed with HTTP ${raw.status}: ${text}`;
        const transient = raw.status === 429 || raw.status === 408 || raw.status >= 500;
        if (raw.status === 429) this.throttledResponses++;
        if (!transient) {
          throw new ConnectorError({ code: raw.status === 401 || raw.status === 403 ? 'AUTH' : 'HTTP', message: last, retryable: false, status: raw.status, requestId, operation: req.operation, stream: req.stream, attempts: attempt });
        }
        const delay = retryAfterMs(headers, this.clock.now()) ?? this.backoff(attempt);
        if (attempt === this.retry.maxAttempts || waited + delay > this.retry.budgetMs) {
          throw new ConnectorError({ code: raw.status === 429 ? 'THROTTLED' : 'HTTP', message: `${last} — gave up after ${attempt} attempts`, retryable: false, status: raw.status, requestId, operation: req.operation, stream: req.stream, attempts: attempt });
        }
        waited += delay;
        await this.clock.sleep(delay);
        continue;
      }
      const delay = this.backoff(attempt);
      if (attempt === this.retry.maxAttempts || waited + delay > this.retry.budgetMs) {
        throw new ConnectorError({ code: 'NETWORK', message: last, retryable: true, operation: req.operation, stream: req.stream, attempts: attempt });
      }
      waited += delay;
      await this.clock.sleep(delay);
    }
    throw new ConnectorError({ code: 'NETWORK', message: last, retryable: true, operation: req.operation, stream: req.stream, attempts: this.retry.maxAttempts });
  }

  /** Equal-jitter exponential backoff: half fixed, half random, so retries spread but never fire at once. */
  private backoff(attempt: number): number {
    const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(cap / 2 + this.random() * (cap / 2));
  }
}

/** `Retry-After` (seconds or HTTP date) or ShipBob's `x-retry-after` (seconds), in ms. */
export function retryAfterMs(headers: Record<string, string | undefined>, now: number): number | undefined {
  const v = headers['retry-after'] ?? headers['x-retry-after'];
  if (v === undefined || v.trim() === '') return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, Math.ceil(secs * 1000));
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function toPairs(params: QueryParams | undefined): Array<[string, string]> {
  if (!params) return [];
  if (Array.isArray(params)) return params;
  return Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => [k, String(v)]);
}

function lowerHeaders(h: Record<string, unknown>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v == null ? undefined : String(v);
  return out;
}

function decodeBody(text: string, contentType: string | undefined, ok: boolean, req: HttpRequest, requestId: string | undefined, status: number): unknown {
  if (text === undefined || text === null || text === '') return null;
  // Without a content type, sniff: vendors answer scalars too (Magento's `true`, a shipment id).
  const looksJson = /json/i.test(contentType ?? '') || (!contentType && /^\s*([[{"]|true\b|false\b|null\b|-?\d)/.test(text));
  if (!looksJson) return text;
  try {
    return parseJsonSafe(text, { operation: req.operation, stream: req.stream });
  } catch (e) {
    if (!ok) return text; // error bodies are informative even when not JSON
    const err = e as ConnectorError;
    throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: err.message, retryable: false, status, requestId, operation: req.operation, stream: req.stream, cause: e });
  }
}

/** The first `max` characters of an error body, then the stream is let go. */
async function readCapped(body: Readable, max: number): Promise<string> {
  let text = '';
  try {
    for await (const chunk of body) {
      text += chunk.toString();
      if (text.length >= max) break;
    }
  } catch {
    // the error status is what matters
  } finally {
    body.destroy();
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function snippet(data: unknown): string {
  const s = typeof data === 'string' ? data : JSON.stringify(data);
  return s === undefined ? '' : s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
