import JSONbig from 'json-bigint';
import { ConnectorError } from './connector-error';

// storeAsString: integers beyond 2^53 come back as exact decimal strings; everything else as usual.
const parser = JSONbig({ storeAsString: true });

/**
 * json-bigint keeps a number literal as a string only when it is longer than 15 characters, and refuses exponents
 * that overflow. A text with no digit run that could be either parses identically with the native parser, several
 * times faster (a false match only costs speed).
 */
const NEEDS_EXACT = /\d[\d.eE+-]{14,}|\d[eE][+-]?\d/;

/**
 * Parses vendor JSON so that integers above 2^53 stay exact (as strings). Objects come back with ordinary
 * prototypes. Throws MALFORMED_PAYLOAD (not retryable) on invalid or truncated JSON.
 */
export function parseJsonSafe(text: string, where: { operation?: string; stream?: string } = {}): unknown {
  try {
    return NEEDS_EXACT.test(text) ? normalise(parser.parse(text)) : JSON.parse(text);
  } catch (cause) {
    const snippet = text.length > 80 ? `${text.slice(0, 40)}…${text.slice(-40)}` : text;
    throw new ConnectorError({
      code: 'MALFORMED_PAYLOAD',
      message: `invalid or truncated JSON from ${where.operation ?? 'vendor'}${where.stream ? ` in stream ${where.stream}` : ''}: ${(cause as Error).message ?? cause} in ${JSON.stringify(snippet)}`,
      retryable: false,
      operation: where.operation,
      stream: where.stream,
      cause,
    });
  }
}

function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalise(x);
    return out;
  }
  return v;
}

/** A vendor id (number, numeric string, or gid) as an exact string. Rejects numbers that already lost precision. */
export function idString(v: unknown, field = 'id'): string {
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isInteger(v)) {
    if (!Number.isSafeInteger(v)) throw new Error(`${field} ${v} exceeds 2^53 and was parsed lossily`);
    return String(v);
  }
  if (typeof v === 'bigint') return v.toString();
  throw new Error(`${field} is missing or not an id: ${JSON.stringify(v)}`);
}
