import './heap-tuning'; // first: before anything runs that V8 could learn allocation sites from
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { printSchema } from 'graphql';
import { loadConfig, type Config } from './config';
import { createLogger, type Logger } from './logger';
import { openDatabase, type Database } from './db/database';
import { isEmpty, loadDemoNetwork } from './db/seed/load-demo';
import { DEMO_DEFAULTS } from './db/seed/demo-network';
import { createServices } from './services';
import { startHub } from './server';
import { buildHubSchema } from './schema/build-schema';
import { runOptimizeCommand } from './routing/optimize.command';
import { runSimulateCommand } from './routing/simulate.command';
import { ReservationExpirySweeper } from './inventory/reservation-expiry.sweeper';
import { startDemoChannels } from './demo/demo-channels';
import { startReturnRestockJob } from './returns/restock-job';

const USAGE = `Usage: switchyard <command> [options]

Commands:
  serve                         start the hub (default): GraphQL over HTTP and WebSocket at /graphql
  migrate                       apply pending database migrations
  seed --demo [--locations N] [--skus N] [--seed N]
                                load the deterministic demo network (idempotent)
  sync <connection> [--stream S] [--since DATE] [--json]
                                pull a connection's streams now (all, or one), from the saved cursor or a date
  rotate-keys                   re-seal connector credentials under the first SWITCHYARD_MASTER_KEY key
  optimize --input FILE [--json] [--time-limit MS]
                                solve a batch allocation instance file (see README)
  simulate --orders FILE --rules A [--compare B] [--network FILE] [--json]
                                replay an order history against rule sets and compare them (what-if)
  simulate --generate N [--seed S] [--out FILE]
                                write a realistic seeded order history (JSON Lines)
  print-schema                  print the GraphQL schema (SDL)

Common options: --json (machine-readable output)
Environment: DATABASE_URL, PORT, SWITCHYARD_ADMIN_KEY, SWITCHYARD_MASTER_KEY, SWITCHYARD_DATA_DIR, LOG_LEVEL`;

/** A live line on a terminal: a bar when the share done is known, else a running count. */
function progressLine(json: boolean) {
  let last = 0;
  return (done: number, phase: string, fraction?: number) => {
    if (json || !process.stderr.isTTY) return;
    const now = Date.now();
    if (now - last < 100 && fraction !== 1) return;
    last = now;
    const bar = fraction === undefined ? '' : `[${'#'.repeat(Math.round(fraction * 30)).padEnd(30, '.')}] ${Math.floor(fraction * 100)}%  `;
    process.stderr.write(`\r  ${bar}${phase}: ${done.toLocaleString('en-US')}        `);
  };
}

async function withDatabase<T>(config: Config, log: Logger, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(config, log);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * Without SWITCHYARD_ADMIN_KEY, a random admin key is created once under the data directory (mode 0600) so that
 * a fresh `npm start` is usable; the key itself is never logged.
 */
function ensureAdminKey(config: Config, log: Logger): void {
  if (config.adminKey) return;
  config.adminKey = keyFile(config, 'admin-key', () => `sy_${randomBytes(24).toString('base64url')}`);
  log.info({ file: path.join(config.dataDir, 'admin-key') }, 'SWITCHYARD_ADMIN_KEY is not set: the admin API key is in this file (send it as Authorization: Bearer <key>)');
}

/** A secret kept under the data directory (mode 0600), created on first use. */
function keyFile(config: Config, name: string, create: () => string): string {
  const file = path.join(config.dataDir, name);
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, `${create()}\n`, { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

async function serve(config: Config, log: Logger): Promise<number> {
  const started = Date.now();
  ensureAdminKey(config, log);
  if (config.demoChannels && !config.masterKey) {
    // Demo connections need their credentials sealed; a local key is kept beside the data (never logged).
    config.masterKey = keyFile(config, 'master-key', () => `demo:${randomBytes(32).toString('base64')}`);
  }
  const db = await openDatabase(config, log);
  let closing = false;
  try {
    if (config.seedDemoOnFirstStart && (await isEmpty(db.dataSource))) {
      log.info('empty database: loading the demo network (first start)');
      const summary = await loadDemoNetwork(db.dataSource, DEMO_DEFAULTS);
      log.info(summary, 'demo network loaded');
    }
    const services = createServices(db.dataSource, config, log, db.url);
    const hub = await startHub(services, { port: config.port, host: config.host });
    await services.sync.start(); // schedules, job queue workers, outbox dispatcher
    const backorders = setInterval(() => {
      services.orders.retryBackorders(200).then(
        (n) => { if (n) log.info({ orders: n }, 'backordered orders re-routed after stock arrived'); },
        (err) => log.error({ err }, 'backorder retry failed'));
    }, 30_000);
    backorders.unref();
    // Expired cart reservations release themselves; old idempotency keys are purged (safe in every process).
    const sweeper = new ReservationExpirySweeper(services.inventory, { idempotency: services.idempotency, log });
    sweeper.start();
    const restock = startReturnRestockJob(services.returns, log);
    const demo = config.demoChannels ? await startDemoChannels(services, log).catch((err) => {
      log.warn({ err }, 'demo channels did not start; the hub runs without them');
      return undefined;
    }) : undefined;
    const [counts] = await db.dataSource.query(`SELECT (SELECT count(*) FROM location)::int AS locations,
      (SELECT count(*) FROM product)::int AS products, (SELECT count(*) FROM orders)::int AS orders,
      (SELECT coalesce(sum(on_hand), 0) FROM stock_level)::bigint AS units`);
    log.info({ url: hub.url, subscriptions: hub.url.replace(/^http/, 'ws'), database: db.embedded ? 'embedded' : 'DATABASE_URL', startupMs: Date.now() - started, ...counts },
      `Switchyard listening on ${hub.url}`);
    const shutdown = async (signal: string) => {
      if (closing) {
        log.warn('second signal: exiting now');
        process.exit(1);
      }
      closing = true;
      log.info({ signal }, 'shutting down');
      const force = setTimeout(() => { log.error('shutdown took over 20 s; exiting'); process.exit(1); }, 20000);
      force.unref();
      try {
        clearInterval(backorders);
        await demo?.stop();
        await sweeper.stop();
        await restock.stop();
        await services.sync.stop();
        await hub.close();
        await db.close();
        log.info('stopped cleanly');
        process.exit(0);
      } catch (err) {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      }
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    return -1; // keep running
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  switch (command) {
    case 'serve':
      return serve(config, log);
    case 'migrate': {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
      return withDatabase(config, log, async () => {
        // openDatabase has migrated; report what is applied.
        if (values.json) process.stdout.write(JSON.stringify({ migrated: true }) + '\n');
        else process.stdout.write('database schema is up to date\n');
        return 0;
      });
    }
    case 'seed': {
      const { values } = parseArgs({ args: rest, options: {
        demo: { type: 'boolean' }, locations: { type: 'string' }, skus: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' },
      } });
      if (!values.demo) throw new UsageError('seed needs --demo (the only data set so far)');
      const opts = {
        locations: values.locations ? Number(values.locations) : DEMO_DEFAULTS.locations,
        skus: values.skus ? Number(values.skus) : DEMO_DEFAULTS.skus,
        seed: values.seed ? Number(values.seed) : DEMO_DEFAULTS.seed,
      };
      return withDatabase(config, log, async (db) => {
        const started = Date.now();
        const summary = await loadDemoNetwork(db.dataSource, opts, progressLine(!!values.json));
        if (process.stderr.isTTY && !values.json) process.stderr.write('\n');
        const result = { ...summary, ms: Date.now() - started };
        process.stdout.write(values.json ? JSON.stringify(result) + '\n'
          : `demo network: ${summary.locations} locations, ${summary.products} products, ${summary.stockRows} stock rows (${summary.units} units) added in ${result.ms} ms\n`);
        return 0;
      });
    }
    case 'sync': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: {
        stream: { type: 'string' }, since: { type: 'string' }, json: { type: 'boolean' },
      } });
      const [connection] = positionals;
      if (!connection) throw new UsageError('sync needs a connection name or id');
      const since = values.since ? new Date(values.since) : undefined;
      if (since && Number.isNaN(since.getTime())) throw new UsageError(`--since "${values.since}" is not a date (use YYYY-MM-DD or an ISO time)`);
      return withDatabase(config, log, async (db) => {
        const services = createServices(db.dataSource, config, log, db.url);
        const opened = await services.connections.open(connection);
        const streams = values.stream ? [values.stream] : opened.vendor.streamNames();
        const summaries = [];
        for (const stream of streams) {
          const progress = progressLine(!!values.json);
          const summary = await services.sync.runner.run(opened.row.id, {
            stream, trigger: 'CLI', since,
            onProgress: (p) => progress(p.records, `${opened.row.name}/${stream}: ${p.pages} pages, records`, p.progress),
          });
          if (process.stderr.isTTY && !values.json) process.stderr.write('\n');
          summaries.push(summary);
          if (!values.json) {
            process.stdout.write(`${opened.row.name}/${stream}: ${summary.status} — ${summary.pages} pages, ${summary.created} created, ${summary.updated} updated, ` +
              `${summary.skipped} skipped, ${summary.failed} failed in ${summary.finishedAt.getTime() - summary.startedAt.getTime()} ms\n`);
            for (const e of summary.errors.slice(0, 10)) process.stdout.write(`  ! ${e}\n`);
          }
        }
        if (values.json) process.stdout.write(JSON.stringify(summaries) + '\n');
        return summaries.every((s) => s.status === 'SUCCEEDED') ? 0 : 1;
      });
    }
    case 'rotate-keys':
      return withDatabase(config, log, async (db) => {
        const changed = await createServices(db.dataSource, config, log, db.url).connections.rotateCredentials();
        process.stdout.write(`re-sealed ${changed} connection credential(s) under the first key of SWITCHYARD_MASTER_KEY\n`);
        return 0;
      });
    case 'optimize':
      return runOptimizeCommand(rest, process.stdout);
    case 'simulate':
      return runSimulateCommand(rest, process.stdout, process.stderr);
    case 'print-schema':
      process.stdout.write(printSchema(await buildHubSchema()) + '\n');
      return 0;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

class UsageError extends Error {}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => { if (code >= 0) process.exit(code); },
    (err) => {
      if (err instanceof UsageError || (err as { code?: string }).code?.startsWith?.('ERR_PARSE_ARGS')) {
        process.stderr.write(`switchyard: ${err.message}\n\n${USAGE}\n`);
        process.exit(2);
      }
      process.stderr.write(`switchyard: ${err instanceof Error ? err.message : String(err)}\n`);
      if (err instanceof Error && err.cause) process.stderr.write(`  caused by: ${String(err.cause)}\n`);
      process.exit(1);
    },
  );
}
