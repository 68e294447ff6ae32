import { GraphQLError } from 'graphql';
import type { ApiKeyService } from './api-key.service';
import { JwtVerifier } from './jwt';
import { ANONYMOUS, type Principal } from './roles';

export const unauthenticated = (message: string) => new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });

/** Turns an Authorization value into a principal: API key, JWT, or anonymous when absent. */
export class Authenticator {
  private readonly revalidated = new Map<string, { ok: boolean; at: number }>();

  constructor(private readonly keys: ApiKeyService, private readonly jwt?: JwtVerifier) {}

  /** Anonymous without a header; throws UNAUTHENTICATED for a malformed or unknown credential. */
  async fromAuthorization(value: unknown): Promise<Principal> {
    if (value === undefined || value === null || value === '') return ANONYMOUS;
    if (typeof value !== 'string') throw unauthenticated('authorization must be a string "Bearer <key>"');
    const match = /^Bearer\s+(\S+)$/i.exec(value.trim());
    if (!match) throw unauthenticated('authorization must be "Bearer <key>"');
    const token = match[1];
    const principal = this.jwt && JwtVerifier.looksLikeJwt(token) ? await this.jwt.verify(token) : await this.keys.authenticate(token);
    if (!principal) throw unauthenticated('the credential is invalid, expired or revoked');
    return principal;
  }

  /** For long-lived sockets: whether an API key principal is still live (checked at most every 30 s per key). */
  async stillValid(principal: Principal, bearer: string): Promise<boolean> {
    if (!principal.keyId) return true;
    const cached = this.revalidated.get(principal.keyId);
    if (cached && Date.now() - cached.at < 30_000) return cached.ok;
    const ok = !!(await this.keys.authenticate(bearer));
    this.revalidated.set(principal.keyId, { ok, at: Date.now() });
    return ok;
  }
}
