// retryingTransaction: a transaction PostgreSQL aborts to break a deadlock runs again whole, on fresh data; other
// errors are not retried. The deadlock is forced: two transactions lock two rows in opposite orders.
import { retryingTransaction } from '../../src/db/sql';
import { createTestHub, type TestHub } from '../support/test-hub';

let t: TestHub;
const q = (sql: string, params: unknown[] = []) => t.db.dataSource.query(sql, params);

beforeAll(async () => {
  t = await createTestHub();
  await q(`CREATE TABLE retry_probe (id int PRIMARY KEY, n int NOT NULL)`);
  await q(`INSERT INTO retry_probe VALUES (1, 0), (2, 0)`);
});
afterAll(async () => { await t?.close(); });

test('of two transactions locking rows in opposite orders, the one chosen as the deadlock victim runs again and both commit once', async () => {
  let attempts = 0;
  let firstHolds!: () => void;
  const firstHasLocked = new Promise<void>((resolve) => { firstHolds = resolve; });
  let secondHolds!: () => void;
  const secondHasLocked = new Promise<void>((resolve) => { secondHolds = resolve; });
  const bump = (first: number, second: number, holding: () => void, other: Promise<void>) => retryingTransaction(t.db.dataSource, async (em) => {
    attempts++;
    await em.query(`UPDATE retry_probe SET n = n + 1 WHERE id = $1`, [first]);
    holding();
    await other; // both hold their first row before either asks for its second: a deadlock, the first time round
    await em.query(`UPDATE retry_probe SET n = n + 1 WHERE id = $1`, [second]);
  });
  await Promise.all([bump(1, 2, firstHolds, secondHasLocked), bump(2, 1, secondHolds, firstHasLocked)]);
  expect(attempts).toBe(3); // two first attempts, one of them aborted by PostgreSQL, run once more
  expect(await q(`SELECT id, n FROM retry_probe ORDER BY id`)).toEqual([{ id: 1, n: 2 }, { id: 2, n: 2 }]);
});

test('any other error is not retried, and nothing of the transaction stays', async () => {
  let attempts = 0;
  await expect(retryingTransaction(t.db.dataSource, async (em) => {
    attempts++;
    await em.query(`UPDATE retry_probe SET n = n + 100 WHERE id = 1`);
    await em.query(`INSERT INTO retry_probe VALUES (2, 0)`); // duplicate key
  })).rejects.toMatchObject({ driverError: expect.objectContaining({ code: '23505' }) });
  expect(attempts).toBe(1);
  expect(await q(`SELECT n FROM retry_probe WHERE id = 1`)).toEqual([{ n: 2 }]);
});
