import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { DomainError } from '../../src/errors';
import { assertStockInvariants, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
  await seedSmallNetwork(t.services);
});
afterAll(async () => { await t?.close(); });

interface Tally { ok: number; insufficient: number; other: string[] }

/** Starts the second process and resolves once it is connected and waiting for "go". */
function startChild(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; result: Promise<Tally> }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'inventory-race.child.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  return new Promise((resolveReady, rejectReady) => {
    let ready = false;
    const result = new Promise<Tally>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (!ready && out.includes('ready\n')) { ready = true; resolveReady({ child, result }); }
      });
      child.on('exit', (code) => {
        const last = out.trim().split('\n').pop()!;
        if (code === 0) resolve(JSON.parse(last) as Tally);
        else { const e = new Error(`child exited ${code}: ${err}`); reject(e); if (!ready) rejectReady(e); }
      });
    });
  });
}

describe('last-unit race across two processes', () => {
  it.each([1, 50])('200 reservations (100 here, 100 in another process) against stock of %i: exactly that many succeed', async (stock) => {
    const ds = t.db.dataSource;
    const sku = `XRACE-${stock}`;
    await t.services.products.upsert({ sku, name: 'cross-process race' });
    await t.services.inventory.set({ sku, locationCode: 'WH-A', onHand: stock }, 'test');
    const { child, result } = await startChild([t.db.url, sku, 'WH-A', '100']);
    child.stdin.end('go\n');
    const here = await Promise.allSettled(Array.from({ length: 100 }, () =>
      t.services.inventory.reserveStock({ lines: [{ sku, locationCode: 'WH-A', quantity: 1 }] }, 'parent')));
    const there = await result;
    const okHere = here.filter((r) => r.status === 'fulfilled').length;
    for (const r of here) if (r.status === 'rejected') expect((r.reason as DomainError).code).toBe('INSUFFICIENT_STOCK');
    expect(there.other).toEqual([]);
    expect(okHere + there.ok).toBe(Math.min(stock, 200));
    expect(okHere + there.ok + there.insufficient + (100 - okHere)).toBe(200);
    const [row] = await ds.query(`SELECT s.on_hand, s.reserved FROM stock_level s JOIN product p ON p.id = s.product_id WHERE p.sku = $1`, [sku]);
    expect(row).toEqual({ on_hand: stock, reserved: stock });
    await assertStockInvariants(ds);
  }, 60000);

  it('200 concurrent multi-line reservations from several connections never oversell either line', async () => {
    const inv = t.services.inventory;
    await t.services.products.upsert({ sku: 'ML1', name: 'ml1' });
    await t.services.products.upsert({ sku: 'ML2', name: 'ml2' });
    await inv.set({ sku: 'ML1', locationCode: 'WH-B', onHand: 50 }, 'test');
    await inv.set({ sku: 'ML2', locationCode: 'WH-B', onHand: 30 }, 'test');
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => inv.reserveStock({
      lines: i % 2 ? [{ sku: 'ML1', locationCode: 'WH-B', quantity: 1 }, { sku: 'ML2', locationCode: 'WH-B', quantity: 1 }]
        : [{ sku: 'ML2', locationCode: 'WH-B', quantity: 1 }, { sku: 'ML1', locationCode: 'WH-B', quantity: 1 }],
    }, 'pairs')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(30);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as DomainError).code).toBe('INSUFFICIENT_STOCK');
    await assertStockInvariants(t.db.dataSource);
  });
});
