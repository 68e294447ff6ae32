import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import type { Principal } from './roles';

const SECRET_KEY = /(pass(word)?|secret|token|credential|api[-_]?key|authorization|private)/i;

/** Replaces values under secret-looking keys, at any depth, before anything is stored or logged. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1)]));
  }
  return value;
}

export interface AuditEntry {
  principal: Principal;
  operationName?: string | null;
  fields: string[];
  variables?: Record<string, unknown>;
  outcome: 'OK' | 'ERROR' | 'REJECTED';
  errorCodes: string[];
  requestId?: string;
}

/** Every mutation (and every refused one) is written here; the table is append-only at the database level. */
export class AuditLog {
  constructor(private readonly ds: DataSource, private readonly log: Logger) {}

  async record(e: AuditEntry): Promise<void> {
    try {
      await this.ds.query(
        `INSERT INTO audit_log (actor, role, operation_name, fields, variables, outcome, error_codes, request_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
        [e.principal.actor, e.principal.role, e.operationName ?? null, e.fields, JSON.stringify(redact(e.variables ?? {})), e.outcome, e.errorCodes, e.requestId ?? null],
      );
    } catch (err) {
      // The change itself has committed; losing its audit row must be loud.
      this.log.error({ err, actor: e.principal.actor, fields: e.fields }, 'failed to write the audit log');
    }
  }
}
