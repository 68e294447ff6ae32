import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { CityGeocoder } from '../catalog/geocoder';
import { rows } from '../db/sql';
import { DomainError, badInput, notFound } from '../errors';
import { InventoryService } from '../inventory/inventory.service';
import { FulfillmentMethod, StockMovementReason } from '../model/enums';
import { OrderService, isUuid } from '../orders/order.service';
import type { Logger } from '../logger';
import type { CanonicalReturn } from '../connectors/sdk/canonical';
import { routeReturn, type ReturnCandidate, type ReturnRoute } from './return-routing';

export const RETURN_CONDITIONS = ['RESELLABLE', 'REFURBISH', 'DAMAGED', 'DISPOSE'] as const;
export type ReturnCondition = (typeof RETURN_CONDITIONS)[number];
export type ReturnMethod = 'MAIL' | 'IN_STORE';
export type ReturnStatus = 'REQUESTED' | 'IN_TRANSIT' | 'RECEIVED' | 'COMPLETED' | 'CANCELLED';

export interface CreateReturnInput {
  orderId: string;
  lines: { sku: string; quantity: number; reason?: string | null; exchangeSku?: string | null }[];
  reason?: string | null;
  method: ReturnMethod;
  /** IN_STORE: the store taking the goods back (any store that accepts returns). MAIL: overrides return routing. */
  locationCode?: string | null;
}

export interface ReceiveReturnInput {
  returnId: string;
  /** Where the goods are received; defaults to the return's location. Any location that accepts returns. */
  locationCode?: string | null;
  units: { sku: string; condition: ReturnCondition; quantity: number }[];
}

export interface ReturnLineView { id: string; sku: string; quantity: number; receivedQuantity: number; notReceivedQuantity: number; notReceivedReason: string | null;
  unitPrice: string | null; reason: string | null; exchangeSku: string | null }
export interface ReturnEventView { fromStatus: ReturnStatus | null; toStatus: ReturnStatus; actor: string; reason: string | null; at: Date }
export interface ReturnUnitView { sku: string; condition: ReturnCondition; quantity: number; locationCode: string; receivedAt: Date; restocked: boolean }
export interface ReturnView {
  id: string; rma: string; orderId: string; status: ReturnStatus; method: ReturnMethod; locationCode: string | null; reason: string | null;
  routing: ReturnRoute | null; exchangeOrderId: string | null; currency: string; refundAmount: string | null; refundedAt: Date | null;
  receivedAt: Date | null; completedAt: Date | null; createdAt: Date; closedReason: string | null; carrier: string | null; trackingNumber: string | null;
  lines: ReturnLineView[]; units: ReturnUnitView[];
  /** Every status change, oldest first. */
  history: ReturnEventView[];
}

const MAX_LINES = 100;
const OPEN: ReturnStatus[] = ['REQUESTED', 'IN_TRANSIT', 'RECEIVED'];

interface OrderRow { id: string; status: string; channel: string; external_id: string; connection_id: string | null; currency: string; method: FulfillmentMethod;
  ship_to: { country: string; city?: string; region?: string; latitude?: number; longitude?: number } | null; pickup_code: string | null }
interface OrderLineRow { id: string; sku: string; product_id: string; unit_price: string | null; shipped_quantity: number; returned_quantity: number }
interface LocationRow { id: string; code: string; active: boolean; capabilities: string[] }

/**
 * Buy online, return anywhere. A return is created against what was shipped (never more: a conditional UPDATE on
 * order_line.returned_quantity, backed by a CHECK), sent to a location (the customer's store, or the best one by
 * distance, need and capacity for mailed returns), received with a grade per unit, and completed with a refund.
 * Resellable units go back into ATP through the inventory service (reason RETURN); the rest stay recorded as
 * non-sellable stock at the receiving location. Label requests and refunds leave through the outbox.
 */
export class ReturnService {
  constructor(
    private readonly ds: DataSource,
    private readonly orders: OrderService,
    private readonly inventory: InventoryService,
    private readonly log?: Logger,
    private readonly geocoder = new CityGeocoder(),
  ) {}

  async create(input: CreateReturnInput, actor: string): Promise<ReturnView> {
    validateCreate(input);
    const id = await this.ds.transaction(async (em) => {
      // The order row lock serialises returns of one order; the conditional UPDATEs below are the guard itself.
      const [order] = await rows<OrderRow>(em, `
        SELECT o.id, o.status, o.channel, o.external_id, o.connection_id, o.currency, o.method, o.ship_to, pl.code AS pickup_code
          FROM orders o LEFT JOIN location pl ON pl.id = o.pickup_location_id WHERE o.id = $1 FOR UPDATE OF o`, [input.orderId]);
      if (!order) throw notFound('Order', input.orderId, 'input.orderId');
      const orderLines = await rows<OrderLineRow>(em,
        `SELECT id, sku, product_id, unit_price::text, shipped_quantity, returned_quantity FROM order_line WHERE order_id = $1 ORDER BY line_no`, [order.id]);
      if (!orderLines.some((l) => l.shipped_quantity > 0)) {
        throw new DomainError('INVALID_TRANSITION', `order ${order.id} is ${order.status} and nothing of it has shipped; cancel it instead of returning it`, 'input.orderId');
      }

      // Each requested line takes from the order's lines of that SKU, in line order, up to shipped − returned.
      const planned: { line: OrderLineRow; quantity: number; reason: string | null; exchangeSku: string | null }[] = [];
      for (const [i, l] of input.lines.entries()) {
        const candidates = orderLines.filter((o) => o.sku === l.sku);
        if (!candidates.length) throw badInput(`input.lines[${i}].sku`, `the order has no line for "${l.sku}"`);
        const returnable = candidates.reduce((s, o) => s + o.shipped_quantity - o.returned_quantity, 0);
        if (l.quantity > returnable) {
          const shipped = candidates.reduce((s, o) => s + o.shipped_quantity, 0);
          throw new DomainError('BAD_USER_INPUT', `input.lines[${i}].quantity: only ${returnable} of "${l.sku}" can be returned (shipped ${shipped}, already returned ${shipped - returnable})`,
            `input.lines[${i}].quantity`, { returnable });
        }
        let need = l.quantity;
        for (const o of candidates) {
          const take = Math.min(need, o.shipped_quantity - o.returned_quantity);
          if (take <= 0) continue;
          const updated = await rows(em, `UPDATE order_line SET returned_quantity = returned_quantity + $2 WHERE id = $1 AND returned_quantity + $2 <= shipped_quantity RETURNING id`, [o.id, take]);
          if (!updated.length) throw new DomainError('CONFLICT', `input.lines[${i}].quantity: "${l.sku}" was returned concurrently; try again`, `input.lines[${i}].quantity`);
          o.returned_quantity += take;
          planned.push({ line: o, quantity: take, reason: l.reason ?? null, exchangeSku: l.exchangeSku ?? null });
          need -= take;
          if (need === 0) break;
        }
      }
      await this.checkExchangeSkus(em, input);

      const skus = [...new Set(planned.map((p) => p.line.sku))];
      let location: LocationRow;
      let routing: ReturnRoute | null = null;
      if (input.locationCode != null) {
        location = await this.returnLocation(em, input.locationCode, 'input.locationCode');
      } else {
        routing = await this.route(em, order, skus);
        if (!routing) throw new DomainError('NOT_ORDERABLE', 'no active location accepts returns (RETURNS capability) or has room for one now', 'input.method');
        [location] = await rows<LocationRow>(em, `SELECT id, code, active, capabilities FROM location WHERE code = $1`, [routing.locationCode]);
      }

      const rma = `RMA-${randomBytes(5).toString('hex').toUpperCase()}`;
      const [ret] = await rows<{ id: string }>(em, `
        INSERT INTO returns (order_id, status, method, location_id, reason, rma, routing, currency, actor)
        VALUES ($1, 'REQUESTED', $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [order.id, input.method, location.id, input.reason ?? null, rma, routing ? JSON.stringify(routing) : null, order.currency, actor]);
      await this.history(em, ret.id, null, 'REQUESTED', actor, input.reason ?? null);
      for (const [n, p] of planned.entries()) {
        await rows(em, `INSERT INTO return_line (return_id, order_line_id, line_no, product_id, sku, quantity, unit_price, reason, exchange_sku)
                        VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
        [ret.id, p.line.id, n + 1, p.line.product_id, p.line.sku, p.quantity, p.line.unit_price, p.reason, p.exchangeSku]);
      }

      const exchange = planned.filter((p) => p.exchangeSku);
      if (exchange.length) {
        // The replacement is an order of its own (routed and reserved now), at no charge, linked to the return.
        const { orderId } = await this.orders.placeOrderIn(em, {
          channel: order.channel, externalId: `EX-${rma}`, currency: order.currency, tags: ['exchange'],
          attributes: { exchangeForOrderId: order.id, returnId: ret.id, rma },
          method: order.method, shipTo: order.ship_to, pickupLocationCode: order.pickup_code,
          lines: exchange.map((p) => ({ sku: p.exchangeSku!, quantity: p.quantity, unitPrice: '0' })),
        }, actor);
        await rows(em, `UPDATE returns SET exchange_order_id = $2 WHERE id = $1`, [ret.id, orderId]);
      }

      if (input.method === 'MAIL') {
        // The label comes from whoever runs the destination (a 3PL connection), else the channel the order came from.
        const [conn] = await rows<{ id: string }>(em, `SELECT id FROM connection WHERE enabled AND settings->'fulfilsLocations' ? $1 ORDER BY created_at LIMIT 1`, [location.code]);
        await this.outbox(em, 'return.label', ret.id, conn?.id ?? order.connection_id,
          { returnId: ret.id, rma, orderId: order.id, destinationLocationCode: location.code, lines: planned.map((p) => ({ sku: p.line.sku, quantity: p.quantity })) },
          `return-label:${ret.id}`);
      }
      return ret.id;
    });
    return (await this.get(id))!;
  }

  async receive(input: ReceiveReturnInput, actor: string): Promise<ReturnView> {
    validateReceive(input);
    const restock = await this.ds.transaction((em) => this.receiveIn(em, input, actor));
    await this.restock(restock.units.map((u) => ({ ...u, rma: restock.rma, locationCode: restock.locationCode })), actor);
    return (await this.get(input.returnId))!;
  }

  /** The receipt itself, in the caller's transaction; the resellable units it returns are restocked after commit. */
  private async receiveIn(em: EntityManager, input: ReceiveReturnInput, actor: string, note?: string): Promise<{ units: { id: string; sku: string; quantity: number }[]; rma: string; locationCode: string }> {
    {
      const [head] = await rows<{ order_id: string }>(em, `SELECT order_id FROM returns WHERE id = $1`, [input.returnId]);
      if (!head) throw notFound('Return', input.returnId, 'input.returnId');
      // Same lock order as create: order, then return. (Unit rows take clock_timestamp() so they list in grading order.)
      const [order] = await rows<{ id: string; connection_id: string | null }>(em, `SELECT id, connection_id FROM orders WHERE id = $1 FOR UPDATE`, [head.order_id]);
      const [ret] = await rows<{ id: string; rma: string; status: ReturnStatus; location_id: string; currency: string }>(em,
        `SELECT id, rma, status, location_id, currency FROM returns WHERE id = $1 FOR UPDATE`, [input.returnId]);
      if (!OPEN.includes(ret.status)) throw new DomainError('INVALID_TRANSITION', `return ${ret.rma} is ${ret.status}; nothing more can be received`, 'input.returnId');
      const location = input.locationCode != null
        ? await this.returnLocation(em, input.locationCode, 'input.locationCode')
        : (await rows<LocationRow>(em, `SELECT id, code, active, capabilities FROM location WHERE id = $1`, [ret.location_id]))[0];

      const lines = await rows<{ id: string; sku: string; quantity: number; received_quantity: number; not_received_quantity: number }>(em,
        `SELECT id, sku, quantity, received_quantity, not_received_quantity FROM return_line WHERE return_id = $1 ORDER BY line_no`, [ret.id]);
      const restockUnits: { id: string; sku: string; quantity: number }[] = [];
      const receivedNow: { lineId: string; quantity: number }[] = [];
      for (const [i, u] of input.units.entries()) {
        const candidates = lines.filter((l) => l.sku === u.sku);
        if (!candidates.length) throw badInput(`input.units[${i}].sku`, `return ${ret.rma} has no line for "${u.sku}"`);
        const expected = candidates.reduce((s, l) => s + l.quantity - l.received_quantity, 0);
        if (u.quantity > expected) throw badInput(`input.units[${i}].quantity`, `only ${expected} of "${u.sku}" are still expected on return ${ret.rma}`);
        let need = u.quantity;
        for (const l of candidates) {
          const take = Math.min(need, l.quantity - l.received_quantity);
          if (take <= 0) continue;
          const updated = await rows(em, `UPDATE return_line SET received_quantity = received_quantity + $2, condition = CASE WHEN condition IS NULL OR condition = $3 THEN $3 ELSE condition END
                                           WHERE id = $1 AND received_quantity + $2 <= quantity RETURNING id`, [l.id, take, u.condition]);
          if (!updated.length) throw new DomainError('CONFLICT', `input.units[${i}].quantity: received concurrently; try again`, `input.units[${i}].quantity`);
          l.received_quantity += take;
          receivedNow.push({ lineId: l.id, quantity: take });
          const [unit] = await rows<{ id: string }>(em, `INSERT INTO return_unit (return_id, return_line_id, location_id, condition, quantity, actor, received_at) VALUES ($1,$2,$3,$4,$5,$6, clock_timestamp()) RETURNING id`,
            [ret.id, l.id, location.id, u.condition, take, actor]);
          if (u.condition === 'RESELLABLE') restockUnits.push({ id: unit.id, sku: l.sku, quantity: take });
          need -= take;
          if (need === 0) break;
        }
      }

      const complete = lines.every((l) => l.received_quantity === l.quantity);
      const next: ReturnStatus = complete ? 'COMPLETED' : 'RECEIVED';
      await rows(em, `UPDATE returns SET status = $2, received_at = coalesce(received_at, now()), updated_at = now(), location_id = $3,
                             completed_at = CASE WHEN $2 = 'COMPLETED' THEN now() ELSE completed_at END WHERE id = $1`,
        [ret.id, next, location.id]);
      if (next !== ret.status) await this.history(em, ret.id, ret.status, next, actor, note ?? `received at ${location.code}`);
      await this.refund(em, ret, order.connection_id, receivedNow);
      await this.orders.recordReturnIn(em, order.id, actor, `return ${ret.rma} ${complete ? 'completed' : 'partly received'}`);
      return { units: restockUnits, rma: ret.rma, locationCode: location.code };
    }
  }

  async cancel(returnId: string, actor: string): Promise<ReturnView> {
    if (!isUuid(returnId)) throw notFound('Return', String(returnId), 'id');
    await this.ds.transaction(async (em) => {
      const [head] = await rows<{ order_id: string }>(em, `SELECT order_id FROM returns WHERE id = $1`, [returnId]);
      if (!head) throw notFound('Return', returnId, 'id');
      await rows(em, `SELECT id FROM orders WHERE id = $1 FOR UPDATE`, [head.order_id]);
      const [ret] = await rows<{ rma: string; status: ReturnStatus; exchange_order_id: string | null }>(em, `SELECT rma, status, exchange_order_id FROM returns WHERE id = $1 FOR UPDATE`, [returnId]);
      if (ret.status !== 'REQUESTED' && ret.status !== 'IN_TRANSIT') {
        throw new DomainError('INVALID_TRANSITION', `return ${ret.rma} is ${ret.status}; only a return nothing of which has been received can be cancelled`, 'id');
      }
      await rows(em, `UPDATE order_line ol SET returned_quantity = ol.returned_quantity - rl.quantity FROM return_line rl WHERE rl.return_id = $1 AND ol.id = rl.order_line_id`, [returnId]);
      await rows(em, `UPDATE returns SET status = 'CANCELLED', updated_at = now() WHERE id = $1`, [returnId]);
      await this.history(em, returnId, ret.status, 'CANCELLED', actor, null);
      if (ret.exchange_order_id) await this.orders.cancelIn(em, ret.exchange_order_id, `return ${ret.rma} cancelled`, actor);
    });
    return (await this.get(returnId))!;
  }

  /**
   * Closes a return whose goods will not all arrive, with what has been received: the rest of each line is
   * recorded as not received (with the reason) and its quantity becomes returnable again on the order (if the goods
   * turn up later, they come back on a new return). Nothing more is refunded: each receipt already refunded the units
   * it brought in. The return becomes COMPLETED, the order follows (`recordReturnIn`), and the closing is kept in the
   * return's history. Closing a closed or completed return again changes nothing; only a return something of which
   * has arrived (RECEIVED) can be closed — one nothing of which has is cancelled instead.
   */
  async close(returnId: string, reason: string, actor: string): Promise<ReturnView> {
    if (!isUuid(returnId)) throw notFound('Return', String(returnId), 'returnId');
    if (typeof reason !== 'string' || !reason.trim() || reason.length > 500) throw badInput('reason', 'must be 1 to 500 characters');
    await this.ds.transaction(async (em) => {
      const [head] = await rows<{ order_id: string }>(em, `SELECT order_id FROM returns WHERE id = $1`, [returnId]);
      if (!head) throw notFound('Return', returnId, 'returnId');
      await rows(em, `SELECT id FROM orders WHERE id = $1 FOR UPDATE`, [head.order_id]);
      const [ret] = await rows<{ rma: string; status: ReturnStatus }>(em, `SELECT rma, status FROM returns WHERE id = $1 FOR UPDATE`, [returnId]);
      if (ret.status === 'COMPLETED') return; // closed (or completed) already: the same answer again
      if (ret.status !== 'RECEIVED') {
        throw new DomainError('INVALID_TRANSITION', `return ${ret.rma} is ${ret.status}; only a return something of which has been received can be closed${
          ret.status === 'CANCELLED' ? '' : ' (cancel it instead: cancelReturn)'}`, 'returnId');
      }
      const short = await rows<{ sku: string; missing: number }>(em, `
        UPDATE return_line SET not_received_quantity = quantity - received_quantity, not_received_reason = $2
         WHERE return_id = $1 AND received_quantity < quantity RETURNING sku, not_received_quantity AS missing`, [returnId, reason]);
      await rows(em, `UPDATE order_line ol SET returned_quantity = ol.returned_quantity - rl.not_received_quantity
                        FROM return_line rl WHERE rl.return_id = $1 AND ol.id = rl.order_line_id AND rl.not_received_quantity > 0`, [returnId]);
      await rows(em, `UPDATE returns SET status = 'COMPLETED', completed_at = now(), updated_at = now(), closed_reason = $2 WHERE id = $1`, [returnId, reason]);
      const missing = short.map((l) => `${l.missing} × ${l.sku}`).join(', ');
      await this.history(em, returnId, 'RECEIVED', 'COMPLETED', actor, `closed: ${reason}${missing ? ` (not received: ${missing})` : ''}`);
      await this.orders.recordReturnIn(em, head.order_id, actor, `return ${ret.rma} closed with what was received`);
    });
    return (await this.get(returnId))!;
  }

  /**
   * A mailed return is on its way: the carrier scanned its label (a tracking event from a carrier integration or
   * an operator), or the 3PL reports it coming. REQUESTED → IN_TRANSIT, keeping the carrier and tracking number
   * (the first ones given stay). Idempotent: a return already in transit, or received since (a late scan), is
   * returned unchanged. An IN_STORE return is never in transit, a cancelled one cannot be: INVALID_TRANSITION.
   */
  async markInTransit(input: { returnId: string; carrier?: string | null; trackingNumber?: string | null }, actor: string): Promise<ReturnView> {
    if (!isUuid(input.returnId)) throw notFound('Return', String(input.returnId), 'input.returnId');
    text('input.carrier', input.carrier, 100);
    text('input.trackingNumber', input.trackingNumber, 500);
    await this.ds.transaction(async (em) => {
      const [ret] = await rows<{ rma: string; status: ReturnStatus; method: ReturnMethod }>(em, `SELECT rma, status, method FROM returns WHERE id = $1 FOR UPDATE`, [input.returnId]);
      if (!ret) throw notFound('Return', input.returnId, 'input.returnId');
      if (ret.method !== 'MAIL') throw new DomainError('INVALID_TRANSITION', `return ${ret.rma} is handed over at a store; it is never in transit`, 'input.returnId');
      if (ret.status === 'CANCELLED') throw new DomainError('INVALID_TRANSITION', `return ${ret.rma} is CANCELLED`, 'input.returnId');
      const scan = [input.carrier, input.trackingNumber].filter(Boolean).join(' ');
      await this.markInTransitIn(em, input.returnId, actor, scan ? `carrier scan: ${scan}` : 'in transit', input);
    });
    return (await this.get(input.returnId))!;
  }

  private async markInTransitIn(em: EntityManager, returnId: string, actor: string, reason: string, tracking: { carrier?: string | null; trackingNumber?: string | null } = {}): Promise<boolean> {
    await rows(em, `UPDATE returns SET carrier = coalesce(carrier, $2), tracking_number = coalesce(tracking_number, $3) WHERE id = $1 RETURNING id`,
      [returnId, tracking.carrier ?? null, tracking.trackingNumber ?? null]);
    const moved = await rows<{ id: string }>(em, `UPDATE returns SET status = 'IN_TRANSIT', updated_at = now() WHERE id = $1 AND status = 'REQUESTED' RETURNING id`, [returnId]);
    if (moved.length) await this.history(em, returnId, 'REQUESTED', 'IN_TRANSIT', actor, reason);
    return moved.length > 0;
  }

  /**
   * What a 3PL reports about the return order it opened for one of the hub's returns (ShipBob `return.*`
   * webhooks). The hub's return is found by the 3PL's id (`external_ref`, written when the return order was
   * created) or by the RMA the vendor keeps as reference.
   * - IN_TRANSIT (ShipBob "Awaiting Arrival"): REQUESTED → IN_TRANSIT.
   * - RECEIVED / COMPLETED (Arrived, Processing, Completed): units the vendor has graded and the hub has not yet
   *   received are received now, at the return's location, with their grades (refunded and restocked like any
   *   receipt). Goods arrived but not yet graded make the return RECEIVED without units. On COMPLETED, units the
   *   vendor never graded are received as REFURBISH (out of sellable stock until checked).
   * - CANCELLED: the vendor will not take the goods; the return is cancelled if nothing has been received.
   * Cumulative and idempotent: a repeated or out-of-order payload records only what is new.
   */
  async applyVendorReturn(connectionId: string, vr: CanonicalReturn, actor: string): Promise<'applied' | 'unchanged' | 'unknown'> {
    // By RMA only for a return going to a location this connection runs: a 3PL cannot act on others' returns.
    const [ref] = await rows<{ id: string; known: boolean }>(this.ds.manager, `
      SELECT internal_id AS id, true AS known FROM external_ref WHERE connection_id = $1 AND entity_type = 'RETURN' AND external_id = $2
      UNION ALL
      SELECT r.id, false FROM returns r JOIN location l ON l.id = r.location_id JOIN connection c ON c.id = $1
       WHERE r.rma = $3 AND coalesce(c.settings->'fulfilsLocations', '[]'::jsonb) ? l.code
      LIMIT 1`, [connectionId, vr.externalId, vr.reference ?? null]);
    if (!ref) return 'unknown';
    const returnId = ref.id;
    if (!ref.known) {
      await rows(this.ds.manager, `INSERT INTO external_ref (connection_id, entity_type, external_id, internal_id) VALUES ($1, 'RETURN', $2, $3) ON CONFLICT DO NOTHING RETURNING internal_id`,
        [connectionId, vr.externalId, returnId]);
    }
    const note = `${actor}: 3PL return ${vr.externalId} ${vr.status.toLowerCase()}`;
    if (vr.status === 'CANCELLED') {
      const [cur] = await rows<{ status: ReturnStatus }>(this.ds.manager, `SELECT status FROM returns WHERE id = $1`, [returnId]);
      if (cur.status !== 'REQUESTED' && cur.status !== 'IN_TRANSIT') return 'unchanged';
      await this.cancel(returnId, actor);
      return 'applied';
    }
    if (vr.status === 'IN_TRANSIT') {
      const moved = await this.ds.transaction((em) => this.markInTransitIn(em, returnId, actor, note, { trackingNumber: vr.trackingNumber }));
      return moved ? 'applied' : 'unchanged';
    }
    if (vr.status !== 'RECEIVED' && vr.status !== 'COMPLETED') return 'unchanged';

    const restock = await this.ds.transaction(async (em) => {
      const [head] = await rows<{ order_id: string }>(em, `SELECT order_id FROM returns WHERE id = $1`, [returnId]);
      await rows(em, `SELECT id FROM orders WHERE id = $1 FOR UPDATE`, [head.order_id]);
      const [ret] = await rows<{ status: ReturnStatus }>(em, `SELECT status FROM returns WHERE id = $1 FOR UPDATE`, [returnId]);
      if (!OPEN.includes(ret.status)) return null;
      const lines = await rows<{ sku: string; expected: number }>(em,
        `SELECT sku, sum(quantity - received_quantity - not_received_quantity)::int AS expected FROM return_line WHERE return_id = $1 GROUP BY sku`, [returnId]);
      const have = await rows<{ sku: string; condition: ReturnCondition; n: number }>(em, `
        SELECT rl.sku, u.condition, sum(u.quantity)::int AS n FROM return_unit u JOIN return_line rl ON rl.id = u.return_line_id WHERE u.return_id = $1 GROUP BY 1, 2`, [returnId]);
      const units: ReceiveReturnInput['units'] = [];
      for (const l of vr.lines) {
        let left = lines.find((x) => x.sku === l.sku)?.expected ?? 0;
        const graded = [...(l.graded ?? [])];
        if (vr.status === 'COMPLETED') {
          const ungraded = l.quantity - graded.reduce((s, g) => s + g.quantity, 0);
          if (ungraded > 0) graded.push({ condition: 'REFURBISH', quantity: ungraded });
        }
        for (const g of graded) {
          const already = have.find((h) => h.sku === l.sku && h.condition === g.condition)?.n ?? 0;
          const take = Math.min(left, g.quantity - already);
          if (take > 0) { units.push({ sku: l.sku, condition: g.condition, quantity: take }); left -= take; }
        }
      }
      if (!units.length) {
        // At the 3PL, not graded yet: arrived (it can no longer be cancelled), nothing to refund yet.
        if (ret.status === 'RECEIVED') return null;
        await rows(em, `UPDATE returns SET status = 'RECEIVED', received_at = coalesce(received_at, now()), updated_at = now() WHERE id = $1`, [returnId]);
        await this.history(em, returnId, ret.status, 'RECEIVED', actor, `${note}; awaiting its grading`);
        return { units: [], rma: '', locationCode: '' };
      }
      return this.receiveIn(em, { returnId, units }, actor, note);
    });
    if (!restock) return 'unchanged';
    await this.restock(restock.units.map((u) => ({ ...u, rma: restock.rma, locationCode: restock.locationCode })), actor);
    return 'applied';
  }

  /**
   * Resellable units whose restock did not happen after their receipt committed (a crash in between). Safe to run
   * any time: each unit's stock change carries its own idempotency key.
   */
  async restockPending(actor = 'returns-restock', olderThanSeconds = 60): Promise<number> {
    const pending = await rows<{ id: string; sku: string; quantity: number; rma: string; code: string }>(this.ds.manager, `
      SELECT u.id, rl.sku, u.quantity, r.rma, l.code FROM return_unit u JOIN return_line rl ON rl.id = u.return_line_id
        JOIN returns r ON r.id = u.return_id JOIN location l ON l.id = u.location_id
       WHERE u.condition = 'RESELLABLE' AND u.restocked_at IS NULL AND u.received_at < now() - make_interval(secs => $1)
       ORDER BY u.received_at LIMIT 500`, [olderThanSeconds]);
    await this.restock(pending.map((p) => ({ id: p.id, sku: p.sku, quantity: p.quantity, rma: p.rma, locationCode: p.code })), actor);
    return pending.length;
  }

  async get(id: string): Promise<ReturnView | null> {
    if (!isUuid(id)) return null;
    return (await this.views(`r.id = $1`, [id]))[0] ?? null;
  }

  async forOrder(orderId: string): Promise<ReturnView[]> {
    if (!isUuid(orderId)) return [];
    return this.views(`r.order_id = $1`, [orderId]);
  }

  // --- internals ------------------------------------------------------------------------------------------------

  private async restock(units: { id: string; sku: string; quantity: number; rma: string; locationCode: string }[], actor: string): Promise<void> {
    for (const u of units) {
      try {
        await this.inventory.adjust({ sku: u.sku, locationCode: u.locationCode, delta: u.quantity, reason: StockMovementReason.RETURN, reference: `return:${u.rma}`, note: 'graded RESELLABLE' },
          actor, { idempotencyKey: `return-unit:${u.id}` });
        await rows(this.ds.manager, `UPDATE return_unit SET restocked_at = now() WHERE id = $1 AND restocked_at IS NULL RETURNING id`, [u.id]);
      } catch (err) {
        // The receipt is committed; the unit stays pending (restocked_at NULL) and restockPending() retries it.
        this.log?.warn({ err, returnUnit: u.id, rma: u.rma }, 'restocking a returned unit failed; left pending');
      }
    }
  }

  /**
   * Refund of the units this receipt brought back for money (exchanged lines are settled by the replacement),
   * whatever their grade: a partial receipt refunds what arrived, a later one the rest. Each receipt's refund is
   * its own `refund.push` (key `refund:<return id>:<n>`, n counting the return's refunds under its row lock), so
   * the channel gets every part exactly once.
   */
  private async refund(em: EntityManager, ret: { id: string; rma: string; currency: string }, connectionId: string | null, received: { lineId: string; quantity: number }[]): Promise<void> {
    const perLine = new Map<string, number>();
    for (const r of received) perLine.set(r.lineId, (perLine.get(r.lineId) ?? 0) + r.quantity);
    const lines = await rows<{ id: string; sku: string; external_id: string | null; unit_price: string | null }>(em,
      `SELECT rl.id, rl.sku, ol.external_id, rl.unit_price::text FROM return_line rl JOIN order_line ol ON ol.id = rl.order_line_id
        WHERE rl.return_id = $1 AND rl.exchange_sku IS NULL AND rl.id = ANY($2) ORDER BY rl.line_no`, [ret.id, [...perLine.keys()]]);
    if (!lines.length) return;
    const [{ amount }] = await rows<{ amount: string }>(em, `SELECT coalesce(sum(price * qty), 0)::numeric(19,4)::text AS amount FROM unnest($1::numeric[], $2::int[]) AS t(price, qty)`,
      [lines.map((l) => l.unit_price ?? '0'), lines.map((l) => perLine.get(l.id)!)]);
    await rows(em, `UPDATE returns SET refund_amount = coalesce(refund_amount, 0) + $2, refunded_at = now() WHERE id = $1 RETURNING id`, [ret.id, amount]);
    const [{ n }] = await rows<{ n: number }>(em, `SELECT count(*)::int AS n FROM outbox_event WHERE topic = 'refund.push' AND aggregate_type = 'RETURN' AND aggregate_id = $1`, [ret.id]);
    await this.outbox(em, 'refund.push', ret.id, connectionId,
      { returnId: ret.id, rma: ret.rma, amount, currency: ret.currency, lines: lines.map((l) => ({ sku: l.sku, quantity: perLine.get(l.id)!, orderLineExternalId: l.external_id })) },
      `refund:${ret.id}:${n + 1}`);
  }

  private async history(em: EntityManager, returnId: string, from: ReturnStatus | null, to: ReturnStatus, actor: string, reason: string | null): Promise<void> {
    await rows(em, `INSERT INTO return_event (return_id, from_status, to_status, actor, reason) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [returnId, from, to, actor, reason]);
  }

  /** Recorded before anything is attempted; the unique idempotency key makes a retried step write it once. */
  private async outbox(em: EntityManager, topic: string, returnId: string, connectionId: string | null, payload: Record<string, unknown>, key: string): Promise<void> {
    await rows(em, `INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key)
                    VALUES ($1, 'RETURN', $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
    [topic, returnId, connectionId, JSON.stringify(payload), key]);
  }

  private async returnLocation(em: EntityManager, code: string, field: string): Promise<LocationRow> {
    const [loc] = await rows<LocationRow>(em, `SELECT id, code, active, capabilities FROM location WHERE code = $1`, [code]);
    if (!loc) throw notFound('Location', code, field);
    if (!loc.active || !loc.capabilities.includes('RETURNS')) throw new DomainError('NOT_ORDERABLE', `location "${code}" does not accept returns now`, field);
    return loc;
  }

  private async route(em: EntityManager, order: OrderRow, skus: string[]): Promise<ReturnRoute | null> {
    const candidates = await rows<{ code: string; latitude: number; longitude: number; return_capacity: number | null; open_returns: number; available: Record<string, number> }>(em, `
      SELECT l.code, l.latitude, l.longitude, l.return_capacity,
             (SELECT count(*) FROM returns r WHERE r.location_id = l.id AND r.status IN ('REQUESTED','IN_TRANSIT','RECEIVED'))::int AS open_returns,
             coalesce((SELECT jsonb_object_agg(p.sku, s.on_hand - s.reserved - s.safety_stock) FROM stock_level s JOIN product p ON p.id = s.product_id
                        WHERE s.location_id = l.id AND p.sku = ANY($1)), '{}') AS available
        FROM location l WHERE l.active AND 'RETURNS' = ANY(l.capabilities) ORDER BY l.code`, [skus]);
    let origin: { latitude: number; longitude: number } | undefined;
    if (order.ship_to) origin = this.geocoder.locate(order.ship_to) ?? undefined;
    if (!origin) {
      // No usable address (e.g. a pickup order): the goods come from where the customer got them.
      [origin] = await rows<{ latitude: number; longitude: number }>(em, `SELECT l.latitude, l.longitude FROM fulfillment_order fo JOIN location l ON l.id = fo.location_id
        WHERE fo.order_id = $1 AND fo.status IN ('SHIPPED','DELIVERED','PICKED_UP') ORDER BY fo.created_at LIMIT 1`, [order.id]);
    }
    const list: ReturnCandidate[] = candidates.map((c) => ({ code: c.code, latitude: c.latitude, longitude: c.longitude, available: c.available, openReturns: c.open_returns, capacity: c.return_capacity }));
    return routeReturn(origin, skus, list);
  }

  private async checkExchangeSkus(em: EntityManager, input: CreateReturnInput): Promise<void> {
    const skus = input.lines.map((l) => l.exchangeSku).filter((s): s is string => !!s);
    if (!skus.length) return;
    const found = new Map((await rows<{ sku: string; active: boolean }>(em, `SELECT sku, active FROM product WHERE sku = ANY($1)`, [skus])).map((p) => [p.sku, p.active]));
    input.lines.forEach((l, i) => {
      if (!l.exchangeSku) return;
      if (!found.has(l.exchangeSku)) throw notFound('SKU', l.exchangeSku, `input.lines[${i}].exchangeSku`);
      if (!found.get(l.exchangeSku)) throw new DomainError('NOT_ORDERABLE', `SKU "${l.exchangeSku}" is discontinued and cannot be sent as an exchange`, `input.lines[${i}].exchangeSku`);
    });
  }

  private async views(where: string, params: unknown[]): Promise<ReturnView[]> {
    const heads = await rows<{ id: string; rma: string; order_id: string; status: ReturnStatus; method: ReturnMethod; code: string | null; reason: string | null; routing: ReturnRoute | null;
      exchange_order_id: string | null; currency: string; refund_amount: string | null; refunded_at: Date | null; received_at: Date | null; completed_at: Date | null; created_at: Date;
      closed_reason: string | null; carrier: string | null; tracking_number: string | null }>(this.ds.manager, `
      SELECT r.id, r.rma, r.order_id, r.status, r.method, l.code, r.reason, r.routing, r.exchange_order_id, r.currency, r.refund_amount::text,
             r.refunded_at, r.received_at, r.completed_at, r.created_at, r.closed_reason, r.carrier, r.tracking_number
        FROM returns r LEFT JOIN location l ON l.id = r.location_id WHERE ${where} ORDER BY r.created_at, r.id`, params);
    if (!heads.length) return [];
    const ids = heads.map((h) => h.id);
    const lines = await rows<ReturnLineView & { return_id: string }>(this.ds.manager, `
      SELECT return_id, id, sku, quantity, received_quantity AS "receivedQuantity", not_received_quantity AS "notReceivedQuantity", not_received_reason AS "notReceivedReason",
             unit_price::text AS "unitPrice", reason, exchange_sku AS "exchangeSku"
        FROM return_line WHERE return_id = ANY($1) ORDER BY line_no`, [ids]);
    const events = await rows<ReturnEventView & { return_id: string }>(this.ds.manager, `
      SELECT return_id, from_status AS "fromStatus", to_status AS "toStatus", actor, reason, created_at AS at FROM return_event WHERE return_id = ANY($1) ORDER BY id`, [ids]);
    const units = await rows<ReturnUnitView & { return_id: string }>(this.ds.manager, `
      SELECT u.return_id, rl.sku, u.condition, u.quantity, l.code AS "locationCode", u.received_at AS "receivedAt", u.restocked_at IS NOT NULL AS restocked
        FROM return_unit u JOIN return_line rl ON rl.id = u.return_line_id JOIN location l ON l.id = u.location_id
       WHERE u.return_id = ANY($1) ORDER BY u.received_at, u.id`, [ids]);
    const strip = <T extends { return_id: string }>(x: T) => { const { return_id: _r, ...rest } = x; void _r; return rest; };
    return heads.map((h) => ({
      id: h.id, rma: h.rma, orderId: h.order_id, status: h.status, method: h.method, locationCode: h.code, reason: h.reason, routing: h.routing,
      exchangeOrderId: h.exchange_order_id, currency: h.currency, refundAmount: h.refund_amount === null ? null : trimMoney(h.refund_amount),
      refundedAt: h.refunded_at, receivedAt: h.received_at, completedAt: h.completed_at, createdAt: h.created_at, closedReason: h.closed_reason, carrier: h.carrier, trackingNumber: h.tracking_number,
      lines: lines.filter((l) => l.return_id === h.id).map((l) => ({ ...strip(l), unitPrice: l.unitPrice === null ? null : trimMoney(l.unitPrice) })),
      units: units.filter((u) => u.return_id === h.id).map(strip),
      history: events.filter((e) => e.return_id === h.id).map(strip),
    }));
  }
}

/** "12.5000" → "12.50": money shown with at least two decimals, no trailing noise. */
function trimMoney(s: string): string {
  const [w, f = ''] = s.split('.');
  const frac = f.replace(/0+$/, '').padEnd(2, '0');
  return `${w}.${frac}`;
}

function text(field: string, v: unknown, max: number): void {
  if (v == null) return;
  if (typeof v !== 'string' || !v.trim() || v.length > max) throw badInput(field, `must be 1 to ${max} characters`);
}

function validateCreate(input: CreateReturnInput): void {
  if (!isUuid(input.orderId)) throw notFound('Order', String(input.orderId), 'input.orderId');
  if (input.method !== 'MAIL' && input.method !== 'IN_STORE') throw badInput('input.method', 'must be MAIL or IN_STORE');
  if (input.method === 'IN_STORE' && input.locationCode == null) throw badInput('input.locationCode', 'is required for an IN_STORE return: the store taking the goods back');
  text('input.locationCode', input.locationCode, 64);
  text('input.reason', input.reason, 500);
  if (!Array.isArray(input.lines) || !input.lines.length) throw badInput('input.lines', 'must contain at least one line');
  if (input.lines.length > MAX_LINES) throw badInput('input.lines', `must contain at most ${MAX_LINES} lines`);
  const seen = new Set<string>();
  input.lines.forEach((l, i) => {
    if (typeof l?.sku !== 'string' || !l.sku.trim() || l.sku.length > 100) throw badInput(`input.lines[${i}].sku`, 'must be 1 to 100 characters');
    if (seen.has(l.sku)) throw badInput(`input.lines[${i}].sku`, `"${l.sku}" is listed twice; give its total quantity once`);
    seen.add(l.sku);
    if (!Number.isInteger(l.quantity) || l.quantity <= 0 || l.quantity > 1_000_000) throw badInput(`input.lines[${i}].quantity`, 'must be a whole number from 1 to 1000000');
    text(`input.lines[${i}].reason`, l.reason, 500);
    text(`input.lines[${i}].exchangeSku`, l.exchangeSku, 100);
  });
}

function validateReceive(input: ReceiveReturnInput): void {
  if (!isUuid(input.returnId)) throw notFound('Return', String(input.returnId), 'input.returnId');
  text('input.locationCode', input.locationCode, 64);
  if (!Array.isArray(input.units) || !input.units.length) throw badInput('input.units', 'must grade at least one unit');
  if (input.units.length > 200) throw badInput('input.units', 'must contain at most 200 entries');
  input.units.forEach((u, i) => {
    if (typeof u?.sku !== 'string' || !u.sku.trim() || u.sku.length > 100) throw badInput(`input.units[${i}].sku`, 'must be 1 to 100 characters');
    if (!RETURN_CONDITIONS.includes(u.condition)) throw badInput(`input.units[${i}].condition`, `must be one of ${RETURN_CONDITIONS.join(', ')}`);
    if (!Number.isInteger(u.quantity) || u.quantity <= 0 || u.quantity > 1_000_000) throw badInput(`input.units[${i}].quantity`, 'must be a whole number from 1 to 1000000');
  });
}
