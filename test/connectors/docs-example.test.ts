// Keeps the worked example of docs/adding-a-connector.md ("Acme Shop") true: its two code blocks must type-check
// against the SDK as it is, and the connector they define must read a paged orders window and verify a webhook.
// Acme is the doc's fictional vendor; its responses here are built from the example's own description.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import * as ts from 'typescript';
import { VirtualClock } from '../../src/connectors/sdk/clock';
import { openConnection, type ConnectorDefinition } from '../../src/connectors/sdk/connector';
import { hmacSha256, MemoryReplayGuard } from '../../src/connectors/sdk/webhooks';

const ROOT = join(__dirname, '..', '..');
const DIR = join(ROOT, 'src', 'connectors', 'acme');
const doc = readFileSync(join(ROOT, 'docs', 'adding-a-connector.md'), 'utf8');
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => /^\/\/ src\/connectors\/acme\//.test(b));
const files: Record<string, string> = Object.fromEntries(blocks.map((b) => [join(ROOT, /^\/\/ (\S+)/.exec(b)![1]), b]));

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

test('the doc has the mapper and the connector blocks', () => {
  expect(Object.keys(files).sort()).toEqual([join(DIR, 'acme.connector.ts'), join(DIR, 'acme.mapper.ts')]);
});

test('the worked example type-checks against the SDK', () => {
  const cfg = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(cfg.config, ts.sys, ROOT);
  const host = ts.createCompilerHost({ ...options, noEmit: true });
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  host.readFile = (f) => files[f] ?? read(f);
  host.fileExists = (f) => f in files || exists(f);
  const dirExists = host.directoryExists?.bind(host);
  host.directoryExists = (d) => d === DIR || (dirExists ? dirExists(d) : true);
  const program = ts.createProgram(Object.keys(files), { ...options, noEmit: true, skipLibCheck: true, types: [] }, host);
  const problems = Object.keys(files).flatMap((f) => [...program.getSyntacticDiagnostics(program.getSourceFile(f)), ...program.getSemanticDiagnostics(program.getSourceFile(f))])
    .map((d) => `${d.file?.fileName.replace(ROOT, '')}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  expect(problems).toEqual([]);
});

/** Loads the example as the hub would, resolving its relative imports to the real SDK. */
function loadExample(): ConnectorDefinition<{ shopId: string; baseUrl?: string }, { apiKey: string }> {
  const loaded: Record<string, Record<string, unknown>> = {};
  const load = (file: string): Record<string, unknown> => {
    if (loaded[file]) return loaded[file];
    const exports: Record<string, unknown> = (loaded[file] = {});
    const js = ts.transpileModule(files[file], { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
    const req = (spec: string) => {
      if (!spec.startsWith('.')) return require(spec); // eslint-disable-line @typescript-eslint/no-require-imports
      const target = join(DIR, spec);
      return files[`${target}.ts`] ? load(`${target}.ts`) : require(target); // eslint-disable-line @typescript-eslint/no-require-imports
    };
    new Function('exports', 'require', 'module', js)(exports, req, { exports });
    return exports;
  };
  return load(join(DIR, 'acme.connector.ts')).acmeConnector as ConnectorDefinition<{ shopId: string; baseUrl?: string }, { apiKey: string }>;
}

test('the example connector pages an orders window to the end and verifies its webhook', async () => {
  const acme = loadExample();
  const order = (id: number) => ({
    id, updated: '2026-01-10T09:00:00Z', created: '2026-01-10T08:00:00-05:00', currency: 'USD', total: '24.00', state: 'open',
    lines: [{ id: id * 10, sku: 'SKU-000001', qty: 1, price: '24.00' }],
  });
  const pages: string[] = [];
  nock('https://demo.acme.example').get('/api/orders').query((q) => (pages.push(String(q.page)), q.page === '1' && q.per_page === '100'))
    .reply(200, { orders: Array.from({ length: 100 }, (_x, i) => order(1000 + i)), total: 150 });
  nock('https://demo.acme.example').get('/api/orders').query((q) => (pages.push(String(q.page)), q.page === '2'))
    .reply(200, { orders: Array.from({ length: 50 }, (_x, i) => order(1100 + i)), total: 150 });
  const conn = openConnection(acme, { config: { shopId: 'demo' }, credentials: { apiKey: 'k' }, clock: new VirtualClock(Date.parse('2024-01-03T00:00:00Z')) });
  const { records } = await conn.readAll<{ externalId: string; placedAt: string; lines: unknown[] }>('orders');
  expect(records).toHaveLength(150);
  expect(records[0]).toMatchObject({ externalId: '1000', placedAt: '2026-01-10T13:00:00.000Z', lines: [{ externalId: '10000', sku: 'SKU-000001', quantity: 1, unitPrice: '24.00' }] });
  expect(pages).toEqual(['1', '2']);

  const body = JSON.stringify(order(7));
  const headers = { 'x-acme-signature': hmacSha256('s3cret', body).toString('base64'), 'x-acme-delivery': 'd1' };
  const replay = new MemoryReplayGuard();
  expect(await conn.webhook({ rawBody: body, headers }, { secret: 's3cret', replay })).toMatchObject({ status: 'accepted', events: [{ type: 'order.upserted', order: { externalId: '7' } }] });
  expect(await conn.webhook({ rawBody: body, headers: { ...headers, 'x-acme-signature': 'AAAA' } }, { secret: 's3cret', replay })).toMatchObject({ status: 'rejected' });
});
