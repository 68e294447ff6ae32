import { DomainError } from '../../src/errors';
import { FulfillmentMethod } from '../../src/model/enums';
import { validatePlaceOrder, type PlaceOrderData } from '../../src/orders/place-order.input';

const valid: PlaceOrderData = { channel: 'web', externalId: 'W-1', lines: [{ sku: 'A', quantity: 1, unitPrice: '9.99' }], shipTo: { country: 'US' } };

function fieldOf(input: PlaceOrderData): string | undefined {
  try {
    validatePlaceOrder(input);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('BAD_USER_INPUT');
    return (err as DomainError).field;
  }
}

describe('validatePlaceOrder', () => {
  it('accepts a valid order', () => expect(fieldOf(valid)).toBeUndefined());

  it.each<[string, Partial<PlaceOrderData>, string]>([
    ['empty channel', { channel: ' ' }, 'input.channel'],
    ['empty external id', { externalId: '' }, 'input.externalId'],
    ['no lines', { lines: [] }, 'input.lines'],
    ['zero quantity', { lines: [{ sku: 'A', quantity: 0 }] }, 'input.lines[0].quantity'],
    ['negative quantity', { lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: -2 }] }, 'input.lines[1].quantity'],
    ['fractional quantity', { lines: [{ sku: 'A', quantity: 1.5 }] }, 'input.lines[0].quantity'],
    ['huge quantity', { lines: [{ sku: 'A', quantity: 2e9 }] }, 'input.lines[0].quantity'],
    ['float-like price', { lines: [{ sku: 'A', quantity: 1, unitPrice: '1e3' }] }, 'input.lines[0].unitPrice'],
    ['negative price', { lines: [{ sku: 'A', quantity: 1, unitPrice: '-1.00' }] }, 'input.lines[0].unitPrice'],
    ['ship without address', { shipTo: null }, 'input.shipTo'],
    ['bad country', { shipTo: { country: 'usa' } }, 'input.shipTo.country'],
    ['latitude without longitude', { shipTo: { country: 'US', latitude: 1 } }, 'input.shipTo.longitude'],
    ['latitude out of range', { shipTo: { country: 'US', latitude: 91, longitude: 0 } }, 'input.shipTo.latitude'],
    ['pickup without store', { method: FulfillmentMethod.PICKUP }, 'input.pickupLocationCode'],
    ['ship with pickup store', { pickupLocationCode: 'ST-1' }, 'input.pickupLocationCode'],
    ['bad currency', { currency: 'dollars' }, 'input.currency'],
  ])('rejects %s naming the field', (_name, patch, field) => {
    expect(fieldOf({ ...valid, ...patch })).toBe(field);
  });
});
