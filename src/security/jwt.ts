import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { Role, type Principal } from './roles';

export interface JwtConfig { secret?: string; jwksFile?: string; issuer?: string; audience?: string; roleClaim: string }

/**
 * Optional bearer JWTs for frontends: HS256 with a shared secret, or RS256 keys from a JWKS file. The role comes
 * from `roleClaim` (a string or an array; the most powerful known role wins).
 */
export class JwtVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(private readonly cfg: JwtConfig) {
    if (cfg.jwksFile) {
      this.key = createLocalJWKSet(JSON.parse(readFileSync(cfg.jwksFile, 'utf8')));
      this.algorithms = ['RS256'];
    } else if (cfg.secret) {
      if (cfg.secret.length < 32) throw new Error('SWITCHYARD_JWT_SECRET must be at least 32 characters');
      this.key = new TextEncoder().encode(cfg.secret);
      this.algorithms = ['HS256'];
    } else {
      throw new Error('JWT verification needs SWITCHYARD_JWT_SECRET or SWITCHYARD_JWT_JWKS_FILE');
    }
  }

  static looksLikeJwt(token: string): boolean {
    return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
  }

  /** The principal, or null when the token is invalid, expired or carries no known role. */
  async verify(token: string): Promise<Principal | null> {
    try {
      const { payload } = await jwtVerify(token, this.key as never, { algorithms: this.algorithms, issuer: this.cfg.issuer, audience: this.cfg.audience });
      const claim = payload[this.cfg.roleClaim];
      const names = (Array.isArray(claim) ? claim : [claim]).map((c) => String(c).toUpperCase());
      const role = [Role.ADMIN, Role.OPERATOR, Role.INTEGRATION, Role.VIEWER].find((r) => names.includes(r));
      if (!role) return null;
      return { actor: `jwt:${payload.sub ?? 'unknown'}`, role };
    } catch {
      return null;
    }
  }
}
