import { z } from 'zod';
import type { PushResult } from '../sdk/canonical';
import { ConnectorError } from '../sdk/connector-error';
import type { ConnectorContext } from '../sdk/connector';
import type { CreateReturnCommand } from '../sdk/returns';
import { expectShape } from '../sdk/shape';
import { SHIPBOB_API, type ShipBobConfig, type ShipBobCredentials } from './shipbob.connector';

type Ctx = ConnectorContext<ShipBobConfig, ShipBobCredentials>;

// Resolved at call time: this module and the connector import each other.
const api = (path: string) => `/${SHIPBOB_API}${path}`;
const OP_CREATE = 'POST /return';
const OP_FIND = 'GET /return';
const OP_INVENTORY = 'GET /inventory-level';

const channel = (ctx: Ctx) => ({ shipbob_channel_id: ctx.config.channelId });
const intId = z.union([z.number().int(), z.string().regex(/^\d+$/)]);
const returnList = z.looseObject({ items: z.array(z.looseObject({ id: intId, reference_id: z.string().nullish() })).nullish() });
const inventoryList = z.looseObject({ items: z.array(z.looseObject({ inventory_id: intId, sku: z.string().nullish() })).nullish() });

/** `Returns.CreateReturnRequest`: the RMA as reference (ShipBob prints it on the box label when there is no tracking). */
export function createReturnBody(cmd: CreateReturnCommand, inventoryIds: Map<string, number>) {
  if (!/^\d+$/.test(cmd.externalLocationId)) {
    throw new ConnectorError({ code: 'CONFIG', message: `return ${cmd.reference}: ShipBob fulfilment centre id "${cmd.externalLocationId}" is not numeric`, retryable: false, operation: OP_CREATE, record: cmd.reference });
  }
  if (cmd.reference.length > 50) throw new ConnectorError({ code: 'CONFIG', message: `return ${cmd.reference}: reference_id is limited to 50 characters`, retryable: false, operation: OP_CREATE, record: cmd.reference });
  return {
    reference_id: cmd.reference,
    fulfillment_center: { id: Number(cmd.externalLocationId) },
    // Default: ShipBob processes by its own rules; the hub grades again if the goods come back through one of its locations.
    inventory: cmd.lines.map((l) => ({ id: inventoryIds.get(l.sku)!, quantity: l.quantity, requested_action: 'Default' })),
  };
}

/**
 * Opens a ShipBob return order so the fulfilment centre expects the goods. Idempotent by reference: looked up
 * first (a create whose answer was lost is not repeated), and again after a refusal.
 */
export async function shipbobCreateReturn(ctx: Ctx, cmd: CreateReturnCommand): Promise<PushResult> {
  const found = await findReturn(ctx, cmd.reference);
  if (found) return { externalId: found, warnings: ['return already existed for this reference_id'] };
  const body = createReturnBody(cmd, await inventoryIds(ctx, cmd));
  try {
    const res = await ctx.http.request({ method: 'POST', path: api('/return'), body, headers: channel(ctx), operation: OP_CREATE });
    const created = expectShape(z.looseObject({ id: intId }), res.data, { operation: OP_CREATE, requestId: res.requestId });
    return { externalId: String(created.id) };
  } catch (e) {
    if (e instanceof ConnectorError && (e.status === 400 || e.status === 422)) {
      const again = await findReturn(ctx, cmd.reference);
      if (again) return { externalId: again, warnings: ['return already existed for this reference_id'] };
    }
    throw e instanceof ConnectorError ? e.withContext({ record: cmd.reference }) : e;
  }
}

async function findReturn(ctx: Ctx, reference: string): Promise<string | undefined> {
  const res = await ctx.http.request({ path: api('/return'), params: { ReferenceIds: reference }, headers: channel(ctx), operation: OP_FIND });
  const items = expectShape(returnList, res.data ?? {}, { operation: OP_FIND, requestId: res.requestId }).items ?? [];
  const hit = items.find((r) => r.reference_id === reference);
  return hit ? String(hit.id) : undefined;
}

/** ShipBob inventory ids of the returned SKUs: from the connection's item map, else searched by SKU (exact match). */
async function inventoryIds(ctx: Ctx, cmd: CreateReturnCommand): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const l of cmd.lines) {
    if (l.externalItemId && /^\d+$/.test(l.externalItemId)) { ids.set(l.sku, Number(l.externalItemId)); continue; }
    const res = await ctx.http.request({ path: api('/inventory-level'), params: { SearchBy: l.sku, PageSize: 50 }, operation: OP_INVENTORY });
    const hit = (expectShape(inventoryList, res.data ?? {}, { operation: OP_INVENTORY, requestId: res.requestId }).items ?? []).find((i) => i.sku === l.sku);
    if (!hit) throw new ConnectorError({ code: 'CONFIG', message: `return ${cmd.reference}: ShipBob has no inventory item with SKU "${l.sku}"`, retryable: false, operation: OP_INVENTORY, record: cmd.reference });
    ids.set(l.sku, Number(hit.inventory_id));
  }
  return ids;
}
