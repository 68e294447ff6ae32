/**
 * Shopify test payloads derived from the vendor's REST examples (../shared/fixtures/shopify/rest-2026-07). The
 * GraphQL Admin API returns the same order in its own shape; `restOrderToGql` re-expresses a fixture order in that
 * shape field by field, so the GraphQL and webhook mappers can be checked against each other on vendor data.
 */
import { fixtureJson } from '../fixtures';

export const ORDER_FIXTURES = ['order-1.json', 'order-2.json', 'order-3.json', 'order-4.json', 'order-5.json', 'order-6.json'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The order objects in a fixture file (`{order}` or `{orders: [...]}`). */
export function restOrders(file: string): Json[] {
  const j = fixtureJson(`shopify/rest-2026-07/${file}`);
  return j.orders ?? [j.order];
}

export function restOrderToGql(o: Json): Json {
  const shopMoney = (set: Json, amount: string) => ({ shopMoney: { amount: set?.shop_money?.amount ?? amount, currencyCode: set?.shop_money?.currency_code ?? o.currency } });
  const a = o.shipping_address;
  const f = (o.fulfillment_status ?? 'unfulfilled').toUpperCase();
  return {
    id: `gid://shopify/Order/${o.id}`,
    name: o.name,
    createdAt: o.created_at,
    updatedAt: o.updated_at,
    processedAt: o.processed_at,
    cancelledAt: o.cancelled_at,
    cancelReason: o.cancel_reason?.toUpperCase() ?? null,
    closed: !!o.closed_at,
    displayFinancialStatus: o.financial_status?.toUpperCase() ?? null,
    displayFulfillmentStatus: f === 'PARTIAL' ? 'PARTIALLY_FULFILLED' : f,
    currencyCode: o.currency,
    email: o.email,
    phone: o.phone,
    tags: (o.tags ?? '').split(',').map((t: string) => t.trim()).filter(Boolean),
    totalPriceSet: shopMoney(o.total_price_set, o.total_price),
    customer: o.customer
      ? { id: `gid://shopify/Customer/${o.customer.id}`, email: o.customer.email, displayName: [o.customer.first_name, o.customer.last_name].filter(Boolean).join(' '), phone: o.customer.phone }
      : null,
    shippingAddress: a
      ? { name: a.name, address1: a.address1, address2: a.address2, city: a.city, province: a.province, provinceCode: a.province_code, zip: a.zip, countryCodeV2: a.country_code, latitude: a.latitude, longitude: a.longitude, phone: a.phone }
      : null,
    shippingLine: o.shipping_lines?.[0] ? { title: o.shipping_lines[0].title } : null,
    fulfillmentOrders: { nodes: [{ deliveryMethod: { methodType: 'SHIPPING' } }] },
    lineItems: {
      pageInfo: { hasNextPage: false },
      nodes: o.line_items.map((l: Json) => ({
        id: `gid://shopify/LineItem/${l.id}`,
        sku: l.sku,
        title: l.title,
        quantity: l.quantity,
        currentQuantity: l.current_quantity ?? l.quantity,
        // REST's fulfillable_quantity is quantity − max(removed, fulfilled), never above current_quantity: as
        // unfulfilledQuantity it maps to the same units still owed (min(currentQuantity, unfulfilledQuantity)).
        ...(l.fulfillable_quantity !== undefined ? { unfulfilledQuantity: l.fulfillable_quantity } : {}),
        originalUnitPriceSet: shopMoney(l.price_set, l.price),
      })),
    },
  };
}

/** A GraphQL order node from order-1.json with the given id and updatedAt. */
export function gqlOrder(id: string, updatedAt: string): Json {
  return { ...restOrderToGql(restOrders('order-1.json')[0]), id: `gid://shopify/Order/${id}`, updatedAt };
}

export const THROTTLE_STATUS = { maximumAvailable: 2000, currentlyAvailable: 1900, restoreRate: 100 };
