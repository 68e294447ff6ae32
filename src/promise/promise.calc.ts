/**
 * The delivery promise as pure functions: no database, no clock. Given when goods are ready at a location (the
 * same `readyBy` routing computes from the location's cut-off, time zone and processing hours), a carrier service
 * (transit days and prices per distance band) and a holiday calendar, it answers on which local day the parcel is
 * collected and between which days it arrives, and what it costs.
 *
 * Days are calendar dates (YYYY-MM-DD): collection is counted in the origin's time zone and calendar, delivery
 * days in the destination country's calendar. Weekends never count as working days; Saturday counts as a delivery
 * day only for services that deliver on Saturdays; Sundays and holidays never do.
 */
import { localDate, localTime, nextDate, readyTime } from '../routing/time';

export const SERVICE_LEVELS = ['SAME_DAY', 'OVERNIGHT', 'EXPRESS', 'STANDARD', 'ECONOMY'] as const;
export type ServiceLevel = (typeof SERVICE_LEVELS)[number];

export interface TransitBand { maxKm: number; minDays: number; maxDays: number }
export interface RateBand { maxKm: number; maxWeightKg: number; price: number }

export interface CarrierService {
  code: string;
  carrier: string;
  name: string;
  serviceLevel: ServiceLevel;
  /** Local time at the origin after which the carrier collects on the next working day. */
  pickupCutoff: string;
  saturdayDelivery: boolean;
  /** Transit days by distance: the first band (by maxKm) that contains the distance applies; beyond the last, no service. */
  transit: TransitBand[];
  /** Price of one parcel by distance and weight band; the smallest band that fits applies. */
  rates: RateBand[];
  /** Emissions factor, kg CO₂ per tonne-km. */
  co2KgPerTonneKm: number;
  currency: string;
  active: boolean;
}

/** Non-working days per country (ISO 3166 alpha-2 → set of YYYY-MM-DD). */
export type HolidayCalendar = Readonly<Record<string, ReadonlySet<string>>>;

export interface Origin { timeZone: string; country: string; cutoff: string; processingHours: number }

export interface ShipmentPromise {
  readyBy: string;
  shipDate: string;
  earliestDelivery: string;
  latestDelivery: string;
  price: number;
  co2Kg: number;
}

export type Unavailable = { unavailable: string };

/** Day of week of a calendar date: 0 = Sunday … 6 = Saturday. */
export function weekday(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

const isHoliday = (date: string, country: string, cal: HolidayCalendar) => cal[country]?.has(date) ?? false;

/** A day the carrier collects and locations dispatch: Monday to Friday, not a holiday. */
export function isWorkingDay(date: string, country: string, cal: HolidayCalendar): boolean {
  const wd = weekday(date);
  return wd >= 1 && wd <= 5 && !isHoliday(date, country, cal);
}

export function isDeliveryDay(date: string, country: string, cal: HolidayCalendar, saturday: boolean): boolean {
  const wd = weekday(date);
  if (wd === 0 || (wd === 6 && !saturday)) return false;
  return !isHoliday(date, country, cal);
}

export function transitBand(service: Pick<CarrierService, 'transit'>, km: number): TransitBand | undefined {
  return [...service.transit].sort((a, b) => a.maxKm - b.maxKm).find((b) => km <= b.maxKm);
}

export function parcelPrice(service: Pick<CarrierService, 'rates'>, km: number, weightKg: number): number | undefined {
  const fits = service.rates.filter((r) => km <= r.maxKm && weightKg <= r.maxWeightKg);
  if (!fits.length) return undefined;
  fits.sort((a, b) => a.maxKm - b.maxKm || a.maxWeightKg - b.maxWeightKg);
  return fits[0].price;
}

/**
 * The local day the carrier collects goods ready at `readyBy`: that day if they are ready before the carrier's
 * pick-up cut-off on a working day, else the next working day.
 */
export function shipDate(readyBy: Date, origin: Pick<Origin, 'timeZone' | 'country'>, pickupCutoff: string, cal: HolidayCalendar): string {
  let date = localDate(readyBy, origin.timeZone);
  if (!isWorkingDay(date, origin.country, cal) || localTime(readyBy, origin.timeZone) >= pickupCutoff) date = nextDate(date);
  while (!isWorkingDay(date, origin.country, cal)) date = nextDate(date);
  return date;
}

/** The `days`-th delivery day after `date` (0: `date` itself, which is a working day of the origin). */
export function addDeliveryDays(date: string, days: number, country: string, cal: HolidayCalendar, saturday: boolean): string {
  let d = date;
  for (let left = days; left > 0;) {
    d = nextDate(d);
    if (isDeliveryDay(d, country, cal, saturday)) left--;
  }
  return d;
}

/**
 * One parcel from `origin` with `service`: collected on the ship date, delivered within the transit band for the
 * distance. Unavailable when the distance is beyond the service's bands or the parcel exceeds its weight bands.
 */
export function promiseShipment(
  service: CarrierService,
  p: { readyBy: Date; origin: Pick<Origin, 'timeZone' | 'country'>; distanceKm: number; weightKg: number; destinationCountry: string },
  cal: HolidayCalendar,
): ShipmentPromise | Unavailable {
  const band = transitBand(service, p.distanceKm);
  if (!band) return { unavailable: `${service.code} does not serve ${Math.round(p.distanceKm)} km` };
  const price = parcelPrice(service, p.distanceKm, p.weightKg);
  if (price === undefined) return { unavailable: `${service.code} has no rate for ${p.weightKg} kg over ${Math.round(p.distanceKm)} km` };
  const ship = shipDate(p.readyBy, p.origin, service.pickupCutoff, cal);
  return {
    readyBy: p.readyBy.toISOString(),
    shipDate: ship,
    earliestDelivery: addDeliveryDays(ship, band.minDays, p.destinationCountry, cal, service.saturdayDelivery),
    latestDelivery: addDeliveryDays(ship, band.maxDays, p.destinationCountry, cal, service.saturdayDelivery),
    price,
    co2Kg: round3((service.co2KgPerTonneKm * p.distanceKm * p.weightKg) / 1000),
  };
}

/** When an order released at `now` is ready at `origin`: the very function routing uses, so the two agree. */
export const readyAt = (now: Date, origin: Origin): Date => readyTime(now, { timeZone: origin.timeZone, cutoff: origin.cutoff, processingHours: origin.processingHours });

/** Several parcels of one order: it arrives when the last one does, and costs their sum. */
export function combine(parts: ShipmentPromise[]): Omit<ShipmentPromise, 'shipDate'> {
  const max = (xs: string[]) => xs.reduce((a, b) => (b > a ? b : a));
  return {
    readyBy: max(parts.map((p) => p.readyBy)),
    earliestDelivery: max(parts.map((p) => p.earliestDelivery)),
    latestDelivery: max(parts.map((p) => p.latestDelivery)),
    price: round2(parts.reduce((s, p) => s + p.price, 0)),
    co2Kg: round3(parts.reduce((s, p) => s + p.co2Kg, 0)),
  };
}

export const round2 = (n: number) => Math.round(n * 100) / 100;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Validates a carrier service definition; returns the first problem as [field, message], or null. */
export function carrierServiceProblem(s: Partial<CarrierService>): [string, string] | null {
  if (typeof s.code !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(s.code)) return ['code', 'must be 1-64 letters, digits, "_", "." or "-"'];
  if (typeof s.carrier !== 'string' || !s.carrier.trim() || s.carrier.length > 100) return ['carrier', 'must be 1 to 100 characters'];
  if (typeof s.name !== 'string' || !s.name.trim() || s.name.length > 200) return ['name', 'must be 1 to 200 characters'];
  if (!SERVICE_LEVELS.includes(s.serviceLevel as ServiceLevel)) return ['serviceLevel', `must be one of ${SERVICE_LEVELS.join(', ')}`];
  if (typeof s.pickupCutoff !== 'string' || !HHMM.test(s.pickupCutoff)) return ['pickupCutoff', 'must be a local time HH:MM'];
  if (!Array.isArray(s.transit) || !s.transit.length || s.transit.length > 50) return ['transit', 'must list 1 to 50 distance bands'];
  for (const [i, b] of s.transit.entries()) {
    if (!(Number.isFinite(b?.maxKm) && b.maxKm > 0 && b.maxKm <= 40_000)) return [`transit[${i}].maxKm`, 'must be a distance in km from 0 to 40000'];
    for (const k of ['minDays', 'maxDays'] as const) {
      if (!(Number.isInteger(b[k]) && b[k] >= 0 && b[k] <= 60)) return [`transit[${i}].${k}`, 'must be a whole number of days from 0 to 60'];
    }
    if (b.maxDays < b.minDays) return [`transit[${i}].maxDays`, 'must not be less than minDays'];
  }
  if (new Set(s.transit.map((b) => b.maxKm)).size !== s.transit.length) return ['transit', 'two bands have the same maxKm'];
  if (!Array.isArray(s.rates) || !s.rates.length || s.rates.length > 200) return ['rates', 'must list 1 to 200 rates'];
  for (const [i, r] of s.rates.entries()) {
    if (!(Number.isFinite(r?.maxKm) && r.maxKm > 0 && r.maxKm <= 40_000)) return [`rates[${i}].maxKm`, 'must be a distance in km from 0 to 40000'];
    if (!(Number.isFinite(r.maxWeightKg) && r.maxWeightKg > 0 && r.maxWeightKg <= 100_000)) return [`rates[${i}].maxWeightKg`, 'must be a weight in kg above 0'];
    if (!(Number.isFinite(r.price) && r.price >= 0 && r.price <= 1_000_000)) return [`rates[${i}].price`, 'must be a price from 0 to 1000000'];
  }
  if (!(Number.isFinite(s.co2KgPerTonneKm) && s.co2KgPerTonneKm! >= 0 && s.co2KgPerTonneKm! <= 100)) return ['co2KgPerTonneKm', 'must be from 0 to 100'];
  if (typeof s.currency !== 'string' || !/^[A-Z]{3}$/.test(s.currency)) return ['currency', 'must be an ISO 4217 code such as USD'];
  return null;
}
