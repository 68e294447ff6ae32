/**
 * Every GraphQL document the Shopify connector sends (Admin API 2026-07). Each one is validated in
 * test/connectors/shopify against Shopify's published introspection schema, with the 2026-04 changes overlaid.
 */

const MONEY = 'shopMoney { amount currencyCode }';
const ADDRESS = 'name address1 address2 city province provinceCode zip countryCodeV2 latitude longitude phone';

/** Fields of an order, shared by the incremental query and the bulk backfill. */
export const ORDER_FIELDS = `
  id
  name
  createdAt
  updatedAt
  processedAt
  cancelledAt
  cancelReason
  closed
  displayFinancialStatus
  displayFulfillmentStatus
  currencyCode
  email
  phone
  tags
  totalPriceSet { ${MONEY} }
  customer { id email displayName phone }
  shippingAddress { ${ADDRESS} }
  shippingLine { title }`;

/**
 * Shopify refuses a query whose requested cost exceeds 1,000 points (connection = 2 + first × node cost; each
 * object 1). An order with its money, customer, address, 5 fulfilment orders and 50 line items requests about 170,
 * so a page holds 5 orders (~850). An order with more line items is completed with ORDER_LINE_ITEMS_QUERY pages
 * (from the line-item cursor) before it is emitted.
 */
export const ORDERS_PAGE_SIZE = 5;
const LINE_ITEM_FIELDS = `id sku title quantity currentQuantity unfulfilledQuantity originalUnitPriceSet { ${MONEY} }`;
export const LINE_ITEMS_PER_ORDER = 50;
export const FULFILLMENT_ORDERS_PER_ORDER = 5;

export const ORDERS_QUERY = `
query SwitchyardOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes {
      ${ORDER_FIELDS}
      fulfillmentOrders(first: ${FULFILLMENT_ORDERS_PER_ORDER}) { nodes { deliveryMethod { methodType } } }
      lineItems(first: ${LINE_ITEMS_PER_ORDER}) {
        pageInfo { hasNextPage endCursor }
        nodes { ${LINE_ITEM_FIELDS} }
      }
    }
  }
}`;

/** Requested cost of one ORDERS_QUERY page by Shopify's rules (what the bucket must hold before it runs). */
export const ORDERS_QUERY_COST = 2 + ORDERS_PAGE_SIZE * (6 + (2 + FULFILLMENT_ORDERS_PER_ORDER * 2) + (2 + LINE_ITEMS_PER_ORDER * 3));

/** The rest of one order's line items, after the cursor of the page already read. */
export const ORDER_LINE_ITEMS_PAGE_SIZE = 250;
export const ORDER_LINE_ITEMS_QUERY = `
query SwitchyardOrderLineItems($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    id
    lineItems(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ${LINE_ITEM_FIELDS} }
    }
  }
}`;

/** order 1 + connection 2 + 250 line items × (1 + money 2) = 753. */
export const ORDER_LINE_ITEMS_QUERY_COST = 1 + 2 + ORDER_LINE_ITEMS_PAGE_SIZE * 3;

export const LOCATIONS_QUERY = `
query SwitchyardLocations($first: Int!, $after: String) {
  locations(first: $first, after: $after, includeInactive: true, includeLegacy: true) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      name
      isActive
      address { address1 address2 city province provinceCode zip countryCode latitude longitude phone }
    }
  }
}`;

/**
 * 4 items × 75 locations requests about 914 points (each level with its location and quantities costs 3). An item
 * stocked at more locations is completed with INVENTORY_LEVELS_QUERY pages before it is emitted.
 */
export const INVENTORY_PAGE_SIZE = 4;
export const LEVELS_PER_ITEM = 75;
const LEVEL_FIELDS = 'updatedAt location { id } quantities(names: ["available", "on_hand"]) { name quantity }';

export const INVENTORY_QUERY = `
query SwitchyardInventory($first: Int!, $after: String) {
  inventoryItems(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      sku
      inventoryLevels(first: ${LEVELS_PER_ITEM}) {
        pageInfo { hasNextPage endCursor }
        nodes { ${LEVEL_FIELDS} }
      }
    }
  }
}`;

export const INVENTORY_QUERY_COST = 2 + INVENTORY_PAGE_SIZE * (3 + LEVELS_PER_ITEM * 3);

/** The rest of one item's levels, after the cursor of the page already read. */
export const ITEM_LEVELS_PAGE_SIZE = 250;
export const INVENTORY_LEVELS_QUERY = `
query SwitchyardInventoryLevels($id: ID!, $first: Int!, $after: String) {
  inventoryItem(id: $id) {
    id
    inventoryLevels(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ${LEVEL_FIELDS} }
    }
  }
}`;

/** item 1 + connection 2 + 250 levels × (1 + location 1 + quantities 1) = 753. */
export const INVENTORY_LEVELS_QUERY_COST = 1 + 2 + ITEM_LEVELS_PAGE_SIZE * 3;

export const SHOP_QUERY = `query SwitchyardCheck { shop { name } }`;

/**
 * Absolute stock with compare-and-set. From 2026-04 `changeFromQuantity` is required (null = "no level yet") and
 * the mutation must carry `@idempotent(key:)`.
 */
export const INVENTORY_SET_QUANTITIES = `
mutation SwitchyardSetQuantities($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}`;

const FO_LINE_FIELDS = 'id remainingQuantity lineItem { id sku }';

/**
 * An order's fulfilment orders with their line items, 5 at a time from `$after`. Requested cost
 * 1 + 2 + 5 × (1 + 2 + 2 + 50 × 2) = 528. A fulfilment order with more than 50 lines is completed with
 * FULFILLMENT_ORDER_LINE_ITEMS_QUERY before the shipment is planned.
 */
export const ORDER_FULFILLMENT_ORDERS = `
query SwitchyardFulfillmentOrders($id: ID!, $after: String) {
  order(id: $id) {
    id
    fulfillmentOrders(first: ${FULFILLMENT_ORDERS_PER_ORDER}, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id
        status
        assignedLocation { location { id } }
        lineItems(first: ${LINE_ITEMS_PER_ORDER}) { pageInfo { hasNextPage endCursor } nodes { ${FO_LINE_FIELDS} } }
      }
    }
  }
}`;

export const ORDER_FULFILLMENT_ORDERS_COST = 1 + 2 + FULFILLMENT_ORDERS_PER_ORDER * (1 + 2 + 2 + LINE_ITEMS_PER_ORDER * 2);

/** The rest of one fulfilment order's line items. Requested cost 1 + 2 + 250 × 2 = 503. */
export const FULFILLMENT_ORDER_LINE_ITEMS_PAGE_SIZE = 250;
export const FULFILLMENT_ORDER_LINE_ITEMS_QUERY = `
query SwitchyardFulfillmentOrderLineItems($id: ID!, $first: Int!, $after: String) {
  fulfillmentOrder(id: $id) {
    id
    lineItems(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ${FO_LINE_FIELDS} }
    }
  }
}`;

export const FULFILLMENT_ORDER_LINE_ITEMS_QUERY_COST = 1 + 2 + FULFILLMENT_ORDER_LINE_ITEMS_PAGE_SIZE * 2;

export const FULFILLMENT_CREATE = `
mutation SwitchyardFulfillmentCreate($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id status }
    userErrors { field message }
  }
}`;

export const ORDER_CANCEL = `
mutation SwitchyardOrderCancel($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: $refund, restock: $restock, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id }
    orderCancelUserErrors { field message code }
  }
}`;

export const ORDER_UPDATE_SHIPPING = `
mutation SwitchyardOrderShippingAddress($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id }
    userErrors { field message }
  }
}`;

/** The inner query of the first backfill (bulk operations take no variables; the window is inlined, quoted). */
export function bulkOrdersInnerQuery(search: string): string {
  return `{
  orders(query: ${JSON.stringify(search)}, sortKey: UPDATED_AT) {
    edges {
      node {
        ${ORDER_FIELDS}
        lineItems {
          edges { node { ${LINE_ITEM_FIELDS} } }
        }
      }
    }
  }
}`;
}

/**
 * `groupObjects: true` makes Shopify write each order's line items right after the order. Recent versions default
 * to ungrouped (children anywhere in the file), which could only be joined by holding the whole file; grouped, the
 * download streams in bounded pages.
 */
export const BULK_RUN_QUERY = `
mutation SwitchyardBulkOrders($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { field message }
  }
}`;

export const BULK_CURRENT = `
query SwitchyardBulkStatus {
  currentBulkOperation(type: QUERY) { id status errorCode objectCount url }
}`;

/** All documents, for validation in tests. */
export const ALL_DOCUMENTS: Record<string, string> = {
  ORDERS_QUERY,
  ORDER_LINE_ITEMS_QUERY,
  LOCATIONS_QUERY,
  INVENTORY_QUERY,
  INVENTORY_LEVELS_QUERY,
  SHOP_QUERY,
  INVENTORY_SET_QUANTITIES,
  ORDER_FULFILLMENT_ORDERS,
  FULFILLMENT_ORDER_LINE_ITEMS_QUERY,
  FULFILLMENT_CREATE,
  ORDER_CANCEL,
  ORDER_UPDATE_SHIPPING,
  BULK_RUN_QUERY,
  BULK_CURRENT,
};
