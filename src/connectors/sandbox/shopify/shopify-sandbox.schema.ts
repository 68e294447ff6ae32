import { buildSchema, type GraphQLSchema } from 'graphql';

/**
 * The subset of Shopify's Admin GraphQL API (2026-07) the sandbox serves: every type, field, argument and enum
 * value here exists with the same type in Shopify's published introspection (../shared/fixtures/shopify/
 * admin_schema_2025-01.json.gz), plus the 2026-04 changes (`changeFromQuantity` replaces `compareQuantity`, the
 * `@idempotent` directive, mandatory on `refundCreate` too) and `bulkOperationRunQuery(groupObjects:)` (added after 2025-01; ungrouped by default). test/connectors/sandbox/shopify-sandbox.schema.test.ts checks that, field by field.
 * Interfaces are left out (no document the hub sends selects through them).
 */
export const SHOPIFY_SANDBOX_SDL = /* GraphQL */ `
directive @idempotent(key: String!) on FIELD

scalar DateTime
scalar Decimal
scalar Money
scalar URL
scalar UnsignedInt64

schema { query: QueryRoot mutation: Mutation }

type QueryRoot {
  orders(first: Int, after: String, last: Int, before: String, reverse: Boolean = false, sortKey: OrderSortKeys = PROCESSED_AT, query: String, savedSearchId: ID): OrderConnection!
  order(id: ID!): Order
  fulfillmentOrder(id: ID!): FulfillmentOrder
  locations(first: Int, after: String, last: Int, before: String, reverse: Boolean = false, sortKey: LocationSortKeys = NAME, query: String, includeLegacy: Boolean = false, includeInactive: Boolean = false): LocationConnection!
  inventoryItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false, query: String): InventoryItemConnection!
  inventoryItem(id: ID!): InventoryItem
  shop: Shop!
  currentBulkOperation(type: BulkOperationType = QUERY): BulkOperation
}

type Mutation {
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
  fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload
  orderCancel(orderId: ID!, refund: Boolean!, restock: Boolean!, reason: OrderCancelReason!, notifyCustomer: Boolean = false, staffNote: String = null): OrderCancelPayload
  bulkOperationRunQuery(query: String!, groupObjects: Boolean! = false): BulkOperationRunQueryPayload
  refundCreate(input: RefundInput!): RefundCreatePayload
  orderUpdate(input: OrderInput!): OrderUpdatePayload
}

enum OrderSortKeys { CREATED_AT ID PROCESSED_AT UPDATED_AT }
enum LocationSortKeys { ID NAME }
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY STAFF OTHER }
enum OrderDisplayFinancialStatus { PENDING AUTHORIZED PARTIALLY_PAID PARTIALLY_REFUNDED VOIDED PAID REFUNDED EXPIRED }
enum OrderDisplayFulfillmentStatus { UNFULFILLED PARTIALLY_FULFILLED FULFILLED RESTOCKED PENDING_FULFILLMENT OPEN IN_PROGRESS ON_HOLD SCHEDULED REQUEST_DECLINED }
enum CurrencyCode { USD CAD EUR GBP }
enum CountryCode { US CA GB }
enum FulfillmentOrderStatus { OPEN IN_PROGRESS CANCELLED INCOMPLETE CLOSED SCHEDULED ON_HOLD }
enum DeliveryMethodType { SHIPPING PICK_UP NONE RETAIL LOCAL PICKUP_POINT }
enum FulfillmentStatus { PENDING OPEN SUCCESS CANCELLED ERROR FAILURE }
enum BulkOperationStatus { CANCELED CANCELING COMPLETED CREATED EXPIRED FAILED RUNNING }
enum BulkOperationErrorCode { ACCESS_DENIED INTERNAL_SERVER_ERROR TIMEOUT }
enum BulkOperationType { QUERY MUTATION }
enum InventorySetQuantitiesUserErrorCode { INVALID_INVENTORY_ITEM INVALID_LOCATION INVALID_QUANTITY_NEGATIVE INVALID_REASON INVALID_REFERENCE_DOCUMENT ITEM_NOT_STOCKED_AT_LOCATION INVALID_QUANTITY_TOO_HIGH INVALID_QUANTITY_TOO_LOW COMPARE_QUANTITY_REQUIRED COMPARE_QUANTITY_STALE INVALID_NAME NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR NON_MUTABLE_INVENTORY_ITEM }
enum OrderCancelUserErrorCode { NO_REFUND_PERMISSION NOT_FOUND INVALID }

type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }

type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }
type OrderEdge { cursor: String! node: Order! }
type Order {
  id: ID!
  name: String!
  createdAt: DateTime!
  updatedAt: DateTime!
  processedAt: DateTime!
  cancelledAt: DateTime
  cancelReason: OrderCancelReason
  closed: Boolean!
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  currencyCode: CurrencyCode!
  email: String
  phone: String
  tags: [String!]!
  totalPriceSet: MoneyBag!
  customer: Customer
  shippingAddress: MailingAddress
  shippingLine: ShippingLine
  fulfillmentOrders(displayable: Boolean = false, first: Int, after: String, last: Int, before: String, reverse: Boolean = false, query: String): FulfillmentOrderConnection!
  lineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): LineItemConnection!
  suggestedRefund(refundLineItems: [RefundLineItemInput!], suggestFullRefund: Boolean = false): SuggestedRefund
}
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type Customer { id: ID! email: String displayName: String! phone: String }
type MailingAddress {
  name: String address1: String address2: String city: String province: String provinceCode: String zip: String
  countryCodeV2: CountryCode latitude: Float longitude: Float phone: String
}
type ShippingLine { title: String! }

type LineItemConnection { edges: [LineItemEdge!]! nodes: [LineItem!]! pageInfo: PageInfo! }
type LineItemEdge { cursor: String! node: LineItem! }
type LineItem { id: ID! sku: String title: String! quantity: Int! currentQuantity: Int! unfulfilledQuantity: Int! originalUnitPriceSet: MoneyBag! }

type FulfillmentOrderConnection { edges: [FulfillmentOrderEdge!]! nodes: [FulfillmentOrder!]! pageInfo: PageInfo! }
type FulfillmentOrderEdge { cursor: String! node: FulfillmentOrder! }
type FulfillmentOrder {
  id: ID!
  status: FulfillmentOrderStatus!
  assignedLocation: FulfillmentOrderAssignedLocation!
  lineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): FulfillmentOrderLineItemConnection!
  deliveryMethod: DeliveryMethod
}
type DeliveryMethod { id: ID! methodType: DeliveryMethodType! }
type FulfillmentOrderAssignedLocation { name: String! location: Location }
type FulfillmentOrderLineItemConnection { edges: [FulfillmentOrderLineItemEdge!]! nodes: [FulfillmentOrderLineItem!]! pageInfo: PageInfo! }
type FulfillmentOrderLineItemEdge { cursor: String! node: FulfillmentOrderLineItem! }
type FulfillmentOrderLineItem { id: ID! remainingQuantity: Int! totalQuantity: Int! lineItem: LineItem! }

type LocationConnection { edges: [LocationEdge!]! nodes: [Location!]! pageInfo: PageInfo! }
type LocationEdge { cursor: String! node: Location! }
type Location { id: ID! name: String! isActive: Boolean! address: LocationAddress! }
type LocationAddress {
  address1: String address2: String city: String province: String provinceCode: String zip: String countryCode: String
  latitude: Float longitude: Float phone: String
}

type InventoryItemConnection { edges: [InventoryItemEdge!]! nodes: [InventoryItem!]! pageInfo: PageInfo! }
type InventoryItemEdge { cursor: String! node: InventoryItem! }
type InventoryItem {
  id: ID!
  sku: String
  inventoryLevels(first: Int, after: String, last: Int, before: String, reverse: Boolean = false, query: String): InventoryLevelConnection!
}
type InventoryLevelConnection { edges: [InventoryLevelEdge!]! nodes: [InventoryLevel!]! pageInfo: PageInfo! }
type InventoryLevelEdge { cursor: String! node: InventoryLevel! }
type InventoryLevel { id: ID! updatedAt: DateTime! location: Location! quantities(names: [String!]!): [InventoryQuantity!]! }
type InventoryQuantity { id: ID! name: String! quantity: Int! }

type Shop { id: ID! name: String! }

input InventorySetQuantitiesInput { reason: String! name: String! referenceDocumentUri: String quantities: [InventoryQuantityInput!]! ignoreCompareQuantity: Boolean }
input InventoryQuantityInput { inventoryItemId: ID! locationId: ID! quantity: Int! changeFromQuantity: Int }
type InventorySetQuantitiesPayload { inventoryAdjustmentGroup: InventoryAdjustmentGroup userErrors: [InventorySetQuantitiesUserError!]! }
type InventoryAdjustmentGroup { id: ID! createdAt: DateTime! reason: String! referenceDocumentUri: String }
type InventorySetQuantitiesUserError { code: InventorySetQuantitiesUserErrorCode field: [String!] message: String! }

input FulfillmentInput { trackingInfo: FulfillmentTrackingInput notifyCustomer: Boolean lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]! }
input FulfillmentTrackingInput { number: String url: URL company: String numbers: [String!] urls: [URL!] }
input FulfillmentOrderLineItemsInput { fulfillmentOrderId: ID! fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!] }
input FulfillmentOrderLineItemInput { id: ID! quantity: Int! }
type FulfillmentCreatePayload { fulfillment: Fulfillment userErrors: [UserError!]! }
type Fulfillment { id: ID! status: FulfillmentStatus! }
type UserError { field: [String!] message: String! }
input OrderInput { id: ID! shippingAddress: MailingAddressInput }
input MailingAddressInput { address1: String address2: String city: String company: String countryCode: CountryCode firstName: String lastName: String phone: String provinceCode: String zip: String }
type OrderUpdatePayload { order: Order userErrors: [UserError!]! }

type OrderCancelPayload { job: Job orderCancelUserErrors: [OrderCancelUserError!]! }
type Job { id: ID! done: Boolean! }
type OrderCancelUserError { code: OrderCancelUserErrorCode field: [String!] message: String! }

type BulkOperationRunQueryPayload { bulkOperation: BulkOperation userErrors: [BulkOperationUserError!]! }
type BulkOperationUserError { field: [String!] message: String! }
enum RefundLineItemRestockType { RETURN CANCEL LEGACY_RESTOCK NO_RESTOCK }
enum OrderTransactionKind { SALE CAPTURE AUTHORIZATION VOID REFUND CHANGE EMV_AUTHORIZATION SUGGESTED_REFUND }
enum SuggestedOrderTransactionKind { SUGGESTED_REFUND }
input RefundLineItemInput { lineItemId: ID! quantity: Int! restockType: RefundLineItemRestockType locationId: ID }
input OrderTransactionInput { amount: Money! gateway: String! kind: OrderTransactionKind! orderId: ID! parentId: ID }
input RefundInput { currency: CurrencyCode orderId: ID! note: String notify: Boolean refundLineItems: [RefundLineItemInput!] transactions: [OrderTransactionInput!] }
type SuggestedRefund { amountSet: MoneyBag! suggestedTransactions: [SuggestedOrderTransaction!]! }
type SuggestedOrderTransaction { amountSet: MoneyBag! gateway: String kind: SuggestedOrderTransactionKind! parentTransaction: OrderTransaction }
type OrderTransaction { id: ID! gateway: String kind: OrderTransactionKind! amountSet: MoneyBag! }
type RefundCreatePayload { order: Order refund: Refund userErrors: [UserError!]! }
type Refund { id: ID! note: String createdAt: DateTime totalRefundedSet: MoneyBag! }

type BulkOperation { id: ID! status: BulkOperationStatus! errorCode: BulkOperationErrorCode objectCount: UnsignedInt64! url: URL }
`;

let cached: GraphQLSchema | undefined;

export function shopifySandboxSchema(): GraphQLSchema {
  return (cached ??= buildSchema(SHOPIFY_SANDBOX_SDL));
}
