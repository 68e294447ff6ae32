import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runSimulateCommand } from '../../../src/routing/simulate.command';

const dir = mkdtempSync(join(tmpdir(), 'simulate-cli-'));
const file = (name: string, text?: string) => {
  const p = join(dir, name);
  if (text !== undefined) writeFileSync(p, text);
  return p;
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const code = await runSimulateCommand(argv, out);
  return { code, out: Buffer.concat(chunks).toString('utf8') };
}

const everyday = {
  id: 'everyday', version: 1, name: 'Cheapest nearby', status: 'PUBLISHED', splitPolicy: 'MINIMIZE',
  rankers: [{ type: 'cost', weight: 2 }, { type: 'distance', weight: 1 }],
};
const peakYaml = `
- id: everyday
  version: 1
  name: Cheapest nearby
  status: PUBLISHED
  splitPolicy: MINIMIZE
  rankers: [{ type: cost, weight: 2 }, { type: distance, weight: 1 }]
- id: peak
  version: 1
  name: Peak, warehouses first
  status: DRAFT
  validFrom: 2025-11-20
  validTo: 2026-01-01
  capacityRules: [{ locationTypes: [STORE], maxOrdersPerDay: 2 }]
  rankers: [{ type: locationType, weight: 3, order: [WAREHOUSE, THREE_PL, STORE] }, { type: cost, weight: 1 }]
`;

test('generate writes the same seeded history every time, then simulate compares two rule-set files', async () => {
  const h1 = file('h1.jsonl');
  const h2 = file('h2.jsonl');
  const gen = await run(['--generate', '400', '--seed', '9', '--out', h1, '--json']);
  expect(gen.code).toBe(0);
  expect(JSON.parse(gen.out)).toMatchObject({ orders: 400, seed: 9, busiestDay: '2025-11-28', out: h1 });
  expect((await run(['--generate', '400', '--seed', '9', '--out', h2])).code).toBe(0);
  expect(readFileSync(h2, 'utf8')).toBe(readFileSync(h1, 'utf8'));
  expect(readFileSync(h1, 'utf8').trim().split('\n')).toHaveLength(400);

  const a = file('A.json', JSON.stringify(everyday));
  const b = file('B.yaml', peakYaml);
  const json = await run(['--orders', h1, '--rules', a, '--compare', b, '--json', '--examples', '3']);
  expect(json.code).toBe(0);
  const report = JSON.parse(json.out);
  expect(report.format).toBe('switchyard-simulate/1');
  expect(report.network).toMatchObject({ source: 'demo', locations: 35 });
  expect(report.scenarios.map((s: { name: string; orders: number }) => [s.name, s.orders])).toEqual([[a, 400], [b, 400]]);
  expect(Object.keys(report.scenarios[0])).toEqual([
    'name', 'ruleSets', 'orders', 'routed', 'partial', 'backordered', 'unfulfillable', 'unfulfillableRate', 'unitsOrdered',
    'unfilledUnits', 'shippedOrders', 'shipments', 'shipmentsPerOrder', 'splitRate', 'shippingCost', 'costPerOrder',
    'meanDistanceKm', 'meanDeliveryDays', 'co2Kg', 'co2PerOrderKg', 'locations',
  ]);
  expect(report.scenarios[1].ruleSets.map((r: { id: string; orders: number }) => r.id)).toEqual(['everyday', 'peak']);
  expect(report.scenarios[1].ruleSets.every((r: { orders: number }) => r.orders > 0)).toBe(true);
  const [c] = report.comparisons;
  expect(c.changed).toBeGreaterThan(0); // warehouses first during the peak moves store and 3PL orders
  expect(c.examples).toHaveLength(3);
  expect(report.scenarios[0].co2Kg).toBeGreaterThan(0);
  expect(report.scenarios[0].meanDeliveryDays).toBeGreaterThan(1);
  // Stable: the same inputs print the same bytes.
  expect((await run(['--orders', h1, '--rules', a, '--compare', b, '--json', '--examples', '3'])).out).toBe(json.out);

  const text = await run(['--orders', h1, '--rules', a, '--compare', b]);
  expect(text.code).toBe(0);
  expect(text.out).toContain('shipments per order');
  expect(text.out).toContain('Location utilisation');
  expect(text.out).toMatch(/Changed decisions, .*B\.yaml vs .*A\.json: \d+ of 400 orders/);
});

test('usage and input mistakes exit 2 with the file and line named; unreadable files exit 1', async () => {
  const a = file('ok.json', JSON.stringify(everyday));
  const good = '{"id":"X1","placedAt":"2025-11-02T10:00:00Z","shipTo":{"latitude":41.9,"longitude":-87.6,"country":"US"},"lines":[{"sku":"SKU-000001","quantity":1}]}';
  const bad = file('bad.jsonl', `${good}\n{"id":"X2","placedAt":"2025-11-02T11:00:00Z","lines":[{"sku":"SKU-000001","quantity":1}]}\n`);

  expect(await run(['--orders', bad])).toMatchObject({ code: 2, out: expect.stringContaining('Missing --rules') });
  expect(await run(['--orders', bad, '--rules', a])).toMatchObject({ code: 2, out: `${bad}:2: shipTo: required for SHIP orders (latitude, longitude, country) (order X2)\n` });

  const badRules = file('bad-rules.yaml', 'id: x\nversion: 1\nname: X\nstatus: DRAFT\nsplitPolicy: SOMETIMES\n');
  const r = await run(['--orders', bad, '--rules', a, '--compare', badRules]);
  expect(r.code).toBe(2);
  expect(r.out).toMatch(new RegExp(`^${badRules.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: splitPolicy: `));
  const broken = file('broken.json', '{"id": ');
  expect(await run(['--orders', bad, '--rules', broken])).toMatchObject({ code: 2, out: expect.stringContaining(`${broken}: cannot parse`) });

  expect(await run(['--orders', file('missing.jsonl'), '--rules', a])).toMatchObject({ code: 1, out: expect.stringContaining('Cannot read') });
  expect(await run(['--orders', bad, '--rules', file('missing.json')])).toMatchObject({ code: 1, out: expect.stringContaining('cannot read') });
  expect(await run(['--generate', '10', '--orders', bad])).toMatchObject({ code: 2 });
  expect(await run(['--generate', 'many'])).toMatchObject({ code: 2, out: expect.stringContaining('--generate') });
  expect(await run(['--generate', '10', '--from', '2025-02-30x'])).toMatchObject({ code: 2, out: expect.stringContaining('from') });
  expect(await run(['--bogus'])).toMatchObject({ code: 2 });
  expect(await run(['--generate', '10', '--out', join(dir, 'no-such-dir', 'h.jsonl')])).toMatchObject({ code: 1, out: expect.stringContaining('cannot write') });
});
