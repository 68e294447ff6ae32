import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { DomainError, PG, pgCode, pgConstraint } from '../errors';
import type { Logger } from '../logger';

/**
 * Every error leaves with `extensions.code`. Domain errors keep their message and the field they name; database
 * constraint violations that input validation missed become user errors naming the constraint; anything else
 * is logged with its stack and shown only as an internal error (stack traces only with NODE_ENV=development).
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, log: Logger): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
  if (original instanceof DomainError) {
    return { ...base, message: original.message, extensions: { code: original.code, ...(original.field ? { field: original.field } : {}), ...original.details } };
  }
  const code = pgCode(original);
  if (code === PG.checkViolation || code === PG.foreignKeyViolation) {
    return { ...base, message: `the change violates ${pgConstraint(original) ?? 'a database constraint'}`, extensions: { code: 'BAD_USER_INPUT', constraint: pgConstraint(original) } };
  }
  if (code === PG.nulInText || code === PG.invalidTextRepresentation || code === PG.numericOutOfRange || code === PG.stringTooLong) {
    const message = code === PG.nulInText ? 'text must not contain NUL characters' : code === PG.numericOutOfRange ? 'a number is out of range' : code === PG.stringTooLong ? 'a text value is too long' : 'a value has the wrong format';
    return { ...base, message, extensions: { code: 'BAD_USER_INPUT' } };
  }
  if (code === PG.uniqueViolation) {
    return { ...base, message: `a record with the same key already exists (${pgConstraint(original) ?? 'unique key'})`, extensions: { code: 'CONFLICT' } };
  }
  if (code === PG.serializationFailure || code === PG.deadlockDetected) {
    return { ...base, message: 'the change collided with a concurrent one; retry it', extensions: { code: 'CONFLICT', retryable: true } };
  }
  // graphql-js's own request errors (variable coercion, unknown enum values) have no path and no code when
  // executed outside Apollo (graphql-ws, in-process): they are the caller's mistake.
  if (error instanceof GraphQLError && !error.path && !formatted.extensions?.code && (!error.originalError || error.originalError instanceof GraphQLError)) {
    return { ...base, extensions: { code: 'BAD_USER_INPUT' } };
  }
  const existingCode = formatted.extensions?.code;
  if (existingCode && existingCode !== 'INTERNAL_SERVER_ERROR') {
    const { stacktrace: _omit, ...extensions } = formatted.extensions ?? {};
    return { ...base, extensions: process.env.NODE_ENV === 'development' ? formatted.extensions : extensions };
  }
  log.error({ err: original, path: formatted.path }, 'internal error in GraphQL operation');
  return {
    ...base,
    message: 'Internal server error',
    extensions: { code: 'INTERNAL_SERVER_ERROR', ...(process.env.NODE_ENV === 'development' ? { detail: String(original) } : {}) },
  };
}

export function formatGraphQLErrors(errors: readonly GraphQLError[], log: Logger): GraphQLFormattedError[] {
  return errors.map((e) => formatError(e.toJSON(), e, log));
}
