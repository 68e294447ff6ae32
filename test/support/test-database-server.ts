import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import 'reflect-metadata';
import { createDataSource } from '../../src/db/data-source';
import { migrate } from '../../src/db/database';
import { startEmbeddedPostgres, withDatabase, type EmbeddedServer } from '../../src/db/embedded-postgres';
import { createLogger } from '../../src/logger';

let embedded: EmbeddedServer | undefined;
let dataDir: string | undefined;

/**
 * Starts (or connects to) the server for this jest run and builds a migrated template database; each test file
 * then clones it (CREATE DATABASE … TEMPLATE), so files are isolated and can run in parallel.
 */
export async function startTestDatabaseServer(): Promise<void> {
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-test-'));
    chmodSync(dataDir, 0o755);
    embedded = await startEmbeddedPostgres(dataDir, log);
    adminUrl = embedded.adminUrl;
  }
  const template = `sy_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${template}`);
  } finally {
    await admin.end();
  }
  const ds = createDataSource(withDatabase(adminUrl, template), { poolSize: 2 });
  await ds.initialize();
  try {
    await migrate(ds, log);
  } finally {
    await ds.destroy();
  }
  process.env.SWITCHYARD_TEST_ADMIN_URL = adminUrl;
  process.env.SWITCHYARD_TEST_TEMPLATE = template;
}

export async function stopTestDatabaseServer(): Promise<void> {
  const adminUrl = process.env.SWITCHYARD_TEST_ADMIN_URL;
  const template = process.env.SWITCHYARD_TEST_TEMPLATE;
  if (adminUrl && template && !embedded) {
    // On a shared server, leave nothing behind: the template and any per-file database a crashed test left.
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`, [template, `${template}_f%`]);
      for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(datname)} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
  if (embedded) await embedded.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
