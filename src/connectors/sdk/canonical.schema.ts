import { z } from 'zod';

/**
 * Runtime checks of the canonical DTOs' rules (exact-string ids, decimal money, UTC ISO timestamps, ISO-2
 * countries). The conformance kit applies them to everything a connector emits; the hub may apply them at intake.
 */
const externalId = z.string().min(1);
const money = z.string().regex(/^-?\d+(\.\d+)?$/, 'money must be a decimal string');
const utc = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'timestamp must be ISO-8601 UTC with ms');
const currency = z.string().regex(/^[A-Z]{3}$/);

export const canonicalAddressSchema = z.strictObject({
  name: z.string().optional(), line1: z.string().optional(), line2: z.string().optional(), city: z.string().optional(),
  region: z.string().optional(), postalCode: z.string().optional(), country: z.string().regex(/^[A-Z]{2}$/, 'country must be ISO-3166 alpha-2'),
  latitude: z.number().min(-90).max(90).optional(), longitude: z.number().min(-180).max(180).optional(), phone: z.string().optional(),
});

export const canonicalOrderSchema = z.strictObject({
  externalId,
  name: z.string().optional(),
  status: z.enum(['PENDING', 'OPEN', 'PARTIALLY_FULFILLED', 'FULFILLED', 'CANCELLED', 'CLOSED']),
  currency,
  totalPrice: money,
  placedAt: utc,
  updatedAt: utc,
  cancelledAt: utc.optional(),
  customer: z.strictObject({ externalId: externalId.optional(), name: z.string().optional(), email: z.string().optional(), phone: z.string().optional() }).optional(),
  shipTo: canonicalAddressSchema.optional(),
  method: z.enum(['SHIP', 'PICKUP', 'CURBSIDE']),
  lines: z.array(
    z.strictObject({
      externalId, sku: z.string().min(1), quantity: z.number().int().nonnegative(),
      quantityCancelled: z.number().int().nonnegative().optional(), quantityFulfilled: z.number().int().nonnegative().optional(),
      quantityFulfillable: z.number().int().nonnegative().optional(),
      unitPrice: money, title: z.string().optional(),
    }),
  ),
  tags: z.array(z.string()).optional(),
});

export const canonicalLocationSchema = z.strictObject({ externalId, name: z.string(), active: z.boolean(), address: canonicalAddressSchema.optional() });

export const canonicalStockLevelSchema = z
  .strictObject({
    sku: z.string().min(1).optional(), externalLocationId: externalId, externalItemId: externalId.optional(),
    available: z.number().int(), onHand: z.number().int().optional(), updatedAt: utc.optional(),
  })
  .refine((l) => l.sku !== undefined || l.externalItemId !== undefined, 'a stock level needs a sku or an item id');

export const canonicalShipmentSchema = z.strictObject({
  externalId, orderExternalId: externalId, status: z.enum(['PENDING', 'SHIPPED', 'DELIVERED', 'FAILED', 'CANCELLED']),
  carrier: z.string().optional(), trackingNumber: z.string().optional(), trackingUrl: z.string().optional(), externalLocationId: externalId.optional(),
  lines: z.array(z.strictObject({ orderLineExternalId: externalId.optional(), sku: z.string().optional(), quantity: z.number().int().positive() })),
  createdAt: utc, updatedAt: utc.optional(),
});

export const canonicalRefundSchema = z.strictObject({
  externalId, orderExternalId: externalId, createdAt: utc, note: z.string().optional(), currency: currency.optional(), amount: money.optional(),
  lines: z.array(z.strictObject({ orderLineExternalId: externalId, sku: z.string().optional(), quantity: z.number().int().nonnegative(), restock: z.boolean(), externalLocationId: externalId.optional(), amount: money.optional() })),
});

export const canonicalReturnSchema = z.strictObject({
  externalId, orderExternalId: externalId.optional(), shipmentExternalId: externalId.optional(),
  status: z.enum(['REQUESTED', 'IN_TRANSIT', 'RECEIVED', 'COMPLETED', 'CANCELLED']),
  externalLocationId: externalId.optional(), trackingNumber: z.string().optional(),
  lines: z.array(z.strictObject({ sku: z.string().min(1), quantity: z.number().int().nonnegative(), restock: z.boolean().optional(),
    graded: z.array(z.strictObject({ condition: z.enum(['RESELLABLE', 'REFURBISH', 'DAMAGED', 'DISPOSE']), quantity: z.number().int().positive() })).optional() })),
  reference: z.string().min(1).optional(),
  createdAt: utc, updatedAt: utc.optional(),
});

export const canonicalEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('order.upserted'), order: canonicalOrderSchema }),
  z.strictObject({ type: z.literal('order.cancelled'), orderExternalId: externalId, at: utc, reason: z.string().optional(), order: canonicalOrderSchema.optional() }),
  z.strictObject({ type: z.literal('order.changed'), orderExternalId: externalId, at: utc, reason: z.string().optional() }),
  z.strictObject({ type: z.literal('refund.created'), refund: canonicalRefundSchema }),
  z.strictObject({ type: z.literal('shipment.upserted'), shipment: canonicalShipmentSchema }),
  z.strictObject({ type: z.literal('stock.changed'), level: canonicalStockLevelSchema }),
  z.strictObject({ type: z.literal('return.upserted'), ret: canonicalReturnSchema }),
]);
