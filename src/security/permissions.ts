import { Role } from './roles';

const { ADMIN, OPERATOR, INTEGRATION, VIEWER } = Role;
const READ = [ADMIN, OPERATOR, INTEGRATION, VIEWER];
const OPS = [ADMIN, OPERATOR];
const OPS_AND_INTEGRATION = [ADMIN, OPERATOR, INTEGRATION];

/**
 * Who may call each root field. This table IS the access policy: it is enforced before any resolver runs (HTTP
 * and WebSocket alike), a field missing from it is refused to everyone, and a test checks that it covers the
 * whole schema and equals the table in the README.
 */
export const PERMISSIONS: Readonly<Record<'Query' | 'Mutation' | 'Subscription', Readonly<Record<string, readonly Role[]>>>> = {
  Query: {
    availability: READ,
    locations: READ,
    location: READ,
    products: READ,
    product: READ,
    stockLevels: READ,
    inventoryHistory: [ADMIN, OPERATOR, VIEWER],
    inventoryTransfers: [ADMIN, OPERATOR, VIEWER],
    channelInventoryPolicy: [ADMIN, OPERATOR, VIEWER],
    order: READ, // INTEGRATION keys bound to a connection see only that connection's orders
    orders: READ,
    explainRouting: [ADMIN, OPERATOR, VIEWER],
    routingRuleSets: [ADMIN, OPERATOR, VIEWER],
    apiKeys: [ADMIN],
    auditLog: [ADMIN],
    whoami: READ,
    connections: [ADMIN, OPERATOR, VIEWER],
    syncRuns: [ADMIN, OPERATOR, VIEWER],
    deadLetters: [ADMIN, OPERATOR],
    quarantinedRecords: [ADMIN, OPERATOR],
    stockDrift: [ADMIN, OPERATOR, VIEWER],
    deliveryOptions: READ, // checkouts (INTEGRATION keys) ask it for every cart
    promiseAccuracy: [ADMIN, OPERATOR, VIEWER],
    deliveryPromise: [ADMIN, OPERATOR, VIEWER],
    carrierServices: READ,
    holidays: READ,
    return: [ADMIN, OPERATOR, VIEWER],
    returns: [ADMIN, OPERATOR, VIEWER],
  },
  Mutation: {
    placeOrder: OPS_AND_INTEGRATION,
    cancelOrder: OPS_AND_INTEGRATION,
    holdOrder: OPS,
    changeOrderShipTo: OPS,
    cancelOrderLines: OPS,
    releaseOrderHold: OPS,
    allocateOrder: OPS,
    tagOrder: OPS,
    untagOrder: OPS,
    setOrderCustomStatus: OPS,
    setOrderAttributes: OPS,
    acceptFulfillmentOrder: OPS,
    rejectFulfillmentOrder: OPS,
    pickFulfillmentOrder: OPS,
    packFulfillmentOrder: OPS,
    shipFulfillmentOrder: OPS,
    markFulfillmentOrderReadyForPickup: OPS,
    confirmFulfillmentOrderPickedUp: OPS,
    confirmFulfillmentOrderDelivered: OPS,
    cancelFulfillmentOrder: OPS,
    adjustInventory: OPS_AND_INTEGRATION,
    setInventory: OPS_AND_INTEGRATION,
    transferInventory: OPS_AND_INTEGRATION,
    receiveTransfer: OPS_AND_INTEGRATION,
    cancelTransfer: OPS,
    reserveInventory: OPS_AND_INTEGRATION,
    releaseReservation: OPS_AND_INTEGRATION,
    setChannelAllocation: OPS,
    setChannelSafetyStock: OPS,
    upsertLocation: OPS,
    setLocationActive: OPS,
    upsertProduct: OPS,
    saveRoutingRuleSet: OPS,
    publishRoutingRuleSet: OPS,
    createApiKey: [ADMIN],
    revokeApiKey: [ADMIN],
    createConnection: [ADMIN],
    updateConnection: [ADMIN],
    disableConnection: [ADMIN, OPERATOR],
    testConnection: [ADMIN, OPERATOR],
    runSync: OPS,
    replayDeadLetter: OPS,
    reconcileStock: OPS,
    upsertCarrierService: OPS,
    upsertHoliday: OPS,
    deleteHoliday: OPS,
    recordDeliveryPromise: OPS_AND_INTEGRATION, // INTEGRATION: only orders of its own connection
    createReturn: OPS_AND_INTEGRATION, // channels open returns for their customers; INTEGRATION: own connection's orders only
    receiveReturn: OPS,
    cancelReturn: OPS,
    closeReturn: OPS,
    markReturnInTransit: OPS_AND_INTEGRATION, // a carrier's tracking integration reports the first scan; INTEGRATION: own connection's orders only
  },
  Subscription: {
    inventoryChanged: READ,
    orderUpdated: [ADMIN, OPERATOR, VIEWER],
  },
};

/** Root fields anonymous callers may use when the operator enables it (storefront availability). */
export const ANONYMOUS_FIELDS: Readonly<Record<string, readonly string[]>> = { Query: ['availability'] };
