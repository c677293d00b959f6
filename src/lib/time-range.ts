import { z } from '@hono/zod-openapi';
import { validationError } from './errors';

/**
 * `?from=&to=` (ISO 8601) or `?days=N` (the last N days up to now), shared by the log and
 * monitoring endpoints. Default: the last 7 days.
 */
export const TimeRangeQuery = z.object({
  from: z.string().datetime({ offset: true }).optional().meta({ description: 'Start (inclusive), ISO 8601', example: '2026-01-01T00:00:00Z' }),
  to: z.string().datetime({ offset: true }).optional().meta({ description: 'End (exclusive), ISO 8601; default now' }),
  days: z.coerce.number().int().min(1).max(366).optional().meta({ description: 'The last N days (ignored when from is given); default 7' }),
});
export type TimeRange = z.infer<typeof TimeRangeQuery>;

const DAY_MS = 86_400_000;

/** Both ends as ISO strings comparable with stored `created_at` values; 422 for an empty range. */
export function resolveRange(q: TimeRange, defaultDays = 7): { from: string; to: string } {
  const to = q.to ? new Date(q.to) : new Date();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - (q.days ?? defaultDays) * DAY_MS);
  if (from.getTime() >= to.getTime()) throw validationError('query.from: must be before query.to');
  return { from: from.toISOString(), to: to.toISOString() };
}

/** The ISO time `minutes` ago. */
export const minutesAgo = (minutes: number, now = Date.now()) => new Date(now - minutes * 60_000).toISOString();

/**
 * The oldest time a retention setting keeps: now minus `days` (a setting's text: a positive
 * number of days, else `fallbackDays`), as an ISO timestamp to compare stored times with.
 */
export function retentionCutoff(days: string | undefined, fallbackDays: number, now = Date.now()): string {
  const n = Number(days);
  return new Date(now - (Number.isFinite(n) && n > 0 ? n : fallbackDays) * 86_400_000).toISOString();
}
