import { createTestDatabase, type TestDatabase } from '../support/test-db';

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase(); });
afterAll(async () => { await db?.drop(); });

test('migrations from empty leave no pending migration', async () => {
  expect(await db.dataSource.showMigrations()).toBe(false);
});
