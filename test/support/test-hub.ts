import type { DataSource } from 'typeorm';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startHub, type Hub } from '../../src/server';
import { createServices, type Services } from '../../src/services';
import { LocationCapability, LocationType } from '../../src/model/enums';
import { createTestDatabase, type TestDatabase } from './test-db';

export interface TestHub { db: TestDatabase; services: Services; hub?: Hub; close(): Promise<void> }

export const ADMIN_KEY = 'test-bootstrap-admin-key-0123456789abcdef';
export const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` };

/** Services on a fresh database; with `serve`, the real HTTP + WebSocket server on a free port. */
export async function createTestHub(opts: { serve?: boolean; autoRoute?: boolean; config?: Partial<Config>; logs?: string[] } = {}): Promise<TestHub> {
  const db = await createTestDatabase();
  const config = { ...loadConfig({}), port: 0, host: '127.0.0.1', autoRoute: opts.autoRoute ?? true, adminKey: ADMIN_KEY, ...opts.config };
  const log = opts.logs ? createLogger('debug', { write: (line: string) => { opts.logs!.push(line); } }) : createLogger('silent');
  const services = createServices(db.dataSource, config, log, db.url);
  let hub: Hub | undefined;
  if (opts.serve) hub = await startHub(services, { port: 0, host: '127.0.0.1' });
  else await services.events.start();
  return {
    db, services, hub,
    async close() {
      if (hub) await hub.close(); else await services.events.stop();
      await db.drop();
    },
  };
}

/** A tiny network: two warehouses and a store, three SKUs. */
export async function seedSmallNetwork(services: Services): Promise<void> {
  const base = { country: 'US', timeZone: 'America/Chicago' };
  await services.locations.upsert({ ...base, code: 'WH-A', name: 'Warehouse A', type: LocationType.WAREHOUSE, latitude: 41.88, longitude: -87.63 });
  await services.locations.upsert({ ...base, code: 'WH-B', name: 'Warehouse B', type: LocationType.WAREHOUSE, latitude: 32.78, longitude: -96.8 });
  await services.locations.upsert({ ...base, code: 'ST-1', name: 'Store 1', type: LocationType.STORE, latitude: 41.9, longitude: -87.7,
    capabilities: [LocationCapability.SHIP, LocationCapability.PICKUP, LocationCapability.CURBSIDE] });
  for (const sku of ['A', 'B', 'C']) await services.products.upsert({ sku, name: `Product ${sku}` });
}

export async function count(ds: DataSource, table: string): Promise<number> {
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM ${table}`);
  return n;
}

/** Ledger and balances agree, and reserved equals the live reservations, for every stock row. */
export async function assertStockInvariants(ds: DataSource): Promise<void> {
  const mismatches = await ds.query(`
    SELECT s.product_id, s.location_id, s.on_hand, s.reserved,
           coalesce(m.on_hand, 0) AS ledger_on_hand, coalesce(m.reserved, 0) AS ledger_reserved, coalesce(r.live, 0) AS live
      FROM stock_level s
      LEFT JOIN (SELECT product_id, location_id, sum(on_hand_delta)::int AS on_hand, sum(reserved_delta)::int AS reserved
                   FROM stock_movement GROUP BY 1, 2) m USING (product_id, location_id)
      LEFT JOIN (SELECT product_id, location_id, sum(quantity)::int AS live FROM reservation WHERE status = 'ACTIVE' GROUP BY 1, 2) r
             USING (product_id, location_id)
     WHERE s.on_hand <> coalesce(m.on_hand, 0) OR s.reserved <> coalesce(m.reserved, 0) OR s.reserved <> coalesce(r.live, 0)`);
  expect(mismatches).toEqual([]);
}
