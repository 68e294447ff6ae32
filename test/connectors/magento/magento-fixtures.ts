/**
 * The Magento 2.4.9 contract (../shared/fixtures/magento/admin-schema-2.4.9.yaml) publishes no example payloads,
 * so test payloads are written here and checked against the contract's own definitions with `contractErrors`
 * (a minimal Swagger 2 checker: types, required, $ref, arrays).
 */
import yaml from 'js-yaml';
import { fixtureText } from '../fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export const contract: Json = yaml.load(fixtureText('magento/admin-schema-2.4.9.yaml'));

export function contractErrors(value: unknown, schema: Json, path = '$'): string[] {
  if (schema.$ref) return contractErrors(value, contract.definitions[schema.$ref.split('/').pop()], path);
  if (value === null || value === undefined) return [];
  const t = schema.type ?? (schema.properties ? 'object' : undefined);
  const errs: string[] = [];
  switch (t) {
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected object`];
      for (const r of schema.required ?? []) if ((value as Json)[r] === undefined) errs.push(`${path}.${r}: required`);
      for (const [k, v] of Object.entries(value as Json)) {
        const ps = schema.properties?.[k];
        if (!ps) errs.push(`${path}.${k}: not in the contract`);
        else errs.push(...contractErrors(v, ps, `${path}.${k}`));
      }
      return errs;
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected array`];
      return value.flatMap((v, i) => contractErrors(v, schema.items ?? {}, `${path}[${i}]`));
    case 'integer':
      return Number.isInteger(value) ? [] : [`${path}: expected integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${path}: expected number`];
    case 'string':
      return typeof value === 'string' ? [] : [`${path}: expected string`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: expected boolean`];
    default:
      return [];
  }
}

export const def = (name: string) => ({ $ref: `#/definitions/${name}` });

/** Body schema of an operation in the contract. */
export function bodySchema(path: string, method: string): Json {
  return contract.paths[path][method].parameters.find((p: Json) => p.in === 'body').schema;
}

/** A configurable-product order with a pickup-free shipping assignment, as Magento returns it. */
export function magentoOrder(entityId: number, updatedAt: string): Json {
  return {
    entity_id: entityId,
    increment_id: `0000${entityId}`,
    state: 'processing',
    status: 'processing',
    created_at: '2026-01-08 09:15:02',
    updated_at: updatedAt,
    order_currency_code: 'EUR',
    base_currency_code: 'EUR',
    grand_total: 139.9,
    base_grand_total: 139.9,
    customer_email: 'roni_cost@example.com',
    customer_firstname: 'Veronica',
    customer_lastname: 'Costello',
    customer_id: 1,
    items: [
      { item_id: entityId * 10 + 1, order_id: entityId, sku: 'MH01-XS-Black', name: 'Chaz Kangeroo Hoodie', product_type: 'configurable', qty_ordered: 2, qty_canceled: 0, qty_shipped: 0, price: 52 },
      { item_id: entityId * 10 + 2, order_id: entityId, parent_item_id: entityId * 10 + 1, sku: 'MH01-XS-Black', name: 'Chaz Kangeroo Hoodie-XS-Black', product_type: 'simple', qty_ordered: 2, qty_canceled: 0, qty_shipped: 0, price: 0 },
      { item_id: entityId * 10 + 3, order_id: entityId, sku: '24-MB01', name: 'Joust Duffle Bag', product_type: 'simple', qty_ordered: 1, qty_canceled: 0, qty_shipped: 0, price: 34 },
    ],
    extension_attributes: {
      shipping_assignments: [
        {
          shipping: {
            method: 'flatrate_flatrate',
            address: { address_type: 'shipping', firstname: 'Veronica', lastname: 'Costello', street: ['Hauptstraße 1', '2. OG'], city: 'Berlin', region: 'Berlin', region_code: 'BE', postcode: '10115', country_id: 'DE', telephone: '+49 30 1234567' },
          },
          items: [],
        },
      ],
    },
  };
}

/** Magento's zone-less UTC format. */
export function zoneless(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19).replace('T', ' ');
}
