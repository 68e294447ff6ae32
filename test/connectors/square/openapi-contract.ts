/**
 * A minimal OpenAPI 3 schema checker for request bodies and payloads (types, required, enum, $ref, allOf, oneOf,
 * anyOf, nullable, arrays, unknown properties). Used by the Square and ShipBob tests against the vendors' specs in
 * ../shared/fixtures; like magento-fixtures' `contractErrors`, it returns readable errors rather than a boolean.
 */
import { fixtureJson } from '../fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export class OpenApiContract {
  readonly doc: Json;
  constructor(file: string) {
    this.doc = fixtureJson(file);
  }

  schema(name: string): Json {
    const s = this.doc.components.schemas[name];
    if (!s) throw new Error(`no component schema ${name}`);
    return s;
  }

  ref(name: string): Json {
    return { $ref: `#/components/schemas/${name}` };
  }

  /** The JSON body schema of an operation. */
  requestSchema(path: string, method: string): Json {
    return this.doc.paths[path][method].requestBody.content['application/json'].schema;
  }

  errors(value: unknown, schema: Json, path = '$'): string[] {
    if (schema.$ref) return this.errors(value, this.doc.components.schemas[schema.$ref.split('/').pop()], path);
    if (value === null || value === undefined) return [];
    const errs: string[] = [];
    if (schema.allOf) for (const s of schema.allOf) errs.push(...this.errors(value, s, path).filter((e) => !e.endsWith('not in the contract')));
    if (schema.oneOf || schema.anyOf) {
      const branches = (schema.oneOf ?? schema.anyOf) as Json[];
      const fits = branches.filter((b) => this.errors(value, b, path).length === 0);
      if (fits.length === 0) return [`${path}: matches none of ${branches.length} alternatives (${this.errors(value, branches[0], path).slice(0, 2).join('; ')})`];
      return errs;
    }
    if (schema.enum && !schema.enum.includes(value)) errs.push(`${path}: ${JSON.stringify(value)} not in enum`);
    const t = schema.type ?? (schema.properties ? 'object' : undefined);
    switch (t) {
      case 'object': {
        if (typeof value !== 'object' || Array.isArray(value)) return [...errs, `${path}: expected object`];
        for (const r of schema.required ?? []) if ((value as Json)[r] === undefined && schema.properties?.[r]) errs.push(`${path}.${r}: required`);
        const props = { ...(schema.properties ?? {}) };
        for (const s of schema.allOf ?? []) Object.assign(props, (s.$ref ? this.doc.components.schemas[s.$ref.split('/').pop()] : s).properties ?? {});
        for (const [k, v] of Object.entries(value as Json)) {
          const ps = props[k];
          if (!ps) {
            if (schema.properties && schema.additionalProperties !== true && typeof schema.additionalProperties !== 'object') errs.push(`${path}.${k}: not in the contract`);
          } else errs.push(...this.errors(v, ps, `${path}.${k}`));
        }
        return errs;
      }
      case 'array':
        if (!Array.isArray(value)) return [...errs, `${path}: expected array`];
        if (schema.minItems && value.length < schema.minItems) errs.push(`${path}: fewer than ${schema.minItems} items`);
        return [...errs, ...value.flatMap((v, i) => this.errors(v, schema.items ?? {}, `${path}[${i}]`))];
      case 'integer':
        return Number.isInteger(value) ? errs : [...errs, `${path}: expected integer`];
      case 'number':
        return typeof value === 'number' ? errs : [...errs, `${path}: expected number`];
      case 'string':
        if (typeof value !== 'string') return [...errs, `${path}: expected string`];
        if (schema.maxLength !== undefined && value.length > schema.maxLength) errs.push(`${path}: longer than ${schema.maxLength}`);
        if (schema.minLength !== undefined && value.length < schema.minLength) errs.push(`${path}: shorter than ${schema.minLength}`);
        if (schema.pattern && !new RegExp(schema.pattern).test(value)) errs.push(`${path}: does not match ${schema.pattern}`);
        return errs;
      case 'boolean':
        return typeof value === 'boolean' ? errs : [...errs, `${path}: expected boolean`];
      default:
        return errs;
    }
  }
}
