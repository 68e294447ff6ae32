import type { Logger } from '../logger';
import type { Services } from '../services';
import { startAmazonSandbox, startOdooSandbox, startShipBobSandbox, startShopifySandbox, startSquareSandbox } from '../connectors/sandbox';
import type { SandboxClock } from '../connectors/sandbox/sandbox-store';

interface SandboxHandle { connection: { config: Record<string, unknown>; credentials: Record<string, unknown> }; close(): Promise<void> }

/** One demo connection: the sandbox it talks to, and how the hub maps it. */
interface DemoConnection {
  name: string;
  kind: string;
  start: () => Promise<SandboxHandle & { settings?: Record<string, unknown>; config?: Record<string, unknown> }>;
  schedules: Record<string, string>;
  /** Streams pulled once right away, so the demo shows something without waiting for the schedule. */
  firstPull: string[];
}

/**
 * The demo's connections, each a sandbox in this process speaking the vendor's contract:
 * - `demo-shopify`, `demo-amazon`: sales channels generating web orders from the demo network's geography (a few
 *   Shopify shoppers take a unit back before it ships: a refund of an unfulfilled item, which the hub cancels);
 * - `demo-square`: the POS of three stores, ringing up counter sales (landed as SALE movements, so the web's ATP
 *   drops) and taking the pickup / ship-from-store orders routed to those stores;
 * - `demo-shipbob`: the 3PL running 3PL-MEMPHIS; its shipments come back as tracking for the origin channel, and
 *   mailed returns sent there become ShipBob return orders, received and restocked as ShipBob processes them;
 * - `demo-odoo`: the ERP, booking every channel's order as a sale order and running WH-COLUMBUS, whose deliveries
 *   its warehouse team validates with tracking.
 * They are ordinary connections pulled on a schedule by the sync engine; each start points them at the new ports.
 * `clock` is for tests (a virtual clock shared with the sandboxes).
 */
export async function startDemoChannels(services: Services, log: Logger, opts: { clock?: SandboxClock; skus?: number; firstPull?: boolean } = {}): Promise<{ sandboxes: SandboxHandle[]; stop(): Promise<void> }> {
  const { clock, skus } = opts;
  const started: SandboxHandle[] = [];
  // The first pulls run in the background; stopping waits for them (a few pages), so a Ctrl-C in the first seconds
  // does not pull the database away from under a page.
  const pulls: Promise<void>[] = [];
  const connections: DemoConnection[] = [
    { name: 'demo-shopify', kind: 'shopify', start: () => startShopifySandbox({ seed: 42, clock, skus, backlog: 20, backlogHours: 2, ordersPerHour: 60, takeBacksPerHundred: 5, addressEditsPerHundred: 3, costAdmission: 'actual' }), schedules: { orders: '* * * * *' }, firstPull: ['orders'] },
    { name: 'demo-amazon', kind: 'amazon', start: () => startAmazonSandbox({ seed: 43, clock, skus, backlog: 10, backlogHours: 2, ordersPerHour: 20 }), schedules: { orders: '*/3 * * * *' }, firstPull: ['orders'] },
    {
      name: 'demo-square', kind: 'square', schedules: { orders: '* * * * *' }, firstPull: [],
      start: async () => {
        const pos = await startSquareSandbox({ seed: 44, clock, skus, salesPerHour: 20 });
        return { ...pos, settings: { locations: pos.locations, fulfilsLocations: Object.values(pos.locations) } };
      },
    },
    {
      name: 'demo-shipbob', kind: 'shipbob', schedules: { shipments: '*/2 * * * *', inventory: '*/15 * * * *', returns: '*/5 * * * *' }, firstPull: [],
      start: async () => {
        // Returns arrive and are processed within the hour, so a demo session sees them through.
        const tpl = await startShipBobSandbox({ seed: 45, clock, skus, returnMinutes: { arrived: 20, completed: 40 } });
        return { ...tpl, settings: { locations: tpl.locations, fulfilsLocations: Object.values(tpl.locations) } };
      },
    },
    {
      name: 'demo-odoo', kind: 'odoo', schedules: { shipments: '*/2 * * * *' }, firstPull: [],
      start: async () => {
        const erp = await startOdooSandbox({ seed: 46, clock, skus });
        return { ...erp, config: { ...erp.connection.config, bookOrders: true }, settings: { locations: { [String(erp.ids.stockLocation)]: 'WH-COLUMBUS' }, fulfilsLocations: ['WH-COLUMBUS'] } };
      },
    },
  ];
  try {
    for (const c of connections) {
      const sandbox = await c.start();
      started.push(sandbox);
      const input = { config: sandbox.config ?? sandbox.connection.config, credentials: sandbox.connection.credentials, schedules: c.schedules, settings: { channel: c.name, ...sandbox.settings } };
      const existing = await services.connections.find(c.name);
      const connection = existing ? await services.connections.update(c.name, input) : await services.connections.create({ name: c.name, kind: c.kind, ...input });
      for (const stream of opts.firstPull === false ? [] : c.firstPull) {
        pulls.push(services.sync.runner.run(connection.id, { stream, trigger: 'MANUAL' }).then(
          (run) => log.info({ connection: c.name, created: run.created, status: run.status }, 'demo channel pulled'),
          (err) => log.warn({ err, connection: c.name }, 'demo channel pull failed; the schedule will retry'),
        ));
      }
    }
  } catch (err) {
    await Promise.all(pulls);
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
  log.info({ connections: connections.map((c) => c.name) }, 'demo: sandbox Shopify, Amazon, Square (stores), ShipBob (3PL) and Odoo (ERP) are running');
  return {
    sandboxes: started,
    stop: async () => {
      await Promise.all(pulls);
      await Promise.all(started.map((s) => s.close()));
    },
  };
}
