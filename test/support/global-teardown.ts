import { stopTestDatabaseServer } from './test-database-server';

export default async function globalTeardown(): Promise<void> {
  await stopTestDatabaseServer();
}
