import { DomainError, badInput, notFound } from '../errors';
import { FulfillmentMethod } from '../model/enums';
import { checkQuantity } from '../inventory/inventory.service';

export interface AddressData {
  name?: string | null; line1?: string | null; line2?: string | null; city?: string | null; region?: string | null;
  postalCode?: string | null; country: string; latitude?: number | null; longitude?: number | null;
}

export interface PlaceOrderData {
  channel: string;
  externalId: string;
  lines: { sku: string; quantity: number; unitPrice?: string | null; externalId?: string | null }[];
  shipTo?: AddressData | null;
  method?: FulfillmentMethod | null;
  pickupLocationCode?: string | null;
  tags?: string[] | null;
  attributes?: Record<string, unknown> | null;
  currency?: string | null;
  customer?: { name?: string | null; email?: string | null; phone?: string | null } | null;
  placedAt?: Date | null;
  connectionId?: string | null;
}

export const MAX_LINES = 500;
const DECIMAL = /^\d{1,15}(\.\d{1,4})?$/;

function text(field: string, value: string | null | undefined, max: number, required = false): void {
  if (value === undefined || value === null) {
    if (required) throw badInput(field, 'is required');
    return;
  }
  if (typeof value !== 'string') throw badInput(field, 'must be a string');
  if (required && value.trim() === '') throw badInput(field, 'must not be empty');
  if (value.length > max) throw badInput(field, `must be at most ${max} characters`);
}

export function validateAddress(field: string, a: AddressData): void {
  if (!/^[A-Z]{2}$/.test(a.country ?? '')) throw badInput(`${field}.country`, `must be an ISO 3166-1 alpha-2 code such as "US", got "${a.country}"`);
  for (const k of ['name', 'line1', 'line2', 'city', 'region', 'postalCode'] as const) text(`${field}.${k}`, a[k], 200);
  const hasLat = a.latitude != null, hasLng = a.longitude != null;
  if (hasLat !== hasLng) throw badInput(`${field}.${hasLat ? 'longitude' : 'latitude'}`, 'latitude and longitude go together');
  if (hasLat && !(Number.isFinite(a.latitude) && Math.abs(a.latitude!) <= 90)) throw badInput(`${field}.latitude`, 'must be between -90 and 90');
  if (hasLng && !(Number.isFinite(a.longitude) && Math.abs(a.longitude!) <= 180)) throw badInput(`${field}.longitude`, 'must be between -180 and 180');
}

const ADDRESS_FIELDS = ['name', 'line1', 'line2', 'city', 'region', 'postalCode', 'country', 'latitude', 'longitude'] as const;

/** Whether two addresses say the same (a field left out and a null one are the same). */
export function sameAddress(a: AddressData | null | undefined, b: AddressData | null | undefined): boolean {
  if (!a || !b) return !a === !b;
  return ADDRESS_FIELDS.every((k) => (a[k] ?? null) === (b[k] ?? null));
}

/** An address in one line, for history entries ("1 Main St, Springfield IL 62701, US"). */
export function addressLine(a: AddressData | null | undefined): string {
  if (!a) return '(none)';
  return [a.line1, [a.city, a.region, a.postalCode].filter(Boolean).join(' '), a.country].filter(Boolean).join(', ');
}

/** One order line as placed or added later by the channel; `field` names it in the error. */
export function validateLine(field: string, line: PlaceOrderData['lines'][number]): void {
  text(`${field}.sku`, line.sku, 100, true);
  checkQuantity(`${field}.quantity`, line.quantity);
  if (line.unitPrice != null && !DECIMAL.test(line.unitPrice)) {
    throw badInput(`${field}.unitPrice`, `must be a non-negative decimal string such as "19.99", got "${line.unitPrice}"`);
  }
}

/** Checks everything that needs no database; the service then checks SKUs and locations exist. */
export function validatePlaceOrder(input: PlaceOrderData): void {
  text('input.channel', input.channel, 100, true);
  text('input.externalId', input.externalId, 200, true);
  if (!Array.isArray(input.lines) || input.lines.length === 0) throw badInput('input.lines', 'must contain at least one line');
  if (input.lines.length > MAX_LINES) throw badInput('input.lines', `must contain at most ${MAX_LINES} lines`);
  input.lines.forEach((line, i) => validateLine(`input.lines[${i}]`, line));
  const method = input.method ?? FulfillmentMethod.SHIP;
  if (method === FulfillmentMethod.SHIP) {
    if (!input.shipTo) throw badInput('input.shipTo', 'is required for SHIP orders');
    if (input.pickupLocationCode) throw badInput('input.pickupLocationCode', 'only applies to PICKUP and CURBSIDE orders');
  } else if (!input.pickupLocationCode) {
    throw badInput('input.pickupLocationCode', `is required for ${method} orders`);
  }
  if (input.shipTo) validateAddress('input.shipTo', input.shipTo);
  if (input.currency != null && !/^[A-Z]{3}$/.test(input.currency)) throw badInput('input.currency', 'must be an ISO 4217 code such as "USD"');
  (input.tags ?? []).forEach((t, i) => text(`input.tags[${i}]`, t, 64, true));
  if ((input.tags ?? []).length > 50) throw badInput('input.tags', 'must contain at most 50 tags');
}

/** The product id of a SKU that can be ordered, or the error a line naming it is refused with (`field` names the line's SKU). */
export function orderableProduct(bySku: ReadonlyMap<string, { id: string; active: boolean }>, sku: string, field: string): string | DomainError {
  const p = bySku.get(sku);
  if (!p) return notFound('SKU', sku, field);
  if (!p.active) return new DomainError('NOT_ORDERABLE', `SKU "${sku}" is discontinued and cannot be ordered`, field);
  return p.id;
}
