import type { z } from 'zod';
import { ConnectorError } from './connector-error';
import { describeIssues } from './shape';
import { addMs } from './time';

export interface TimeWindow {
  /** Inclusive, ISO-8601 UTC. */
  start: string;
  /** Exclusive, ISO-8601 UTC. */
  end: string;
}

export interface PageRequest {
  /** Set for incremental streams: fetch records whose cursor field is in [start, end). */
  window?: TimeWindow;
  /** The `next` of the previous page, absent for the first page. */
  pageToken?: string;
}

export interface Page<Raw> {
  records: Raw[];
  /** Opaque token for the next page, `null` on the last page. */
  next: string | null;
}

/**
 * One stream of records a connector reads (orders, locations, stock levels…).
 *
 * Extension point. A connector author writes `fetchPage` (one HTTP call, returning raw vendor records and the next
 * page token — use the helpers in `paginators.ts`) and `map` (pure: raw record → canonical DTO). The SDK's
 * `readStream` does the rest: time windows with overlap, resumable checkpoints, de-duplication of records
 * re-read in the overlap, all-or-nothing mapping per page, and errors that name the stream and record.
 */
export interface StreamDefinition<Ctx, Raw, Rec> {
  name: string;
  description?: string;
  /** The record's identity within the connection (usually the external id). */
  primaryKey(rec: Rec): string;
  /** ISO-8601 UTC timestamp the vendor filters on (updated_at). Absent for full-refresh streams. */
  cursorField?(rec: Rec): string;
  /**
   * Incremental reading in time windows. Each run reads [cursor − overlapMs, now − lagMs) in windows of at most
   * sizeMs; the overlap catches records the vendor commits late with an older timestamp.
   */
  windows?: { sizeMs: number; overlapMs: number; lagMs?: number; startAt: string | ((ctx: Ctx) => string) };
  fetchPage(ctx: Ctx, req: PageRequest): Promise<Page<Raw>>;
  /** Validates one raw record before `map` (zod); failures name the record. */
  recordSchema?: z.ZodType<unknown>;
  /** Best-effort id of a raw record, used in error messages before mapping succeeded. */
  rawId?(raw: Raw, index: number): string | undefined;
  /** Pure mapping; may emit several DTOs for one raw record, or none. Throwing makes the whole page fail. */
  map(raw: Raw, ctx: Ctx): Rec | Rec[] | null;
}

/**
 * A stream's checkpoint. Plain JSON: the sync engine saves it with the records of the same batch, in the same
 * transaction, and hands it back to resume.
 */
export interface StreamState {
  /** Everything with cursor < (cursor − overlap) has been emitted. */
  cursor?: string;
  /** A window in progress and the page to continue from. */
  window?: TimeWindow & { pageToken?: string };
  /** Full-refresh streams: the page to continue from. */
  pageToken?: string;
  /**
   * primary key → cursor value already emitted, for keys inside an overlap (de-duplication): the one this window
   * re-reads from the last, and the one the next window will re-read from this. Bounded by what the vendor changes
   * in two overlaps, however long the window.
   */
  recent?: Record<string, string>;
}

export interface StreamBatch<Rec> {
  records: Rec[];
  /** Save this together with `records`; reading again from it continues after them. */
  state: StreamState;
  /**
   * How far this read has come, 0..1, for incremental streams: the share of the time range [first window's start,
   * now − lag) read so far. Vendors rarely give totals, but every windowed read knows where it is in time.
   * Absent for full-refresh streams.
   */
  progress?: number;
}

export interface ReadOptions {
  now: number;
  /** Stop after this many pages (the state still resumes correctly). */
  maxPages?: number;
}

/**
 * Reads a stream from `state`, yielding one batch per vendor page. Each yielded state is safe to persist with its
 * records: resuming from it neither skips nor (modulo `recent`) repeats a record.
 */
export async function* readStream<Ctx, Raw, Rec>(
  def: StreamDefinition<Ctx, Raw, Rec>,
  ctx: Ctx,
  initial: StreamState = {},
  opts: ReadOptions,
): AsyncGenerator<StreamBatch<Rec>> {
  let pages = 0;
  const budget = () => opts.maxPages === undefined || pages < opts.maxPages;

  if (!def.windows) {
    let token = initial.pageToken;
    while (budget()) {
      const page = await fetch(def, ctx, { pageToken: token });
      pages++;
      const records = mapPage(def, ctx, page.records);
      token = page.next ?? undefined;
      yield { records, state: token ? { pageToken: token } : {} };
      if (!token) return;
    }
    return;
  }

  const w = def.windows;
  if (w.sizeMs <= w.overlapMs) throw new Error(`stream ${def.name}: window size must exceed the overlap`);
  const horizon = new Date(opts.now - (w.lagMs ?? 0)).toISOString();
  let state: StreamState = { ...initial, recent: { ...(initial.recent ?? {}) } };
  let rangeStart: number | undefined;
  let reported = 0;
  // Never backwards: the next window starts an overlap before the last one ended.
  const progressAt = (at: string) => {
    const span = Date.parse(horizon) - rangeStart!;
    reported = Math.max(reported, span > 0 ? Math.min(1, Math.max(0, (Date.parse(at) - rangeStart!) / span)) : 1);
    return reported;
  };
  while (budget()) {
    let window = state.window;
    if (!window) {
      const start = state.cursor ? addMs(state.cursor, -w.overlapMs) : new Date(typeof w.startAt === 'function' ? w.startAt(ctx) : w.startAt).toISOString();
      if (state.cursor && state.cursor >= horizon) return;
      if (start >= horizon) return;
      const end = minIso(addMs(start, w.sizeMs), horizon);
      window = { start, end };
    }
    rangeStart ??= Date.parse(window.start);
    const page = await fetch(def, ctx, { window: { start: window.start, end: window.end }, pageToken: window.pageToken });
    pages++;
    const recent = { ...(state.recent ?? {}) };
    const fresh: Rec[] = [];
    for (const rec of mapPage(def, ctx, page.records)) {
      const key = def.primaryKey(rec);
      const at = def.cursorField!(rec);
      if (recent[key] !== undefined && recent[key] >= at) continue; // already emitted this version or a newer one
      recent[key] = at;
      fresh.push(rec);
    }
    if (page.next) {
      // Keys from the middle of the window are let go page by page: no later window re-reads them, and a record a
      // shifting offset shows twice within the window reaches the lander as the version it already holds (a no-op).
      // Kept whole, they made every page's checkpoint as large as the window so far (quadratic over a backfill).
      const overlapEnd = addMs(window.start, w.overlapMs);
      const nextOverlap = addMs(window.end, -w.overlapMs);
      state = { cursor: state.cursor, window: { ...window, pageToken: page.next }, recent: keptOf(recent, (at) => at < overlapEnd || at >= nextOverlap) };
    } else {
      const cursor = state.cursor && state.cursor > window.end ? state.cursor : window.end;
      const keepFrom = addMs(cursor, -w.overlapMs);
      state = { cursor, recent: keptOf(recent, (at) => at >= keepFrom) };
    }
    // `state` and its `recent` are new objects each page and never mutated after this yield, so the caller may
    // keep them as they are (a JSON deep copy here cost O(keys in the window) per page, quadratic over a backfill).
    yield { records: fresh, state, progress: progressAt(state.window ? window.start : state.cursor!) };
    if (!state.window && state.cursor! >= horizon) return;
  }
}

function keptOf(recent: Record<string, string>, keep: (at: string) => boolean): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [k, at] of Object.entries(recent)) if (keep(at)) kept[k] = at;
  return kept;
}

async function fetch<Ctx, Raw, Rec>(def: StreamDefinition<Ctx, Raw, Rec>, ctx: Ctx, req: PageRequest): Promise<Page<Raw>> {
  try {
    const page = await def.fetchPage(ctx, req);
    if (!page || !Array.isArray(page.records)) {
      throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `stream ${def.name}: page without a records array`, retryable: false });
    }
    return page;
  } catch (e) {
    if (e instanceof ConnectorError) throw e.withContext({ stream: def.name });
    throw e;
  }
}

/** Maps a whole page or nothing: a half-mapped page would let the cursor pass a record that was never landed. */
function mapPage<Ctx, Raw, Rec>(def: StreamDefinition<Ctx, Raw, Rec>, ctx: Ctx, raws: Raw[]): Rec[] {
  const out: Rec[] = [];
  raws.forEach((raw, i) => {
    const id = safeRawId(def, raw, i);
    try {
      if (def.recordSchema) {
        const r = def.recordSchema.safeParse(raw);
        if (!r.success) throw new Error(describeIssues(r.error));
      }
      const m = def.map(raw, ctx);
      if (m === null) return;
      for (const rec of Array.isArray(m) ? m : [m]) out.push(rec);
    } catch (e) {
      if (e instanceof ConnectorError) throw e.withContext({ stream: def.name, record: id });
      throw new ConnectorError({
        code: 'MAPPING',
        message: `stream ${def.name}, record ${id}: ${(e as Error).message}`,
        retryable: false,
        stream: def.name,
        record: id,
        cause: e,
      });
    }
  });
  return out;
}

function safeRawId<Ctx, Raw, Rec>(def: StreamDefinition<Ctx, Raw, Rec>, raw: Raw, i: number): string {
  try {
    return def.rawId?.(raw, i) ?? `#${i}`;
  } catch {
    return `#${i}`;
  }
}

function minIso(a: string, b: string): string {
  return a < b ? a : b;
}
