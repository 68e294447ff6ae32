import type { DataSource, EntityManager } from 'typeorm';
import { CityGeocoder } from '../catalog/geocoder';
import { rows } from '../db/sql';
import { US_STATE_TIME_ZONE } from '../db/seed/us-time-zones';
import { DomainError, badInput, notFound } from '../errors';
import { readRoutingSnapshot, resolveDestination, type RoutingSnapshot } from '../orders/routing-snapshot';
import { isUuid } from '../orders/order.service';
import { orderableProduct } from '../orders/place-order.input';
import { route, type FulfillmentMethod, type RoutingOrderLine } from '../routing';
import type { RuleSetService } from '../rules/rule-set.service';
import {
  carrierServiceProblem, combine, promiseShipment, round2, type CarrierService, type HolidayCalendar, type ShipmentPromise,
} from './promise.calc';
import { collectOptions } from './promise.collect';

export interface DeliveryRequest {
  lines: { sku: string; quantity: number }[];
  destination: { country: string; city?: string | null; region?: string | null; postalCode?: string | null; latitude?: number | null; longitude?: number | null };
  channel?: string | null;
  /** PICKUP/CURBSIDE stores are offered within this distance of the destination (default 50 km). */
  radiusKm?: number | null;
}

export interface PromisedShipment {
  locationCode: string;
  lines: RoutingOrderLine[];
  distanceKm: number;
  readyBy: string;
  shipDate: string | null;
  earliestDelivery: string;
  latestDelivery: string;
}

export interface DeliveryOption {
  method: FulfillmentMethod;
  serviceLevel: string | null;
  carrierServiceCode: string | null;
  carrier: string | null;
  /** The one location that fulfils the option; null when the order would ship in several parcels. */
  locationCode: string | null;
  locationName: string | null;
  distanceKm: number | null;
  earliestDelivery: string;
  latestDelivery: string;
  readyBy: string;
  price: string;
  currency: string;
  co2Kg: number;
  split: boolean;
  shipments: PromisedShipment[];
}

export interface AccuracyReport {
  promised: number;
  delivered: number;
  kept: number;
  late: number;
  keptShare: number | null;
  byServiceLevel: { serviceLevel: string; delivered: number; kept: number; keptShare: number | null }[];
}

export const DEFAULT_PICKUP_RADIUS_KM = 50;
/** How long deliveryOptions reuses the carrier services and holidays it read (see carriersAndCalendar). */
export const REFERENCE_DATA_TTL_MS = 10_000;
const MAX_LINES = 100;

interface CarrierRow { code: string; carrier: string; name: string; service_level: CarrierService['serviceLevel']; pickup_cutoff: string; saturday_delivery: boolean; transit: CarrierService['transit']; rates: CarrierService['rates']; co2_kg_per_tonne_km: string; currency: string; active: boolean }
const toCarrier = (r: CarrierRow): CarrierService => ({
  code: r.code, carrier: r.carrier, name: r.name, serviceLevel: r.service_level, pickupCutoff: r.pickup_cutoff, saturdayDelivery: r.saturday_delivery,
  transit: r.transit, rates: r.rates, co2KgPerTonneKm: Number(r.co2_kg_per_tonne_km), currency: r.currency, active: r.active,
});
const CARRIER_COLUMNS = `code, carrier, name, service_level, to_char(pickup_cutoff, 'HH24:MI') AS pickup_cutoff, saturday_delivery, transit, rates, co2_kg_per_tonne_km, currency, active`;

/**
 * What a shopper is told at checkout. Reads the same network, ATP and rule set as placeOrder (readRoutingSnapshot)
 * and calls the same `route()`, then applies carrier service tables and the holiday calendar to routing's
 * ready-by times. Promises made are recorded; the delivery trigger fills in the actual day for promiseAccuracy.
 */
export class PromiseService {
  constructor(private readonly ds: DataSource, private readonly ruleSets: RuleSetService, private readonly geocoder = new CityGeocoder()) {}

  async deliveryOptions(req: DeliveryRequest, now = new Date()): Promise<DeliveryOption[]> {
    const lines = validateLines(req.lines);
    validateDestination(req.destination);
    if (req.channel != null && (typeof req.channel !== 'string' || !req.channel.trim() || req.channel.length > 100)) throw badInput('channel', 'must be 1 to 100 characters');
    const radiusKm = req.radiusKm ?? DEFAULT_PICKUP_RADIUS_KM;
    if (!(Number.isFinite(radiusKm) && radiusKm >= 0 && radiusKm <= 1000)) throw badInput('radiusKm', 'must be from 0 to 1000 km');

    const em = this.ds.manager;
    const skus = lines.map((l) => l.sku);
    // Reads only: the SKUs are checked against the snapshot's product read, so the check costs no query of its own.
    const [snapshot, { carriers, calendar }] = await Promise.all([readRoutingSnapshot(em, this.ruleSets, skus, now), this.carriersAndCalendar()]);
    req.lines.forEach((l, i) => {
      const refused = orderableProduct(snapshot.products, l.sku, `lines[${i}].sku`);
      if (refused instanceof DomainError) throw refused;
    });
    const destination = resolveDestination(this.geocoder, req.destination, snapshot.locations);
    if (!destination) return [];
    const channel = req.channel ?? 'checkout';
    const shipTo = { ...destination.point, country: req.destination.country, city: req.destination.city ?? undefined };
    const options = [
      ...this.shipOptions(snapshot, carriers, calendar, lines, channel, shipTo, now),
      ...this.collectOptions(snapshot, lines, channel, shipTo, radiusKm, now),
    ];
    return options;
  }

  private shipOptions(s: RoutingSnapshot, carriers: CarrierService[], calendar: HolidayCalendar, lines: RoutingOrderLine[], channel: string,
    shipTo: { latitude: number; longitude: number; country: string }, now: Date): DeliveryOption[] {
    const decision = route({ id: 'delivery-promise', channel, method: 'SHIP', shipTo, lines, tags: [] }, s.atp, s.network, s.ruleSet, { now });
    // Only a plan that covers every line is a promise; a partial one would be a backorder, not a delivery date.
    if (decision.status !== 'ROUTED') return [];
    const byCode = new Map(s.locations.map((l) => [l.code, l]));
    const weight = (ls: RoutingOrderLine[]) => ls.reduce((w, l) => w + l.quantity * (s.network.products?.[l.sku]?.weightKg ?? s.ruleSet.defaultWeightKg), 0);
    const options: DeliveryOption[] = [];
    for (const service of carriers) {
      const parts: (ShipmentPromise & { shipment: (typeof decision.shipments)[number] })[] = [];
      for (const shipment of decision.shipments) {
        const loc = byCode.get(shipment.locationCode)!;
        const p = promiseShipment(service, {
          readyBy: new Date(shipment.readyBy), origin: { timeZone: loc.time_zone, country: loc.country },
          distanceKm: shipment.distanceKm, weightKg: weight(shipment.lines), destinationCountry: shipTo.country,
        }, calendar);
        if ('unavailable' in p) break;
        parts.push({ ...p, shipment });
      }
      if (parts.length !== decision.shipments.length) continue;
      const total = combine(parts);
      const single = parts.length === 1 ? byCode.get(parts[0].shipment.locationCode)! : undefined;
      options.push({
        method: 'SHIP', serviceLevel: service.serviceLevel, carrierServiceCode: service.code, carrier: service.carrier,
        locationCode: single?.code ?? null, locationName: single?.name ?? null, distanceKm: single ? parts[0].shipment.distanceKm : null,
        earliestDelivery: total.earliestDelivery, latestDelivery: total.latestDelivery, readyBy: total.readyBy,
        price: total.price.toFixed(2), currency: service.currency, co2Kg: total.co2Kg, split: parts.length > 1,
        shipments: parts.map((p) => ({ locationCode: p.shipment.locationCode, lines: p.shipment.lines, distanceKm: p.shipment.distanceKm, readyBy: p.readyBy,
          shipDate: p.shipDate, earliestDelivery: p.earliestDelivery, latestDelivery: p.latestDelivery })),
      });
    }
    return options.sort((a, b) => a.earliestDelivery.localeCompare(b.earliestDelivery) || Number(a.price) - Number(b.price) || a.carrierServiceCode!.localeCompare(b.carrierServiceCode!));
  }

  /**
   * Stores within the radius that routing would fill the whole cart at, from their own shelf or with transfers in,
   * with routing's ready-by time (see `promise.collect.ts`). A transfer leg is a shipment from the sending location.
   */
  private collectOptions(s: RoutingSnapshot, lines: RoutingOrderLine[], channel: string, point: { latitude: number; longitude: number },
    radiusKm: number, now: Date): DeliveryOption[] {
    return collectOptions(s, lines, channel, point, radiusKm, now).map((o) => ({
      method: o.method, serviceLevel: null, carrierServiceCode: null, carrier: null, locationCode: o.store.code, locationName: o.store.name ?? null,
      distanceKm: o.distanceKm, earliestDelivery: o.day, latestDelivery: o.day, readyBy: o.readyBy, price: '0.00', currency: 'USD', co2Kg: 0, split: false,
      shipments: o.shipments.map((sh) => ({ locationCode: sh.locationCode, lines: sh.lines, distanceKm: sh.distanceKm, readyBy: sh.readyBy,
        shipDate: null, earliestDelivery: o.day, latestDelivery: o.day })),
    }));
  }

  // --- carriers and calendar as data ------------------------------------------------------------------------------

  async carrierServices(includeInactive = true): Promise<CarrierService[]> {
    return (await rows<CarrierRow>(this.ds.manager, `SELECT ${CARRIER_COLUMNS} FROM carrier_service ${includeInactive ? '' : 'WHERE active'} ORDER BY code`)).map(toCarrier);
  }

  /**
   * The active carrier services and the holiday calendar, as deliveryOptions applies them: read at most every
   * REFERENCE_DATA_TTL_MS per process (they are edited a few times a year; a promise need not read them each time),
   * and read again at once after a change made through this service. Routing reads neither, so this cannot make a
   * promise disagree with where placeOrder routes.
   */
  private carriersAndCalendar(): Promise<{ carriers: CarrierService[]; calendar: HolidayCalendar }> {
    const at = Date.now();
    if (!this.referenceData || at - this.referenceData.at >= REFERENCE_DATA_TTL_MS) {
      const em = this.ds.manager;
      const value = Promise.all([
        rows<CarrierRow>(em, `SELECT ${CARRIER_COLUMNS} FROM carrier_service WHERE active ORDER BY code`), this.calendar(em),
      ]).then(([carriers, calendar]) => ({ carriers: carriers.map(toCarrier), calendar }));
      const entry = { at, value };
      this.referenceData = entry;
      // A failed read is not kept: the next request tries again.
      value.catch(() => { if (this.referenceData === entry) this.referenceData = undefined; });
    }
    return this.referenceData.value;
  }

  private referenceData?: { at: number; value: Promise<{ carriers: CarrierService[]; calendar: HolidayCalendar }> };

  async calendar(em: EntityManager = this.ds.manager): Promise<HolidayCalendar> {
    const hs = await rows<{ country: string; date: string }>(em, `SELECT country, to_char(date, 'YYYY-MM-DD') AS date FROM holiday`);
    const cal: Record<string, Set<string>> = {};
    for (const h of hs) (cal[h.country] ??= new Set()).add(h.date);
    return cal;
  }

  async upsertCarrierService(input: Omit<CarrierService, 'active' | 'currency'> & { active?: boolean | null; currency?: string | null }): Promise<CarrierService> {
    const s: CarrierService = { ...input, active: input.active ?? true, currency: input.currency ?? 'USD' };
    const problem = carrierServiceProblem(s);
    if (problem) throw badInput(`input.${problem[0]}`, problem[1]);
    const [row] = await rows<CarrierRow>(this.ds.manager, `
      INSERT INTO carrier_service (code, carrier, name, service_level, pickup_cutoff, saturday_delivery, transit, rates, co2_kg_per_tonne_km, currency, active)
      VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
      ON CONFLICT (code) DO UPDATE SET carrier = EXCLUDED.carrier, name = EXCLUDED.name, service_level = EXCLUDED.service_level,
        pickup_cutoff = EXCLUDED.pickup_cutoff, saturday_delivery = EXCLUDED.saturday_delivery, transit = EXCLUDED.transit, rates = EXCLUDED.rates,
        co2_kg_per_tonne_km = EXCLUDED.co2_kg_per_tonne_km, currency = EXCLUDED.currency, active = EXCLUDED.active, updated_at = now()
      RETURNING ${CARRIER_COLUMNS}`,
    [s.code, s.carrier.trim(), s.name.trim(), s.serviceLevel, s.pickupCutoff, !!s.saturdayDelivery,
      JSON.stringify(s.transit.map((b) => ({ maxKm: b.maxKm, minDays: b.minDays, maxDays: b.maxDays }))),
      JSON.stringify(s.rates.map((r) => ({ maxKm: r.maxKm, maxWeightKg: r.maxWeightKg, price: r.price }))), s.co2KgPerTonneKm, s.currency, s.active]);
    this.referenceData = undefined;
    return toCarrier(row);
  }

  async holidays(country?: string | null, year?: number | null): Promise<{ country: string; date: string; name: string }[]> {
    if (country != null && !/^[A-Z]{2}$/.test(country)) throw badInput('country', 'must be an ISO 3166-1 alpha-2 code');
    if (year != null && !(Number.isInteger(year) && year >= 1970 && year <= 2200)) throw badInput('year', 'must be a year from 1970 to 2200');
    return rows(this.ds.manager, `SELECT country, to_char(date, 'YYYY-MM-DD') AS date, name FROM holiday
      WHERE ($1::text IS NULL OR country = $1) AND ($2::int IS NULL OR extract(year FROM date) = $2) ORDER BY country, date`, [country ?? null, year ?? null]);
  }

  async upsertHoliday(country: string, date: string, name: string): Promise<{ country: string; date: string; name: string }> {
    if (typeof country !== 'string' || !/^[A-Z]{2}$/.test(country)) throw badInput('input.country', 'must be an ISO 3166-1 alpha-2 code');
    if (!isIsoDate(date)) throw badInput('input.date', 'must be a calendar date YYYY-MM-DD');
    if (typeof name !== 'string' || !name.trim() || name.length > 200) throw badInput('input.name', 'must be 1 to 200 characters');
    const [row] = await rows<{ country: string; date: string; name: string }>(this.ds.manager,
      `INSERT INTO holiday (country, date, name) VALUES ($1, $2, $3) ON CONFLICT (country, date) DO UPDATE SET name = EXCLUDED.name
       RETURNING country, to_char(date, 'YYYY-MM-DD') AS date, name`, [country, date, name.trim()]);
    this.referenceData = undefined;
    return row;
  }

  async deleteHoliday(country: string, date: string): Promise<boolean> {
    if (typeof country !== 'string' || !/^[A-Z]{2}$/.test(country)) throw badInput('country', 'must be an ISO 3166-1 alpha-2 code');
    if (!isIsoDate(date)) throw badInput('date', 'must be a calendar date YYYY-MM-DD');
    const deleted = (await rows(this.ds.manager, `DELETE FROM holiday WHERE country = $1 AND date = $2 RETURNING 1`, [country, date])).length > 0;
    this.referenceData = undefined;
    return deleted;
  }

  // --- promises kept ----------------------------------------------------------------------------------------------

  /**
   * Records what the customer was told for an order (usually the option chosen from deliveryOptions). A later call
   * before delivery replaces it. The delivery day is compared in the destination's time zone (US state, else the
   * pickup store's or shipping location's zone).
   */
  async recordPromise(input: { orderId: string; carrierServiceCode?: string | null; earliestDelivery: string; latestDelivery: string }, actor: string): Promise<PromiseRecord> {
    if (!isUuid(input.orderId)) throw notFound('Order', String(input.orderId), 'input.orderId');
    if (!isIsoDate(input.earliestDelivery)) throw badInput('input.earliestDelivery', 'must be a calendar date YYYY-MM-DD');
    if (!isIsoDate(input.latestDelivery)) throw badInput('input.latestDelivery', 'must be a calendar date YYYY-MM-DD');
    if (input.latestDelivery < input.earliestDelivery) throw badInput('input.latestDelivery', 'must not be before earliestDelivery');
    return this.ds.transaction(async (em) => {
      const [order] = await rows<{ id: string; status: string; method: FulfillmentMethod; ship_to: { region?: string; country?: string } | null; tz: string | null }>(em, `
        SELECT o.id, o.status, o.method, o.ship_to,
               coalesce(pl.time_zone, (SELECT l.time_zone FROM fulfillment_order fo JOIN location l ON l.id = fo.location_id
                                         WHERE fo.order_id = o.id ORDER BY fo.created_at LIMIT 1)) AS tz
          FROM orders o LEFT JOIN location pl ON pl.id = o.pickup_location_id WHERE o.id = $1 FOR UPDATE OF o`, [input.orderId]);
      if (!order) throw notFound('Order', input.orderId, 'input.orderId');
      if (['DELIVERED', 'CANCELLED', 'RETURNED', 'PARTIALLY_RETURNED'].includes(order.status)) {
        throw new DomainError('INVALID_TRANSITION', `order is ${order.status}; a promise is recorded before delivery`, 'input.orderId');
      }
      let service: { code: string; service_level: string } | undefined;
      if (input.carrierServiceCode != null) {
        [service] = await rows(em, `SELECT code, service_level FROM carrier_service WHERE code = $1`, [input.carrierServiceCode]);
        if (!service) throw notFound('Carrier service', input.carrierServiceCode, 'input.carrierServiceCode');
      }
      const region = order.ship_to?.country === 'US' && order.ship_to.region ? US_STATE_TIME_ZONE[order.ship_to.region.toUpperCase()] : undefined;
      const timeZone = (order.method === 'SHIP' ? region ?? order.tz : order.tz) ?? 'UTC';
      const [row] = await rows<PromiseRow>(em, `
        INSERT INTO delivery_promise (order_id, method, service_level, carrier_service_code, earliest_delivery, latest_delivery, time_zone, actor)
        VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
        ON CONFLICT (order_id) DO UPDATE SET method = EXCLUDED.method, service_level = EXCLUDED.service_level, carrier_service_code = EXCLUDED.carrier_service_code,
          earliest_delivery = EXCLUDED.earliest_delivery, latest_delivery = EXCLUDED.latest_delivery, time_zone = EXCLUDED.time_zone,
          actor = EXCLUDED.actor, promised_at = now()
        RETURNING ${PROMISE_COLUMNS}`,
      [order.id, order.method, service?.service_level ?? (order.method === 'SHIP' ? null : order.method), service?.code ?? null,
        input.earliestDelivery, input.latestDelivery, timeZone, actor]);
      return toPromise(row);
    });
  }

  async promiseFor(orderId: string): Promise<PromiseRecord | null> {
    if (!isUuid(orderId)) return null;
    const [row] = await rows<PromiseRow>(this.ds.manager, `SELECT ${PROMISE_COLUMNS} FROM delivery_promise WHERE order_id = $1`, [orderId]);
    return row ? toPromise(row) : null;
  }

  /** Promises whose orders were delivered in [from, to) (local delivery days), and the share kept. */
  async accuracy(from?: string | null, to?: string | null): Promise<AccuracyReport> {
    if (from != null && !isIsoDate(from)) throw badInput('from', 'must be a calendar date YYYY-MM-DD');
    if (to != null && !isIsoDate(to)) throw badInput('to', 'must be a calendar date YYYY-MM-DD');
    const stats = await rows<{ service_level: string | null; promised: number; delivered: number; kept: number }>(this.ds.manager, `
      SELECT coalesce(service_level, method) AS service_level, count(*)::int AS promised,
             count(delivered_date)::int AS delivered, count(*) FILTER (WHERE kept)::int AS kept
        FROM delivery_promise
       WHERE ($1::date IS NULL OR coalesce(delivered_date, latest_delivery) >= $1) AND ($2::date IS NULL OR coalesce(delivered_date, latest_delivery) < $2)
       GROUP BY 1 ORDER BY 1`, [from ?? null, to ?? null]);
    const sum = (f: (r: (typeof stats)[number]) => number) => stats.reduce((s, r) => s + f(r), 0);
    const share = (kept: number, delivered: number) => (delivered ? round2(kept / delivered) : null);
    const delivered = sum((r) => r.delivered);
    const kept = sum((r) => r.kept);
    return {
      promised: sum((r) => r.promised), delivered, kept, late: delivered - kept, keptShare: share(kept, delivered),
      byServiceLevel: stats.map((r) => ({ serviceLevel: r.service_level ?? 'UNKNOWN', delivered: r.delivered, kept: r.kept, keptShare: share(r.kept, r.delivered) })),
    };
  }
}

export interface PromiseRecord {
  orderId: string; method: string; serviceLevel: string | null; carrierServiceCode: string | null; earliestDelivery: string; latestDelivery: string;
  timeZone: string; promisedAt: Date; deliveredAt: Date | null; deliveredDate: string | null; kept: boolean | null;
}
interface PromiseRow { order_id: string; method: string; service_level: string | null; carrier_service_code: string | null; earliest_delivery: string; latest_delivery: string; time_zone: string; promised_at: Date; delivered_at: Date | null; delivered_date: string | null; kept: boolean | null }
const PROMISE_COLUMNS = `order_id, method, service_level, carrier_service_code, to_char(earliest_delivery, 'YYYY-MM-DD') AS earliest_delivery,
  to_char(latest_delivery, 'YYYY-MM-DD') AS latest_delivery, time_zone, promised_at, delivered_at, to_char(delivered_date, 'YYYY-MM-DD') AS delivered_date, kept`;
const toPromise = (r: PromiseRow): PromiseRecord => ({
  orderId: r.order_id, method: r.method, serviceLevel: r.service_level, carrierServiceCode: r.carrier_service_code, earliestDelivery: r.earliest_delivery,
  latestDelivery: r.latest_delivery, timeZone: r.time_zone, promisedAt: r.promised_at, deliveredAt: r.delivered_at, deliveredDate: r.delivered_date, kept: r.kept,
});

export function isIsoDate(s: unknown): s is string {
  if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const [y, m, d] = s.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d && y >= 1970 && y <= 2200;
}

function validateLines(lines: DeliveryRequest['lines']): RoutingOrderLine[] {
  if (!Array.isArray(lines) || !lines.length) throw badInput('lines', 'must contain at least one line');
  if (lines.length > MAX_LINES) throw badInput('lines', `must contain at most ${MAX_LINES} lines`);
  const m = new Map<string, number>();
  lines.forEach((l, i) => {
    if (typeof l?.sku !== 'string' || !l.sku.trim() || l.sku.length > 100) throw badInput(`lines[${i}].sku`, 'must be 1 to 100 characters');
    if (!Number.isInteger(l.quantity) || l.quantity <= 0 || l.quantity > 1_000_000) throw badInput(`lines[${i}].quantity`, 'must be a whole number from 1 to 1000000');
    m.set(l.sku, (m.get(l.sku) ?? 0) + l.quantity);
  });
  return [...m].map(([sku, quantity]) => ({ sku, quantity }));
}

function validateDestination(d: DeliveryRequest['destination']): void {
  if (!d || typeof d.country !== 'string' || !/^[A-Z]{2}$/.test(d.country)) throw badInput('destination.country', 'must be an ISO 3166-1 alpha-2 code such as "US"');
  if ((d.latitude == null) !== (d.longitude == null)) throw badInput(d.latitude == null ? 'destination.latitude' : 'destination.longitude', 'latitude and longitude go together');
  if (d.latitude != null && !(Number.isFinite(d.latitude) && Math.abs(d.latitude) <= 90)) throw badInput('destination.latitude', 'must be between -90 and 90');
  if (d.longitude != null && !(Number.isFinite(d.longitude) && Math.abs(d.longitude) <= 180)) throw badInput('destination.longitude', 'must be between -180 and 180');
  for (const k of ['city', 'region', 'postalCode'] as const) {
    const v = d[k];
    if (v != null && (typeof v !== 'string' || v.length > 200)) throw badInput(`destination.${k}`, 'must be at most 200 characters');
  }
}
