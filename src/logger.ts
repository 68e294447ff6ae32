import pino from 'pino';

export type Logger = pino.Logger;

/** Paths that may carry secrets anywhere in a log record; pino replaces them before serialising. */
const REDACT = [
  'password', '*.password', 'secret', '*.secret', 'token', '*.token', 'apiKey', '*.apiKey',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'credentials', '*.credentials', 'config.credentials',
];

export function createLogger(level = process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'), destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'switchyard' } }, destination);
}
