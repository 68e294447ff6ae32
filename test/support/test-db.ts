import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import { withDatabase } from '../../src/db/embedded-postgres';

export interface TestDatabase {
  url: string;
  dataSource: DataSource;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: process.env.SWITCHYARD_TEST_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database of its own for one test file (cloned from the run's template). */
export async function createTestDatabase(poolSize = 10): Promise<TestDatabase> {
  const template = process.env.SWITCHYARD_TEST_TEMPLATE;
  if (!template) throw new Error('no test template database: run through jest (global setup), without SWITCHYARD_TEST_NO_DB');
  const name = `${template}_f${randomBytes(5).toString('hex')}`;
  // Concurrent clones of one template can collide ("source database is being accessed"): retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
      break;
    } catch (err) {
      if (attempt >= 20 || !/being accessed by other users/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  const url = withDatabase(process.env.SWITCHYARD_TEST_ADMIN_URL!, name);
  const dataSource = createDataSource(url, { poolSize });
  await dataSource.initialize();
  return {
    url,
    dataSource,
    async drop() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
