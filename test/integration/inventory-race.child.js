/* eslint-disable */
// A second hub process for the cross-process race test: reserves through the real InventoryService against the
// test database given in argv, starting when the parent writes "go", and prints its tally as one JSON line.
// TypeScript is compiled on the fly (tsc's transpiler keeps decorator metadata; esbuild-style loaders do not).
const ts = require('typescript');
const fs = require('fs');
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, experimentalDecorators: true, emitDecoratorMetadata: true, esModuleInterop: true, useDefineForClassFields: false },
  });
  module._compile(out.outputText, filename);
};
require('reflect-metadata');
const path = require('path');
const root = path.resolve(__dirname, '../..');
const { DataSource } = require('typeorm');
const { InventoryService } = require(path.join(root, 'src/inventory/inventory.service.ts'));

async function main() {
  const [url, sku, locationCode, countArg, mode] = process.argv.slice(2);
  // The inventory service speaks SQL only, so the child needs no entity metadata.
  const ds = new DataSource({ type: 'postgres', url, entities: [], extra: { max: 10, application_name: 'race-child' } });
  await ds.initialize();
  const inv = new InventoryService(ds);
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.pause();
  const results = await Promise.allSettled(Array.from({ length: Number(countArg) }, () =>
    inv.reserveStock({ lines: [{ sku, locationCode, quantity: 1 }] }, 'child')));
  if (mode === 'crash') {
    // Die the moment the changes are committed, before this process relays their events (its relay starts on a
    // later turn of the event loop): only the outbox sweep of another process can deliver them.
    process.kill(process.pid, 'SIGKILL');
  }
  await inv.flushEvents();
  const tally = { ok: 0, insufficient: 0, other: [] };
  for (const r of results) {
    if (r.status === 'fulfilled') tally.ok++;
    else if (r.reason && r.reason.code === 'INSUFFICIENT_STOCK') tally.insufficient++;
    else tally.other.push(String(r.reason));
  }
  await ds.destroy();
  process.stdout.write(JSON.stringify(tally) + '\n', () => process.exit(0));
}
main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
