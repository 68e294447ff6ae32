import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { createDataSource } from './data-source';
import { ensureDatabase, startEmbeddedPostgres, withDatabase } from './embedded-postgres';

export interface Database {
  dataSource: DataSource;
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

const MIGRATION_LOCK = 724_301; // arbitrary, fixed: serialises migrations across hub instances

/** Applies pending migrations under an advisory lock, so instances starting together do not race. */
export async function migrate(ds: DataSource, log: Logger): Promise<number> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await ds.runMigrations({ transaction: 'each' });
    for (const m of applied) log.info({ migration: m.name }, 'migration applied');
    return applied.length;
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

/** Connects to DATABASE_URL, or starts the embedded server under the data directory; then migrates. */
export async function openDatabase(config: Config, log: Logger, opts: { migrate?: boolean } = {}): Promise<Database> {
  let url = config.databaseUrl;
  let stopServer: (() => Promise<void>) | undefined;
  if (!url) {
    const server = await startEmbeddedPostgres(config.dataDir, log, Number(process.env.SWITCHYARD_EMBEDDED_PG_PORT) || undefined);
    stopServer = () => server.stop();
    try {
      await ensureDatabase(server.adminUrl, 'switchyard');
    } catch (err) {
      await server.stop();
      throw err;
    }
    url = withDatabase(server.adminUrl, 'switchyard');
    log.info({ port: server.port, dataDir: config.dataDir }, 'embedded Postgres running');
  }
  const dataSource = createDataSource(url);
  try {
    await dataSource.initialize();
    if (opts.migrate !== false) await migrate(dataSource, log);
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy();
    if (stopServer) await stopServer();
    throw err;
  }
  return {
    dataSource,
    url,
    embedded: !!stopServer,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      if (stopServer) await stopServer();
    },
  };
}
