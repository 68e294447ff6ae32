// Shopify's official Admin introspection (../shared/fixtures/shopify/admin_schema_2025-01.json.gz), with the
// 2026-04 changes listed in SOURCES.md overlaid.
import { buildClientSchema, extendSchema, type GraphQLSchema, parse, type OperationDefinitionNode } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { fixtureText } from '../fixtures';

const text = fixtureText('shopify/admin_schema_2025-01.json.gz');
const introspection = JSON.parse(text);
export const base = buildClientSchema(introspection.data ?? introspection);

/**
 * `bulkOperationRunQuery(groupObjects: Boolean! = false)`, added after 2025-01 (shopify.dev Admin reference,
 * BulkOperationRunQueryPayload: "Whether to group objects under their corresponding parent objects"). extendSchema
 * cannot add an argument to an existing field, so it is added to a copy of the introspection.
 */
function withGroupObjects(): GraphQLSchema {
  const copy = JSON.parse(text);
  const schema = (copy.data ?? copy).__schema;
  const mutation = schema.types.find((t: { name: string }) => t.name === schema.mutationType.name);
  const field = mutation.fields.find((f: { name: string }) => f.name === 'bulkOperationRunQuery');
  field.args.push({ name: 'groupObjects', description: null, type: { kind: 'NON_NULL', name: null, ofType: { kind: 'SCALAR', name: 'Boolean', ofType: null } }, defaultValue: 'false', isDeprecated: false, deprecationReason: null });
  return buildClientSchema(copy.data ?? copy);
}

/**
 * 2026-04: `changeFromQuantity` on InventoryQuantityInput (compareQuantity removed), and the `@idempotent` directive;
 * plus `groupObjects` on bulk queries.
 */
export const overlay2026: GraphQLSchema = extendSchema(
  withGroupObjects(),
  parse(`
    directive @idempotent(key: String!) on FIELD
    extend input InventoryQuantityInput { changeFromQuantity: Int }
  `),
);

/** Used by the push tests to check the exact variables sent on the wire. */
export function coerceVariables(doc: string, variables: Record<string, unknown>): string[] {
  const op = parse(doc).definitions[0] as OperationDefinitionNode;
  return (getVariableValues(overlay2026, op.variableDefinitions ?? [], variables).errors ?? []).map((e) => e.message);
}
