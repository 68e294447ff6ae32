import { z } from 'zod';
import type { CanonicalEvent, CanonicalOrder, CanonicalOrderStatus } from '../sdk/canonical';
import { sumDecimal } from '../sdk/decimal';
import { parseRecord } from '../sdk/shape';
import { money, toUtcIso } from '../sdk/time';

const nstr = z.string().nullish();
const moneySchema = z.object({ amount: z.string(), currencyCode: z.string() });

/** Orders API v2026-01-01 `Order` (the fields the hub uses). */
export const spOrderSchema = z.object({
  orderId: z.string().min(1),
  createdTime: z.string(),
  lastUpdatedTime: z.string(),
  programs: z.array(z.string()).optional(),
  salesChannel: z.object({ marketplaceId: z.string(), marketplaceName: nstr }).optional(),
  buyer: z.object({ buyerName: nstr, buyerEmail: nstr, buyerCompanyName: nstr }).nullish(),
  recipient: z
    .object({
      deliveryAddress: z
        .object({
          name: nstr, addressLine1: nstr, addressLine2: nstr, addressLine3: nstr, city: nstr, districtOrCounty: nstr,
          stateOrRegion: nstr, postalCode: nstr, countryCode: z.string(), phone: nstr,
        })
        .nullish(),
    })
    .nullish(),
  proceeds: z.object({ grandTotal: moneySchema.nullish() }).nullish(),
  fulfillment: z.object({ fulfillmentStatus: z.string(), fulfilledBy: nstr }),
  orderItems: z.array(
    z.object({
      orderItemId: z.string().min(1),
      quantityOrdered: z.number().int(),
      product: z.object({ sellerSku: z.string().min(1), title: nstr, price: z.object({ unitPrice: moneySchema.nullish() }).nullish() }),
      proceeds: z.object({ proceedsTotal: moneySchema.nullish() }).nullish(),
      cancellation: z.object({ cancellationRequest: z.unknown().optional() }).nullish(),
      fulfillment: z.object({ quantityFulfilled: z.number().int().nullish(), quantityUnfulfilled: z.number().int().nullish() }).nullish(),
    }),
  ),
});
export type SpOrder = z.infer<typeof spOrderSchema>;

const STATUS: Record<string, CanonicalOrderStatus> = {
  PENDING_AVAILABILITY: 'PENDING',
  PENDING: 'PENDING',
  UNSHIPPED: 'OPEN',
  PARTIALLY_SHIPPED: 'PARTIALLY_FULFILLED',
  SHIPPED: 'FULFILLED',
  CANCELLED: 'CANCELLED',
  // Multi-Channel Fulfillment orders Amazon cannot fulfil: nothing will ship.
  UNFULFILLABLE: 'CANCELLED',
};

export function mapSpOrder(raw: unknown): CanonicalOrder {
  const o = parseRecord(spOrderSchema, raw, 'order');
  const status = STATUS[o.fulfillment.fulfillmentStatus];
  if (!status) throw new Error(`unknown fulfillmentStatus ${JSON.stringify(o.fulfillment.fulfillmentStatus)}`);
  const prices = o.orderItems.map((i) => i.product.price?.unitPrice).filter((p): p is { amount: string; currencyCode: string } => !!p);
  const grand = o.proceeds?.grandTotal;
  const currency = grand?.currencyCode ?? prices[0]?.currencyCode;
  if (!currency) throw new Error('order has neither proceeds nor item prices (request includedData=PROCEEDS)');
  const itemTotals = o.orderItems.map((i) => i.proceeds?.proceedsTotal?.amount);
  const total = grand?.amount ?? (itemTotals.every((t) => t !== undefined) ? sumDecimal(itemTotals as string[]) : undefined);
  if (total === undefined) throw new Error('order total unknown (no proceeds.grandTotal)');

  const order: CanonicalOrder = {
    externalId: o.orderId,
    name: o.orderId,
    status,
    currency,
    totalPrice: money(total, 'grandTotal'),
    placedAt: toUtcIso(o.createdTime),
    updatedAt: toUtcIso(o.lastUpdatedTime),
    method: 'SHIP',
    lines: o.orderItems.map((i) => {
      const line: CanonicalOrder['lines'][number] = {
        externalId: i.orderItemId,
        sku: i.product.sellerSku,
        quantity: i.quantityOrdered,
        unitPrice: money(i.product.price?.unitPrice?.amount ?? '0', 'unitPrice'),
      };
      if (typeof i.fulfillment?.quantityFulfilled === 'number') line.quantityFulfilled = i.fulfillment.quantityFulfilled;
      if (i.product.title) line.title = i.product.title;
      return line;
    }),
  };
  const a = o.recipient?.deliveryAddress;
  if (a) {
    const shipTo: NonNullable<CanonicalOrder['shipTo']> = { country: a.countryCode.toUpperCase() };
    if (a.name) shipTo.name = a.name;
    if (a.addressLine1) shipTo.line1 = a.addressLine1;
    const line2 = [a.addressLine2, a.addressLine3].filter(Boolean).join(', ');
    if (line2) shipTo.line2 = line2;
    if (a.city) shipTo.city = a.city;
    if (a.stateOrRegion) shipTo.region = a.stateOrRegion;
    if (a.postalCode) shipTo.postalCode = a.postalCode;
    if (a.phone) shipTo.phone = a.phone;
    order.shipTo = shipTo;
  }
  if (o.buyer && (o.buyer.buyerName || o.buyer.buyerEmail)) {
    order.customer = {};
    if (o.buyer.buyerName) order.customer.name = o.buyer.buyerName;
    if (o.buyer.buyerEmail) order.customer.email = o.buyer.buyerEmail;
  }
  // Amazon-fulfilled (FBA) orders are not the hub's to route; the tag lets routing skip them.
  const tags = [...(o.programs ?? []).map((p) => `program:${p}`), ...(o.fulfillment.fulfilledBy ? [`fulfilled-by:${o.fulfillment.fulfilledBy}`] : [])];
  if (o.salesChannel?.marketplaceId) tags.push(`marketplace:${o.salesChannel.marketplaceId}`);
  if (tags.length) order.tags = tags;
  return order;
}

/** ORDER_CHANGE notification (schemas/notifications/OrderChangeNotification.json). */
export const orderChangeSchema = z.object({
  NotificationType: z.literal('ORDER_CHANGE'),
  EventTime: z.string(),
  Payload: z.object({
    OrderChangeNotification: z.object({
      AmazonOrderId: z.string().min(1),
      OrderChangeType: z.string(),
      OrderChangeTrigger: z.object({ TimeOfOrderChange: z.string(), ChangeReason: nstr }).nullish(),
      Summary: z.object({ OrderStatus: z.string() }).passthrough().nullish(),
    }),
  }),
  NotificationMetadata: z.object({ NotificationId: z.string().min(1), PublishTime: z.string().optional() }),
});

/**
 * ORDER_CHANGE carries a summary, not the order: the hub should re-read the order (getOrder) on `order.changed`.
 * A cancellation (status Canceled) is reported directly as `order.cancelled`.
 */
export function mapOrderChange(raw: unknown): { notificationId: string; events: CanonicalEvent[] } {
  const n = parseRecord(orderChangeSchema, raw, 'ORDER_CHANGE notification');
  const c = n.Payload.OrderChangeNotification;
  const at = toUtcIso(c.OrderChangeTrigger?.TimeOfOrderChange ?? n.EventTime);
  const reason = c.OrderChangeTrigger?.ChangeReason ?? c.OrderChangeType;
  const status = (c.Summary?.OrderStatus ?? '').toLowerCase();
  const event: CanonicalEvent =
    status === 'canceled' || status === 'cancelled'
      ? { type: 'order.cancelled', orderExternalId: c.AmazonOrderId, at, reason: reason ?? undefined }
      : { type: 'order.changed', orderExternalId: c.AmazonOrderId, at, ...(reason ? { reason } : {}) };
  return { notificationId: n.NotificationMetadata.NotificationId, events: [event] };
}
