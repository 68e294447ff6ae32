/**
 * Canonical DTOs: what every connector emits and accepts, whatever the vendor.
 *
 * Rules that every mapper follows (the conformance kit checks them):
 * - External ids are strings, always. Vendor ids can exceed 2^53, so they are read with `parseJsonSafe`
 *   and never pass through a JS number.
 * - Money is a decimal string ("199.00"), never a float. `currency` is ISO-4217.
 * - Timestamps are ISO-8601 UTC with milliseconds ("2025-04-02T16:38:15.000Z"), see `toUtcIso`.
 * - Countries are ISO-3166 alpha-2.
 * - DTOs are plain data (JSON round-trips to an equal value): no classes, no Dates, no undefined-only fields
 *   that matter.
 */

/** How the buyer receives the goods. */
export type FulfillmentMethod = 'SHIP' | 'PICKUP' | 'CURBSIDE';

/** Decimal string: `^-?\d+(\.\d+)?$`. */
export type Money = string;

/** ISO-8601 UTC timestamp, e.g. `2025-04-02T16:38:15.000Z`. */
export type UtcIso = string;

export interface CanonicalAddress {
  name?: string;
  line1?: string;
  line2?: string;
  city?: string;
  /** Province / state code where the vendor gives one (e.g. "KY"), else its name. */
  region?: string;
  postalCode?: string;
  /** ISO-3166 alpha-2. */
  country: string;
  latitude?: number;
  longitude?: number;
  phone?: string;
}

export interface CanonicalCustomer {
  externalId?: string;
  name?: string;
  email?: string;
  phone?: string;
}

/**
 * Order lifecycle as the channel reports it. The hub's own order state machine is richer; this is the channel's
 * view, used to detect cancellations and completion.
 */
export type CanonicalOrderStatus =
  | 'PENDING' // placed, not yet payable/releasable (e.g. Amazon PENDING, Magento pending_payment)
  | 'OPEN' // ready to fulfil
  | 'PARTIALLY_FULFILLED'
  | 'FULFILLED'
  | 'CANCELLED'
  | 'CLOSED'; // complete / archived

export interface CanonicalOrderLine {
  /** The channel's line id (Shopify line item id, Amazon orderItemId, Magento item_id). */
  externalId: string;
  sku: string;
  quantity: number;
  /**
   * Units the channel removed from this line (cancelled, or refunded), when known. With Shopify these may include
   * units already fulfilled (a refund after a return); `quantityFulfillable` then says what is still to be sent.
   */
  quantityCancelled?: number;
  quantityFulfilled?: number;
  /** Units the channel still expects to be fulfilled: neither removed nor fulfilled, in its own arithmetic. */
  quantityFulfillable?: number;
  unitPrice: Money;
  title?: string;
}

export interface CanonicalOrder {
  /** The channel's order id (string; may exceed 2^53 when numeric). */
  externalId: string;
  /** Human order number shown to the buyer ("#1001", Amazon 3-7-7 id, Magento increment id). */
  name?: string;
  status: CanonicalOrderStatus;
  currency: string;
  totalPrice: Money;
  placedAt: UtcIso;
  updatedAt: UtcIso;
  cancelledAt?: UtcIso;
  customer?: CanonicalCustomer;
  shipTo?: CanonicalAddress;
  method: FulfillmentMethod;
  lines: CanonicalOrderLine[];
  tags?: string[];
}

export interface CanonicalLocation {
  externalId: string;
  name: string;
  active: boolean;
  address?: CanonicalAddress;
}

/** Stock of one sku at one of the vendor's locations (Shopify location, Magento source, Amazon fulfilment channel). */
export interface CanonicalStockLevel {
  /**
   * Absent only when the vendor reports by item id alone (Shopify `inventory_levels/update`); the hub then resolves
   * the sku from `externalItemId`.
   */
  sku?: string;
  /** The vendor's location id (Shopify location id, Magento source_code, Amazon "DEFAULT"). */
  externalLocationId: string;
  /** The vendor's item id where it has one (Shopify inventory item id). */
  externalItemId?: string;
  /** Sellable quantity as the vendor counts it. */
  available: number;
  onHand?: number;
  updatedAt?: UtcIso;
}

export interface CanonicalShipmentLine {
  /** The order line's external id, when the vendor says which line. */
  orderLineExternalId?: string;
  sku?: string;
  quantity: number;
}

export interface CanonicalShipment {
  externalId: string;
  orderExternalId: string;
  status: 'PENDING' | 'SHIPPED' | 'DELIVERED' | 'FAILED' | 'CANCELLED';
  carrier?: string;
  trackingNumber?: string;
  trackingUrl?: string;
  externalLocationId?: string;
  lines: CanonicalShipmentLine[];
  createdAt: UtcIso;
  updatedAt?: UtcIso;
}

export interface CanonicalRefundLine {
  orderLineExternalId: string;
  sku?: string;
  quantity: number;
  /** Whether the goods go back to stock, and where. */
  restock: boolean;
  externalLocationId?: string;
  amount?: Money;
}

export interface CanonicalRefund {
  externalId: string;
  orderExternalId: string;
  createdAt: UtcIso;
  note?: string;
  currency?: string;
  amount?: Money;
  lines: CanonicalRefundLine[];
}

/** A return (RMA) as a 3PL or ERP reports it: goods on their way back, received, or processed. */
export interface CanonicalReturn {
  externalId: string;
  /** The hub's or channel's order reference, when the vendor keeps it. */
  orderExternalId?: string;
  /** The outbound shipment being returned, when known. */
  shipmentExternalId?: string;
  status: 'REQUESTED' | 'IN_TRANSIT' | 'RECEIVED' | 'COMPLETED' | 'CANCELLED';
  /** Where the goods come back to. */
  externalLocationId?: string;
  trackingNumber?: string;
  lines: Array<{
    sku: string; quantity: number; /** Put back into sellable stock. */ restock?: boolean;
    /** Units the vendor has processed so far, by the hub's grade (cumulative: a later payload repeats earlier ones). */
    graded?: Array<{ condition: 'RESELLABLE' | 'REFURBISH' | 'DAMAGED' | 'DISPOSE'; quantity: number }>;
  }>;
  /** The hub's RMA when the vendor keeps it (ShipBob `reference_id`). */
  reference?: string;
  createdAt: UtcIso;
  updatedAt?: UtcIso;
}

/** What a webhook or notification tells the hub. */
export type CanonicalEvent =
  | { type: 'order.upserted'; order: CanonicalOrder }
  | { type: 'order.cancelled'; orderExternalId: string; at: UtcIso; reason?: string; order?: CanonicalOrder }
  | { type: 'order.changed'; orderExternalId: string; at: UtcIso; reason?: string }
  | { type: 'refund.created'; refund: CanonicalRefund }
  | { type: 'shipment.upserted'; shipment: CanonicalShipment }
  | { type: 'stock.changed'; level: CanonicalStockLevel }
  | { type: 'return.upserted'; ret: CanonicalReturn };

// ---- push commands (hub → vendor) ----

export interface SetStockCommand {
  sku: string;
  externalLocationId: string;
  /** Vendor item id where the vendor needs one (Shopify inventory item gid or numeric id). */
  externalItemId?: string;
  quantity: number;
  /**
   * The quantity the hub believes the vendor holds now (compare-and-set). Required by Shopify from 2026-04;
   * `null` means "the vendor has no level here yet".
   */
  expectedQuantity?: number | null;
  /** Stable key for this change; the vendor dedupes retries with it where it can. */
  idempotencyKey: string;
}

export interface CreateShipmentCommand {
  orderExternalId: string;
  /** Vendor location the goods leave from (Shopify location id, Magento source_code). */
  externalLocationId?: string;
  carrier: string;
  trackingNumber: string;
  trackingUrl?: string;
  shippedAt: UtcIso;
  lines: Array<{ orderLineExternalId: string; quantity: number }>;
  notifyCustomer?: boolean;
  idempotencyKey: string;
}

export interface CancelOrderCommand {
  orderExternalId: string;
  reason?: string;
  notifyCustomer?: boolean;
  restock?: boolean;
  idempotencyKey: string;
}

/** A relative stock change (Square ADJUSTMENT): received goods, waste, a correction by delta. */
export interface AdjustStockCommand {
  sku: string;
  externalLocationId: string;
  externalItemId?: string;
  /** Units added (positive) or removed (negative); never zero. */
  delta: number;
  reason?: string;
  occurredAt?: UtcIso;
  idempotencyKey: string;
}

/**
 * Hub → vendor: place an order in another system (books in the ERP, a pickup order in the store's POS, a
 * fulfilment order at the 3PL). `reference` is the hub's stable id for it; connectors store it in the vendor's
 * own reference field (Odoo `client_order_ref`, Square `reference_id`, ShipBob `reference_id`) and look it up
 * first, so pushing the same command twice creates one order.
 */
export interface CreateOrderCommand {
  reference: string;
  /** Human order number ("#1001"). */
  name?: string;
  /** The channel the order came from ("shopify"), for the vendor's records. */
  channel?: string;
  currency: string;
  placedAt?: UtcIso;
  method: FulfillmentMethod;
  /** Vendor location that fulfils it (Odoo warehouse id, Square location id, ShipBob fulfilment centre id). */
  externalLocationId?: string;
  customer?: CanonicalCustomer;
  shipTo?: CanonicalAddress;
  /** Shipping service name as the vendor knows it (ShipBob `shipping_method`). */
  shippingMethod?: string;
  /** Pickup time requested by the buyer (PICKUP / CURBSIDE). */
  pickupAt?: UtcIso;
  note?: string;
  lines: Array<{
    /** The hub's line reference (order line id); echoed back where the vendor keeps one. */
    lineRef: string;
    sku: string;
    quantity: number;
    unitPrice?: Money;
    title?: string;
    /** Vendor item id when the hub already knows it (Square catalog object id). */
    externalItemId?: string;
  }>;
  idempotencyKey: string;
}

/**
 * Hub → vendor: the order an earlier `createOrder` placed now ships to another address (the customer corrected it
 * in the channel, or an operator did in the hub). `orderExternalId` is what `createOrder` returned; `reference` the
 * hub's id it was created with. The connector changes every part of the vendor order that has not left yet, and
 * fails without retry (ConnectorError, `retryable: false`) when nothing can change any more, so that the event is
 * kept as a dead letter for an operator. Pushing the same address twice is harmless.
 */
export interface UpdateShipToCommand {
  orderExternalId: string;
  reference: string;
  shipTo: CanonicalAddress;
  customer?: CanonicalCustomer;
  idempotencyKey: string;
}

/**
 * Hub → origin channel: units of some lines will not be fulfilled (an operator cancelled them in the hub; the rest
 * of the order goes on). The channel removes them from the order and gives the customer their money back for them
 * (Shopify: a refund whose line items are CANCELled). Pushed once per idempotency key.
 */
export interface CancelLinesCommand {
  orderExternalId: string;
  /** The hub's order id, for notes and errors. */
  reference: string;
  lines: Array<{ orderLineExternalId: string; quantity: number; sku?: string }>;
  reason?: string;
  notifyCustomer?: boolean;
  idempotencyKey: string;
}

export interface PushResult {
  /** Id the vendor gave the effect (fulfillment id, shipment id, feed id, submission id). */
  externalId?: string;
  /** Accepted for asynchronous processing (Amazon feeds, listings submissions) rather than applied. */
  accepted?: boolean;
  /** Vendor-reported non-fatal issues. */
  warnings?: string[];
}
