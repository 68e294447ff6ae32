import type { z } from 'zod';
import { ConnectorError } from './connector-error';

/**
 * Checks a vendor response envelope (not individual records) against a zod schema; a mismatch is a
 * MALFORMED_PAYLOAD error naming the operation and stream and the first offending path.
 */
export function expectShape<T>(schema: z.ZodType<T>, data: unknown, where: { operation: string; stream?: string; requestId?: string }): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  throw new ConnectorError({
    code: 'MALFORMED_PAYLOAD',
    message: `unexpected response from ${where.operation}${where.stream ? ` in stream ${where.stream}` : ''}: ${describeIssues(r.error)}`,
    retryable: false,
    operation: where.operation,
    stream: where.stream,
    requestId: where.requestId,
    details: r.error.issues,
  });
}

export function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Parses a raw record with a zod schema, throwing a short readable Error (the SDK adds stream and record). */
export function parseRecord<T>(schema: z.ZodType<T>, raw: unknown, what = 'record'): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw new Error(`${what} does not match the vendor contract: ${describeIssues(r.error)}`);
  return r.data;
}
