import { z } from 'zod';
import type { CancelLinesCommand, PushResult } from '../sdk/canonical';
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

type RestockType = 'NO_RESTOCK' | 'CANCEL';

/** Line items to refund; every line must carry Shopify's line item id, else nothing is sent. */
export function refundLineItems(cmd: Pick<RefundCommand, 'reference' | 'lines'>, restockType: RestockType = 'NO_RESTOCK'): Array<{ lineItemId: string; quantity: number; restockType: RestockType }> {
  return cmd.lines.map((l, i) => {
    if (!l.orderLineExternalId) {
      throw new ConnectorError({ code: 'CONFIG', message: `refund ${cmd.reference}: line ${i} (${l.sku ?? '?'}) has no Shopify line item id`, retryable: false, operation: 'refundCreate', record: cmd.reference });
    }
    return { lineItemId: toGid('LineItem', l.orderLineExternalId), quantity: l.quantity, restockType };
  });
}

/**
 * Refunds returned line items. The hub restocks returned goods itself (by grade) and pushes levels: Shopify must not
 * restock them again (NO_RESTOCK).
 */
export function shopifyRefund(ctx: Ctx, cmd: RefundCommand): Promise<PushResult> {
  return refundLines(ctx, cmd.orderExternalId, refundLineItems(cmd), cmd.note ?? `Return ${cmd.reference}`, cmd.notifyCustomer ?? true, cmd.idempotencyKey, cmd.reference);
}

/**
 * Cancels units the hub will not fulfil: a refund of those line items with restock type CANCEL, which removes them
 * from the order (Shopify's way to cancel unfulfilled items) and pays the customer back for them.
 */
export function shopifyCancelLines(ctx: Ctx, cmd: CancelLinesCommand): Promise<PushResult> {
  return refundLines(ctx, cmd.orderExternalId, refundLineItems(cmd, 'CANCEL'), cmd.reason ?? 'Items cancelled', cmd.notifyCustomer ?? true, cmd.idempotencyKey, cmd.reference);
}

/**
 * Asks Shopify for its suggested refund of the items (its taxes and discounts, the captured transactions to refund
 * against), then creates the refund with the idempotency key, so a retried push (lost response, outbox retry)
 * returns the first refund instead of paying twice.
 */
async function refundLines(ctx: Ctx, orderExternalId: string, items: ReturnType<typeof refundLineItems>, note: string, notify: boolean, idempotencyKey: string, reference: string): Promise<PushResult> {
  const orderId = toGid('Order', orderExternalId);
  const suggested = await shopifyGraphql(ctx, SUGGESTED_REFUND_QUERY, { id: orderId, refundLineItems: items }, { operation: 'graphql:suggestedRefund', cost: 10, shape: suggestedShape });
  if (!suggested.order) throw new ConnectorError({ code: 'HTTP', message: `order ${orderExternalId} not found`, retryable: false, status: 404, operation: 'graphql:suggestedRefund', record: reference });
  const transactions = (suggested.order.suggestedRefund?.suggestedTransactions ?? [])
    .filter((t) => Number(t.amountSet.shopMoney.amount) > 0 && t.gateway)
    .map((t) => ({ orderId, gateway: t.gateway!, kind: 'REFUND', amount: t.amountSet.shopMoney.amount, ...(t.parentTransaction ? { parentId: t.parentTransaction.id } : {}) }));
  const data = await shopifyGraphql(ctx, REFUND_CREATE_MUTATION, {
    idempotencyKey,
    input: { orderId, note, notify, refundLineItems: items, transactions },
  }, { operation: 'refundCreate', cost: 10, idempotent: true, shape: createdShape });
  const errors = data.refundCreate.userErrors;
  if (errors.length) {
    throw new ConnectorError({ code: 'VENDOR', message: `refundCreate rejected: ${errors.map((e) => `${e.field?.join('.') ?? ''} ${e.message}`.trim()).join('; ')}`, retryable: false, operation: 'refundCreate', record: reference, details: errors });
  }
  const refund = data.refundCreate.refund;
  const warnings = !transactions.length ? ['Shopify suggested no payment transaction: line items marked refunded, no money moved'] : undefined;
  return { externalId: refund ? gidToId(refund.id) : undefined, ...(warnings ? { warnings } : {}) };
}
