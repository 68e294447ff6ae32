// Validates every document the connector sends against Shopify's official Admin introspection
// (../shared/fixtures/shopify/admin_schema_2025-01.json.gz), with the 2026-04 changes from SOURCES.md overlaid.
import { parse, validate, type OperationDefinitionNode } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { ALL_DOCUMENTS, bulkOrdersInnerQuery, INVENTORY_SET_QUANTITIES } from '../../../src/connectors/shopify/shopify.queries';
import { base, overlay2026 } from './shopify-schema';

describe('Shopify GraphQL documents', () => {
  test.each(Object.entries(ALL_DOCUMENTS))('%s is valid against the Admin schema (+2026-04 overlay)', (_name, doc) => {
    const errors = validate(overlay2026, parse(doc));
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  test('the bulk backfill inner query is valid too', () => {
    const errors = validate(overlay2026, parse(bulkOrdersInnerQuery("updated_at:<'2026-01-01T00:00:00.000Z'")));
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  test('inventorySetQuantities uses the 2026-04 contract, which the 2025-01 schema alone rejects', () => {
    const errors = validate(base, parse(INVENTORY_SET_QUANTITIES)).map((e) => e.message).join('\n');
    expect(errors).toMatch(/Unknown directive "@idempotent"/);
    expect(INVENTORY_SET_QUANTITIES).not.toMatch(/compareQuantity/);
    expect(INVENTORY_SET_QUANTITIES).toMatch(/@idempotent\(key: \$idempotencyKey\)/);
  });

  test('variables carrying changeFromQuantity coerce against the overlay, and are rejected by 2025-01', () => {
    const op = parse(INVENTORY_SET_QUANTITIES).definitions[0] as OperationDefinitionNode;
    const vars = {
      idempotencyKey: 'k1',
      input: { name: 'available', reason: 'correction', quantities: [{ inventoryItemId: 'gid://shopify/InventoryItem/1', locationId: 'gid://shopify/Location/2', quantity: 5, changeFromQuantity: null }] },
    };
    expect(getVariableValues(overlay2026, op.variableDefinitions ?? [], vars).errors).toBeUndefined();
    expect(getVariableValues(base, op.variableDefinitions ?? [], vars).errors?.[0].message).toMatch(/changeFromQuantity/);
  });
});

