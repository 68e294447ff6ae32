import axios from 'axios';
import { createHmac, randomBytes } from 'node:crypto';
import { ConnectorError } from './connector-error';
import type { Clock } from './clock';
import { parseJsonSafe } from './json';

/** A request about to be sent, after the base URL is resolved. Auth providers may change headers only. */
export interface OutgoingRequest {
  method: string;
  /** Absolute URL without query string. */
  url: string;
  /** Query parameters exactly as they will be sent. */
  params: Array<[string, string]>;
  headers: Record<string, string>;
  body?: string;
}

/**
 * How a connector authenticates. Extension point: implement `apply` to add headers to each request; implement
 * `refresh` if a 401 can be cured by fetching a new token (the client calls it once, then retries).
 */
export interface AuthProvider {
  apply(req: OutgoingRequest, clock: Clock): Promise<void>;
  refresh?(clock: Clock): Promise<void>;
}

export const noAuth: AuthProvider = { apply: async () => {} };

/** A fixed header (Shopify `X-Shopify-Access-Token`, API keys). */
export function headerAuth(name: string, value: string): AuthProvider {
  return { apply: async (req) => void (req.headers[name] = value) };
}

export interface FetchedToken {
  token: string;
  /** Lifetime in seconds, when the issuer says. */
  expiresIn?: number;
}

/**
 * A token fetched from an endpoint, cached until shortly before it expires, re-fetched on 401.
 * `format` turns the token into the header value (`Bearer <t>` by default).
 */
export class FetchedTokenAuth implements AuthProvider {
  private token?: string;
  private expiresAt = 0;
  private inflight?: Promise<void>;

  constructor(
    private readonly fetchToken: () => Promise<FetchedToken>,
    private readonly header = 'authorization',
    private readonly format: (t: string) => string = (t) => `Bearer ${t}`,
    private readonly skewMs = 60_000,
  ) {}

  async apply(req: OutgoingRequest, clock: Clock): Promise<void> {
    if (!this.token || clock.now() >= this.expiresAt - this.skewMs) await this.refresh(clock);
    req.headers[this.header] = this.format(this.token!);
  }

  refresh(clock: Clock): Promise<void> {
    // Concurrent requests share one refresh.
    this.inflight ??= this.fetchToken()
      .then((t) => {
        this.token = t.token;
        this.expiresAt = t.expiresIn ? clock.now() + t.expiresIn * 1000 : Number.POSITIVE_INFINITY;
      })
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }
}

/**
 * OAuth 2 refresh-token grant (RFC 6749 §6), form-encoded. Amazon's Login with Amazon (LWA) is exactly this,
 * with the access token sent as `x-amz-access-token`.
 */
export function oauth2RefreshAuth(opts: {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  header?: string;
  format?: (t: string) => string;
  timeoutMs?: number;
}): FetchedTokenAuth {
  return new FetchedTokenAuth(
    async () => {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: opts.refreshToken,
        client_id: opts.clientId,
        client_secret: opts.clientSecret,
      });
      const res = await axios.post(opts.tokenUrl, form.toString(), {
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
        timeout: opts.timeoutMs ?? 15_000,
        responseType: 'text',
        transformResponse: [(d) => d],
        validateStatus: () => true,
      });
      if (res.status !== 200) {
        throw new ConnectorError({
          code: 'AUTH',
          message: `token refresh at ${opts.tokenUrl} failed with ${res.status}: ${String(res.data).slice(0, 200)}`,
          retryable: res.status >= 500 || res.status === 429,
          status: res.status,
          operation: 'oauth2.refresh',
        });
      }
      const body = parseJsonSafe(String(res.data), { operation: 'oauth2.refresh' }) as { access_token?: string; expires_in?: number };
      if (!body.access_token) {
        throw new ConnectorError({ code: 'AUTH', message: 'token endpoint returned no access_token', retryable: false, operation: 'oauth2.refresh' });
      }
      return { token: body.access_token, expiresIn: body.expires_in };
    },
    opts.header ?? 'authorization',
    opts.format ?? ((t) => `Bearer ${t}`),
  );
}

/** Amazon Login with Amazon: refresh token → `x-amz-access-token`. */
export function lwaAuth(opts: { clientId: string; clientSecret: string; refreshToken: string; tokenUrl?: string }): FetchedTokenAuth {
  return oauth2RefreshAuth({
    tokenUrl: opts.tokenUrl ?? 'https://api.amazon.com/auth/o2/token',
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    refreshToken: opts.refreshToken,
    header: 'x-amz-access-token',
    format: (t) => t,
  });
}

/** RFC 3986 percent-encoding as OAuth 1.0a requires (stricter than encodeURIComponent). */
export function oauthPercentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface OAuth1Credentials {
  consumerKey: string;
  consumerSecret: string;
  token: string;
  tokenSecret: string;
}

/**
 * OAuth 1.0a signature base string and header (RFC 5849 §3.4), with HMAC-SHA256 as Magento 2.4 integrations
 * accept. Body parameters are only signed for form-encoded bodies, which we never send (JSON bodies are not signed).
 */
export function oauth1Header(
  req: { method: string; url: string; params: Array<[string, string]> },
  creds: OAuth1Credentials,
  opts: { timestamp: number; nonce: string; signatureMethod?: 'HMAC-SHA256' | 'HMAC-SHA1' },
): { header: string; baseString: string; signature: string } {
  const method = opts.signatureMethod ?? 'HMAC-SHA256';
  const oauth: Array<[string, string]> = [
    ['oauth_consumer_key', creds.consumerKey],
    ['oauth_nonce', opts.nonce],
    ['oauth_signature_method', method],
    ['oauth_timestamp', String(opts.timestamp)],
    ['oauth_token', creds.token],
    ['oauth_version', '1.0'],
  ];
  const u = new URL(req.url);
  const fromUrl = [...u.searchParams.entries()];
  const all = [...fromUrl, ...req.params, ...oauth]
    .map(([k, v]) => [oauthPercentEncode(k), oauthPercentEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const normalised = all.map(([k, v]) => `${k}=${v}`).join('&');
  const port = u.port && !((u.protocol === 'http:' && u.port === '80') || (u.protocol === 'https:' && u.port === '443')) ? `:${u.port}` : '';
  const baseUrl = `${u.protocol}//${u.hostname.toLowerCase()}${port}${u.pathname}`;
  const baseString = [req.method.toUpperCase(), oauthPercentEncode(baseUrl), oauthPercentEncode(normalised)].join('&');
  const key = `${oauthPercentEncode(creds.consumerSecret)}&${oauthPercentEncode(creds.tokenSecret)}`;
  const signature = createHmac(method === 'HMAC-SHA256' ? 'sha256' : 'sha1', key).update(baseString).digest('base64');
  const header =
    'OAuth ' +
    [...oauth, ['oauth_signature', signature] as [string, string]]
      .map(([k, v]) => `${oauthPercentEncode(k)}="${oauthPercentEncode(v)}"`)
      .join(', ');
  return { header, baseString, signature };
}

/** Signs every request with OAuth 1.0a (Magento integration tokens). */
export function oauth1Auth(creds: OAuth1Credentials, nonce: () => string = () => randomBytes(16).toString('hex')): AuthProvider {
  return {
    apply: async (req, clock) => {
      req.headers.authorization = oauth1Header(req, creds, { timestamp: Math.floor(clock.now() / 1000), nonce: nonce() }).header;
    },
  };
}
