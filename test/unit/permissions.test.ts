import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GraphQLError, parse, type GraphQLObjectType } from 'graphql';
import { buildHubSchema } from '../../src/schema/build-schema';
import { DEFAULT_LIMITS, guardOperation } from '../../src/security/guard';
import { PERMISSIONS } from '../../src/security/permissions';
import { ANONYMOUS, Role } from '../../src/security/roles';

const TYPES = ['Query', 'Mutation', 'Subscription'] as const;
const KEYWORD = { Query: 'query', Mutation: 'mutation', Subscription: 'subscription' } as const;

/** The README's "Who may do what" table, as { 'Mutation.placeOrder': ['ADMIN', ...] }. */
function readmeMatrix(): Record<string, string[]> {
  const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  const section = readme.split('## Who may do what')[1]?.split('\n## ')[0];
  if (!section) throw new Error('README has no "## Who may do what" section');
  const rows = section.split('\n').filter((l) => /^\| `/.test(l));
  const header = section.split('\n').find((l) => l.startsWith('| operation'))!.split('|').map((c) => c.trim()).filter(Boolean).slice(1);
  return Object.fromEntries(rows.map((row) => {
    const cells = row.split('|').map((c) => c.trim()).slice(1, -1);
    const op = cells[0].replace(/`/g, '');
    return [op, header.filter((_, i) => cells[i + 1] === '✓')];
  }));
}

describe('the permission table', () => {
  let schema: Awaited<ReturnType<typeof buildHubSchema>>;
  beforeAll(async () => { schema = await buildHubSchema(); });

  it('covers every root field of the schema, and nothing else', () => {
    for (const type of TYPES) {
      const fields = Object.keys((schema.getType(type) as GraphQLObjectType).getFields()).sort();
      expect(Object.keys(PERMISSIONS[type]).sort()).toEqual(fields);
    }
  });

  it('equals the table in the README', () => {
    const fromCode = Object.fromEntries(TYPES.flatMap((type) => Object.entries(PERMISSIONS[type]).map(([f, roles]) => [`${type}.${f}`, [...roles].sort()])));
    const fromReadme = Object.fromEntries(Object.entries(readmeMatrix()).map(([k, v]) => [k, v.sort()]));
    expect(fromReadme).toEqual(fromCode);
  });

  it('is enforced for every operation and every role before any resolver (generated from the schema)', () => {
    let checked = 0;
    for (const type of TYPES) {
      for (const field of Object.keys((schema.getType(type) as GraphQLObjectType).getFields())) {
        const doc = parse(`${KEYWORD[type]} { ${field} }`);
        for (const role of [...Object.values(Role), null]) {
          const principal = role ? { actor: `test:${role}`, role } : ANONYMOUS;
          let code: unknown;
          try {
            guardOperation(schema, doc, undefined, {}, principal, { limits: DEFAULT_LIMITS, anonymousAvailability: false });
          } catch (err) {
            expect(err).toBeInstanceOf(GraphQLError);
            code = (err as GraphQLError).extensions.code;
          }
          const allowed = !!role && PERMISSIONS[type][field].includes(role);
          if (allowed) expect(code === 'FORBIDDEN' || code === 'UNAUTHENTICATED').toBe(false);
          else expect(code).toBe(role ? 'FORBIDDEN' : 'UNAUTHENTICATED');
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('sees through fragments at the root', () => {
    const doc = parse(`mutation { ...m } fragment m on Mutation { createApiKey(input: { name: "x", role: ADMIN }) { key } }`);
    expect(() => guardOperation(schema, doc, undefined, {}, { actor: 'v', role: Role.OPERATOR }, { limits: DEFAULT_LIMITS, anonymousAvailability: false }))
      .toThrow(/may not use createApiKey/);
  });

  it('lets anonymous callers reach availability only when configured', () => {
    const doc = parse(`{ availability(skus: ["A"]) { sku } }`);
    const opts = { limits: DEFAULT_LIMITS, anonymousAvailability: true };
    expect(() => guardOperation(schema, doc, undefined, {}, ANONYMOUS, opts)).not.toThrow();
    expect(() => guardOperation(schema, doc, undefined, {}, ANONYMOUS, { ...opts, anonymousAvailability: false })).toThrow(/authentication required/);
    expect(() => guardOperation(schema, parse(`{ availability(skus: ["A"]) { sku } orders { edges { cursor } } }`), undefined, {}, ANONYMOUS, opts)).toThrow(/orders/);
  });
});

describe('query limits', () => {
  let schema: Awaited<ReturnType<typeof buildHubSchema>>;
  beforeAll(async () => { schema = await buildHubSchema(); });
  const admin = { actor: 'a', role: Role.ADMIN };
  const guard = (q: string, vars: Record<string, unknown> = {}) => {
    try {
      guardOperation(schema, parse(q), undefined, vars, admin, { limits: DEFAULT_LIMITS, anonymousAvailability: false });
      return 'OK';
    } catch (err) {
      return `${(err as GraphQLError).extensions.code}`;
    }
  };

  it('accepts a realistic dashboard query', () => {
    expect(guard(`{ orders(first: 50) { edges { node { id status lines { sku quantity } fulfillmentOrders { locationCode status lines { sku quantity } shipments { trackingNumber lines { quantity } } } } } } }`)).toBe('OK');
  });

  it.each([
    ['alias flood', `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: whoami { actor }`).join(' ')} }`],
    ['too many root fields', `{ ${Array.from({ length: 21 }, () => 'whoami { actor }').join(' ')} }`],
    ['deep nesting', `{ orders { edges { node { ... on Order { fulfillmentOrders { shipments { lines { quantity } } } } } } } }`],
    ['costly pages', `{ a: orders(first: 200) { edges { node { lines { sku } fulfillmentOrders { lines { sku } shipments { lines { quantity } } } } } } b: orders(first: 200) { edges { node { lines { sku } fulfillmentOrders { lines { sku } shipments { lines { quantity } } } } } } }`],
  ])('rejects %s', (name, query) => {
    if (name === 'deep nesting') {
      const limits = { ...DEFAULT_LIMITS, maxDepth: 6 };
      expect(() => guardOperation(schema, parse(query), undefined, {}, admin, { limits, anonymousAvailability: false })).toThrow(/depth 7 exceeds/);
    } else {
      expect(guard(query)).toBe('QUERY_TOO_COMPLEX');
    }
  });

  it('turns badly typed variables into BAD_USER_INPUT', () => {
    expect(guard(`query($n: Int) { products(first: $n) { edges { cursor } } }`, { n: 'many' })).toBe('BAD_USER_INPUT');
  });

  it('measures depth through fragments', () => {
    const frag = `fragment F on FulfillmentOrder { shipments { lines { quantity } } }`;
    expect(guard(`{ orders { edges { node { fulfillmentOrders { ...F } } } } } ${frag}`)).toBe('OK');
    const limits = { ...DEFAULT_LIMITS, maxDepth: 5 };
    expect(() => guardOperation(schema, parse(`{ orders { edges { node { fulfillmentOrders { ...F } } } } } ${frag}`), undefined, {}, admin, { limits, anonymousAvailability: false })).toThrow(/depth 7 exceeds/);
  });
});
