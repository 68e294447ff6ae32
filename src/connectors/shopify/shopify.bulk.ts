import { ConnectorError } from '../sdk/connector-error';
import type { ConnectorContext } from '../sdk/connector';
import { parseJsonSafe } from '../sdk/json';
import { jsonlLines, type JsonlLine } from '../sdk/jsonl';
import type { Page } from '../sdk/stream';
import { shopifyGraphql, type ShopifyConfig, type ShopifyCredentials } from './shopify.connector';
import * as Q from './shopify.queries';

type Ctx = ConnectorContext<ShopifyConfig, ShopifyCredentials>;

/**
 * The first backfill through a bulk operation, streamed: the JSONL result is read line by line and handed out in
 * pages of at most BULK_PAGE_ORDERS orders, so memory stays bounded whatever the shop's size. Each page token holds
 * the byte offset of the next order's line; the next page is read from there with an HTTP Range request, so a sync
 * interrupted mid-file resumes where it stopped without re-running the bulk query.
 */
export const BULK_PAGE_ORDERS = 250;

const STREAM = 'ordersBackfill';

export interface BulkCursor {
  url: string;
  /** Byte offset of the next order's line. */
  offset: number;
  /** Lines read before `offset`. */
  lines: number;
  /** Shopify's objectCount: the lines the whole file holds. */
  objects?: number;
}

export function encodeBulkCursor(c: BulkCursor): string {
  return JSON.stringify(c);
}

export function decodeBulkCursor(token: string): BulkCursor {
  let c: Partial<BulkCursor> | undefined;
  try {
    c = JSON.parse(token) as Partial<BulkCursor>;
  } catch {
    c = undefined;
  }
  if (!c || typeof c.url !== 'string' || !Number.isInteger(c.offset) || c.offset! < 0 || !Number.isInteger(c.lines)) {
    throw new ConnectorError({ code: 'CONFIG', message: `stream ${STREAM}: unreadable page token ${JSON.stringify(token).slice(0, 80)}`, retryable: false, stream: STREAM });
  }
  return c as BulkCursor;
}

/** Starts the bulk query of every order updated before now and polls until it completes; null when it found nothing. */
export async function startBulkOrders(ctx: Ctx): Promise<BulkCursor | null> {
  const until = new Date(ctx.clock.now()).toISOString();
  const started = await shopifyGraphql<{ bulkOperationRunQuery: { bulkOperation: { id: string } | null; userErrors: Array<{ field?: string[] | null; message: string }> } }>(
    ctx, Q.BULK_RUN_QUERY, { query: Q.bulkOrdersInnerQuery(`updated_at:<'${until}'`) }, { operation: 'bulkOperationRunQuery', cost: 10, stream: STREAM },
  );
  const errs = started.bulkOperationRunQuery.userErrors;
  if (errs?.length) {
    throw new ConnectorError({ code: 'VENDOR', message: `bulkOperationRunQuery rejected: ${errs.map((e) => `${e.field?.join('.') ?? ''} ${e.message}`.trim()).join('; ')}`, retryable: false, operation: 'bulkOperationRunQuery', stream: STREAM, details: errs });
  }
  let delay = 1_000;
  for (;;) {
    const { currentBulkOperation: op } = await shopifyGraphql<{ currentBulkOperation: { id: string; status: string; errorCode?: string | null; objectCount?: string | number | null; url?: string | null } | null }>(
      ctx, Q.BULK_CURRENT, {}, { operation: 'graphql:currentBulkOperation', cost: 1, stream: STREAM },
    );
    if (op && op.status === 'COMPLETED') {
      if (!op.url) return null; // no orders at all
      const objects = op.objectCount === undefined || op.objectCount === null ? undefined : Number(op.objectCount);
      return { url: op.url, offset: 0, lines: 0, ...(Number.isSafeInteger(objects) ? { objects } : {}) };
    }
    if (op && ['FAILED', 'CANCELED', 'CANCELLED', 'EXPIRED'].includes(op.status)) {
      throw new ConnectorError({ code: 'VENDOR', message: `bulk operation ${op.id} ${op.status}${op.errorCode ? ` (${op.errorCode})` : ''}`, retryable: true, operation: 'bulkOperationRunQuery', stream: STREAM });
    }
    await ctx.clock.sleep(delay);
    delay = Math.min(delay * 2, 30_000);
  }
}

/** Reads one page of orders from the result file, starting at the cursor. */
export async function readBulkOrdersPage(ctx: Ctx, at: BulkCursor, pageSize = BULK_PAGE_ORDERS): Promise<Page<unknown>> {
  const dl = await ctx.http.download({ path: at.url, from: at.offset, operation: 'bulk:download', stream: STREAM, anonymous: true, headers: { accept: 'application/jsonl' } });
  try {
    const lines = skipTo(jsonlLines(dl.body, { startOffset: dl.offset, operation: 'bulk:download', stream: STREAM }), at.offset);
    const page = await collectBulkOrders(lines, pageSize, at.lines).catch((e: unknown) => {
      if (e instanceof ConnectorError) throw e;
      // The connection broke mid-file: nothing of this page was handed out, so reading it again is safe.
      throw new ConnectorError({ code: 'NETWORK', message: `bulk download interrupted at or after byte ${at.offset}: ${(e as Error).message}`, retryable: true, operation: 'bulk:download', stream: STREAM, cause: e });
    });
    if (page.nextOffset !== null) return { records: page.orders, next: encodeBulkCursor({ ...at, offset: page.nextOffset, lines: page.lines }) };
    if (at.objects !== undefined && page.lines < at.objects) {
      throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `bulk result truncated: ${page.lines} of ${at.objects} objects`, retryable: true, operation: 'bulk:download', stream: STREAM });
    }
    return { records: page.orders, next: null };
  } finally {
    dl.body.destroy();
  }
}

/** When the server ignored the Range header, read past the bytes already handed out. */
async function* skipTo(lines: AsyncIterable<JsonlLine>, offset: number): AsyncGenerator<JsonlLine> {
  for await (const l of lines) if (l.offset >= offset) yield l;
}

type BulkOrder = Record<string, unknown> & { lineItems: { nodes: unknown[] } };

/**
 * Folds grouped bulk JSONL back into the GraphQL order shape: each order's line items (`__parentId`) follow it.
 * Stops before the first order that would exceed `pageSize` and returns that order's line offset (null at the
 * end of the file). A line item whose order is not on this page is an error, never silently dropped.
 */
export async function collectBulkOrders(lines: AsyncIterable<JsonlLine>, pageSize: number, linesBefore = 0): Promise<{ orders: BulkOrder[]; nextOffset: number | null; lines: number }> {
  const orders: BulkOrder[] = [];
  const byId = new Map<string, BulkOrder>();
  let count = linesBefore;
  for await (const line of lines) {
    if (!line.text.trim()) continue;
    const where = `bulk line ${count + 1} (byte ${line.offset})`;
    let obj: Record<string, unknown>;
    try {
      obj = parseJsonSafe(line.text, { operation: 'bulk:download', stream: STREAM }) as Record<string, unknown>;
    } catch (e) {
      throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `${where}: ${(e as Error).message}`, retryable: false, operation: 'bulk:download', stream: STREAM, cause: e });
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `${where}: not a JSON object`, retryable: false, operation: 'bulk:download', stream: STREAM });
    }
    const parent = obj.__parentId;
    if (parent === undefined) {
      if (orders.length >= pageSize) return { orders, nextOffset: line.offset, lines: count };
      const order: BulkOrder = { ...obj, lineItems: { nodes: [] } };
      orders.push(order);
      byId.set(String(obj.id), order);
    } else {
      const o = byId.get(String(parent));
      if (!o) {
        throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `${where}: line item of ${String(parent)} is not grouped under its order`, retryable: false, operation: 'bulk:download', stream: STREAM, record: String(parent) });
      }
      const { __parentId: _drop, ...child } = obj;
      o.lineItems.nodes.push(child);
    }
    count++;
  }
  return { orders, nextOffset: null, lines: count };
}
