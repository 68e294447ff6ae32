/** What went wrong, coarsely; lets the sync engine decide between retry later, alert, and dead-letter. */
export type ConnectorErrorCode =
  | 'CONFIG' // config or credentials failed validation
  | 'AUTH' // rejected credentials or failed token refresh
  | 'THROTTLED' // rate limited beyond the retry budget
  | 'HTTP' // vendor answered with an error status
  | 'NETWORK' // no answer (connection reset, DNS, timeout)
  | 'MALFORMED_PAYLOAD' // body is not the JSON the contract promises (truncated, wrong shape)
  | 'MAPPING' // a record could not be mapped to the canonical model
  | 'VENDOR' // vendor-level error inside a 2xx (GraphQL errors, userErrors, INVALID listings status)
  | 'SIGNATURE'; // webhook signature or freshness check failed

export interface ConnectorErrorInit {
  code: ConnectorErrorCode;
  message: string;
  /** True when trying the same call again later may succeed. */
  retryable: boolean;
  status?: number;
  requestId?: string;
  /** The vendor operation ("searchOrders", "POST /V1/orders/{id}/cancel"). */
  operation?: string;
  stream?: string;
  /** External id (or index) of the record that failed. */
  record?: string;
  attempts?: number;
  details?: unknown;
  cause?: unknown;
}

/**
 * The only error connectors throw. Every field is safe to log (never holds credentials); `details` carries the
 * vendor's error body where there is one.
 */
export class ConnectorError extends Error {
  readonly code: ConnectorErrorCode;
  readonly retryable: boolean;
  readonly status?: number;
  readonly requestId?: string;
  readonly operation?: string;
  readonly stream?: string;
  readonly record?: string;
  readonly attempts?: number;
  readonly details?: unknown;

  constructor(init: ConnectorErrorInit) {
    super(init.message, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.name = 'ConnectorError';
    this.code = init.code;
    this.retryable = init.retryable;
    this.status = init.status;
    this.requestId = init.requestId;
    this.operation = init.operation;
    this.stream = init.stream;
    this.record = init.record;
    this.attempts = init.attempts;
    this.details = init.details;
  }

  /** Same error, tagged with the stream and record it happened in (keeps the first tag set). */
  withContext(ctx: { stream?: string; record?: string }): ConnectorError {
    const where = [ctx.stream && !this.stream ? `stream ${ctx.stream}` : '', ctx.record && !this.record ? `record ${ctx.record}` : '']
      .filter(Boolean)
      .join(', ');
    return new ConnectorError({
      code: this.code,
      message: where ? `${this.message} (${where})` : this.message,
      retryable: this.retryable,
      status: this.status,
      requestId: this.requestId,
      operation: this.operation,
      stream: this.stream ?? ctx.stream,
      record: this.record ?? ctx.record,
      attempts: this.attempts,
      details: this.details,
      cause: this.cause,
    });
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name, code: this.code, message: this.message, retryable: this.retryable, status: this.status,
      requestId: this.requestId, operation: this.operation, stream: this.stream, record: this.record, attempts: this.attempts,
    };
  }
}

export function isConnectorError(e: unknown): e is ConnectorError {
  return e instanceof ConnectorError;
}
