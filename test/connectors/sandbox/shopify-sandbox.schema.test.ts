// The sandbox's SDL subset against Shopify's published Admin introspection (../shared/fixtures/shopify/
// admin_schema_2025-01.json.gz) with the 2026-04 overlay: every type, field, argument and enum value it declares
// must exist there with the same type.
import { isEnumType, isInputObjectType, isObjectType, isScalarType } from 'graphql';
import { shopifySandboxSchema } from '../../../src/connectors/sandbox/shopify/shopify-sandbox.schema';
import { overlay2026 } from '../shopify/shopify-schema';

test('every declaration of the sandbox schema exists in Shopify\'s schema with the same type', () => {
  const ours = shopifySandboxSchema();
  const problems: string[] = [];
  for (const t of Object.values(ours.getTypeMap())) {
    if (t.name.startsWith('__')) continue;
    const theirs = overlay2026.getType(t.name);
    if (!theirs) {
      problems.push(`type ${t.name} missing`);
      continue;
    }
    if (isScalarType(t)) continue;
    if (isEnumType(t)) {
      const values = new Set(isEnumType(theirs) ? theirs.getValues().map((v) => v.name) : []);
      for (const v of t.getValues()) if (!values.has(v.name)) problems.push(`${t.name}.${v.name} missing`);
      continue;
    }
    if (isObjectType(t) || isInputObjectType(t)) {
      const theirFields = (theirs as typeof t).getFields() as Record<string, { type: unknown; args?: Array<{ name: string; type: unknown }> }>;
      for (const f of Object.values(t.getFields())) {
        const tf = theirFields[f.name];
        if (!tf) problems.push(`${t.name}.${f.name} missing`);
        else if (String(tf.type) !== String(f.type)) problems.push(`${t.name}.${f.name}: ${f.type} ≠ ${tf.type}`);
        for (const a of ('args' in f ? f.args : [])) {
          const ta = tf?.args?.find((x) => x.name === a.name);
          if (tf && (!ta || String(ta.type) !== String(a.type))) problems.push(`${t.name}.${f.name}(${a.name}: ${a.type}) ≠ ${ta?.type}`);
        }
      }
      if (isInputObjectType(t)) {
        for (const [name, tf] of Object.entries(theirFields)) if (String(tf.type).endsWith('!') && !t.getFields()[name]) problems.push(`${t.name}.${name} is required by Shopify`);
      }
    }
  }
  expect(problems).toEqual([]);
  expect(overlay2026.getDirective('idempotent')).toBeDefined();
});
