/**
 * Domain error codes. Each reaches GraphQL clients as `extensions.code`; business failures that a caller is
 * expected to handle (e.g. insufficient stock) are also returned as typed results by the resolvers.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'INVALID_TRANSITION'
  | 'INSUFFICIENT_STOCK'
  | 'NOT_ORDERABLE'
  | 'CONFLICT'
  | 'STALE_VALUE'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'INTERNAL_SERVER_ERROR';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Where the problem is, e.g. `input.lines[2].quantity`. */
    readonly field?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const badInput = (field: string, message: string) => new DomainError('BAD_USER_INPUT', `${field}: ${message}`, field);
export const notFound = (what: string, id: string, field?: string) =>
  new DomainError('NOT_FOUND', `${what} "${id}" was not found`, field, { id });

/** Postgres error codes we translate rather than let surface as internal errors. */
export const PG = {
  uniqueViolation: '23505',
  checkViolation: '23514',
  foreignKeyViolation: '23503',
  serializationFailure: '40001',
  /** Class 22 (data exceptions) that input validation let through: NUL in text, bad casts, out-of-range numbers. */
  nulInText: '22021',
  invalidTextRepresentation: '22P02',
  numericOutOfRange: '22003',
  stringTooLong: '22001',
  deadlockDetected: '40P01',
} as const;

export function pgCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

export function pgConstraint(err: unknown): string | undefined {
  const e = err as { constraint?: unknown; driverError?: { constraint?: unknown } };
  const c = e?.driverError?.constraint ?? e?.constraint;
  return typeof c === 'string' ? c : undefined;
}
