/**
 * Wall-clock helpers in a location's IANA time zone, built on Intl so they stay pure functions of the instant
 * passed in (no clock reads) and need no time-zone library.
 */

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function wallClock(instant: Date, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

// Routing asks for the same (instant, zone) once per candidate; Intl formatting dominates a decision without this.
const lastDate = new Map<string, { ms: number; date: string }>();

/** The local calendar day (YYYY-MM-DD) at `instant` in `timeZone`. Capacity counters reset when this changes. */
export function localDate(instant: Date, timeZone: string): string {
  const ms = instant.getTime();
  const hit = lastDate.get(timeZone);
  if (hit && hit.ms === ms) return hit.date;
  const w = wallClock(instant, timeZone);
  const date = `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
  if (lastDate.size > 1000) lastDate.clear();
  lastDate.set(timeZone, { ms, date });
  return date;
}

/** Offset of `timeZone` from UTC at `instant`, in milliseconds (positive east of Greenwich). */
function offsetMs(instant: Date, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/**
 * The instant when the wall clock in `timeZone` reads `date` `hh:mm`. Two passes settle DST transitions; a wall
 * time that does not exist (spring-forward gap) resolves to the instant just after the gap.
 */
export function zonedTimeToUtc(date: string, hhmm: string, timeZone: string): Date {
  // Pure in its arguments and asked for the same few (day, cutoff, zone) triples by every decision: memoised.
  const key = `${date}|${hhmm}|${timeZone}`;
  const hit = zonedCache.get(key);
  if (hit !== undefined) return new Date(hit);
  const t = zonedTimeToUtcUncached(date, hhmm, timeZone);
  if (zonedCache.size > 10_000) zonedCache.clear();
  zonedCache.set(key, t.getTime());
  return t;
}
const zonedCache = new Map<string, number>();

function zonedTimeToUtcUncached(date: string, hhmm: string, timeZone: string): Date {
  const [y, mo, d] = date.split('-').map(Number);
  const [h, mi] = hhmm.split(':').map(Number);
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  let t = guess - offsetMs(new Date(guess), timeZone);
  t = guess - offsetMs(new Date(t), timeZone);
  return new Date(t);
}

/** The calendar day after `date` (YYYY-MM-DD), independent of time zones. */
export function nextDate(date: string): string {
  const [y, mo, d] = date.split('-').map(Number);
  const n = new Date(Date.UTC(y, mo - 1, d + 1));
  return `${pad(n.getUTCFullYear(), 4)}-${pad(n.getUTCMonth() + 1)}-${pad(n.getUTCDate())}`;
}

/** Local "HH:mm" at `instant`. */
export function localTime(instant: Date, timeZone: string): string {
  const w = wallClock(instant, timeZone);
  return `${pad(w.hour)}:${pad(w.minute)}`;
}

/**
 * When work released at `now` is ready at a location: `processingHours` after release, where an order received
 * after the local cutoff is released at the next local day's opening (`openAt`, default 08:00).
 */
export function readyTime(now: Date, loc: { timeZone: string; cutoff: string; processingHours: number }, openAt = '08:00'): Date {
  const today = localDate(now, loc.timeZone);
  const cutoff = zonedTimeToUtc(today, loc.cutoff, loc.timeZone);
  let release = now;
  if (now.getTime() >= cutoff.getTime()) release = zonedTimeToUtc(nextDate(today), openAt, loc.timeZone);
  else {
    const open = zonedTimeToUtc(today, openAt, loc.timeZone);
    if (now.getTime() < open.getTime()) release = open;
  }
  return new Date(release.getTime() + loc.processingHours * 3_600_000);
}
