import { z } from 'zod';
import { ConnectorError } from '../sdk/connector-error';
import type { ConnectorContext } from '../sdk/connector';
import { gidToId } from './shopify.mapper';
import { shopifyGraphql, type ShopifyConfig, type ShopifyCredentials } from './shopify.connector';
import * as Q from './shopify.queries';

/**
 * A page of orders (or inventory items) carries only the first page of each one's nested connection: an order with
 * more line items than fit, an item stocked at more locations. These read the rest, one follow-up query per nested
 * page from the connection's own cursor, and append it in place, so every record is emitted whole.
 */

type Ctx = ConnectorContext<ShopifyConfig, ShopifyCredentials>;

interface NestedConnection {
  pageInfo?: { hasNextPage?: boolean; endCursor?: string | null };
  nodes?: unknown[];
}

const nestedPage = z.object({
  pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() }),
  nodes: z.array(z.unknown()),
});

interface Spec {
  stream?: string;
  /** The nested connection's field on the parent record. */
  field: 'lineItems' | 'inventoryLevels';
  /** The root field the follow-up query reads the parent through. */
  root: 'order' | 'inventoryItem' | 'fulfillmentOrder';
  doc: string;
  first: number;
  cost: number;
  operation: string;
  what: string;
}

const LINE_ITEMS: Spec = {
  stream: 'orders', field: 'lineItems', root: 'order', doc: Q.ORDER_LINE_ITEMS_QUERY, first: Q.ORDER_LINE_ITEMS_PAGE_SIZE,
  cost: Q.ORDER_LINE_ITEMS_QUERY_COST, operation: 'graphql:orderLineItems', what: 'line items',
};

const LEVELS: Spec = {
  stream: 'inventory', field: 'inventoryLevels', root: 'inventoryItem', doc: Q.INVENTORY_LEVELS_QUERY, first: Q.ITEM_LEVELS_PAGE_SIZE,
  cost: Q.INVENTORY_LEVELS_QUERY_COST, operation: 'graphql:inventoryLevels', what: 'inventory levels',
};

const FO_LINE_ITEMS: Spec = {
  field: 'lineItems', root: 'fulfillmentOrder', doc: Q.FULFILLMENT_ORDER_LINE_ITEMS_QUERY, first: Q.FULFILLMENT_ORDER_LINE_ITEMS_PAGE_SIZE,
  cost: Q.FULFILLMENT_ORDER_LINE_ITEMS_QUERY_COST, operation: 'graphql:fulfillmentOrderLineItems', what: 'fulfilment order line items',
};

async function complete(ctx: Ctx, records: unknown[], spec: Spec): Promise<void> {
  for (const raw of records) {
    const parent = raw as Record<string, unknown> | null;
    const conn = parent?.[spec.field] as NestedConnection | undefined;
    // A record without the connection is left to the mapper, which names what is missing.
    if (!parent || !conn || !Array.isArray(conn.nodes)) continue;
    const record = parent.id === undefined ? '?' : gidToId(parent.id);
    while (conn.pageInfo?.hasNextPage) {
      if (!conn.pageInfo.endCursor) {
        throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `${spec.what} of ${record}: hasNextPage without an endCursor`, retryable: false, operation: spec.operation, stream: spec.stream, record });
      }
      const data = await shopifyGraphql(ctx, spec.doc, { id: parent.id, first: spec.first, after: conn.pageInfo.endCursor }, {
        operation: spec.operation, cost: spec.cost, stream: spec.stream,
        shape: z.object({ [spec.root]: z.object({ [spec.field]: nestedPage }).nullable() }),
      });
      const more = (data as Record<string, Record<string, z.infer<typeof nestedPage>> | null>)[spec.root];
      if (!more) {
        // Deleted between the two reads: retry the page later rather than emit it with part of its children.
        throw new ConnectorError({ code: 'VENDOR', message: `${record} disappeared while its ${spec.what} were being read`, retryable: true, operation: spec.operation, stream: spec.stream, record });
      }
      const next = more[spec.field];
      conn.nodes.push(...next.nodes);
      conn.pageInfo = next.pageInfo;
    }
  }
}

/** Orders whose first page of line items was not all of them get the rest (ORDER_LINE_ITEMS_QUERY). */
export function completeLineItems(ctx: Ctx, orders: unknown[]): Promise<void> {
  return complete(ctx, orders, LINE_ITEMS);
}

/** Inventory items stocked at more locations than the first page held get the rest (INVENTORY_LEVELS_QUERY). */
export function completeInventoryLevels(ctx: Ctx, items: unknown[]): Promise<void> {
  return complete(ctx, items, LEVELS);
}

/**
 * Every fulfilment order of an order with all its line items (ORDER_FULFILLMENT_ORDERS pages, then
 * FULFILLMENT_ORDER_LINE_ITEMS_QUERY for the long ones); null when Shopify does not know the order.
 */
export async function readFulfillmentOrders<FO>(ctx: Ctx, orderGid: string): Promise<FO[] | null> {
  const all: unknown[] = [];
  let after: string | null = null;
  for (;;) {
    const data: { order: { fulfillmentOrders: z.infer<typeof nestedPage> } | null } = await shopifyGraphql(ctx, Q.ORDER_FULFILLMENT_ORDERS, { id: orderGid, after }, {
      operation: 'graphql:fulfillmentOrders', cost: Q.ORDER_FULFILLMENT_ORDERS_COST,
      shape: z.object({ order: z.object({ fulfillmentOrders: nestedPage }).nullable() }),
    });
    if (!data.order) return all.length ? failVanished(orderGid) : null;
    all.push(...data.order.fulfillmentOrders.nodes);
    const info = data.order.fulfillmentOrders.pageInfo;
    if (!info.hasNextPage) break;
    if (!info.endCursor) throw new ConnectorError({ code: 'MALFORMED_PAYLOAD', message: `fulfilment orders of ${gidToId(orderGid)}: hasNextPage without an endCursor`, retryable: false, operation: 'graphql:fulfillmentOrders', record: gidToId(orderGid) });
    after = info.endCursor;
  }
  await complete(ctx, all, FO_LINE_ITEMS);
  return all as FO[];
}

function failVanished(orderGid: string): never {
  throw new ConnectorError({ code: 'VENDOR', message: `order ${gidToId(orderGid)} disappeared while its fulfilment orders were being read`, retryable: true, operation: 'graphql:fulfillmentOrders', record: gidToId(orderGid) });
}
