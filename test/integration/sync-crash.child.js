/* eslint-disable */
// A hub process for the kill -9 test (sync-crash.test.ts): runs the real sync runner on one connection of the
// test database given in argv until the stream is read to its end, printing one JSON line per committed page.
// The parent kills it with SIGKILL at random points and starts it again.
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const root = path.resolve(__dirname, '../..');

// TypeScript through tsc's per-file transpiler (keeps decorators and their metadata; esbuild-style loaders do not),
// cached on disk so that the many restarts are quick.
const cacheDir = path.join(os.tmpdir(), 'switchyard-ts-cache');
let ts;
require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const cached = path.join(cacheDir, crypto.createHash('sha1').update(`${filename}\0${source}`).digest('hex') + '.js');
  let out;
  try {
    out = fs.readFileSync(cached, 'utf8');
  } catch {
    ts ??= require('typescript');
    out = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, experimentalDecorators: true, emitDecoratorMetadata: true, esModuleInterop: true, useDefineForClassFields: false },
    }).outputText;
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}`;
    fs.writeFileSync(tmp, out);
    fs.renameSync(tmp, cached); // atomic: a child killed mid-write never leaves a torn cache entry
  }
  module._compile(out, filename);
};
// This process serves no GraphQL. type-graphql's decorators on the model classes need type information a per-file
// transpile cannot give (enum-typed fields), so they are replaced by no-ops here; TypeORM's column types are explicit.
const noop = () => () => undefined;
const typeGraphqlStub = new Proxy({}, { get: (_t, key) => (key === '__esModule' ? true : noop) });
require.cache[require.resolve('type-graphql', { paths: [root] })] = { id: 'type-graphql', loaded: true, exports: typeGraphqlStub };
require(require.resolve('reflect-metadata', { paths: [root] }));
const { createDataSource } = require(path.join(root, 'src/db/data-source.ts'));
const { loadConfig } = require(path.join(root, 'src/config.ts'));
const { createLogger } = require(path.join(root, 'src/logger.ts'));
const { createServices } = require(path.join(root, 'src/services.ts'));

const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

async function main() {
  const [url, connection, masterKey] = process.argv.slice(2);
  const ds = createDataSource(url, { poolSize: 4, applicationName: 'sync-crash-child' });
  await ds.initialize();
  const services = createServices(ds, { ...loadConfig({}), masterKey, autoRoute: true }, createLogger('silent'), url);
  say({ ready: true });
  for (;;) {
    try {
      const run = await services.sync.runner.run(connection, { stream: 'orders', trigger: 'MANUAL', onProgress: (p) => say({ page: p.pages, created: p.created }) });
      say({ done: run.status, created: run.created, pages: run.pages, errors: run.errors.slice(0, 3) });
      await ds.destroy();
      process.exit(run.status === 'SUCCEEDED' ? 0 : 2);
    } catch (err) {
      // The killed predecessor's database session (and its advisory lock) can outlive it by a moment.
      if (err && err.code === 'CONFLICT') { await new Promise((r) => setTimeout(r, 50)); continue; }
      throw err;
    }
  }
}
main().catch((err) => { process.stderr.write(String((err && err.stack) || err)); process.exit(1); });
