import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { ADMIN, createTestHub, seedSmallNetwork, type TestHub } from '../support/test-hub';
import { gql } from '../support/graphql-client';

const SECRET = 'a-jwt-secret-that-is-long-enough-0123456789';
let hs: TestHub;
let rs: TestHub;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

const sign = (claims: Record<string, unknown>, opts: { secret?: string; exp?: string } = {}) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('frontend-user-7').setIssuedAt().setExpirationTime(opts.exp ?? '5m')
    .sign(new TextEncoder().encode(opts.secret ?? SECRET));

beforeAll(async () => {
  hs = await createTestHub({ serve: true, config: { jwt: { secret: SECRET, roleClaim: 'role' } } });
  await seedSmallNetwork(hs.services);
  await hs.services.inventory.set({ sku: 'A', locationCode: 'WH-A', onHand: 10 }, 'test');
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jwks-'));
  const jwksFile = path.join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] }));
  rs = await createTestHub({ serve: true, config: { jwt: { jwksFile, issuer: 'https://idp.example', roleClaim: 'roles' } } });
});
afterAll(async () => {
  await hs?.close();
  await rs?.close();
});

const url = (t: TestHub) => `http://127.0.0.1:${t.hub!.port}/graphql`;
const whoami = (t: TestHub, token: string) => gql(url(t), `{ whoami { actor role } }`, undefined, { authorization: `Bearer ${token}` });

describe('JWT for frontends', () => {
  it('HS256: a valid token maps its role claim; a wrong secret, an expired token or no known role is refused', async () => {
    expect((await whoami(hs, await sign({ role: 'viewer' }))).data.whoami).toEqual({ actor: 'jwt:frontend-user-7', role: 'VIEWER' });
    expect((await whoami(hs, await sign({ role: 'viewer' }, { secret: 'another-secret-that-is-long-enough-01234567' }))).status).toBe(401);
    expect((await whoami(hs, await sign({ role: 'viewer' }, { exp: '-1m' }))).status).toBe(401);
    expect((await whoami(hs, await sign({ role: 'superuser' }))).status).toBe(401);
    const forbidden = await gql(url(hs), `mutation { upsertProduct(input: { sku: "X", name: "x" }) { sku } }`, undefined, { authorization: `Bearer ${await sign({ role: 'viewer' })}` });
    expect(forbidden.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('RS256 with a JWKS file, issuer checked, most powerful role of an array wins', async () => {
    const token = (iss: string) => new SignJWT({ roles: ['viewer', 'operator'] }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('ops-1')
      .setIssuer(iss).setExpirationTime('5m').sign(privateKey);
    expect((await whoami(rs, await token('https://idp.example'))).data.whoami).toEqual({ actor: 'jwt:ops-1', role: 'OPERATOR' });
    expect((await whoami(rs, await token('https://evil.example'))).status).toBe(401);
    expect((await whoami(rs, await sign({ roles: ['admin'] }))).status).toBe(401); // HS256 token where RS256 is expected
  });
});

describe('placeOrder idempotencyKey', () => {
  const PLACE = `mutation($input: PlaceOrderInput!, $key: String) { placeOrder(input: $input, idempotencyKey: $key) { ... on Order { id externalId } } }`;
  const input = (externalId: string) => ({ channel: 'web', externalId, lines: [{ sku: 'A', quantity: 1 }], shipTo: { country: 'US', latitude: 41.9, longitude: -87.6 } });

  it('same key and input → the same order; same key with other input → IDEMPOTENCY_KEY_REUSED, nothing written', async () => {
    const first = await gql(url(hs), PLACE, { input: input('K-1'), key: 'cart-77' }, ADMIN);
    const again = await gql(url(hs), PLACE, { input: input('K-1'), key: 'cart-77' }, ADMIN);
    expect(again.data.placeOrder.id).toBe(first.data.placeOrder.id);
    const other = await gql(url(hs), PLACE, { input: input('K-2'), key: 'cart-77' }, ADMIN);
    expect(other.errors?.[0].extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const [{ n }] = await hs.db.dataSource.query(`SELECT count(*)::int AS n FROM orders WHERE external_id = 'K-2'`);
    expect(n).toBe(0);
  });
});
