import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CanonicalEvent } from './canonical';
import { ConnectorError } from './connector-error';
import type { Clock } from './clock';

/** An incoming webhook exactly as received: the raw body bytes matter, signatures are computed over them. */
export interface WebhookRequest {
  rawBody: Buffer | string;
  headers: Record<string, string | string[] | undefined>;
  /** The full notification URL, for schemes that sign it (Square). */
  url?: string;
}

/**
 * How a connector receives pushes from its vendor.
 *
 * Extension point. `verify` must compare in constant time (use `verifyHmacBase64`); `deliveryId` identifies a
 * delivery for replay protection (vendors redeliver); `sentAt` lets the SDK reject stale replays; `parse` maps the
 * topic's payload to canonical events (pure; throw ConnectorError MALFORMED_PAYLOAD/MAPPING on bad input).
 */
export interface WebhookDefinition<Ctx> {
  /** Topics this connector understands (for registration and docs). */
  topics: string[];
  /** How old a delivery's `sentAt` may be (vendors redeliver for hours); default 5 minutes. */
  replayWindowMs?: number;
  verify(req: WebhookRequest, secret: string): boolean;
  deliveryId(req: WebhookRequest): string | undefined;
  sentAt?(req: WebhookRequest): number | undefined;
  parse(req: WebhookRequest, ctx: Ctx): CanonicalEvent[];
}

/**
 * Remembers delivery ids. `firstSeen` records the id and returns true the first time only. The sync engine
 * should back this with a table (unique on connection + delivery id) so replays are caught across restarts.
 */
export interface ReplayGuard {
  firstSeen(deliveryId: string): Promise<boolean> | boolean;
}

/** In-memory replay guard (tests, single process), bounded FIFO. */
export class MemoryReplayGuard implements ReplayGuard {
  private ids = new Set<string>();
  constructor(private readonly max = 50_000) {}
  firstSeen(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string);
    return true;
  }
}

export type WebhookOutcome =
  | { status: 'rejected'; httpStatus: 401 | 400; reason: string }
  | { status: 'duplicate'; httpStatus: 200; deliveryId: string }
  | { status: 'accepted'; httpStatus: 200; deliveryId?: string; events: CanonicalEvent[] };

export interface HandleWebhookOptions {
  secret: string;
  replay: ReplayGuard;
  clock: Clock;
  /** Reject deliveries whose vendor timestamp is older than this (default 5 minutes… vendors retry for hours, so the sync engine may widen it). */
  toleranceMs?: number;
}

/** Verify → freshness → parse → replay check. Deliveries that fail to parse are not remembered, so a fixed build can accept the redelivery. */
export async function handleWebhook<Ctx>(def: WebhookDefinition<Ctx>, ctx: Ctx, req: WebhookRequest, opts: HandleWebhookOptions): Promise<WebhookOutcome> {
  if (!def.verify(req, opts.secret)) return { status: 'rejected', httpStatus: 401, reason: 'invalid signature' };
  const sentAt = def.sentAt?.(req);
  const tolerance = opts.toleranceMs ?? def.replayWindowMs ?? 5 * 60_000;
  if (sentAt !== undefined && Math.abs(opts.clock.now() - sentAt) > tolerance) {
    return { status: 'rejected', httpStatus: 401, reason: `stale delivery (sent ${new Date(sentAt).toISOString()})` };
  }
  let events: CanonicalEvent[];
  try {
    events = def.parse(req, ctx);
  } catch (e) {
    if (e instanceof ConnectorError) return { status: 'rejected', httpStatus: 400, reason: e.message };
    return { status: 'rejected', httpStatus: 400, reason: (e as Error).message };
  }
  const id = def.deliveryId(req);
  if (id !== undefined && !(await opts.replay.firstSeen(id))) return { status: 'duplicate', httpStatus: 200, deliveryId: id };
  return { status: 'accepted', httpStatus: 200, deliveryId: id, events };
}

export function header(req: WebhookRequest, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() === want) return Array.isArray(v) ? v[0] : v;
  return undefined;
}

export function rawBodyBuffer(req: WebhookRequest): Buffer {
  return Buffer.isBuffer(req.rawBody) ? req.rawBody : Buffer.from(req.rawBody, 'utf8');
}

export function hmacSha256(key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * Constant-time comparison of an expected digest with a base64 signature from a header. Compares the canonical
 * base64 text, not decoded bytes: lenient base64 decoding would accept trailing garbage.
 */
export function verifyHmacBase64(expected: Buffer, provided: string | undefined): boolean {
  if (!provided) return false;
  const want = Buffer.from(expected.toString('base64'), 'utf8');
  const got = Buffer.from(provided.trim(), 'utf8');
  if (got.length !== want.length) return false;
  return timingSafeEqual(got, want);
}

/**
 * Standard Webhooks (standardwebhooks.com; ShipBob from 2025-07): `webhook-signature` holds space-separated
 * `v1,<base64 HMAC-SHA256>` entries over `<webhook-id>.<webhook-timestamp>.<raw body>`, keyed with the base64-decoded
 * part of a `whsec_` secret. Any matching entry verifies (secret rotation sends several). Freshness is checked by
 * the caller from `webhook-timestamp` (see `standardWebhookSentAt`).
 */
export function standardWebhookSignature(secret: string, id: string, timestamp: string, body: Buffer | string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  return `v1,${hmacSha256(key, `${id}.${timestamp}.`, Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')).toString('base64')}`;
}

export function verifyStandardWebhook(req: WebhookRequest, secret: string): boolean {
  const id = header(req, 'webhook-id');
  const ts = header(req, 'webhook-timestamp');
  const sigs = header(req, 'webhook-signature');
  if (!id || !ts || !sigs || !/^\d+$/.test(ts)) return false;
  const expected = Buffer.from(standardWebhookSignature(secret, id, ts, rawBodyBuffer(req)).slice(3), 'base64');
  let ok = false;
  for (const entry of sigs.split(' ')) {
    const [version, sig] = entry.split(',', 2);
    if (version !== 'v1' || !sig) continue;
    // Evaluate every entry (no early exit) so timing does not reveal which one matched.
    if (verifyHmacBase64(expected, sig)) ok = true;
  }
  return ok;
}

/** `webhook-timestamp` (Unix seconds) in ms, for the freshness check. */
export function standardWebhookSentAt(req: WebhookRequest): number | undefined {
  const ts = header(req, 'webhook-timestamp');
  return ts && /^\d+$/.test(ts) ? Number(ts) * 1000 : undefined;
}
