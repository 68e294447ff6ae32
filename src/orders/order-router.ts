import type { EntityManager } from 'typeorm';
import { rows } from '../db/sql';
import { readRoutingSnapshot, resolveDestination, type RoutingSnapshot, type SnapshotLocation } from './routing-snapshot';
import { CityGeocoder, type GeoPoint } from '../catalog/geocoder';
import { FulfillmentMethod } from '../model/enums';
import type { Order, OrderLine } from '../model/order.entity';
import { route, type RoutingDecision, type RoutingOrder } from '../routing';
import type { RuleSetService } from '../rules/rule-set.service';
import type { AllocationPlan, PlannedShipment } from './order.service';

type LocationRow = SnapshotLocation;

/**
 * Feeds the pure router: reads the network (with today's capacity use in each location's time zone), an ATP
 * snapshot of the order's SKUs and the active rule set, calls `route()`, and maps the decision back to order
 * lines. Reads only; the order service reserves and persists, and re-plans if a reservation loses a race.
 */
export class OrderRouter {
  constructor(private readonly ruleSets: RuleSetService, private readonly geocoder = new CityGeocoder()) {}

  async plan(em: EntityManager, order: Order, open: { line: OrderLine; quantity: number }[], excludeLocationIds: string[], now = new Date()): Promise<AllocationPlan> {
    const skus = [...new Set(open.map((o) => o.line.sku))];
    return this.planWith(em, await readRoutingSnapshot(em, this.ruleSets, skus, now), order, open, excludeLocationIds, now);
  }

  /** The snapshot a whole page of orders is planned against: one read instead of one per order (sync intake). */
  readSnapshot(em: EntityManager, skus: string[], now: Date): Promise<RoutingSnapshot> {
    return readRoutingSnapshot(em, this.ruleSets, skus, now);
  }

  /** plan() against a snapshot the caller read (and keeps current between orders, e.g. with takeDecision). */
  async planWith(em: EntityManager, snapshot: RoutingSnapshot, order: Order, open: { line: OrderLine; quantity: number }[], excludeLocationIds: string[], now: Date): Promise<AllocationPlan> {
    const { ruleSet, locations, network, atp } = snapshot;
    const byId = new Map(locations.map((l) => [l.id, l]));
    const pickup = order.pickupLocationId ? (await rows<{ code: string; latitude: number; longitude: number }>(em, `SELECT code, latitude, longitude FROM location WHERE id = $1`, [order.pickupLocationId]))[0] : undefined;
    const destination = this.destination(order, pickup, locations);
    const routingOrder: RoutingOrder = {
      id: order.id, channel: order.channel, method: order.method, pickupLocationCode: pickup?.code,
      shipTo: destination ? { ...destination.point, country: order.shipTo?.country ?? 'US', city: order.shipTo?.city ?? undefined } : undefined,
      lines: aggregate(open.map((o) => ({ sku: o.line.sku, quantity: o.quantity }))),
      tags: order.tags, customerKey: order.customerEmail?.toLowerCase() ?? undefined, placedAt: order.placedAt?.toISOString(),
    };
    const decision = route(routingOrder, atp, network, ruleSet, {
      now,
      excludeLocations: excludeLocationIds.map((id) => byId.get(id)?.code).filter((c): c is string => !!c),
    });
    return { shipments: this.toShipments(decision, order, open, locations), decision, geocodePrecision: destination?.precision ?? 'none' };
  }

  private destination(order: Order, pickup: { latitude: number; longitude: number } | undefined, locations: LocationRow[]): { point: GeoPoint; precision: string } | undefined {
    if (order.method !== FulfillmentMethod.SHIP && pickup) return { point: pickup, precision: 'store' };
    if (!order.shipTo) return undefined;
    return resolveDestination(this.geocoder, order.shipTo, locations);
  }

  private toShipments(decision: RoutingDecision, order: Order, open: { line: OrderLine; quantity: number }[], locations: LocationRow[]): PlannedShipment[] {
    const byCode = new Map(locations.map((l) => [l.code, l]));
    const remaining = open.map((o) => ({ ...o }));
    const shipments: PlannedShipment[] = [];
    // One fulfilment order per location the customer's goods leave from, or, for transfers, arrive at (the pickup
    // store collects both its shelf units and what other locations send it).
    const at = new Map<string, PlannedShipment>();
    for (const s of decision.shipments) {
      const transfer = s.kind === 'TRANSFER' && s.destinationCode ? s : undefined;
      const location = byCode.get(transfer ? transfer.destinationCode! : s.locationCode)!;
      let shipment = at.get(location.id);
      if (!shipment) at.set(location.id, (shipment = { locationId: location.id, method: order.method, lines: [] }));
      for (const l of s.lines) {
        let need = l.quantity;
        for (const o of remaining) {
          if (need === 0) break;
          if (o.line.sku !== l.sku || o.quantity === 0) continue;
          const take = Math.min(need, o.quantity);
          const same = shipment.lines.find((x) => x.orderLineId === o.line.id);
          if (same) same.quantity += take;
          else shipment.lines.push({ orderLineId: o.line.id, quantity: take });
          if (transfer) (shipment.transfers ??= []).push({ fromLocationCode: s.locationCode, toLocationCode: location.code, sku: l.sku, quantity: take, orderLineId: o.line.id });
          o.quantity -= take;
          need -= take;
        }
      }
    }
    for (const shipment of at.values()) if (shipment.lines.length) shipments.push(shipment);
    return shipments;
  }
}

function aggregate(lines: { sku: string; quantity: number }[]): { sku: string; quantity: number }[] {
  const m = new Map<string, number>();
  for (const l of lines) m.set(l.sku, (m.get(l.sku) ?? 0) + l.quantity);
  return [...m].map(([sku, quantity]) => ({ sku, quantity }));
}
