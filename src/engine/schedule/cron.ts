import { Cron } from 'croner';

/**
 * Cron expressions of agent schedules: the classic 5 fields (minute hour day-of-month month
 * day-of-week) with ranges, steps and lists, read in an IANA timezone. Parsing and the
 * next-occurrence search are croner's (Intl-based timezones, DST aware).
 */

/** True when `tz` is an IANA timezone this runtime knows (Intl). */
export function isValidTimezone(tz: string): boolean {
  if (!tz || tz.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Why `expr` is not a 5-field cron expression, or null when it is. */
export function cronProblem(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 || !fields[0]) return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields[0] ? fields.length : 0}`;
  try {
    new Cron(expr.trim(), { mode: '5-part', paused: true, timezone: 'UTC' });
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** The first occurrence of `expr` in `timezone` strictly after `after`, or null when there is none. */
export function nextOccurrence(expr: string, timezone: string, after: Date | number): Date | null {
  const job = new Cron(expr.trim(), { mode: '5-part', paused: true, timezone });
  return job.nextRun(new Date(typeof after === 'number' ? after : after.getTime()));
}
