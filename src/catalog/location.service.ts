import type { DataSource } from 'typeorm';
import { badInput, notFound } from '../errors';
import { LocationCapability, LocationType } from '../model/enums';
import { Location } from '../model/location.entity';

export interface LocationData {
  code: string; name: string; type: LocationType;
  addressLine1?: string | null; city?: string | null; region?: string | null; postalCode?: string | null; country: string;
  latitude: number; longitude: number; timeZone?: string | null; capabilities?: LocationCapability[] | null; active?: boolean | null;
  dailyOrderCapacity?: number | null; dailyLineCapacity?: number | null; processingHours?: number | null; orderCutoff?: string | null;
  priority?: number | null; shipBaseCost?: string | null; shipCostPerKm?: string | null;
}

const DECIMAL = /^\d{1,10}(\.\d{1,4})?$/;

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function validateLocation(d: LocationData): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(d.code ?? '')) throw badInput('input.code', 'must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit');
  if (!d.name?.trim() || d.name.length > 200) throw badInput('input.name', 'must be 1 to 200 characters');
  if (!/^[A-Z]{2}$/.test(d.country ?? '')) throw badInput('input.country', `must be an ISO 3166-1 alpha-2 code, got "${d.country}"`);
  if (!(Number.isFinite(d.latitude) && Math.abs(d.latitude) <= 90)) throw badInput('input.latitude', 'must be between -90 and 90');
  if (!(Number.isFinite(d.longitude) && Math.abs(d.longitude) <= 180)) throw badInput('input.longitude', 'must be between -180 and 180');
  if (d.timeZone != null && !isValidTimeZone(d.timeZone)) throw badInput('input.timeZone', `"${d.timeZone}" is not an IANA time zone such as "America/Chicago"`);
  for (const k of ['dailyOrderCapacity', 'dailyLineCapacity', 'processingHours'] as const) {
    const v = d[k];
    if (v != null && !(Number.isInteger(v) && v >= 0 && v <= 1_000_000)) throw badInput(`input.${k}`, 'must be a whole number from 0 to 1000000');
  }
  if (d.orderCutoff != null && !/^([01]\d|2[0-3]):[0-5]\d$/.test(d.orderCutoff)) throw badInput('input.orderCutoff', 'must be a local time HH:MM');
  for (const k of ['shipBaseCost', 'shipCostPerKm'] as const) {
    const v = d[k];
    if (v != null && !DECIMAL.test(v)) throw badInput(`input.${k}`, 'must be a non-negative decimal string');
  }
  if (d.priority != null && !(Number.isInteger(d.priority) && Math.abs(d.priority) <= 1000)) throw badInput('input.priority', 'must be a whole number from -1000 to 1000');
}

export class LocationService {
  constructor(private readonly ds: DataSource) {}

  /** Creates or updates by code. Omitted optional fields keep their current (or default) values. */
  async upsert(d: LocationData): Promise<Location> {
    validateLocation(d);
    const repo = this.ds.getRepository(Location);
    const current = await repo.findOne({ where: { code: d.code } });
    const next = repo.create({
      ...(current ?? { capabilities: [LocationCapability.SHIP], active: true, timeZone: 'UTC', processingHours: 24, orderCutoff: '14:00', priority: 10, shipBaseCost: '5', shipCostPerKm: '0.01' }),
      ...Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined && v !== null)),
      // Nullable capacities: an explicit null clears the limit.
      dailyOrderCapacity: d.dailyOrderCapacity === undefined ? current?.dailyOrderCapacity ?? null : d.dailyOrderCapacity,
      dailyLineCapacity: d.dailyLineCapacity === undefined ? current?.dailyLineCapacity ?? null : d.dailyLineCapacity,
      capabilities: [...new Set(d.capabilities ?? current?.capabilities ?? [LocationCapability.SHIP])],
    });
    await repo.upsert(next, { conflictPaths: ['code'] });
    return repo.findOneOrFail({ where: { code: d.code } });
  }

  async setActive(code: string, active: boolean): Promise<Location> {
    const repo = this.ds.getRepository(Location);
    const result = await repo.update({ code }, { active });
    if (!result.affected) throw notFound('Location', code, 'code');
    return repo.findOneOrFail({ where: { code } });
  }
}
