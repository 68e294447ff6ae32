import { startTestDatabaseServer } from './test-database-server';

/** One Postgres server per jest run (embedded, or DATABASE_URL); each test file gets its own database. */
export default async function globalSetup(): Promise<void> {
  if (process.env.SWITCHYARD_TEST_NO_DB === '1') return;
  await startTestDatabaseServer();
}
