/** Sandbox examples from the SP-API models (../shared/fixtures/amazon/*.json, `x-amzn-api-sandbox`). */
import nock from 'nock';
import type { VirtualClock } from '../../../src/connectors/sdk/clock';
import { openConnection } from '../../../src/connectors/sdk/connector';
import { amazonConnector } from '../../../src/connectors/amazon/amazon.connector';
import { fixtureJson } from '../fixtures';

export const HOST = 'https://sp.test';
const LWA = 'https://lwa.test';


// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface SandboxCase {
  file: string;
  path: string;
  method: string;
  status: string;
  request: Record<string, { value: Json }>;
  response: Json;
}

/** Every static sandbox case of an operation, with the status code it answers with. */
export function sandboxCases(file: string, operationId: string): SandboxCase[] {
  const model = fixtureJson(`amazon/${file}`);
  const out: SandboxCase[] = [];
  for (const [path, ops] of Object.entries<Json>(model.paths)) {
    for (const [method, op] of Object.entries<Json>(ops)) {
      if (op?.operationId !== operationId) continue;
      for (const [status, r] of Object.entries<Json>(op.responses)) {
        for (const c of r['x-amzn-api-sandbox']?.static ?? []) out.push({ file, path, method, status, request: c.request.parameters ?? {}, response: c.response });
      }
    }
  }
  return out;
}

/** Query string values as SP-API sends them (arrays as CSV). */
export function queryOf(params: Record<string, { value: Json }>, exclude: string[] = []): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (!exclude.includes(k)) q[k] = Array.isArray(v.value) ? v.value.join(',') : String(v.value);
  return q;
}

/** A searchOrders sandbox order (Amazon.co.uk example) with the given id and lastUpdatedTime. */
export function spOrder(orderId: string, lastUpdatedTime: string): Json {
  const c = sandboxCases('orders_2026-01-01.json', 'searchOrders').filter((x) => x.status === '200')[1];
  return { ...structuredClone(c.response.orders[0]), orderId, lastUpdatedTime };
}

/** A connection to the nock host with a persisted LWA token endpoint. */
export function openAmazon(clock: VirtualClock, retry?: object) {
  nock(LWA).post('/auth/o2/token').reply(200, { access_token: 'Atza|test', token_type: 'bearer', expires_in: 3600 }).persist();
  return openConnection(amazonConnector, {
    config: { endpoint: HOST, lwaTokenUrl: `${LWA}/auth/o2/token`, sellerId: 'A3TH9S8BH6GOGM', marketplaceIds: ['ATVPDKIKX0DER'], startAt: '2026-01-09T00:00:00Z' },
    credentials: { clientId: 'amzn1.application-oa2-client.test', clientSecret: 'secret', refreshToken: 'Atzr|refresh' },
    clock,
    random: () => 0.5,
    retry,
  });
}

