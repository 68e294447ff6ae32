import { randomUUID } from 'node:crypto';
import { retryingTransaction, rows as sql } from '../db/sql';
import type { DataSource, EntityManager } from 'typeorm';
import { DomainError, badInput, notFound } from '../errors';
import { EventBus, NOTIFY_CHANNEL } from '../events/event-bus';
import type { HubEvent } from '../events/hub-events';
import { InventoryService, checkQuantity } from '../inventory/inventory.service';
import { ReservationBatch } from '../inventory/reservation-batch';
import { FulfillmentMethod, FulfillmentOrderStatus as FO, OrderStatus as OS, LocationCapability } from '../model/enums';
import { Order, OrderLine, OrderTransition } from '../model/order.entity';
import { FulfillmentOrder, Shipment } from '../model/fulfillment-order.entity';
import { OPEN_FULFILLMENT, STILL_TO_SHIP, canTransitionFulfillment, canTransitionOrder, deriveOrderStatus } from './order-lifecycle';
import { addressLine, orderableProduct, sameAddress, validateAddress, validateLine, validatePlaceOrder, type AddressData, type PlaceOrderData } from './place-order.input';
import { reserveOnTransferReceipt, startPickupTransfers, transfersInTransit, type TransferLeg } from './pickup-transfer';
import { ownPlanningInputs, packDecision, takeDecision, type RoutingDecision } from '../routing';
import type { RoutingSnapshot } from './routing-snapshot';

/** A transition the lifecycle does not allow: returned to callers as a typed result, not thrown at them. */
export class TransitionRejected {
  constructor(readonly entity: 'Order' | 'FulfillmentOrder', readonly id: string, readonly currentStatus: string, readonly requestedStatus: string, readonly message: string) {}
}

export interface PlannedShipment {
  locationId: string;
  method: FulfillmentMethod;
  lines: { orderLineId: string; quantity: number }[];
  /** Units of `lines` that other locations send to this (pickup) location: transferred now, reserved here on arrival. */
  transfers?: TransferLeg[];
}

/** Where an order's open quantities go, with the routing decision that chose it (stored with its trace). */
export interface AllocationPlan {
  shipments: PlannedShipment[];
  decision: RoutingDecision;
  /** How the destination was located: address coordinates, city, store, country centroid, or none. */
  geocodePrecision: string;
}

/** Decides allocations; reads only (the order service reserves and persists). Implemented by OrderRouter. */
export interface AllocationPlanner {
  plan(em: EntityManager, order: Order, open: { line: OrderLine; quantity: number }[], excludeLocationIds: string[]): Promise<AllocationPlan>;
  /** Page planning (optional): one snapshot read for many orders, kept current between them by the caller. */
  readSnapshot?(em: EntityManager, skus: string[], now: Date): Promise<RoutingSnapshot>;
  planWith?(em: EntityManager, snapshot: RoutingSnapshot, order: Order, open: { line: OrderLine; quantity: number }[], excludeLocationIds: string[], now: Date): Promise<AllocationPlan>;
}

/** One order of placeOrdersIn: placed (or found already placed), or refused with the reason. */
export type PlaceManyResult = { orderId: string; created: boolean } | { error: DomainError };

/** What the database says about an order's SKUs and pickup location (resolveOrderInputs). */
interface ResolvedInput { productIds: Map<string, string>; pickupLocationId: string | null }

/** A reservation can lose a race between planning and reserving; re-plan on a fresh snapshot this many times. */
const ALLOCATION_ATTEMPTS = 3;

export interface TrackingInput { carrier?: string | null; service?: string | null; trackingNumber?: string | null; trackingUrl?: string | null }

export interface PlaceOrderOutcome { order: Order; created: boolean }

/** The only writer of orders, fulfilment orders and shipments. Every change records its transition and emits orderUpdated after commit. */
export class OrderService {
  planner?: AllocationPlanner;

  constructor(private readonly ds: DataSource, private readonly inventory: InventoryService) {
    reserveOnTransferReceipt(inventory);
  }

  async placeOrder(input: PlaceOrderData, actor: string): Promise<PlaceOrderOutcome> {
    validatePlaceOrder(input);
    const existing = await this.findByExternalId(input.channel, input.externalId);
    if (existing) return { order: existing, created: false };

    const outcome = await retryingTransaction(this.ds, (em) => this.insertOrder(em, input, actor));
    if (outcome === null) return { order: (await this.findByExternalId(input.channel, input.externalId))!, created: false };
    return { order: (await this.get(outcome))!, created: true };
  }

  /**
   * placeOrder inside the caller's transaction, so that a synced order lands together with its stream cursor
   * (sync engine). Idempotent on (channel, externalId): a known order is left as it is.
   */
  async placeOrderIn(em: EntityManager, input: PlaceOrderData, actor: string): Promise<{ orderId: string; created: boolean }> {
    validatePlaceOrder(input);
    const id = await this.insertOrder(em, input, actor);
    if (id) return { orderId: id, created: true };
    const [row] = await sql<{ id: string }>(em, `SELECT id FROM orders WHERE channel = $1 AND external_id = $2`, [input.channel, input.externalId]);
    return { orderId: row.id, created: false };
  }

  /** Inserts, routes and reserves a new order; null when the (channel, external id) already exists. */
  private async insertOrder(em: EntityManager, input: PlaceOrderData, actor: string): Promise<string | null> {
    const method = input.method ?? FulfillmentMethod.SHIP;
    {
      const [resolved] = await this.resolveOrderInputs(em, [input]);
      if (resolved instanceof DomainError) throw resolved;
      const pickupLocationId = resolved.pickupLocationId;
      const bySku = new Map([...resolved.productIds].map(([sku, id]) => [sku, { id }]));
      const total = input.lines.reduce((sum, l) => sum + toMinor(l.unitPrice) * BigInt(l.quantity), 0n);
      const inserted: { id: string }[] = await sql(em, 
        `INSERT INTO orders (connection_id, channel, external_id, method, pickup_location_id, customer_name, customer_email,
           customer_phone, ship_to, tags, attributes, currency, total_amount, placed_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
         ON CONFLICT (channel, external_id) DO NOTHING RETURNING id`,
        [input.connectionId ?? null, input.channel, input.externalId, method, pickupLocationId, input.customer?.name ?? null,
          input.customer?.email ?? null, input.customer?.phone ?? null, input.shipTo ? JSON.stringify(input.shipTo) : null,
          [...new Set(input.tags ?? [])], JSON.stringify(input.attributes ?? {}), input.currency ?? 'USD', fromMinor(total),
          input.placedAt ?? new Date()],
      );
      if (!inserted.length) return null; // a concurrent placeOrder with the same external id won
      const orderId = inserted[0].id;
      for (const [i, l] of input.lines.entries()) {
        await sql(em, 
          `INSERT INTO order_line (order_id, line_no, product_id, sku, quantity, unit_price, external_id) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
          [orderId, i + 1, bySku.get(l.sku)!.id, l.sku, l.quantity, l.unitPrice ?? null, l.externalId ?? null],
        );
      }
      await this.recordTransition(em, orderId, null, null, OS.CREATED, actor, `placed on ${input.channel}`);
      const order = await this.lockOrder(em, orderId);
      await this.allocateOpenLines(em, order, actor, []);
      await this.touch(em, orderId);
      return orderId;
    }
  }

  /**
   * The SKUs and pickup locations of many orders in two queries (one, given the SKUs' products read already). Per
   * input: what they resolve to, or the error the order is refused with (the first unknown or discontinued SKU in
   * line order, then the pickup location).
   */
  private async resolveOrderInputs(em: EntityManager, inputs: PlaceOrderData[], products?: ReadonlyMap<string, { id: string; active: boolean }>): Promise<(ResolvedInput | DomainError)[]> {
    const bySku = products ?? await productsBySku(em, inputs.flatMap((input) => input.lines.map((l) => l.sku)));
    const codes = [...new Set(inputs.filter((i) => (i.method ?? FulfillmentMethod.SHIP) !== FulfillmentMethod.SHIP).map((i) => i.pickupLocationCode!))];
    const locations = codes.length ? await sql<{ id: string; code: string; active: boolean; capabilities: string[] }>(em,
      `SELECT id, code, active, capabilities FROM location WHERE code = ANY($1)`, [codes], { prepare: true }) : [];
    const byCode = new Map(locations.map((l) => [l.code, l]));
    return inputs.map((input) => {
      const productIds = new Map<string, string>();
      for (const [i, l] of input.lines.entries()) {
        const p = orderableProduct(bySku, l.sku, `input.lines[${i}].sku`);
        if (p instanceof DomainError) return p;
        productIds.set(l.sku, p);
      }
      const method = input.method ?? FulfillmentMethod.SHIP;
      if (method === FulfillmentMethod.SHIP) return { productIds, pickupLocationId: null };
      const loc = byCode.get(input.pickupLocationCode!);
      if (!loc) return notFound('Location', input.pickupLocationCode!, 'input.pickupLocationCode');
      const capability = method === FulfillmentMethod.PICKUP ? LocationCapability.PICKUP : LocationCapability.CURBSIDE;
      if (!loc.active || !loc.capabilities.includes(capability)) {
        return new DomainError('NOT_ORDERABLE', `location "${input.pickupLocationCode}" does not offer ${method} now`, 'input.pickupLocationCode');
      }
      return { productIds, pickupLocationId: loc.id };
    });
  }

  /**
   * placeOrderIn for a whole page of orders (sync intake), in the caller's transaction and in a fixed number of
   * statements: the orders and their lines as multi-row inserts; one routing snapshot for the page, kept current
   * between orders (each plan consumes the ATP and capacity it takes); the page's stock rows locked in one
   * statement in the fixed lock order, every order granted all its lines or none, and the grants written together.
   * An order whose reservation lost a race since its plan is re-planned on a fresh snapshot (regrantPage; after the
   * last try, alone with allocateOpenLines); one that keeps losing waits as BACKORDERED, to be re-routed when stock
   * moves — never dropped.
   * An input the hub cannot take (validation, unknown SKU or location) is refused alone, before anything is written.
   * Idempotent on (channel, externalId) like placeOrderIn; the caller keeps external ids unique within a call.
   */
  async placeOrdersIn(em: EntityManager, inputs: PlaceOrderData[], actor: string): Promise<PlaceManyResult[]> {
    const results: PlaceManyResult[] = new Array(inputs.length);
    const valid: number[] = [];
    for (const [i, input] of inputs.entries()) {
      try {
        validatePlaceOrder(input);
        valid.push(i);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        results[i] = { error: err };
      }
    }
    const planner = this.planner;
    const pagePlanning = !!(planner?.readSnapshot && planner.planWith);
    const now = new Date();
    // The routing snapshot of the page's SKUs, read first: its product read resolves the lines too.
    const snapshot = pagePlanning && valid.length
      ? await planner!.readSnapshot!(em, [...new Set(valid.flatMap((i) => inputs[i].lines.map((l) => l.sku)))], now) : undefined;
    const resolved = await this.resolveOrderInputs(em, valid.map((i) => inputs[i]), snapshot?.products);
    let pending: PendingOrder[] = [];
    for (const [k, r] of resolved.entries()) {
      const i = valid[k];
      if (r instanceof DomainError) results[i] = { error: r };
      else pending.push(newPendingOrder(i, inputs[i], r));
    }

    // Plan before writing anything, so that an order routing refuses is refused alone.
    const plans = new Map<string, AllocationPlan>();
    if (snapshot && pending.length) {
      const refused = await this.planInTurn(em, snapshot, pending, plans, now);
      for (const [p, error] of refused) results[p.index] = { error };
      pending = pending.filter((p) => !refused.has(p));
    }
    if (!pending.length) return results;

    // Grants first (the page's stock rows locked once, in lock order), so that each order is written once, with
    // the status it ends in. An order that no longer fits lost a race since the snapshot: re-planned (regrantPage).
    const page = pagePlanning ? await this.regrantPage(em, pending, plans) : undefined;
    // The orders and their lines in one statement; the lines of an order a concurrent insert beat are not written.
    // While the server writes them, the routing decisions are serialised for their own statement below (a few kB of
    // JSON each, the page's biggest piece of work in Node after planning): done then, it adds nothing to the wait.
    const lines = pending.flatMap((p) => p.lines);
    const [insertedRows, storedDecisions] = await Promise.all([sql<{ id: string }>(em, `
      WITH o AS (
        INSERT INTO orders (id, connection_id, channel, external_id, status, method, pickup_location_id, customer_name, customer_email,
          customer_phone, ship_to, tags, attributes, currency, total_amount, placed_at, version)
        SELECT v.id, v.connection_id, v.channel, v.external_id, v.status, v.method, v.pickup_location_id, v.customer_name, v.customer_email,
               v.customer_phone, v.ship_to, ARRAY(SELECT json_array_elements_text(v.tags)), v.attributes, v.currency, v.total_amount, v.placed_at, v.version
          FROM json_to_recordset($1::json) AS v(n int, id uuid, connection_id uuid, channel text, external_id text, status text, method text,
               pickup_location_id uuid, customer_name text, customer_email text, customer_phone text, ship_to jsonb, tags json, attributes jsonb,
               currency text, total_amount numeric, placed_at timestamptz, version int)
         ORDER BY v.n
        ON CONFLICT (channel, external_id) DO NOTHING RETURNING id),
      l AS (
        INSERT INTO order_line (id, order_id, line_no, product_id, sku, quantity, unit_price, external_id)
        SELECT v.id, v.order_id, v.line_no, v.product_id, v.sku, v.quantity, v.unit_price, v.external_id
          FROM json_to_recordset($2::json) AS v(n int, id uuid, order_id uuid, line_no int, product_id uuid, sku text, quantity int, unit_price numeric, external_id text)
          JOIN o ON o.id = v.order_id
         ORDER BY v.n)
      SELECT id FROM o`,
    [recordset(pending, ({ input: i, order: o }) => {
      // Placed and allocated in one step counts as two versions, as placing then allocating does on the single path.
      const status = page?.statuses.get(o.id);
      return {
        id: o.id, connection_id: o.connectionId, channel: o.channel, external_id: o.externalId, status: status ?? OS.CREATED, method: o.method,
        pickup_location_id: o.pickupLocationId, customer_name: o.customerName, customer_email: o.customerEmail, customer_phone: o.customerPhone,
        ship_to: i.shipTo ?? null, tags: o.tags, attributes: o.attributes, currency: o.currency, total_amount: o.totalAmount, placed_at: o.placedAt,
        version: status ? 2 : 1,
      };
    }), recordset(lines, (l) => ({ id: l.id, order_id: l.orderId, line_no: l.lineNo, product_id: l.productId, sku: l.sku, quantity: l.quantity, unit_price: l.unitPrice, external_id: l.externalId }))],
    { prepare: true }),
    page ? whileQueryRuns(() => new Map(pending.map((p) => [p.order.id, storedDecision(plans.get(p.order.id)!)]))) : undefined]);
    const inserted = new Set(insertedRows.map((r) => r.id));
    const raced = pending.filter((p) => !inserted.has(p.order.id));
    if (raced.length) {
      // A concurrent placeOrder with the same external id won: that order stands, as in placeOrderIn.
      const existing = await sql<{ id: string; channel: string; external_id: string }>(em, `
        SELECT o.id, o.channel, o.external_id FROM orders o JOIN unnest($1::text[], $2::text[]) AS v(c, e) ON o.channel = v.c AND o.external_id = v.e`,
      [raced.map((p) => p.input.channel), raced.map((p) => p.input.externalId)]);
      const byKey = new Map(existing.map((e) => [`${e.channel}\u0000${e.external_id}`, e.id]));
      for (const p of raced) results[p.index] = { orderId: byKey.get(`${p.input.channel}\u0000${p.input.externalId}`)!, created: false };
      pending = pending.filter((p) => inserted.has(p.order.id));
    }
    if (!pending.length) return results;

    const events: HubEvent[] = [];
    const transitions: TransitionRow[] = [];
    const decisions: { orderId: string; plan: AllocationPlan }[] = [];
    const losers: PendingOrder[] = [];
    const written = new Set(pending.map((p) => p.order.id));
    const fos = page ? page.fulfillments.filter((f) => written.has(f.orderId)) : [];
    if (page) {
      decisions.push(...page.superseded.filter((d) => written.has(d.orderId)));
      for (const p of pending) {
        decisions.push({ orderId: p.order.id, plan: plans.get(p.order.id)! });
        transitions.push({ orderId: p.order.id, foId: null, from: null, to: OS.CREATED, reason: `placed on ${p.input.channel}` });
        const status = page.statuses.get(p.order.id);
        if (!status) {
          losers.push(p);
          continue;
        }
        for (const f of fos) if (f.orderId === p.order.id) transitions.push({ orderId: p.order.id, foId: f.id, from: null, to: FO.PENDING, reason: 'allocated' });
        transitions.push({ orderId: p.order.id, foId: null, from: OS.CREATED, to: status, reason: page.reasons.get(p.order.id) ?? null });
        events.push({ type: 'orderUpdated', orderId: p.order.id, status, version: 2 });
      }
    } else {
      for (const p of pending) transitions.push({ orderId: p.order.id, foId: null, from: null, to: OS.CREATED, reason: `placed on ${p.input.channel}` });
      losers.push(...pending); // no page planning: each order is allocated alone
    }
    // The fulfilment orders with their lines, the routing decisions, the history and the events of the page in one
    // statement (NOTIFY is delivered at commit). The decisions (a few kB of JSON each) travel as one binary parameter
    // cut at byte offsets: as a text[] they were escaped in Node and unescaped by the server, which cost more than
    // storing them.
    const packed = packTexts(decisions.map(({ orderId, plan }) => (plan === plans.get(orderId) ? storedDecisions!.get(orderId)! : storedDecision(plan))));
    await sql(em, `
      WITH fo AS (
        INSERT INTO fulfillment_order (id, order_id, location_id, method)
        SELECT v.id, v.order_id, v.location_id, v.method FROM json_to_recordset($12::json) AS v(n int, id uuid, order_id uuid, location_id uuid, method text) ORDER BY v.n),
      fol AS (
        INSERT INTO fulfillment_order_line (id, fulfillment_order_id, order_line_id, product_id, sku, quantity)
        SELECT v.id, v.fo_id, v.order_line_id, v.product_id, v.sku, v.quantity
          FROM json_to_recordset($13::json) AS v(n int, id uuid, fo_id uuid, order_line_id uuid, product_id uuid, sku text, quantity int) ORDER BY v.n),
      d AS (
        INSERT INTO routing_decision (order_id, rule_set_id, rule_set_version, status, excluded_locations, decision, actor)
        SELECT v.order_id, v.rule_set_id, v.rule_set_version, v.status, '{}', convert_from(substring($9::bytea FROM v.start + 1 FOR v.len), 'UTF8')::json, $3
          FROM unnest($1::uuid[], $6::text[], $7::int[], $8::text[], $10::int[], $11::int[]) WITH ORDINALITY AS v(order_id, rule_set_id, rule_set_version, status, start, len, n)
         ORDER BY v.n),
      t AS (
        INSERT INTO order_transition (order_id, fulfillment_order_id, from_status, to_status, actor, reason)
        SELECT v.order_id, v.fo_id, v.from_status, v.to_status, $3, v.reason
          FROM json_to_recordset($2::json) AS v(n int, order_id uuid, fo_id uuid, from_status text, to_status text, reason text) ORDER BY v.n)
      SELECT count(pg_notify($4, e::text)) FROM json_array_elements($5::json) AS e`,
    [decisions.map((d) => d.orderId),
      recordset(transitions, (r) => ({ order_id: r.orderId, fo_id: r.foId, from_status: r.from, to_status: r.to, reason: r.reason })), actor,
      NOTIFY_CHANNEL, JSON.stringify(events),
      decisions.map(({ plan }) => plan.decision.trace.ruleSetId), decisions.map(({ plan }) => plan.decision.trace.ruleSetVersion),
      decisions.map(({ plan }) => plan.decision.status), packed.bytes, packed.starts, packed.lengths,
      recordset(fos, (f) => ({ id: f.id, order_id: f.orderId, location_id: f.locationId, method: f.method })),
      recordset(fos.flatMap((f) => f.lines.map((l) => ({ ...l, foId: f.id }))), (l) => ({ id: l.id, fo_id: l.foId, order_line_id: l.orderLineId, product_id: l.productId, sku: l.sku, quantity: l.quantity }))],
    { prepare: true });
    if (page) await page.batch.write(em, actor, written); // its stock events go through the outbox

    for (const p of losers) {
      if (!this.planner) {
        await this.touch(em, p.order.id);
        continue;
      }
      try {
        await this.allocateOpenLines(em, p.order, actor, []);
      } catch (err) {
        if (!(err instanceof DomainError && err.code === 'INSUFFICIENT_STOCK')) throw err;
        await this.setOrderStatus(em, p.order, OS.BACKORDERED, actor, 'lost the race for stock; waits to be re-routed');
      }
      await this.touch(em, p.order.id);
    }
    for (const p of pending) results[p.index] = { orderId: p.order.id, created: true };
    return results;
  }

  /**
   * grantPage, again while orders lose races: the losers are re-planned on a fresh snapshot (less what the page's
   * other orders take) and the whole page is granted anew, the stock locks of the try before released first (a
   * savepoint). Each try thus locks all of the page's rows in one statement, in the fixed order. Re-planning a loser
   * while holding the page's rows would lock a second set out of that order, and deadlock with a writer holding the
   * two sets the other way round (each such deadlock also cost a second of waiting). Orders still losing after the
   * last try are left without a status, to be allocated one by one. `superseded`: the plans that lost, in the order
   * made, kept in the order's routing history before the one it ends with.
   */
  private async regrantPage(em: EntityManager, pending: PendingOrder[], plans: Map<string, AllocationPlan>) {
    const superseded: { orderId: string; plan: AllocationPlan }[] = [];
    for (let attempt = 1; ; attempt++) {
      await sql(em, 'SAVEPOINT grant_page');
      const page = await this.grantPage(em, pending, plans);
      const lost = pending.filter((p) => !page.statuses.has(p.order.id) && !plans.get(p.order.id)!.shipments.some((s) => s.transfers?.length));
      if (!lost.length || attempt >= ALLOCATION_ATTEMPTS) {
        await sql(em, 'RELEASE SAVEPOINT grant_page');
        return { ...page, superseded };
      }
      for (const p of lost) superseded.push({ orderId: p.order.id, plan: plans.get(p.order.id)! });
      await sql(em, 'ROLLBACK TO SAVEPOINT grant_page');
      const now = new Date();
      const fresh = await this.planner!.readSnapshot!(em, [...new Set(lost.flatMap((p) => p.lines.map((l) => l.sku)))], now);
      const snapshot = { ...fresh, ...ownPlanningInputs(fresh.atp, fresh.network) };
      const losing = new Set(lost);
      for (const p of pending) {
        if (!losing.has(p)) takeDecision(plans.get(p.order.id)!.decision, snapshot.atp, snapshot.network, now);
      }
      // One routing now refuses keeps its plan: it loses again, and is allocated alone.
      await this.planInTurn(em, snapshot, lost, plans, now);
    }
  }

  /**
   * Plans `orders` one after another against a copy of `read`, each taking the ATP and capacity it plans off it for
   * the next (in place: one copy per page, not one per order); the plans go into `plans`. Returns the orders routing
   * refused, with the reason (their plans are unchanged).
   */
  private async planInTurn(em: EntityManager, read: RoutingSnapshot, orders: PendingOrder[], plans: Map<string, AllocationPlan>, now: Date): Promise<Map<PendingOrder, DomainError>> {
    const refused = new Map<PendingOrder, DomainError>();
    const snapshot = { ...read, ...ownPlanningInputs(read.atp, read.network) };
    for (const p of orders) {
      try {
        const plan = await this.planner!.planWith!(em, snapshot, p.order, p.lines.map((line) => ({ line, quantity: line.quantity })), [], now);
        plans.set(p.order.id, plan);
        takeDecision(plan.decision, snapshot.atp, snapshot.network, now);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        refused.set(p, err);
      }
    }
    return refused;
  }

  /**
   * Locks the stock rows the page's plans use and grants each order all of its planned lines or none, in page
   * order. Per granted (or unroutable) order: the status it ends in, with the reason, and its fulfilment orders (ids
   * chosen here). An order without a status lost a race since the snapshot and is to be re-planned.
   */
  private async grantPage(em: EntityManager, pending: PendingOrder[], plans: Map<string, AllocationPlan>) {
    const lineById = new Map(pending.flatMap((p) => p.lines.map((l) => [l.id, l])));
    const planned = pending.map((p) => ({
      p,
      shipments: plans.get(p.order.id)!.shipments.map((s) => ({
        id: randomUUID(), orderId: p.order.id, locationId: s.locationId, method: s.method,
        lines: s.lines.map((l) => ({ id: randomUUID(), orderLineId: l.orderLineId, quantity: l.quantity, productId: lineById.get(l.orderLineId)!.productId, sku: lineById.get(l.orderLineId)!.sku })),
      })),
    }));
    const batch = await ReservationBatch.lock(em, planned.flatMap(({ shipments }) => shipments.flatMap((s) => s.lines.map((l) => ({ productId: l.productId, locationId: s.locationId })))));
    const statuses = new Map<string, OS>();
    const reasons = new Map<string, string>();
    const fulfillments: (typeof planned)[number]['shipments'] = [];
    for (const { p, shipments } of planned) {
      // Transfers to a pickup store are booked order by order (allocateOpenLines): left without a status here.
      if (plans.get(p.order.id)!.shipments.some((s) => s.transfers?.length)) continue;
      if (!shipments.length) {
        statuses.set(p.order.id, OS.BACKORDERED);
        reasons.set(p.order.id, 'no location can fulfil the order now');
      } else if (batch.take(p.order.id, shipments.flatMap((s) => s.lines.map((l) => ({ productId: l.productId, locationId: s.locationId, quantity: l.quantity, fulfillmentOrderLineId: l.id }))))) {
        fulfillments.push(...shipments);
        const covered = new Map<string, number>();
        for (const s of shipments) for (const l of s.lines) covered.set(l.orderLineId, (covered.get(l.orderLineId) ?? 0) + l.quantity);
        const stillOpen = p.lines.some((l) => (covered.get(l.id) ?? 0) < l.quantity);
        statuses.set(p.order.id, stillOpen ? OS.BACKORDERED : OS.ALLOCATED);
        if (stillOpen) reasons.set(p.order.id, 'partly allocated; the rest waits for stock');
      }
    }
    return { batch, statuses, reasons, fulfillments };
  }

  get(id: string): Promise<Order | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.ds.getRepository(Order).findOne({ where: { id }, relations: { lines: true }, order: { lines: { lineNo: 'ASC' } } });
  }

  findByExternalId(channel: string, externalId: string): Promise<Order | null> {
    return this.ds.getRepository(Order).findOne({ where: { channel, externalId }, relations: { lines: true } });
  }

  async require(id: string, field = 'id'): Promise<Order> {
    const order = await this.get(id);
    if (!order) throw notFound('Order', id, field);
    return order;
  }

  /** Allocates explicitly (operator override, or routing's plan): reserves the stock and creates fulfilment orders. */
  async allocate(orderId: string, shipments: { locationCode: string; lines: { sku: string; quantity: number }[] }[], actor: string): Promise<Order | TransitionRejected> {
    if (!shipments.length) throw badInput('shipments', 'must contain at least one shipment');
    return this.mutate(orderId, async (em, order) => {
      if (![OS.CREATED, OS.BACKORDERED, OS.ALLOCATED].includes(order.status)) {
        return new TransitionRejected('Order', order.id, order.status, OS.ALLOCATED, `an order in ${order.status} cannot be allocated`);
      }
      const open = await this.openQuantities(em, order);
      const plan: PlannedShipment[] = [];
      for (const [s, shipment] of shipments.entries()) {
        const [loc] = await sql(em, `SELECT id FROM location WHERE code = $1`, [shipment.locationCode]);
        if (!loc) throw notFound('Location', shipment.locationCode, `shipments[${s}].locationCode`);
        const lines = shipment.lines.map((l, i) => {
          const field = `shipments[${s}].lines[${i}]`;
          const entry = open.find((o) => o.line.sku === l.sku && o.quantity > 0);
          if (!entry) throw badInput(`${field}.sku`, `the order has no unallocated quantity of "${l.sku}"`);
          if (!Number.isInteger(l.quantity) || l.quantity <= 0) throw badInput(`${field}.quantity`, 'must be a positive whole number');
          if (l.quantity > entry.quantity) throw badInput(`${field}.quantity`, `only ${entry.quantity} of "${l.sku}" remain unallocated`);
          entry.quantity -= l.quantity;
          return { orderLineId: entry.line.id, quantity: l.quantity };
        });
        plan.push({ locationId: loc.id, method: order.method, lines });
      }
      await this.applyPlan(em, order, plan, actor);
      return order;
    });
  }

  cancel(orderId: string, reason: string | null | undefined, actor: string): Promise<Order | TransitionRejected> {
    return this.mutate(orderId, (em, order) => this.cancelLocked(em, order, reason, actor));
  }

  /** cancel inside the caller's transaction (the channel reported the cancellation; sync engine). */
  async cancelIn(em: EntityManager, orderId: string, reason: string | null | undefined, actor: string): Promise<TransitionRejected | null> {
    const r = await this.mutateIn(em, orderId, (em2, order) => this.cancelLocked(em2, order, reason, actor));
    return r instanceof TransitionRejected ? r : null;
  }

  private async cancelLocked(em: EntityManager, order: Order, reason: string | null | undefined, actor: string): Promise<Order | TransitionRejected> {
    const orderId = order.id;
    {
      if (!canTransitionOrder(order.status, OS.CANCELLED)) {
        return new TransitionRejected('Order', order.id, order.status, OS.CANCELLED, `an order in ${order.status} cannot be cancelled`);
      }
      const fos = await em.getRepository(FulfillmentOrder).find({ where: { orderId }, lock: { mode: 'pessimistic_write' } });
      if (fos.some((f) => [FO.SHIPPED, FO.DELIVERED, FO.PICKED_UP].includes(f.status))) {
        return new TransitionRejected('Order', order.id, order.status, OS.CANCELLED, 'part of the order has already shipped; create a return instead');
      }
      for (const fo of fos.filter((f) => OPEN_FULFILLMENT.includes(f.status))) {
        await this.setFulfillmentStatus(em, fo, FO.CANCELLED, actor, reason ?? 'order cancelled');
      }
      await this.inventory.release(em, { orderId }, actor);
      await this.setOrderStatus(em, order, OS.CANCELLED, actor, reason ?? null);
      return order;
    }
  }

  /**
   * An operator cancels units that will not be fulfilled (gone for good, or the customer asked by phone) while the
   * rest of the order goes on: as cancelLinesIn, and the order's channel is told (`order.cancelLines`; Shopify
   * refunds them). `lines`: order line id and units, each within the units neither shipped nor cancelled yet.
   * Cancelling every unit of an order nothing of which has shipped is cancelOrder's business.
   */
  async cancelLines(orderId: string, lines: { lineId: string; quantity: number }[], reason: string | null | undefined, actor: string): Promise<Order | TransitionRejected> {
    if (!isUuid(orderId)) throw notFound('Order', orderId, 'id');
    if (!Array.isArray(lines) || !lines.length) throw badInput('lines', 'must name at least one order line');
    if (reason != null && (typeof reason !== 'string' || reason.length > 500)) throw badInput('reason', 'must be at most 500 characters');
    const units = new Map<string, number>();
    lines.forEach((l, i) => {
      checkQuantity(`lines[${i}].quantity`, l.quantity);
      units.set(l.lineId, (units.get(l.lineId) ?? 0) + l.quantity);
    });
    const rejected = await retryingTransaction(this.ds, async (em) => {
      const order = await this.lockOrder(em, orderId);
      if (!STILL_TO_SHIP.includes(order.status)) {
        return new TransitionRejected('Order', orderId, order.status, order.status, `units of an order in ${order.status} cannot be cancelled`);
      }
      const orderLines = await em.getRepository(OrderLine).find({ where: { orderId } });
      const left = (l: OrderLine) => l.quantity - l.cancelledQuantity - l.shippedQuantity;
      for (const [i, l] of lines.entries()) {
        const line = orderLines.find((x) => x.id === l.lineId);
        if (!line) throw notFound('Order line', String(l.lineId), `lines[${i}].lineId`);
        if (units.get(line.id)! > left(line)) throw badInput(`lines[${i}].quantity`, `only ${left(line)} unit(s) of ${line.sku} are left to cancel`);
      }
      const nothingShipped = orderLines.every((l) => l.shippedQuantity === 0);
      if (nothingShipped && orderLines.every((l) => left(l) === (units.get(l.id) ?? 0))) {
        throw badInput('lines', 'that is every unit of the order: cancel the order instead (cancelOrder)');
      }
      await this.cancelLinesIn(em, orderId, units, reason ? `cancelled: ${reason}` : 'cancelled by an operator', actor);
      return null;
    });
    return rejected ?? this.require(orderId);
  }

  /**
   * The channel took units back before they shipped (a refund or an edit of unfulfilled items), inside the caller's
   * transaction: `units` maps order line id → units to cancel. Units not allocated yet go first. Beyond those, the
   * least advanced open fulfilment orders holding the line are cancelled whole (their location is told through the
   * outbox: no vendor edits a fulfilment order in place) and what they held beyond the cancelled units is routed
   * again. Shipped units are never cancelled (a refund of goods already sent is the returns' business). Once every
   * unit is cancelled, the order is CANCELLED.
   */
  async cancelLinesIn(em: EntityManager, orderId: string, units: Map<string, number>, reason: string, actor: string): Promise<void> {
    const order = await this.lockOrder(em, orderId);
    if (order.status === OS.CANCELLED) return;
    const lines = await em.getRepository(OrderLine).find({ where: { orderId }, order: { lineNo: 'ASC' } });
    const take = new Map<string, number>();
    for (const line of lines) {
      const n = Math.min(units.get(line.id) ?? 0, line.quantity - line.cancelledQuantity - line.shippedQuantity);
      if (n > 0) take.set(line.id, n);
    }
    if (!take.size) return;

    const unallocated = new Map((await this.openQuantities(em, order)).map((o) => [o.line.id, Math.max(0, o.quantity)]));
    const fos = await em.getRepository(FulfillmentOrder).find({ where: { orderId }, lock: { mode: 'pessimistic_write' } });
    const open = fos.filter((f) => OPEN_FULFILLMENT.includes(f.status)).sort((a, b) => OPEN_FULFILLMENT.indexOf(a.status) - OPEN_FULFILLMENT.indexOf(b.status));
    const held = await sql<{ fulfillment_order_id: string; order_line_id: string; quantity: number }>(em,
      `SELECT fulfillment_order_id, order_line_id, quantity FROM fulfillment_order_line WHERE fulfillment_order_id = ANY($1::uuid[])`, [open.map((f) => f.id)]);
    const heldBy = (fo: FulfillmentOrder, lineId: string) => held.find((h) => h.fulfillment_order_id === fo.id && h.order_line_id === lineId)?.quantity ?? 0;
    const cancelling: FulfillmentOrder[] = [];
    for (const [lineId, n] of take) {
      let need = n - (unallocated.get(lineId) ?? 0) - cancelling.reduce((sum, fo) => sum + heldBy(fo, lineId), 0);
      for (const fo of open) {
        if (need <= 0) break;
        if (cancelling.includes(fo) || !heldBy(fo, lineId)) continue;
        cancelling.push(fo);
        need -= heldBy(fo, lineId);
      }
    }

    await sql(em, `UPDATE order_line SET cancelled_quantity = cancelled_quantity + v.n FROM unnest($1::uuid[], $2::int[]) AS v(id, n) WHERE order_line.id = v.id`,
      [[...take.keys()], [...take.values()]]);
    const why = `${reason}: ${[...take].map(([id, n]) => `${n} × ${lines.find((l) => l.id === id)!.sku}`).join(', ')}`;
    // Units the channel did not take back itself: it is told, to take them off the order and refund them.
    const told = [...take].map(([id, n]) => ({ line: lines.find((l) => l.id === id)!, n })).filter(({ line }) => line.externalId)
      .map(({ line, n }) => ({ orderLineExternalId: line.externalId, quantity: n, sku: line.sku }));
    if (told.length) await sql(em, `
      INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key)
      SELECT 'order.cancelLines', 'ORDER', o.id::text, o.connection_id, $2::jsonb, 'order-lines-cancel:' || o.id || ':' || $3
        FROM orders o WHERE o.id = $1 AND o.connection_id IS NOT NULL
         AND o.connection_id::text <> coalesce(current_setting('switchyard.sync_origin', true), '')`,
    [orderId, JSON.stringify({ lines: told, reason: why }), randomUUID()]);
    if (cancelling.length) {
      await this.inventory.lockOrderProducts(em, orderId);
      for (const fo of cancelling) {
        await this.setFulfillmentStatus(em, fo, FO.CANCELLED, actor, why);
        await this.inventory.release(em, { fulfillmentOrderId: fo.id }, actor);
      }
    }
    const everyUnitCancelled = lines.every((l) => l.cancelledQuantity + (take.get(l.id) ?? 0) === l.quantity);
    if (everyUnitCancelled) {
      if (canTransitionOrder(order.status, OS.CANCELLED)) await this.setOrderStatus(em, order, OS.CANCELLED, actor, why);
    } else {
      // An order on hold is routed when the hold is released.
      if (cancelling.length && order.status !== OS.ON_HOLD) await this.allocateOpenLines(em, order, actor, []);
      const stillOpen = (await this.openQuantities(em, order)).some((o) => o.quantity > 0);
      if (order.status === OS.BACKORDERED && !stillOpen && fos.some((f) => OPEN_FULFILLMENT.includes(f.status) && !cancelling.includes(f))) {
        await this.setOrderStatus(em, order, OS.ALLOCATED, actor, why);
      }
      await this.syncOrderStatus(em, order, actor);
    }
    await this.touch(em, orderId, { linesChanged: true });
  }

  /**
   * The order ships to another address from now on: the units not shipped yet, wherever they are allocated (the
   * stock stays reserved where it is). Open fulfilment orders already with a 3PL or ERP are sent the new address
   * through the outbox (migration 820). Refused once nothing is left to ship; the same address again changes
   * nothing. Throws on a malformed address.
   */
  async changeShipTo(orderId: string, shipTo: AddressData, actor: string): Promise<Order | TransitionRejected> {
    if (!isUuid(orderId)) throw notFound('Order', orderId, 'id');
    const rejected = await retryingTransaction(this.ds, (em) => this.changeShipToIn(em, orderId, shipTo, 'ship-to changed', actor));
    return rejected ?? this.require(orderId);
  }

  /** changeShipTo inside the caller's transaction (the channel changed the address; sync engine). */
  async changeShipToIn(em: EntityManager, orderId: string, shipTo: AddressData, reason: string, actor: string): Promise<TransitionRejected | null> {
    validateAddress('shipTo', shipTo);
    const order = await this.lockOrder(em, orderId);
    if (sameAddress(order.shipTo, shipTo)) {
      // The channel now shows what the order holds (it took an operator's correction): nothing left to tell apart.
      await sql(em, `UPDATE orders SET channel_ship_to = NULL WHERE id = $1 AND channel_ship_to IS NOT NULL
        AND connection_id::text = current_setting('switchyard.sync_origin', true)`, [order.id]);
      return null;
    }
    if (!STILL_TO_SHIP.includes(order.status)) {
      return new TransitionRejected('Order', order.id, order.status, order.status, `the ship-to address of an order in ${order.status} can no longer change`);
    }
    // The channel's own change: it shows what the order holds. Anyone else's: it still shows what it showed before.
    await sql(em, `UPDATE orders SET ship_to = $2::jsonb,
        channel_ship_to = CASE WHEN connection_id IS NULL OR connection_id::text = current_setting('switchyard.sync_origin', true) THEN NULL
                               ELSE coalesce(channel_ship_to, ship_to) END
      WHERE id = $1`, [order.id, JSON.stringify(shipTo)]);
    await this.recordTransition(em, order.id, null, order.status, order.status, actor, `${reason}: ${addressLine(order.shipTo)} → ${addressLine(shipTo)}`);
    await this.touch(em, order.id);
    return null;
  }

  /**
   * The channel added units to an order it had already sent (an order edit: a new line, or more of a line), inside
   * the caller's transaction; they are routed and reserved like the rest. Refused once nothing more can go with the
   * order (shipped, delivered, ready for pickup, returned, cancelled). A malformed line, or an unknown or discontinued
   * SKU, throws.
   */
  async addUnitsIn(em: EntityManager, orderId: string, newLines: { sku: string; quantity: number; unitPrice: string | null; externalId: string }[],
    more: Map<string, number>, actor: string): Promise<TransitionRejected | null> {
    const order = await this.lockOrder(em, orderId);
    if (!STILL_TO_SHIP.includes(order.status)) {
      return new TransitionRejected('Order', orderId, order.status, order.status, `units cannot be added to an order in ${order.status}`);
    }
    newLines.forEach((l, i) => validateLine(`lines[${i}]`, l));
    const bySku = await productsBySku(em, newLines.map((l) => l.sku));
    const productIds = newLines.map((l, i) => {
      const p = orderableProduct(bySku, l.sku, `lines[${i}].sku`);
      if (p instanceof DomainError) throw p;
      return p;
    });
    if (newLines.length) {
      await sql(em, `INSERT INTO order_line (order_id, line_no, product_id, sku, quantity, unit_price, external_id)
        SELECT $1, (SELECT coalesce(max(line_no), 0) FROM order_line WHERE order_id = $1) + v.n, v.product_id, v.sku, v.quantity, v.unit_price, v.external_id
          FROM unnest($2::uuid[], $3::text[], $4::int[], $5::numeric[], $6::text[]) WITH ORDINALITY AS v(product_id, sku, quantity, unit_price, external_id, n)`,
      [orderId, productIds, newLines.map((l) => l.sku), newLines.map((l) => l.quantity), newLines.map((l) => l.unitPrice), newLines.map((l) => l.externalId)]);
    }
    if (more.size) {
      await sql(em, `UPDATE order_line SET quantity = quantity + v.n FROM unnest($1::uuid[], $2::int[]) AS v(id, n) WHERE order_line.id = v.id AND order_line.order_id = $3`,
        [[...more.keys()], [...more.values()], orderId]);
    }
    // An order on hold is routed when the hold is released.
    if (order.status !== OS.ON_HOLD) await this.allocateOpenLines(em, order, actor, []);
    await this.syncOrderStatus(em, order, actor);
    await this.touch(em, orderId, { linesChanged: true });
    return null;
  }

  /**
   * Re-routes BACKORDERED orders for which stock has arrived (or been released) at an active location since their
   * last routing decision, oldest first. Several hub processes may run it at once: each order is claimed with
   * SKIP LOCKED. Returns how many orders were looked at again.
   */
  async retryBackorders(limit: number, actor = 'system:backorder-retry'): Promise<number> {
    const due = await sql<{ id: string }>(this.ds.manager, `
      SELECT o.id FROM orders o
       WHERE o.status = 'BACKORDERED'
         AND EXISTS (
           SELECT 1 FROM order_line ol
             JOIN stock_movement m ON m.product_id = ol.product_id
             JOIN location l ON l.id = m.location_id AND l.active
            WHERE ol.order_id = o.id AND (m.on_hand_delta > 0 OR m.reserved_delta < 0)
              AND m.created_at > coalesce((SELECT max(d.created_at) FROM routing_decision d WHERE d.order_id = o.id), o.created_at))
       ORDER BY o.placed_at LIMIT $1`, [limit]);
    let retried = 0;
    for (const { id } of due) {
      const done = await this.ds.transaction(async (em) => {
        const [locked] = await sql<{ id: string }>(em, `SELECT id FROM orders WHERE id = $1 AND status = 'BACKORDERED' FOR UPDATE SKIP LOCKED`, [id]);
        if (!locked) return false;
        const order = await this.lockOrder(em, id);
        await this.allocateOpenLines(em, order, actor, []);
        await this.touch(em, id);
        return true;
      });
      if (done) retried++;
    }
    return retried;
  }

  hold(orderId: string, reason: string | null | undefined, actor: string): Promise<Order | TransitionRejected> {
    return this.mutate(orderId, async (em, order) => {
      if (!canTransitionOrder(order.status, OS.ON_HOLD)) {
        return new TransitionRejected('Order', order.id, order.status, OS.ON_HOLD, `an order in ${order.status} cannot be put on hold`);
      }
      await sql(em, `UPDATE orders SET status_before_hold = status WHERE id = $1`, [orderId]);
      await this.setOrderStatus(em, order, OS.ON_HOLD, actor, reason ?? null);
      return order;
    });
  }

  releaseHold(orderId: string, actor: string): Promise<Order | TransitionRejected> {
    return this.mutate(orderId, async (em, order) => {
      if (order.status !== OS.ON_HOLD) {
        return new TransitionRejected('Order', order.id, order.status, 'released', `only an order ON_HOLD can be released; this one is ${order.status}`);
      }
      const back = order.statusBeforeHold ?? OS.CREATED;
      await sql(em, `UPDATE orders SET status_before_hold = NULL WHERE id = $1`, [orderId]);
      await this.setOrderStatus(em, order, back, actor, 'hold released');
      if (back === OS.CREATED || back === OS.BACKORDERED) await this.allocateOpenLines(em, order, actor, []);
      return order;
    });
  }

  async tag(orderId: string, tags: string[], add: boolean, actor: string): Promise<Order> {
    tags.forEach((t, i) => {
      if (typeof t !== 'string' || !t.trim() || t.length > 64) throw badInput(`tags[${i}]`, 'must be 1 to 64 characters');
    });
    return this.mutate(orderId, async (em) => {
      const statement = add
        ? `UPDATE orders SET tags = ARRAY(SELECT DISTINCT unnest(tags || $2::text[]) ORDER BY 1) WHERE id = $1`
        : `UPDATE orders SET tags = ARRAY(SELECT unnest(tags) EXCEPT SELECT unnest($2::text[]) ORDER BY 1) WHERE id = $1`;
      await sql(em, statement, [orderId, tags]);
      const [{ n }] = await sql(em, `SELECT cardinality(tags) AS n FROM orders WHERE id = $1`, [orderId]);
      if (n > 50) throw badInput('tags', 'an order carries at most 50 tags');
      return null;
    }) as Promise<Order>;
  }

  async setCustomStatus(orderId: string, customStatus: string | null, actor: string): Promise<Order> {
    if (customStatus != null && (customStatus.trim() === '' || customStatus.length > 100)) throw badInput('customStatus', 'must be 1 to 100 characters, or null to clear it');
    return this.mutate(orderId, async (em, order) => {
      await sql(em, `UPDATE orders SET custom_status = $2 WHERE id = $1`, [orderId, customStatus]);
      await this.recordTransition(em, orderId, null, order.customStatus, customStatus ?? '(cleared)', actor, 'custom status');
      return null;
    }) as Promise<Order>;
  }

  async setAttributes(orderId: string, attributes: Record<string, unknown>, actor: string): Promise<Order> {
    if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) throw badInput('attributes', 'must be a JSON object');
    if (JSON.stringify(attributes).length > 16_384) throw badInput('attributes', 'must be at most 16 kB of JSON');
    return this.mutate(orderId, async (em) => {
      // Merge; a null value removes the key.
      await sql(em, `UPDATE orders SET attributes = jsonb_strip_nulls(attributes || $2::jsonb) WHERE id = $1`, [orderId, JSON.stringify(attributes)]);
      return null;
    }) as Promise<Order>;
  }

  /** Moves a fulfilment order along its lifecycle, with the stock and order effects each step implies. */
  async transitionFulfillment(fulfillmentOrderId: string, to: FO, actor: string, opts: { reason?: string | null; tracking?: TrackingInput } = {}): Promise<FulfillmentOrder | TransitionRejected> {
    if (!isUuid(fulfillmentOrderId)) throw notFound('Fulfillment order', fulfillmentOrderId, 'id');
    const fo0 = await this.ds.getRepository(FulfillmentOrder).findOne({ where: { id: fulfillmentOrderId } });
    if (!fo0) throw notFound('Fulfillment order', fulfillmentOrderId, 'id');
    const result = await this.mutate(fo0.orderId, (em, order) => this.transitionLocked(em, order, fulfillmentOrderId, to, actor, opts));
    if (result instanceof TransitionRejected) return result;
    return this.ds.getRepository(FulfillmentOrder).findOneOrFail({ where: { id: fulfillmentOrderId }, relations: { lines: true, shipments: { lines: true } } });
  }

  /** transitionFulfillment inside the caller's transaction (a 3PL or store reported the step; sync engine). */
  async transitionFulfillmentIn(em: EntityManager, fulfillmentOrderId: string, to: FO, actor: string, opts: { reason?: string | null; tracking?: TrackingInput } = {}): Promise<TransitionRejected | null> {
    const [fo0] = await sql<{ order_id: string }>(em, `SELECT order_id FROM fulfillment_order WHERE id = $1`, [fulfillmentOrderId]);
    if (!fo0) throw notFound('Fulfillment order', fulfillmentOrderId, 'id');
    const r = await this.mutateIn(em, fo0.order_id, (em2, order) => this.transitionLocked(em2, order, fulfillmentOrderId, to, actor, opts));
    return r instanceof TransitionRejected ? r : null;
  }

  private async transitionLocked(em: EntityManager, order: Order, fulfillmentOrderId: string, to: FO, actor: string, opts: { reason?: string | null; tracking?: TrackingInput }): Promise<FulfillmentOrder | TransitionRejected> {
    {
      const fo = await em.getRepository(FulfillmentOrder).findOneOrFail({ where: { id: fulfillmentOrderId }, lock: { mode: 'pessimistic_write' } });
      if (!canTransitionFulfillment(fo.status, to)) {
        return new TransitionRejected('FulfillmentOrder', fo.id, fo.status, to, `a fulfilment order in ${fo.status} cannot move to ${to}`);
      }
      if (to === FO.READY_FOR_PICKUP && fo.method === FulfillmentMethod.SHIP) {
        return new TransitionRejected('FulfillmentOrder', fo.id, fo.status, to, 'a SHIP fulfilment order is shipped, not made ready for pickup');
      }
      if (to === FO.SHIPPED && fo.method !== FulfillmentMethod.SHIP) {
        return new TransitionRejected('FulfillmentOrder', fo.id, fo.status, to, `a ${fo.method} fulfilment order is handed over (PICKED_UP), not shipped`);
      }
      if ((to === FO.READY_FOR_PICKUP || to === FO.PICKED_UP) && (await transfersInTransit(em, fo.id)) > 0) {
        return new TransitionRejected('FulfillmentOrder', fo.id, fo.status, to, 'stock for this pickup is still being transferred to the store');
      }
      await this.setFulfillmentStatus(em, fo, to, actor, opts.reason ?? null);
      switch (to) {
        case FO.SHIPPED:
          await this.inventory.consume(em, fo.id, actor);
          await this.createShipment(em, fo, opts.tracking ?? {});
          break;
        case FO.PICKED_UP:
          await this.inventory.consume(em, fo.id, actor);
          break;
        case FO.DELIVERED:
          await sql(em, `UPDATE shipment SET delivered_at = now() WHERE fulfillment_order_id = $1 AND delivered_at IS NULL`, [fo.id]);
          break;
        case FO.REJECTED:
        case FO.CANCELLED:
          await this.inventory.lockOrderProducts(em, order.id);
          await this.inventory.release(em, { fulfillmentOrderId: fo.id }, actor);
          await this.allocateOpenLines(em, order, actor, [fo.locationId]);
          break;
      }
      await this.syncOrderStatus(em, order, actor);
      return fo;
    }
  }

  /**
   * Moves the order with its returns, inside the return service's transaction: PARTIALLY_RETURNED once any unit has
   * come back, RETURNED once every unit that left (shipped or handed over: `order_line.shipped_quantity`) is back.
   * Units never shipped (a cancelled or unfulfilled line) are not waited for. A partly shipped order moves only when
   * nothing of it is still being fulfilled; orders whose lifecycle does not allow it keep their status, and the
   * return itself still proceeds.
   */
  async recordReturnIn(em: EntityManager, orderId: string, actor: string, reason: string): Promise<void> {
    await this.mutateIn(em, orderId, async (em2, order) => {
      const [{ shipped, back, open }] = await sql<{ shipped: number; back: number; open: number }>(em2,
        `SELECT (SELECT coalesce(sum(shipped_quantity), 0) FROM order_line WHERE order_id = $1)::int AS shipped,
                (SELECT coalesce(sum(rl.received_quantity), 0) FROM return_line rl JOIN returns r ON r.id = rl.return_id
                  WHERE r.order_id = $1 AND r.status <> 'CANCELLED')::int AS back,
                (SELECT count(*) FROM fulfillment_order WHERE order_id = $1 AND status = ANY($2))::int AS open`, [orderId, OPEN_FULFILLMENT]);
      if (back <= 0) return null;
      if (order.status === OS.PARTIALLY_SHIPPED && open > 0) return null;
      const next = back >= shipped ? OS.RETURNED : OS.PARTIALLY_RETURNED;
      if (next !== order.status && canTransitionOrder(order.status, next)) await this.setOrderStatus(em2, order, next, actor, reason);
      return null;
    });
  }

  // --- internals -----------------------------------------------------------------------------------------------

  /** Runs `fn` in a transaction with the order row locked; bumps the version and emits orderUpdated on success. */
  private async mutate<T>(orderId: string, fn: (em: EntityManager, order: Order) => Promise<T | TransitionRejected | null>): Promise<Order | T | TransitionRejected> {
    if (!isUuid(orderId)) throw notFound('Order', orderId, 'id');
    const result = await retryingTransaction(this.ds, (em) => this.mutateIn(em, orderId, fn));
    if (result instanceof TransitionRejected) return result;
    return result ?? (await this.require(orderId));
  }

  private async mutateIn<T>(em: EntityManager, orderId: string, fn: (em: EntityManager, order: Order) => Promise<T | TransitionRejected | null>): Promise<T | TransitionRejected | null> {
    const order = await this.lockOrder(em, orderId);
    const r = await fn(em, order);
    if (r instanceof TransitionRejected) return r;
    await this.touch(em, orderId);
    return r;
  }

  /** The order, locked for this transaction; NOT_FOUND naming `id` when there is none. */
  private async lockOrder(em: EntityManager, orderId: string): Promise<Order> {
    const order = await em.getRepository(Order).findOne({ where: { id: orderId }, lock: { mode: 'pessimistic_write' } });
    if (!order) throw notFound('Order', orderId, 'id');
    return order;
  }


  /** A new version of the order, announced. `linesChanged`: units were cancelled or added, so its total follows them. */
  private async touch(em: EntityManager, orderId: string, opts: { linesChanged?: boolean } = {}): Promise<void> {
    const [row] = await sql<{ status: string; version: number }>(em, opts.linesChanged
      ? `UPDATE orders SET version = version + 1, updated_at = now(),
           total_amount = (SELECT coalesce(sum(coalesce(unit_price, 0) * (quantity - cancelled_quantity)), 0) FROM order_line WHERE order_id = $1)
         WHERE id = $1 RETURNING status, version`
      : `UPDATE orders SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING status, version`, [orderId]);
    await EventBus.emit(em, { type: 'orderUpdated', orderId, status: row.status, version: row.version });
  }

  /** Quantities of each line neither cancelled nor covered by a live fulfilment order. */
  private async openQuantities(em: EntityManager, order: Order): Promise<{ line: OrderLine; quantity: number }[]> {
    const lines = await em.getRepository(OrderLine).find({ where: { orderId: order.id }, order: { lineNo: 'ASC' } });
    const covered: { order_line_id: string; qty: number }[] = await sql(em, 
      `SELECT fol.order_line_id, sum(fol.quantity)::int AS qty FROM fulfillment_order_line fol
         JOIN fulfillment_order fo ON fo.id = fol.fulfillment_order_id
        WHERE fo.order_id = $1 AND fo.status NOT IN ('REJECTED','CANCELLED') GROUP BY fol.order_line_id`,
      [order.id],
    );
    const byLine = new Map(covered.map((c) => [c.order_line_id, c.qty]));
    return lines.map((line) => ({ line, quantity: line.quantity - line.cancelledQuantity - (byLine.get(line.id) ?? 0) }));
  }

  /**
   * Routes the open quantities and reserves them; BACKORDERED when nothing can be placed now. Each attempt runs
   * under a savepoint, so a reservation that lost a race is undone and re-planned without failing the order.
   */
  private async allocateOpenLines(em: EntityManager, order: Order, actor: string, excludeLocationIds: string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const open = (await this.openQuantities(em, order)).filter((o) => o.quantity > 0);
      if (!open.length) return;
      if (!this.planner) {
        if (order.status === OS.ALLOCATED) await this.setOrderStatus(em, order, OS.BACKORDERED, actor, 'part of the order is no longer allocated');
        return;
      }
      const plan = await this.planner.plan(em, order, open, excludeLocationIds);
      await sql(em, `INSERT INTO routing_decision (order_id, rule_set_id, rule_set_version, status, excluded_locations, decision, actor)
                     SELECT $1, $2, $3, $4, coalesce(array_agg(code ORDER BY code) FILTER (WHERE code IS NOT NULL), '{}'), $6, $7
                       FROM location WHERE id = ANY($5::uuid[])`,
        [order.id, plan.decision.trace.ruleSetId, plan.decision.trace.ruleSetVersion, plan.decision.status, excludeLocationIds,
          storedDecision(plan), actor]);
      if (!plan.shipments.length) {
        if (canTransitionOrder(order.status, OS.BACKORDERED)) await this.setOrderStatus(em, order, OS.BACKORDERED, actor, 'no location can fulfil the order now');
        return;
      }
      await sql(em, 'SAVEPOINT allocate');
      const statusBefore = order.status;
      try {
        await this.applyPlan(em, order, plan.shipments, actor);
        await sql(em, 'RELEASE SAVEPOINT allocate');
        return;
      } catch (err) {
        await sql(em, 'ROLLBACK TO SAVEPOINT allocate');
        order.status = statusBefore;
        if (!(err instanceof DomainError && err.code === 'INSUFFICIENT_STOCK') || attempt >= ALLOCATION_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * Writes the plan's fulfilment orders, then reserves all their lines in ONE statement: the stock rows of a split
   * order are locked together in the fixed lock order, never location by location (which could deadlock with
   * another writer holding the same rows the other way round).
   */
  private async applyPlan(em: EntityManager, order: Order, plan: PlannedShipment[], actor: string): Promise<void> {
    const reserveLines = [];
    const written: { foId: string; shipment: PlannedShipment; folIdByOrderLine: Map<string, string> }[] = [];
    for (const shipment of plan) {
      const [{ id: foId }] = await sql(em, 
        `INSERT INTO fulfillment_order (order_id, location_id, method) VALUES ($1, $2, $3) RETURNING id`,
        [order.id, shipment.locationId, shipment.method],
      );
      const folIdByOrderLine = new Map<string, string>();
      const arriving = new Map<string, number>();
      for (const t of shipment.transfers ?? []) arriving.set(t.orderLineId, (arriving.get(t.orderLineId) ?? 0) + t.quantity);
      for (const l of shipment.lines) {
        const [{ id: folId, product_id }] = await sql(em, 
          `INSERT INTO fulfillment_order_line (fulfillment_order_id, order_line_id, product_id, sku, quantity)
           SELECT $1, id, product_id, sku, $3 FROM order_line WHERE id = $2 AND order_id = $4 RETURNING id, product_id`,
          [foId, l.orderLineId, l.quantity, order.id],
        );
        folIdByOrderLine.set(l.orderLineId, folId);
        const here = l.quantity - (arriving.get(l.orderLineId) ?? 0);
        if (here > 0) reserveLines.push({ productId: product_id, locationId: shipment.locationId, quantity: here, fulfillmentOrderLineId: folId });
      }
      written.push({ foId, shipment, folIdByOrderLine });
    }
    await this.inventory.reserve(em, reserveLines, { orderId: order.id, actor });
    for (const { foId, shipment, folIdByOrderLine } of written) {
      if (shipment.transfers?.length) await startPickupTransfers(em, this.inventory, order.id, shipment.transfers, folIdByOrderLine, actor);
      await this.recordTransition(em, order.id, foId, null, FO.PENDING, actor, 'allocated');
    }
    const stillOpen = (await this.openQuantities(em, order)).some((o) => o.quantity > 0);
    const next = stillOpen ? OS.BACKORDERED : OS.ALLOCATED;
    if (order.status !== next && canTransitionOrder(order.status, next)) {
      await this.setOrderStatus(em, order, next, actor, stillOpen ? 'partly allocated; the rest waits for stock' : null);
    }
  }

  private async syncOrderStatus(em: EntityManager, order: Order, actor: string): Promise<void> {
    const fos: { status: FO }[] = await sql(em, `SELECT status FROM fulfillment_order WHERE order_id = $1`, [order.id]);
    const unallocated = (await this.openQuantities(em, order)).some((o) => o.quantity > 0);
    const next = deriveOrderStatus(order.status, fos.map((f) => f.status), unallocated);
    if (next && canTransitionOrder(order.status, next)) await this.setOrderStatus(em, order, next, actor, null);
  }

  private async createShipment(em: EntityManager, fo: FulfillmentOrder, t: TrackingInput): Promise<void> {
    const [{ id }] = await sql(em, 
      `INSERT INTO shipment (fulfillment_order_id, carrier, service, tracking_number, tracking_url) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
      [fo.id, t.carrier ?? null, t.service ?? null, t.trackingNumber ?? null, t.trackingUrl ?? null],
    );
    await sql(em, 
      `INSERT INTO shipment_line (shipment_id, fulfillment_order_line_id, quantity) SELECT $1, id, quantity FROM fulfillment_order_line WHERE fulfillment_order_id = $2`,
      [id, fo.id],
    );
  }

  private async setOrderStatus(em: EntityManager, order: Order, to: OS, actor: string, reason: string | null): Promise<void> {
    if (!canTransitionOrder(order.status, to)) throw new DomainError('INVALID_TRANSITION', `order ${order.id}: ${order.status} → ${to} is not allowed`);
    await sql(em, `UPDATE orders SET status = $2 WHERE id = $1`, [order.id, to]);
    await this.recordTransition(em, order.id, null, order.status, to, actor, reason);
    order.status = to;
  }

  private async setFulfillmentStatus(em: EntityManager, fo: FulfillmentOrder, to: FO, actor: string, reason: string | null): Promise<void> {
    await sql(em, `UPDATE fulfillment_order SET status = $2, status_reason = $3, updated_at = now() WHERE id = $1`, [fo.id, to, reason]);
    await this.recordTransition(em, fo.orderId, fo.id, fo.status, to, actor, reason);
    fo.status = to;
  }

  private async recordTransition(em: EntityManager, orderId: string, foId: string | null, from: string | null, to: string, actor: string, reason: string | null): Promise<void> {
    await em.getRepository(OrderTransition).insert({ orderId, fulfillmentOrderId: foId, fromStatus: from, toStatus: to, actor, reason });
  }
}

/** Products by SKU, for order lines. */
async function productsBySku(em: EntityManager, skus: string[]): Promise<Map<string, { id: string; active: boolean }>> {
  const unique = [...new Set(skus)];
  const products = unique.length ? await sql<{ id: string; sku: string; active: boolean }>(em, `SELECT id, sku, active FROM product WHERE sku = ANY($1)`, [unique], { prepare: true }) : [];
  return new Map(products.map((p) => [p.sku, p]));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => typeof s === 'string' && UUID.test(s);

/** Money in ten-thousandths (numeric(19,4)) as bigint, so totals never pass through floats. */
function toMinor(decimal: string | null | undefined): bigint {
  if (!decimal) return 0n;
  const [whole, frac = ''] = decimal.split('.');
  return BigInt(whole) * 10000n + BigInt(frac.padEnd(4, '0'));
}

function fromMinor(minor: bigint): string {
  const s = minor.toString().padStart(5, '0');
  return `${s.slice(0, -4)}.${s.slice(-4)}`;
}

interface TransitionRow { orderId: string; foId: string | null; from: string | null; to: string; reason: string | null }

/** An order of placeOrdersIn before it is written: its ids are chosen here, so it can be planned first. */
interface PendingOrder { index: number; input: PlaceOrderData; order: Order; lines: OrderLine[] }

function newPendingOrder(index: number, input: PlaceOrderData, resolved: ResolvedInput): PendingOrder {
  const order = Object.assign(new Order(), {
    id: randomUUID(), connectionId: input.connectionId ?? null, channel: input.channel, externalId: input.externalId, status: OS.CREATED,
    statusBeforeHold: null, customStatus: null, method: input.method ?? FulfillmentMethod.SHIP, pickupLocationId: resolved.pickupLocationId,
    customerName: input.customer?.name ?? null, customerEmail: input.customer?.email ?? null, customerPhone: input.customer?.phone ?? null,
    shipTo: (input.shipTo ?? null) as Order['shipTo'], tags: [...new Set(input.tags ?? [])], attributes: input.attributes ?? {}, currency: input.currency ?? 'USD',
    totalAmount: fromMinor(input.lines.reduce((sum, l) => sum + toMinor(l.unitPrice) * BigInt(l.quantity), 0n)), placedAt: input.placedAt ?? new Date(), version: 1,
  });
  const lines = input.lines.map((l, i) => Object.assign(new OrderLine(), {
    id: randomUUID(), orderId: order.id, lineNo: i + 1, productId: resolved.productIds.get(l.sku)!, sku: l.sku, quantity: l.quantity,
    unitPrice: l.unitPrice ?? null, externalId: l.externalId ?? null,
  }));
  return { index, input, order, lines };
}

/** A plan's routing decision as routing_decision.decision keeps it (see trace-store.ts), as JSON text. */
function storedDecision(plan: AllocationPlan): string {
  return JSON.stringify(packDecision({ ...plan.decision, geocodePrecision: plan.geocodePrecision }));
}

/**
 * Runs `work` once the query just started has been sent (a query goes out from a microtask; this runs after them),
 * so that Node works while the server does.
 */
function whileQueryRuns<T>(work: () => T): Promise<T> {
  return new Promise((resolve, reject) => setImmediate(() => {
    try { resolve(work()); } catch (err) { reject(err); }
  }));
}

/** Texts as one UTF-8 buffer (sent as a binary parameter: no escaping either way) and each one's byte range in it. */
function packTexts(texts: string[]): { bytes: Buffer; starts: number[]; lengths: number[] } {
  const buffers = texts.map((t) => Buffer.from(t, 'utf8'));
  const starts: number[] = [];
  let at = 0;
  for (const b of buffers) { starts.push(at); at += b.length; }
  return { bytes: Buffer.concat(buffers, at), starts, lengths: buffers.map((b) => b.length) };
}

/** Rows for `json_to_recordset($n::json) AS v(n int, …)`: one JSON text, each row numbered `n` to keep its order. */
function recordset<T>(items: T[], row: (item: T) => Record<string, unknown>): string {
  return JSON.stringify(items.map((item, n) => ({ n, ...row(item) })));
}
