import type { Logger } from '../logger';
import type { Services } from '../services';
import { startAmazonSandbox, startShopifySandbox } from '../connectors/sandbox';

interface SandboxHandle { connection: { config: Record<string, unknown>; credentials: Record<string, unknown> }; close(): Promise<void> }

/**
 * For the demo: a sandbox Shopify store and a sandbox Amazon seller, in this process, speaking the vendors'
 * contracts and generating orders over time from the demo network's geography. They are ordinary connections
 * (`demo-shopify`, `demo-amazon`) pulled on a schedule by the sync engine, so a new user sees orders arrive, get
 * routed and reserved. Each start points the connections at the new sandbox ports.
 */
export async function startDemoChannels(services: Services, log: Logger): Promise<{ stop(): Promise<void> }> {
  const started: SandboxHandle[] = [];
  const channels: [string, string, () => Promise<SandboxHandle>, string][] = [
    ['demo-shopify', 'shopify', () => startShopifySandbox({ seed: 42, backlog: 20, backlogHours: 2, ordersPerHour: 60 }), '* * * * *'],
    ['demo-amazon', 'amazon', () => startAmazonSandbox({ seed: 43, backlog: 10, backlogHours: 2, ordersPerHour: 20 }), '*/3 * * * *'],
  ];
  try {
    for (const [name, kind, start, cron] of channels) {
      const sandbox = await start();
      started.push(sandbox);
      const input = { config: sandbox.connection.config, credentials: sandbox.connection.credentials, schedules: { orders: cron }, settings: { channel: name } };
      const existing = await services.connections.find(name);
      const connection = existing ? await services.connections.update(name, input) : await services.connections.create({ name, kind, ...input });
      // A first pull now, so orders show up without waiting for the schedule.
      services.sync.runner.run(connection.id, { stream: 'orders', trigger: 'MANUAL' }).then(
        (run) => log.info({ connection: name, created: run.created, status: run.status }, 'demo channel pulled'),
        (err) => log.warn({ err, connection: name }, 'demo channel pull failed; the schedule will retry'),
      );
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
  log.info({ connections: channels.map(([name]) => name) }, 'demo channels: sandbox Shopify and Amazon are generating orders');
  return { stop: async () => { await Promise.all(started.map((s) => s.close())); } };
}
