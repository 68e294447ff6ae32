import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { RoutingOrder } from './types';

/**
 * Order histories for what-if simulation: JSON Lines, one order per line, in `placedAt` order. Each line is a
 * `RoutingOrder` with `placedAt` required:
 *
 *   {"id":"H-0000001","placedAt":"2025-11-28T14:03:07.000Z","channel":"web","method":"SHIP","customerKey":"C-000042",
 *    "shipTo":{"country":"US","city":"Chicago","region":"IL","latitude":41.85,"longitude":-87.65},
 *    "lines":[{"sku":"SKU-000001","quantity":1}]}
 *
 * Blank lines are skipped. Unknown fields are ignored, so exports from elsewhere may carry more.
 */
export type HistoryOrder = RoutingOrder & { placedAt: string };

const isoTime = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), {
  message: 'must be an ISO date-time such as 2025-11-28T14:03:07Z',
});

const addressSchema = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "US"'),
  name: z.string().optional(),
  line1: z.string().optional(),
  city: z.string().optional(),
  region: z.string().optional(),
  postalCode: z.string().optional(),
});

export const historyOrderSchema = z
  .object({
    id: z.string().min(1),
    placedAt: isoTime,
    channel: z.string().min(1).default('web'),
    method: z.enum(['SHIP', 'PICKUP', 'CURBSIDE']).default('SHIP'),
    pickupLocationCode: z.string().min(1).optional(),
    shipTo: addressSchema.optional(),
    lines: z
      .array(z.object({ sku: z.string().min(1), quantity: z.number().int('must be a whole number').positive('must be at least 1') }))
      .min(1, 'an order needs at least one line'),
    tags: z.array(z.string()).optional(),
    customerKey: z.string().optional(),
  })
  .superRefine((o, ctx) => {
    if (o.method === 'SHIP' && !o.shipTo) ctx.addIssue({ code: 'custom', path: ['shipTo'], message: 'required for SHIP orders (latitude, longitude, country)' });
    if (o.method !== 'SHIP' && !o.pickupLocationCode) ctx.addIssue({ code: 'custom', path: ['pickupLocationCode'], message: `required for ${o.method} orders` });
  });

/** A problem in an input file, located by file and (for line-based files) line number. */
export class SimulationInputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly detail: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${detail}`);
    this.name = 'SimulationInputError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(order)';
}

/** Parses one JSONL line (1-based `line` for messages). Returns undefined for a blank line. */
export function parseHistoryLine(text: string, file: string, line: number): HistoryOrder | undefined {
  if (!text.trim()) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new SimulationInputError(file, line, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new SimulationInputError(file, line, 'each line must be one order object');
  const r = historyOrderSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more)` : '';
    const id = typeof (data as { id?: unknown }).id === 'string' ? ` (order ${(data as { id: string }).id})` : '';
    throw new SimulationInputError(file, line, `${formatPath(issue.path)}: ${issue.message}${id}${more}`);
  }
  return r.data as HistoryOrder;
}

/**
 * Checks the order of a history as it streams: ids unique, `placedAt` never going backwards (the replay depletes
 * stock in time order, so a shuffled file would be a different history).
 */
export class HistorySequence {
  private readonly ids = new Map<string, number>();
  private lastTime = -Infinity;
  private lastLine = 0;
  constructor(private readonly file: string) {}

  accept(order: HistoryOrder, line: number): void {
    const seen = this.ids.get(order.id);
    if (seen !== undefined) throw new SimulationInputError(this.file, line, `duplicate order id "${order.id}" (first on line ${seen})`);
    this.ids.set(order.id, line);
    const t = Date.parse(order.placedAt);
    if (t < this.lastTime) {
      throw new SimulationInputError(this.file, line, `placedAt ${order.placedAt} is earlier than the order on line ${this.lastLine}; sort the history by placedAt`);
    }
    this.lastTime = t;
    this.lastLine = line;
  }
}

/** Streams a JSONL history file, validated line by line. */
export async function* readHistoryFile(file: string): AsyncGenerator<{ order: HistoryOrder; line: number }> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  const seq = new HistorySequence(file);
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      const order = parseHistoryLine(text, file, n);
      if (!order) continue;
      seq.accept(order, n);
      yield { order, line: n };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/** Parses a whole history held in memory (tests, small files). */
export function parseHistory(text: string, file = 'history.jsonl'): { order: HistoryOrder; line: number }[] {
  const seq = new HistorySequence(file);
  const out: { order: HistoryOrder; line: number }[] = [];
  text.split(/\r?\n/).forEach((t, i) => {
    const order = parseHistoryLine(t, file, i + 1);
    if (!order) return;
    seq.accept(order, i + 1);
    out.push({ order, line: i + 1 });
  });
  return out;
}

/** One order as a JSONL line (the generator's output format). */
export function historyLine(order: HistoryOrder): string {
  return JSON.stringify(order);
}
