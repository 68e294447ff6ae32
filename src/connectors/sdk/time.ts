/**
 * Normalises a vendor timestamp to ISO-8601 UTC with milliseconds. Timestamps without a zone are read as UTC
 * (Magento's `YYYY-MM-DD HH:MM:SS`). Throws on anything unparseable.
 */
export function toUtcIso(value: string, { zoneless = 'UTC' }: { zoneless?: 'UTC' } = {}): string {
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`timestamp missing: ${JSON.stringify(value)}`);
  let s = value.trim();
  const zoneLess = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(s);
  if (zoneLess && zoneless === 'UTC') s = s.replace(' ', 'T') + (s.length === 10 ? 'T00:00:00Z' : 'Z');
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new Error(`unparseable timestamp: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

/** Magento's own format for filters: `YYYY-MM-DD HH:MM:SS` in UTC. */
export function toZonelessUtc(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19).replace('T', ' ');
}

export function addMs(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

/** Validates a decimal money string and returns it unchanged (strings only: floats have already lost cents). */
export function money(v: unknown, field = 'amount'): string {
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) {
    // Vendors that send numbers (Magento) send at most 4 decimals; toFixed keeps them exact as text.
    return trimZeros(v.toFixed(4));
  }
  throw new Error(`${field} is not a decimal amount: ${JSON.stringify(v)}`);
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '.00').replace(/\.(\d)$/, '.$10') : s;
}
