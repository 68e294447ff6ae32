import { z } from 'zod';
import type { PushResult } from '../sdk/canonical';
import { ConnectorError } from '../sdk/connector-error';
import type { ConnectorContext } from '../sdk/connector';
import type { RefundCommand } from '../sdk/returns';
import { shopifyGraphql, type ShopifyConfig, type ShopifyCredentials } from './shopify.connector';
import { gidToId, toGid } from './shopify.mapper';

type Ctx = ConnectorContext<ShopifyConfig, ShopifyCredentials>;

/** Shopify's own calculation for the lines (taxes, discounts) and the payment transactions to refund them against. */
export const SUGGESTED_REFUND_QUERY = `query SuggestedRefund($id: ID!, $refundLineItems: [RefundLineItemInput!]) {
  order(id: $id) {
    id
    suggestedRefund(refundLineItems: $refundLineItems) {
      amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
      suggestedTransactions {
        gateway
        kind
        amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
        parentTransaction { id }
      }
    }
  }
}`;

/** `@idempotent` is mandatory on refundCreate from 2026-04: a resend with the same key returns the first refund. */
export const REFUND_CREATE_MUTATION = `mutation RefundCreate($input: RefundInput!, $idempotencyKey: String!) {
  refundCreate(input: $input) @idempotent(key: $idempotencyKey) {
    refund { id totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message }
  }
}`;

const money = z.object({ amount: z.string(), currencyCode: z.string() });
const suggestedShape = z.object({
  order: z.object({
    id: z.string(),
    suggestedRefund: z.object({
      amountSet: z.object({ shopMoney: money, presentmentMoney: money.nullish() }),
      suggestedTransactions: z.array(z.object({
        gateway: z.string().nullish(),
        kind: z.string(),
        amountSet: z.object({ shopMoney: money, presentmentMoney: money.nullish() }),
        parentTransaction: z.object({ id: z.string() }).nullish(),
      })),
    }).nullish(),
  }).nullable(),
});
const createdShape = z.object({
  refundCreate: z.object({
    refund: z.object({ id: z.string(), totalRefundedSet: z.object({ shopMoney: money }).nullish() }).nullish(),
    userErrors: z.array(z.object({ field: z.array(z.string()).nullish(), message: z.string() })),
  }),
});

/** Line items to refund; every line must carry Shopify's line item id, else nothing is sent. */
export function refundLineItems(cmd: RefundCommand): Array<{ lineItemId: string; quantity: number; restockType: 'NO_RESTOCK' }> {
  return cmd.lines.map((l, i) => {
    if (!l.orderLineExternalId) {
      throw new ConnectorError({ code: 'CONFIG', message: `refund ${cmd.reference}: line ${i} (${l.sku ?? '?'}) has no Shopify line item id`, retryable: false, operation: 'refundCreate', record: cmd.reference });
    }
    // The hub restocks returned goods itself (by grade) and pushes levels; Shopify must not restock them again.
    return { lineItemId: toGid('LineItem', l.orderLineExternalId), quantity: l.quantity, restockType: 'NO_RESTOCK' as const };
  });
}

/**
 * Refunds returned line items: asks Shopify for its suggested refund (its taxes and discounts, the captured
 * transactions to refund against), then creates the refund with the command's idempotency key, so a retried
 * push (lost response, outbox retry) returns the first refund instead of paying twice.
 */
export async function shopifyRefund(ctx: Ctx, cmd: RefundCommand): Promise<PushResult> {
  const orderId = toGid('Order', cmd.orderExternalId);
  const items = refundLineItems(cmd);
  const suggested = await shopifyGraphql(ctx, SUGGESTED_REFUND_QUERY, { id: orderId, refundLineItems: items }, { operation: 'graphql:suggestedRefund', cost: 10, shape: suggestedShape });
  if (!suggested.order) throw new ConnectorError({ code: 'HTTP', message: `order ${cmd.orderExternalId} not found`, retryable: false, status: 404, operation: 'graphql:suggestedRefund', record: cmd.reference });
  const transactions = (suggested.order.suggestedRefund?.suggestedTransactions ?? [])
    .filter((t) => Number(t.amountSet.shopMoney.amount) > 0 && t.gateway)
    .map((t) => ({ orderId, gateway: t.gateway!, kind: 'REFUND', amount: t.amountSet.shopMoney.amount, ...(t.parentTransaction ? { parentId: t.parentTransaction.id } : {}) }));
  const data = await shopifyGraphql(ctx, REFUND_CREATE_MUTATION, {
    idempotencyKey: cmd.idempotencyKey,
    input: {
      orderId,
      note: cmd.note ?? `Return ${cmd.reference}`,
      notify: cmd.notifyCustomer ?? true,
      refundLineItems: items,
      transactions,
    },
  }, { operation: 'refundCreate', cost: 10, idempotent: true, shape: createdShape });
  const errors = data.refundCreate.userErrors;
  if (errors.length) {
    throw new ConnectorError({ code: 'VENDOR', message: `refundCreate rejected: ${errors.map((e) => `${e.field?.join('.') ?? ''} ${e.message}`.trim()).join('; ')}`, retryable: false, operation: 'refundCreate', record: cmd.reference, details: errors });
  }
  const refund = data.refundCreate.refund;
  const warnings = !transactions.length ? ['Shopify suggested no payment transaction: line items marked refunded, no money moved'] : undefined;
  return { externalId: refund ? gidToId(refund.id) : undefined, ...(warnings ? { warnings } : {}) };
}
