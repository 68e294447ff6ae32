// The job queue's workers are woken by the NOTIFY of a committed enqueue and by a worker coming free, not only by
// their poll: here the poll is an hour, so every job that runs was claimed because of a wake.
import { createLogger } from '../../src/logger';
import { JOBS_CHANNEL, JobQueue } from '../../src/sync/job-queue';
import { createTestHub, type TestHub } from '../support/test-hub';
import { until } from '../support/until';

const HOUR = 3_600_000;
let t: TestHub;
const queues: JobQueue[] = [];

beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => {
  for (const q of queues) await q.stop();
  await t.close();
});

/** A queue with an hour's poll on the test database, woken through the hub's LISTEN connection like the hub's own. */
async function wokenQueue(kind: string, run: (payload: Record<string, unknown>) => Promise<void>, concurrency = 1): Promise<JobQueue> {
  const q = new JobQueue(t.db.dataSource, createLogger('silent'), { pollMs: HOUR, concurrency, baseBackoffMs: 1 });
  q.on(kind, run);
  await t.services.events.onNotify(JOBS_CHANNEL, () => q.wake());
  q.start();
  queues.push(q);
  return q;
}

const statusOf = async (id: string) => (await t.db.dataSource.query(`SELECT status FROM sync_job WHERE id = $1`, [id]))[0].status;

test('a job is claimed when its enqueue commits, and each freed worker claims the next one', async () => {
  const ran: number[] = [];
  const q = await wokenQueue('test.wake', async (p) => { ran.push(Number(p.n)); });
  await new Promise((r) => setTimeout(r, 100)); // the start-up round has found nothing; the next poll is an hour away

  await t.db.dataSource.transaction((em) => q.enqueue(em, 'test.wake', { n: 1 }));
  await until('the first job ran', () => ran.length === 1);

  // Three at once with one worker: the second and third are claimed only because the worker came free.
  await t.db.dataSource.transaction(async (em) => {
    for (const n of [2, 3, 4]) await q.enqueue(em, 'test.wake', { n });
  });
  await until('all four ran', () => ran.length === 4);
  expect(ran).toEqual([1, 2, 3, 4]);

  // A rolled-back enqueue neither queues a job nor runs one.
  await t.db.dataSource.transaction(async (em) => {
    await q.enqueue(em, 'test.wake', { n: 99 });
    throw new Error('rolled back');
  }).catch(() => undefined);
  // A job due later is not run by a wake: it waits for its time (the poll, here an hour away).
  const later = (await t.db.dataSource.transaction((em) => q.enqueue(em, 'test.wake', { n: 5 }, { runAt: new Date(Date.now() + HOUR) })))!;
  await t.db.dataSource.transaction((em) => q.enqueue(em, 'test.wake', { n: 6 }));
  await until('the due job ran', () => ran.length === 5);
  expect(ran).toEqual([1, 2, 3, 4, 6]);
  expect(await statusOf(later)).toBe('QUEUED');
  const [{ n }] = await t.db.dataSource.query(`SELECT count(*)::int AS n FROM sync_job WHERE kind = 'test.wake' AND payload->>'n' = '99'`);
  expect(n).toBe(0);
});

test('a dead job put back by replay runs at once', async () => {
  let fail = true;
  const done: string[] = [];
  const q = await wokenQueue('test.replay', async (p) => {
    if (fail) throw new Error('vendor down');
    done.push(String(p.id));
  });
  const id = (await t.db.dataSource.transaction((em) => q.enqueue(em, 'test.replay', { id: 'r1' }, { maxAttempts: 1 })))!;
  await until('the job is dead', async () => (await statusOf(id)) === 'DEAD');
  fail = false;
  expect(await q.retry(id)).toBe(true);
  await until('the replayed job ran', () => done.length === 1);
  expect(await statusOf(id)).toBe('DONE');
});

test('two instances woken by the same notifications run each job exactly once', async () => {
  const runs = new Map<number, number>();
  const count = async (p: Record<string, unknown>) => { runs.set(Number(p.n), (runs.get(Number(p.n)) ?? 0) + 1); };
  const a = await wokenQueue('test.shared', count, 2);
  await wokenQueue('test.shared', count, 2);
  for (let batch = 0; batch < 10; batch++) {
    await t.db.dataSource.transaction(async (em) => {
      for (let k = 0; k < 5; k++) await a.enqueue(em, 'test.shared', { n: batch * 5 + k });
    });
  }
  await until('all 50 ran', () => runs.size === 50);
  await new Promise((r) => setTimeout(r, 200));
  expect([...runs.values()].every((n) => n === 1)).toBe(true);
  const [{ left }] = await t.db.dataSource.query(`SELECT count(*)::int AS left FROM sync_job WHERE kind = 'test.shared' AND status <> 'DONE'`);
  expect(left).toBe(0);
});

test('a kind that runs in batches runs one batch at a time, what queues meanwhile forming the next; other kinds run beside it', async () => {
  const q = new JobQueue(t.db.dataSource, createLogger('silent'), { pollMs: HOUR, concurrency: 3 });
  let running = 0;
  let most = 0;
  const batches: number[][] = [];
  let release!: () => void;
  let gate = new Promise<void>((r) => { release = r; });
  const run = async (jobs: { payload: Record<string, unknown> }[]) => {
    running++;
    most = Math.max(most, running);
    batches.push(jobs.map((j) => Number(j.payload.n)));
    await gate;
    running--;
    return jobs.map(() => undefined);
  };
  q.onBatch('test.batched', 50, run); // a single job too, as a batch of one
  const other: number[] = [];
  q.on('test.other', async (p) => { other.push(Number(p.n)); });
  await t.services.events.onNotify(JOBS_CHANNEL, () => q.wake());
  q.start();
  queues.push(q);

  await t.db.dataSource.transaction((em) => q.enqueue(em, 'test.batched', { n: 0 }));
  await until('the first batch is running', () => batches.length === 1);
  // While it runs (held at the gate), more of its kind queue one by one, and a job of another kind.
  for (let n = 1; n <= 6; n++) await t.db.dataSource.transaction((em) => q.enqueue(em, 'test.batched', { n }));
  await t.db.dataSource.transaction((em) => q.enqueue(em, 'test.other', { n: 1 }));
  await until('the other kind ran beside the batch', () => other.length === 1);
  expect(batches).toHaveLength(1);
  release();
  await until('the queued ones ran as one more batch', () => batches.flat().length === 7);
  expect(batches).toEqual([[0], [1, 2, 3, 4, 5, 6]]);
  expect(most).toBe(1);
  gate = Promise.resolve();
});
