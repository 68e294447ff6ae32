import {
  type FieldNode, type FragmentDefinitionNode, getNamedType, type GraphQLObjectType, isObjectType, Kind, type OperationDefinitionNode,
  type SelectionSetNode, type GraphQLSchema, valueFromASTUntyped,
} from 'graphql';

/**
 * Shopify's calculated query cost (shopify.dev, "GraphQL Admin API rate limits"): scalars and enums cost 0,
 * objects 1, a connection 2 + (first|last) × the cost of one node, a mutation field 10. The requested cost is
 * computed from the document before it runs; the actual cost from what came back (connections cost only the
 * nodes they returned, null objects nothing).
 */
const MUTATION_COST = 10;

type Fragments = Record<string, FragmentDefinitionNode>;

function fields(sel: SelectionSetNode | undefined, fragments: Fragments): FieldNode[] {
  const out: FieldNode[] = [];
  for (const s of sel?.selections ?? []) {
    if (s.kind === Kind.FIELD) out.push(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) out.push(...fields(s.selectionSet, fragments));
    else if (s.kind === Kind.FRAGMENT_SPREAD && fragments[s.name.value]) out.push(...fields(fragments[s.name.value].selectionSet, fragments));
  }
  return out;
}

function argValue(f: FieldNode, name: string, variables: Record<string, unknown>): unknown {
  const a = f.arguments?.find((x) => x.name.value === name);
  return a ? valueFromASTUntyped(a.value, variables) : undefined;
}

const isConnection = (t: GraphQLObjectType) => t.name.endsWith('Connection') && !!t.getFields().pageInfo;

/** Cost of one node of a connection: the most expensive of `nodes { … }` and `edges { node { … } }`. */
function perNode(conn: FieldNode, type: GraphQLObjectType, ctx: Ctx): number {
  let cost = 0;
  for (const f of fields(conn.selectionSet, ctx.fragments)) {
    const name = f.name.value;
    if (name === 'nodes') cost = Math.max(cost, 1 + selectionCost(f.selectionSet, getNamedType(type.getFields().nodes.type) as GraphQLObjectType, ctx));
    if (name === 'edges') {
      const edgeType = getNamedType(type.getFields().edges.type) as GraphQLObjectType;
      for (const e of fields(f.selectionSet, ctx.fragments)) {
        if (e.name.value === 'node') cost = Math.max(cost, 1 + selectionCost(e.selectionSet, getNamedType(edgeType.getFields().node.type) as GraphQLObjectType, ctx));
      }
    }
  }
  return cost;
}

interface Ctx {
  fragments: Fragments;
  variables: Record<string, unknown>;
}

function selectionCost(sel: SelectionSetNode | undefined, parent: GraphQLObjectType, ctx: Ctx): number {
  let cost = 0;
  for (const f of fields(sel, ctx.fragments)) {
    const def = parent.getFields()[f.name.value];
    if (!def) continue;
    const t = getNamedType(def.type);
    if (!isObjectType(t)) continue;
    if (t.name === 'PageInfo') continue;
    if (isConnection(t)) {
      const size = Number(argValue(f, 'first', ctx.variables) ?? argValue(f, 'last', ctx.variables) ?? 0);
      cost += 2 + size * perNode(f, t, ctx);
    } else {
      cost += 1 + selectionCost(f.selectionSet, t, ctx);
    }
  }
  return cost;
}

export function requestedCost(schema: GraphQLSchema, op: OperationDefinitionNode, fragments: Fragments, variables: Record<string, unknown>): number {
  if (op.operation === 'mutation') return MUTATION_COST * fields(op.selectionSet, fragments).length;
  return selectionCost(op.selectionSet, schema.getQueryType()!, { fragments, variables });
}

function actualSelection(sel: SelectionSetNode | undefined, parent: GraphQLObjectType, data: unknown, ctx: Ctx): number {
  if (data === null || data === undefined || typeof data !== 'object') return 0;
  let cost = 0;
  for (const f of fields(sel, ctx.fragments)) {
    const def = parent.getFields()[f.name.value];
    if (!def) continue;
    const t = getNamedType(def.type);
    if (!isObjectType(t) || t.name === 'PageInfo') continue;
    const value = (data as Record<string, unknown>)[f.alias?.value ?? f.name.value];
    if (value === null || value === undefined) continue;
    if (isConnection(t)) {
      cost += 2;
      for (const c of fields(f.selectionSet, ctx.fragments)) {
        const v = (value as Record<string, unknown>)[c.alias?.value ?? c.name.value];
        if (!Array.isArray(v)) continue;
        if (c.name.value === 'nodes') {
          const nodeType = getNamedType(t.getFields().nodes.type) as GraphQLObjectType;
          for (const n of v) cost += 1 + actualSelection(c.selectionSet, nodeType, n, ctx);
        } else if (c.name.value === 'edges') {
          const edgeType = getNamedType(t.getFields().edges.type) as GraphQLObjectType;
          const nodeType = getNamedType(edgeType.getFields().node.type) as GraphQLObjectType;
          const nodeField = fields(c.selectionSet, ctx.fragments).find((x) => x.name.value === 'node');
          if (nodeField) for (const e of v) cost += 1 + actualSelection(nodeField.selectionSet, nodeType, (e as Record<string, unknown>)[nodeField.alias?.value ?? 'node'], ctx);
        }
      }
      // A connection whose nodes and edges are both selected is charged once per node (the larger of the two).
    } else if (Array.isArray(value)) {
      for (const item of value) cost += 1 + actualSelection(f.selectionSet, t, item, ctx);
    } else {
      cost += 1 + actualSelection(f.selectionSet, t, value, ctx);
    }
  }
  return cost;
}

export function actualCost(schema: GraphQLSchema, op: OperationDefinitionNode, fragments: Fragments, variables: Record<string, unknown>, data: unknown): number {
  if (op.operation === 'mutation') return MUTATION_COST * fields(op.selectionSet, fragments).length;
  return actualSelection(op.selectionSet, schema.getQueryType()!, data, { fragments, variables });
}
