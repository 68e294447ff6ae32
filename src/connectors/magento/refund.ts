import { z } from 'zod';
import type { PushResult } from '../sdk/canonical';
import { ConnectorError } from '../sdk/connector-error';
import type { ConnectorContext } from '../sdk/connector';
import type { RefundCommand } from '../sdk/returns';
import { expectShape } from '../sdk/shape';
import { searchCriteria, type MagentoConfig, type MagentoCredentials } from './magento.connector';

type Ctx = ConnectorContext<MagentoConfig, MagentoCredentials>;

const OP_SEARCH = 'GET /V1/creditmemos';
const OP_REFUND = 'POST /V1/order/{orderId}/refund';

/** The marker written into the credit memo's comment; Magento has no idempotency key, so the hub looks for it. */
export const refundMarker = (idempotencyKey: string) => `[switchyard ${idempotencyKey}]`;

const memoList = z.looseObject({
  items: z.array(z.looseObject({ entity_id: z.number().int(), comments: z.array(z.looseObject({ comment: z.string().nullish() })).nullish() })).nullish(),
  total_count: z.number().int(),
});

/** `PostV1OrderOrderIdRefundBody`: an offline credit memo for the returned items, nothing back to Magento's stock. */
export function creditmemoBody(cmd: RefundCommand) {
  const items = cmd.lines.map((l, i) => {
    if (!/^\d+$/.test(l.orderLineExternalId ?? '')) {
      throw new ConnectorError({ code: 'CONFIG', message: `refund ${cmd.reference}: line ${i} (${l.sku ?? '?'}) has no Magento order item id`, retryable: false, operation: OP_REFUND, record: cmd.reference });
    }
    return { order_item_id: Number(l.orderLineExternalId), qty: l.quantity };
  });
  return {
    items,
    notify: cmd.notifyCustomer ?? true,
    appendComment: true,
    comment: { comment: `${cmd.note ?? `Return ${cmd.reference}`} ${refundMarker(cmd.idempotencyKey)}`, is_visible_on_front: 0 },
    // The hub put returned goods back into its own stock by grade; Magento's sources follow the hub's pushes.
    arguments: { shipping_amount: 0, adjustment_positive: 0, adjustment_negative: 0, extension_attributes: { return_to_stock_items: [] } },
  };
}

/**
 * Creates a credit memo for the returned items (`POST /V1/order/{orderId}/refund`). A resend whose first answer
 * was lost must not refund twice: the order's credit memos are searched for this refund's marker first.
 */
export async function magentoRefund(ctx: Ctx, cmd: RefundCommand): Promise<PushResult> {
  if (!/^\d+$/.test(cmd.orderExternalId)) {
    throw new ConnectorError({ code: 'CONFIG', message: `refund ${cmd.reference}: Magento order id "${cmd.orderExternalId}" is not an entity id`, retryable: false, operation: OP_REFUND, record: cmd.reference });
  }
  const body = creditmemoBody(cmd);
  const existing = await findMemo(ctx, cmd);
  if (existing !== undefined) return { externalId: String(existing), warnings: ['credit memo already existed for this refund'] };
  const res = await ctx.http.request({ method: 'POST', path: `/rest/${ctx.config.storeCode}/V1/order/${cmd.orderExternalId}/refund`, body, operation: OP_REFUND });
  if (typeof res.data !== 'number' && !(typeof res.data === 'string' && /^\d+$/.test(res.data))) {
    throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `refund returned ${JSON.stringify(res.data)} instead of a credit memo id`, retryable: false, operation: OP_REFUND, record: cmd.reference });
  }
  return { externalId: String(res.data) };
}

async function findMemo(ctx: Ctx, cmd: RefundCommand): Promise<number | undefined> {
  const marker = refundMarker(cmd.idempotencyKey);
  const res = await ctx.http.request({
    path: `/rest/${ctx.config.storeCode}/V1/creditmemos`,
    params: searchCriteria([{ field: 'order_id', value: cmd.orderExternalId, conditionType: 'eq' }], undefined, 100, 1),
    operation: OP_SEARCH,
  });
  const memos = expectShape(memoList, res.data, { operation: OP_SEARCH, requestId: res.requestId }).items ?? [];
  return memos.find((m) => (m.comments ?? []).some((c) => c.comment?.includes(marker)))?.entity_id;
}
