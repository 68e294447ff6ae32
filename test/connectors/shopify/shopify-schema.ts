// Shopify's official Admin introspection (../shared/fixtures/shopify/admin_schema_2025-01.json.gz), with the
// 2026-04 changes listed in SOURCES.md overlaid.
import { buildClientSchema, extendSchema, type GraphQLSchema, parse, type OperationDefinitionNode } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { fixtureText } from '../fixtures';

const introspection = JSON.parse(fixtureText('shopify/admin_schema_2025-01.json.gz'));
export const base = buildClientSchema(introspection.data ?? introspection);

/** 2026-04: `changeFromQuantity` on InventoryQuantityInput (compareQuantity removed), and the `@idempotent` directive. */
export const overlay2026: GraphQLSchema = extendSchema(
  base,
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
