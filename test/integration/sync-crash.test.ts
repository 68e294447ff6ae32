// kill -9 crash safety of the sync engine (issue #6): a hub process importing orders from a sandbox channel is
// killed with SIGKILL at random points, restarted, and finally left to finish. The sandbox (Magento, speaking its
// REST contract over HTTP) lives in this test process, so its orders stay the same across the kills.
// Size: SYNC_CRASH_ORDERS × SYNC_CRASH_KILLS (issue size 10,000 × 20; the CI default is small), page size SYNC_CRASH_PAGE.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startMagentoSandbox, type MagentoSandbox } from '../../src/connectors/sandbox';
import { loadDemoNetwork } from '../../src/db/seed/load-demo';
import { assertStockInvariants, createTestHub, type TestHub } from '../support/test-hub';

const ORDERS = Number(process.env.SYNC_CRASH_ORDERS ?? 600);
const KILLS = Number(process.env.SYNC_CRASH_KILLS ?? 4);
const PAGE = Number(process.env.SYNC_CRASH_PAGE ?? 25);
const MASTER = 'sync-crash-master-key-0123456789abcdef012';
const CONNECTION = 'crash-magento';

let t: TestHub;
let sandbox: MagentoSandbox;

beforeAll(async () => {
  t = await createTestHub({ config: { masterKey: MASTER } });
  await loadDemoNetwork(t.db.dataSource);
  // The sandbox's clock runs a minute behind: every backlog order is older than the connector's read lag.
  sandbox = await startMagentoSandbox({ seed: 11, backlog: ORDERS, backlogHours: 24, ordersPerHour: 0, rateLimits: false,
    clock: { now: () => Date.now() - 60_000 }, maxPageSize: 1000 });
  await t.services.connections.create({ name: CONNECTION, kind: 'magento', credentials: sandbox.connection.credentials,
    config: { ...sandbox.connection.config, startAt: new Date(Date.now() - 3 * 86_400_000).toISOString(), pageSize: PAGE } });
}, 180_000);
afterAll(async () => {
  await sandbox?.close();
  await t?.close();
});

interface Life { killed: boolean; pagesSeen: number; done?: { done: string; created: number }; stderr: string }

/** One hub process. With `killAfterPages`, it is SIGKILLed a random few ms after it reported that many pages (0: after start-up). */
function life(killAfterPages?: number): Promise<Life> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'sync-crash.child.js'), t.db.url, CONNECTION, MASTER], { stdio: ['ignore', 'pipe', 'pipe'] });
    const l: Life = { killed: false, pagesSeen: 0, stderr: '' };
    let buffered = '';
    let armed = false;
    const arm = () => {
      if (armed || killAfterPages === undefined) return;
      armed = true;
      setTimeout(() => { l.killed = child.kill('SIGKILL'); }, Math.floor(Math.random() * 25));
    };
    child.stdout.on('data', (d) => {
      buffered += d;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (msg.page) l.pagesSeen = msg.page;
        if (msg.done) l.done = msg;
        if ((msg.ready && killAfterPages === 0) || (msg.page && killAfterPages !== undefined && msg.page >= killAfterPages)) arm();
      }
    });
    child.stderr.on('data', (d) => { l.stderr += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve(l);
      else reject(new Error(`sync child exited ${code ?? signal}: ${l.stderr}`));
    });
  });
}

test(`kill -9 the importing hub ${KILLS} times during a ${ORDERS}-order import → nothing lost, nothing twice, cursor and stock consistent`, async () => {
  const ds = t.db.dataSource;
  const pages = Math.ceil(ORDERS / PAGE);
  // At most `segment` pages per life, so the import cannot finish before the last kill.
  const segment = Math.max(1, Math.floor(pages / (KILLS + 2)));
  let midImport = 0;
  for (let k = 0; k < KILLS; k++) {
    const l = await life(Math.floor(Math.random() * (segment + 1)));
    expect(l.done).toBeUndefined();
    if (l.killed) midImport++;
  }
  expect(midImport).toBe(KILLS);
  const [{ committed }] = await ds.query(`SELECT count(*)::int AS committed FROM orders WHERE channel = $1`, [CONNECTION]);
  expect(committed).toBeLessThan(ORDERS); // the kills really interrupted the import

  const last = await life();
  expect(last.done).toMatchObject({ done: 'SUCCEEDED' });

  // 0 lost, 0 duplicated: exactly the sandbox's orders, each once, each with all its lines.
  const expected = new Map(sandbox.orders().map((o) => [sandbox.orderId(o.gen.seq), o.gen.lines.reduce((n, l) => n + l.quantity, 0)]));
  expect(expected.size).toBe(ORDERS);
  const got = await ds.query(`SELECT o.external_id, count(DISTINCT o.id)::int AS copies, coalesce(sum(l.quantity), 0)::int AS units
                                FROM orders o LEFT JOIN order_line l ON l.order_id = o.id WHERE o.channel = $1 GROUP BY o.external_id`, [CONNECTION]);
  expect(got).toHaveLength(ORDERS);
  const wrong = got.filter((r: { external_id: string; copies: number; units: number }) => r.copies !== 1 || expected.get(r.external_id) !== r.units);
  expect(wrong).toEqual([]);
  const [{ refs }] = await ds.query(`SELECT count(*)::int AS refs FROM external_ref r JOIN connection c ON c.id = r.connection_id WHERE c.name = $1 AND r.entity_type = 'ORDER'`, [CONNECTION]);
  expect(refs).toBe(ORDERS);
  // Every order was routed in the transaction that landed it.
  const [{ unrouted }] = await ds.query(`SELECT count(*)::int AS unrouted FROM orders WHERE channel = $1 AND status NOT IN ('ALLOCATED', 'BACKORDERED')`, [CONNECTION]);
  expect(unrouted).toBe(0);

  // Cursors consistent: the stream is read to its end, past every landed version, and the runs' counters (committed
  // with each page) add up to exactly one creation per order — no page was counted, or landed, twice.
  const [{ cursor }] = await ds.query(`SELECT cursor FROM sync_cursor s JOIN connection c ON c.id = s.connection_id WHERE c.name = $1 AND s.stream = 'orders'`, [CONNECTION]);
  expect(cursor.window).toBeUndefined();
  const [{ newest }] = await ds.query(`SELECT max(source_updated_at) AS newest FROM external_ref r JOIN connection c ON c.id = r.connection_id WHERE c.name = $1`, [CONNECTION]);
  expect(Date.parse(cursor.cursor)).toBeGreaterThan(newest.getTime());
  const runs = await ds.query(`SELECT status, created FROM sync_run r JOIN connection c ON c.id = r.connection_id WHERE c.name = $1 ORDER BY started_at`, [CONNECTION]);
  expect(runs.filter((r: { status: string }) => r.status === 'RUNNING')).toEqual([]);
  expect(runs[runs.length - 1].status).toBe('SUCCEEDED');
  expect(runs.reduce((n: number, r: { created: number }) => n + r.created, 0)).toBe(ORDERS);

  await assertStockInvariants(ds);
  console.log(`sync-crash: ${ORDERS} orders, ${PAGE}-order pages, ${KILLS} SIGKILLs mid-import (${runs.length} runs, ${runs.filter((r: { status: string }) => r.status === 'ABORTED').length} aborted rows), `
    + `0 lost, 0 duplicated, cursor at ${cursor.cursor}`);
}, Math.max(120_000, ORDERS * 30 + KILLS * 20_000));
