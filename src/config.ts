import path from 'node:path';

export interface Config {
  /** External PostgreSQL; when unset, the hub starts an embedded one under `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  port: number;
  host: string;
  adminKey?: string;
  masterKey?: string;
  logLevel: string;
  /** Expose GraphQL introspection (on by default outside production). */
  introspection: boolean;
  /** Load the demo network on first start when the database has no locations. */
  seedDemoOnFirstStart: boolean;
  /** Start sandbox Shopify and Amazon channels that generate demo orders (never in production). */
  demoChannels: boolean;
  /** Route and reserve every new order as it arrives; off means operators allocate by hand (allocateOrder). */
  autoRoute: boolean;
  /** Let callers without credentials query `availability` (storefronts). Off unless configured. */
  anonymousAvailability: boolean;
  /** Origins allowed to call the API from a browser. */
  corsOrigins: string[];
  /** Requests per minute per API key (or per IP address for anonymous callers). */
  rateLimitPerMinute: number;
  maxBodyBytes: number;
  limits: { maxDepth: number; maxAliases: number; maxRootFields: number; maxComplexity: number; maxTokens: number };
  jwt?: { secret?: string; jwksFile?: string; issuer?: string; audience?: string; roleClaim: string };
}

function intFrom(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function boolFrom(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.SWITCHYARD_DATA_DIR || '.switchyard'),
    port: intFrom('PORT', env.PORT, 4000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    adminKey: env.SWITCHYARD_ADMIN_KEY || undefined,
    masterKey: env.SWITCHYARD_MASTER_KEY || undefined,
    logLevel: env.LOG_LEVEL || 'info',
    introspection: boolFrom('SWITCHYARD_INTROSPECTION', env.SWITCHYARD_INTROSPECTION, !production),
    seedDemoOnFirstStart: boolFrom('SWITCHYARD_SEED_DEMO', env.SWITCHYARD_SEED_DEMO, true),
    autoRoute: boolFrom('SWITCHYARD_AUTO_ROUTE', env.SWITCHYARD_AUTO_ROUTE, true),
    demoChannels: boolFrom('SWITCHYARD_DEMO_CHANNELS', env.SWITCHYARD_DEMO_CHANNELS, !production),
    anonymousAvailability: boolFrom('SWITCHYARD_ANONYMOUS_AVAILABILITY', env.SWITCHYARD_ANONYMOUS_AVAILABILITY, false),
    corsOrigins: (env.SWITCHYARD_CORS_ORIGINS ?? (production ? '' : 'https://sandbox.embed.apollographql.com,https://studio.apollographql.com'))
      .split(',').map((o) => o.trim()).filter(Boolean),
    rateLimitPerMinute: intFrom('SWITCHYARD_RATE_LIMIT_PER_MINUTE', env.SWITCHYARD_RATE_LIMIT_PER_MINUTE, 1200, 1, 10_000_000),
    maxBodyBytes: intFrom('SWITCHYARD_MAX_BODY_BYTES', env.SWITCHYARD_MAX_BODY_BYTES, 256 * 1024, 1024, 64 * 1024 * 1024),
    limits: {
      maxDepth: intFrom('SWITCHYARD_MAX_DEPTH', env.SWITCHYARD_MAX_DEPTH, 12, 2, 100),
      maxAliases: intFrom('SWITCHYARD_MAX_ALIASES', env.SWITCHYARD_MAX_ALIASES, 30, 0, 1000),
      maxRootFields: intFrom('SWITCHYARD_MAX_ROOT_FIELDS', env.SWITCHYARD_MAX_ROOT_FIELDS, 20, 1, 1000),
      maxComplexity: intFrom('SWITCHYARD_MAX_COST', env.SWITCHYARD_MAX_COST, 20000, 10, 10_000_000),
      maxTokens: intFrom('SWITCHYARD_MAX_TOKENS', env.SWITCHYARD_MAX_TOKENS, 4000, 100, 1_000_000),
    },
    jwt: env.SWITCHYARD_JWT_SECRET || env.SWITCHYARD_JWT_JWKS_FILE ? {
      secret: env.SWITCHYARD_JWT_SECRET || undefined,
      jwksFile: env.SWITCHYARD_JWT_JWKS_FILE || undefined,
      issuer: env.SWITCHYARD_JWT_ISSUER || undefined,
      audience: env.SWITCHYARD_JWT_AUDIENCE || undefined,
      roleClaim: env.SWITCHYARD_JWT_ROLE_CLAIM || 'role',
    } : undefined,
  };
}
