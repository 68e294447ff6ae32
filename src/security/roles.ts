import { registerEnumType } from 'type-graphql';

export enum Role { ADMIN = 'ADMIN', OPERATOR = 'OPERATOR', INTEGRATION = 'INTEGRATION', VIEWER = 'VIEWER' }
registerEnumType(Role, { name: 'Role', description: 'What an API key or token may do (see the README for the full table).' });

/** Who is calling: an API key, a JWT subject, the bootstrap admin key, or nobody. */
export interface Principal {
  /** Recorded as the actor on every change and in the audit log (e.g. `key:<uuid>`, `jwt:<sub>`, `admin:bootstrap`). */
  actor: string;
  role: Role | null;
  /** INTEGRATION keys may be bound to one connection: they see only that connection's orders. */
  connectionId?: string | null;
  keyId?: string;
}

export const ANONYMOUS: Principal = { actor: 'anonymous', role: null };
