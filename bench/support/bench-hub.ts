import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startHub, type Hub } from '../../src/server';
import { createServices, type Services } from '../../src/services';
import type { BenchDb } from './bench-db';

/** The real hub (HTTP + WebSocket) on a bench database, with a bootstrap admin key for its requests. */
export async function startBenchHub(db: BenchDb): Promise<{ services: Services; hub: Hub; url: string; headers: Record<string, string> }> {
  const adminKey = randomBytes(24).toString('hex');
  const config = { ...loadConfig({}), port: 0, host: '127.0.0.1' } as ReturnType<typeof loadConfig> & { adminKey?: string; rateLimitPerMinute?: number };
  config.adminKey = adminKey;
  config.rateLimitPerMinute = 10_000_000; // a benchmark is one very busy client: measure the hub, not its rate limit
  const services = createServices(db.ds, config, createLogger('silent'), db.url);
  const hub = await startHub(services, { port: 0, host: '127.0.0.1' });
  return { services, hub, url: `http://127.0.0.1:${hub.port}/graphql`, headers: { authorization: `Bearer ${adminKey}` } };
}
