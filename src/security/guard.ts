import {
  GraphQLError, Kind, getOperationAST,
  type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { MAX_PAGE } from '../schema/relay';
import { ANONYMOUS_FIELDS, PERMISSIONS } from './permissions';
import type { Principal } from './roles';

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxComplexity: number;
  maxTokens: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 12, maxAliases: 30, maxRootFields: 20, maxComplexity: 20000, maxTokens: 4000 };

const rejected = (code: string, message: string, extensions: Record<string, unknown> = {}) => new GraphQLError(message, { extensions: { code, ...extensions } });

/**
 * A connection costs its page size (`first`, default 50) times its children (its `edges` are that page, not a
 * further multiple); any other list counts as 5 items.
 */
const listEstimator: ComplexityEstimator = ({ args, childComplexity, field }) => {
  const typeName = String(field.type).replace(/!/g, '');
  // Pages above MAX_PAGE are refused by the resolver with a clear BAD_USER_INPUT; cost them at the maximum.
  if (typeof args.first === 'number') return 1 + childComplexity * Math.min(MAX_PAGE, Math.max(1, args.first));
  if (/Connection$/.test(typeName)) return 1 + childComplexity * 50;
  if (field.name === 'edges') return 1 + childComplexity;
  if (typeName.startsWith('[')) return 1 + childComplexity * 5;
  return undefined;
};

interface Walk { depth: number; aliases: number }

function walk(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, depth: number, seen: Set<string>, acc: Walk): void {
  acc.depth = Math.max(acc.depth, depth);
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.alias) acc.aliases++;
      if (sel.selectionSet) walk(sel.selectionSet, fragments, depth + 1, seen, acc);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      walk(sel.selectionSet, fragments, depth, seen, acc);
    } else {
      const frag = fragments.get(sel.name.value);
      if (frag && !seen.has(frag.name.value)) {
        seen.add(frag.name.value); // fragment cycles are a validation error; never loop on them here
        walk(frag.selectionSet, fragments, depth, seen, acc);
        seen.delete(frag.name.value);
      }
    }
  }
}

/** Root fields of the operation, looking through fragments at the top level. */
export function rootFields(op: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>): string[] {
  const out: string[] = [];
  const visit = (set: SelectionSetNode, seen: Set<string>) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) out.push(sel.name.value);
      else if (sel.kind === Kind.INLINE_FRAGMENT) visit(sel.selectionSet, seen);
      else {
        const frag = fragments.get(sel.name.value);
        if (frag && !seen.has(frag.name.value)) visit(frag.selectionSet, new Set([...seen, frag.name.value]));
      }
    }
  };
  visit(op.selectionSet, new Set());
  return out;
}

const ROOT_TYPE = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' } as const;

export interface GuardResult { operation: OperationDefinitionNode; type: 'Query' | 'Mutation' | 'Subscription'; fields: string[] }

/**
 * Runs before any resolver, for HTTP and WebSocket alike: the permission table for every root field, then shape
 * limits (depth, aliases, root fields, cost). Throws a GraphQLError (UNAUTHENTICATED, FORBIDDEN or
 * QUERY_TOO_COMPLEX) and nothing executes.
 */
export function guardOperation(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined, principal: Principal, opts: { limits: QueryLimits; anonymousAvailability: boolean }): GuardResult {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) throw rejected('BAD_USER_INPUT', 'no operation to run: name one with operationName');
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  const type = ROOT_TYPE[operation.operation];
  const fields = rootFields(operation, fragments).filter((f) => f !== '__typename');
  const introspectionOnly = fields.length > 0 && fields.every((f) => f.startsWith('__'));
  if (!introspectionOnly) {
    if (!principal.role) {
      const open = opts.anonymousAvailability ? ANONYMOUS_FIELDS[type] ?? [] : [];
      const denied = fields.filter((f) => !f.startsWith('__') && !open.includes(f));
      if (denied.length) throw rejected('UNAUTHENTICATED', `authentication required for ${denied.join(', ')}: send Authorization: Bearer <api key>`);
    } else {
      const table = PERMISSIONS[type];
      const denied = fields.filter((f) => !f.startsWith('__') && !(table[f] ?? []).includes(principal.role!));
      if (denied.length) throw rejected('FORBIDDEN', `role ${principal.role} may not use ${denied.join(', ')}`, { fields: denied });
    }
  }

  const { limits } = opts;

  const shape: Walk = { depth: 0, aliases: 0 };
  walk(operation.selectionSet, fragments, 1, new Set(), shape);
  if (shape.depth > limits.maxDepth) throw rejected('QUERY_TOO_COMPLEX', `query depth ${shape.depth} exceeds the limit of ${limits.maxDepth}`, { limit: limits.maxDepth });
  if (shape.aliases > limits.maxAliases) throw rejected('QUERY_TOO_COMPLEX', `${shape.aliases} aliases exceed the limit of ${limits.maxAliases}`, { limit: limits.maxAliases });
  if (fields.length > limits.maxRootFields) throw rejected('QUERY_TOO_COMPLEX', `${fields.length} root fields exceed the limit of ${limits.maxRootFields}`, { limit: limits.maxRootFields });
  let cost: number;
  try {
    cost = getComplexity({ schema, query: document, operationName: operationName ?? undefined, variables: variables ?? {}, estimators: [listEstimator, simpleEstimator({ defaultComplexity: 1 })] });
  } catch (err) {
    // Costing coerces the variables first: a wrong type or unknown enum value surfaces here.
    throw rejected('BAD_USER_INPUT', err instanceof Error ? err.message : 'invalid variables');
  }
  if (cost > limits.maxComplexity) throw rejected('QUERY_TOO_COMPLEX', `query cost ${cost} exceeds the limit of ${limits.maxComplexity}; ask for smaller pages`, { cost, limit: limits.maxComplexity });

  return { operation, type, fields };
}
