// Business dates and intraday suffixes from an instant and a time zone. Pure and free of Node APIs: workflows use it.

/** Parts of an instant on the wall clock of `timeZone`. */
function wallClock(at: Date, timeZone: string): { date: string; time: string } {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '00';
  return { date: `${get('year')}-${get('month')}-${get('day')}`, time: `${get('hour')}${get('minute')}${get('second')}` };
}

/** yyyy-MM-dd of `at` in `timeZone`. */
export function localDate(at: Date, timeZone: string): string {
  return wallClock(at, timeZone).date;
}

/** HHmmss of `at` in `timeZone`: the suffix of an intraday delta started then. */
export function localTimeSuffix(at: Date, timeZone: string): string {
  return wallClock(at, timeZone).time;
}

/** Calendar arithmetic on a yyyy-MM-dd date (no time zone involved). */
export function addDays(isoDate: string, days: number): string {
  const [y, m, d] = isoDate.split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d! + days)).toISOString().slice(0, 10);
}

/**
 * The business date a nightly run distributes: the local date of its scheduled time, minus `lagDays` (1 by default:
 * the 01:00 run sends the day that just ended). A caught-up run uses its scheduled time, not the time it ran.
 */
export function scheduledBusinessDate(scheduledAt: Date, timeZone: string, lagDays: number): string {
  return addDays(localDate(scheduledAt, timeZone), -lagDays);
}

/** Accepts `2025-06-21` or `20250621`; null unless it is a real calendar date. */
export function parseBusinessDate(text: string): string | null {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  const back = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(back.getTime()) && back.toISOString().slice(0, 10) === iso ? iso : null;
}
