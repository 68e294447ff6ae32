import type { Money } from './canonical';

/**
 * Hub → origin channel: give money back for returned goods. The hub has already put resellable units back into
 * its own stock, so connectors never ask the channel to restock (its levels follow the hub's stock pushes).
 * `idempotencyKey` is stable for this refund: a resend must never refund twice (Shopify `@idempotent`, a marker
 * the connector looks up first where the vendor has no key).
 */
export interface RefundCommand {
  orderExternalId: string;
  /** The hub's return reference (RMA), shown in the channel's refund note. */
  reference: string;
  /** What the hub computed (unit price × quantity); the channel may add taxes and discounts it knows about. */
  amount: Money;
  currency: string;
  lines: Array<{ orderLineExternalId: string; quantity: number; sku?: string }>;
  note?: string;
  notifyCustomer?: boolean;
  idempotencyKey: string;
}

/**
 * Hub → 3PL: expect goods back (a return order / RMA the customer's label and box carry). `reference` is the
 * hub's RMA; connectors look it up first, so pushing twice creates one return.
 */
export interface CreateReturnCommand {
  reference: string;
  /** The channel's order id, for the vendor's records. */
  orderExternalId?: string;
  /** Vendor facility receiving the goods (ShipBob fulfilment centre id). */
  externalLocationId: string;
  lines: Array<{ sku: string; quantity: number; /** Vendor item id when the hub knows it (settings.itemIds). */ externalItemId?: string }>;
  idempotencyKey: string;
}
