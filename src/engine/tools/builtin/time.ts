import { Cron } from 'croner';
import { int, num, obj, str, tool, toolInputError } from '../define';

const category = 'time';

function checkZone(timeZone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw toolInputError(`Unknown time zone ${timeZone}`);
  }
}

/** Wall-clock parts of an instant in a time zone. */
function zoned(date: Date, timeZone: string) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'long',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const local = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  const offsetMin = Math.round((Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second) - Math.floor(date.getTime() / 1000) * 1000) / 60000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return { local, offset, offsetMin, weekday: parts.weekday as string, date: local.slice(0, 10), time: local.slice(11) };
}

function describeInstant(date: Date, timeZone: string) {
  const z = zoned(date, timeZone);
  return {
    iso: date.toISOString(),
    timezone: timeZone,
    local: z.local.replace('T', ' '),
    local_iso: `${z.local}${z.offset}`,
    date: z.date,
    time: z.time,
    weekday: z.weekday,
    utc_offset: z.offset,
    unix: Math.floor(date.getTime() / 1000),
  };
}

const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/i;

/** Parses an instant; a time without an offset is wall-clock time in `timeZone`. */
export function parseInstant(text: string, timeZone = 'UTC'): Date {
  const s = text.trim().replace(' ', 'T');
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return new Date(n > 1e11 ? n : n * 1000);
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$/.exec(s);
  if (m && !HAS_ZONE.test(s)) {
    const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '0'] = m;
    const guess = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec, Number(frac.slice(0, 3).padEnd(3, '0')));
    // The zone's offset at the guess, then once more at the corrected instant (DST edges).
    let utc = guess - zoned(new Date(guess), timeZone).offsetMin * 60000;
    utc = guess - zoned(new Date(utc), timeZone).offsetMin * 60000;
    return new Date(utc);
  }
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw toolInputError(`Cannot read "${text}" as a date/time (use ISO 8601, e.g. 2026-05-01T09:30:00+08:00)`);
  return d;
}

export const currentTime = tool<{ timezone?: string }>({
  name: 'current_time',
  category,
  description: 'The current date and time in a time zone (IANA name such as Asia/Shanghai), with weekday, UTC offset and Unix time.',
  description_zh: '获取指定时区(如 Asia/Shanghai)的当前日期和时间,含星期、UTC 偏移和 Unix 时间戳。',
  parameters: obj({ timezone: str('IANA time zone', { default: 'UTC' }) }),
  execute({ timezone = 'UTC' }) {
    return describeInstant(new Date(), checkZone(timezone));
  },
});

export const timezoneConvert = tool<{ time: string; from_timezone?: string; to_timezone: string }>({
  name: 'timezone_convert',
  category,
  description: 'Convert a date/time from one time zone to another (a time without an offset is read in from_timezone).',
  description_zh: '时区转换:把某一时区的日期时间转换为另一时区(不带偏移的时间按 from_timezone 理解)。',
  parameters: obj(
    {
      time: str('ISO 8601 date/time, "2026-05-01 09:30" or a Unix timestamp'),
      from_timezone: str('Zone of a time without offset', { default: 'UTC' }),
      to_timezone: str('Target IANA time zone'),
    },
    ['time', 'to_timezone'],
  ),
  execute({ time, from_timezone = 'UTC', to_timezone }) {
    const from = checkZone(from_timezone);
    const to = checkZone(to_timezone);
    const instant = parseInstant(time, from);
    return { from: describeInstant(instant, from), to: describeInstant(instant, to) };
  },
});

const UNIT_MS: Record<string, number> = { weeks: 604800000, days: 86400000, hours: 3600000, minutes: 60000, seconds: 1000, milliseconds: 1 };

export const dateAdd = tool<{ date: string; years?: number; months?: number; weeks?: number; days?: number; hours?: number; minutes?: number; seconds?: number; timezone?: string }>({
  name: 'date_add',
  category,
  description: 'Add or subtract years, months, weeks, days, hours, minutes and seconds to a date (negative amounts go back; month ends are clamped, e.g. Jan 31 + 1 month = Feb 28/29).',
  description_zh: '日期加减:对日期加上或减去年、月、周、日、时、分、秒(负数表示往前;月末自动对齐,如 1 月 31 日加一个月为 2 月 28/29 日)。',
  parameters: obj(
    {
      date: str('Start date/time (ISO 8601); "now" for the current time'),
      years: int('Years'),
      months: int('Months'),
      weeks: num('Weeks'),
      days: num('Days'),
      hours: num('Hours'),
      minutes: num('Minutes'),
      seconds: num('Seconds'),
      timezone: str('Zone for calendar arithmetic and for a date without offset', { default: 'UTC' }),
    },
    ['date'],
  ),
  execute({ date, years = 0, months = 0, timezone = 'UTC', ...rest }) {
    const zone = checkZone(timezone);
    const start = date.trim().toLowerCase() === 'now' ? new Date() : parseInstant(date, zone);
    // Calendar units move the wall-clock date in the zone; fixed units then move the instant.
    const z = zoned(start, zone);
    const [y, mo, d] = z.date.split('-').map(Number);
    const totalMonths = y * 12 + (mo - 1) + years * 12 + months;
    const ny = Math.floor(totalMonths / 12);
    const nm = totalMonths - ny * 12;
    const lastDay = new Date(Date.UTC(ny, nm + 1, 0)).getUTCDate();
    const wall = `${String(ny).padStart(4, '0')}-${String(nm + 1).padStart(2, '0')}-${String(Math.min(d, lastDay)).padStart(2, '0')}T${z.time}.${String(start.getUTCMilliseconds()).padStart(3, '0')}`;
    let t = years || months ? parseInstant(wall, zone).getTime() : start.getTime();
    for (const [k, v] of Object.entries(rest)) if (typeof v === 'number' && UNIT_MS[k]) t += v * UNIT_MS[k];
    return { start: start.toISOString(), result: describeInstant(new Date(t), zone) };
  },
});

export const dateDiff = tool<{ start: string; end: string; timezone?: string }>({
  name: 'date_diff',
  category,
  description: 'The time between two dates: total days, hours, minutes, seconds, and a calendar breakdown in years, months and days.',
  description_zh: '计算两个日期之间的间隔:总天数、小时、分钟、秒数,以及按年、月、日的拆分。',
  parameters: obj({ start: str('Start date/time (ISO 8601)'), end: str('End date/time'), timezone: str('Zone of dates without offset', { default: 'UTC' }) }, ['start', 'end']),
  execute({ start, end, timezone = 'UTC' }) {
    const zone = checkZone(timezone);
    const a = parseInstant(start, zone);
    const b = parseInstant(end, zone);
    const ms = b.getTime() - a.getTime();
    const sign = ms < 0 ? -1 : 1;
    const [from, to] = sign < 0 ? [b, a] : [a, b];
    const [fy, fm, fd] = zoned(from, zone).date.split('-').map(Number);
    const [ty, tm, td] = zoned(to, zone).date.split('-').map(Number);
    let months = (ty - fy) * 12 + (tm - fm);
    let days = td - fd;
    if (days < 0) {
      months -= 1;
      days += new Date(Date.UTC(ty, tm - 1, 0)).getUTCDate();
    }
    return {
      milliseconds: ms,
      seconds: ms / 1000,
      minutes: ms / 60000,
      hours: ms / 3600000,
      days: ms / 86400000,
      weeks: ms / 604800000,
      calendar: { sign, years: Math.floor(months / 12), months: months % 12, days },
    };
  },
});

export const cronNextRuns = tool<{ expression: string; count?: number; timezone?: string; from?: string }>({
  name: 'cron_next_runs',
  category,
  description: 'The next run times of a cron expression (5 or 6 fields, e.g. "0 9 * * 1-5" = 09:00 on weekdays) in a time zone.',
  description_zh: '计算 cron 表达式(5 或 6 个字段,如 "0 9 * * 1-5" 表示工作日 9 点)在指定时区的后续执行时间。',
  parameters: obj(
    {
      expression: str('Cron expression', { minLength: 1, maxLength: 200 }),
      count: int('How many runs', { minimum: 1, maximum: 50, default: 5 }),
      timezone: str('IANA time zone', { default: 'UTC' }),
      from: str('Start from this time instead of now (ISO 8601)'),
    },
    ['expression'],
  ),
  execute({ expression, count = 5, timezone = 'UTC', from }) {
    const zone = checkZone(timezone);
    let job: Cron;
    try {
      job = new Cron(expression, { timezone: zone, paused: true });
    } catch (e) {
      throw toolInputError(`Invalid cron expression "${expression}": ${e instanceof Error ? e.message : String(e)}`);
    }
    const start = from ? parseInstant(from, zone) : new Date();
    const runs = job.nextRuns(count, start);
    job.stop();
    return { expression, timezone: zone, runs: runs.map((d) => describeInstant(d, zone)) };
  },
});

export const timestampConvert = tool<{ value: string | number; timezone?: string }>({
  name: 'timestamp_convert',
  category,
  description: 'Convert between Unix timestamps (seconds or milliseconds) and ISO 8601 date/times.',
  description_zh: 'Unix 时间戳(秒或毫秒)与 ISO 8601 日期时间互相转换。',
  parameters: obj({ value: { type: ['string', 'number'], description: 'A Unix timestamp or an ISO 8601 date/time' }, timezone: str('Zone for the local rendering', { default: 'UTC' }) }, ['value']),
  execute({ value, timezone = 'UTC' }) {
    const zone = checkZone(timezone);
    const d = parseInstant(String(value), zone);
    return { ...describeInstant(d, zone), unix_ms: d.getTime() };
  },
});

export const timeTools = [currentTime, timezoneConvert, dateAdd, dateDiff, cronNextRuns, timestampConvert];
