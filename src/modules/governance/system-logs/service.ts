import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { requirePermission } from '../../identity/permissions/authorize';
import { likeContains } from '../../../lib/d1';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { percentileSql, ratio } from '../../../lib/stats-sql';
import { resolveRange, type TimeRange } from '../../../lib/time-range';

interface Filters extends TimeRange {
  category?: 'request' | 'error' | 'job' | 'app';
  level?: string;
  source?: string;
  user_id?: string;
  request_id?: string;
  search?: string;
  path?: string;
  status_code?: number;
}

interface LogRow {
  data: string | null;
  [key: string]: unknown;
}

function where(q: Filters, range: { from: string; to: string } | null, categories?: string[]) {
  const clauses: string[] = [];
  const binds: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    clauses.push(sql);
    binds.push(...values);
  };
  if (q.category) add('category = ?', q.category);
  else if (categories) add(`category IN (${categories.map(() => '?').join(', ')})`, ...categories);
  if (q.level) add('level = ?', q.level);
  if (q.source) add('source = ?', q.source);
  if (q.user_id) add('user_id = ?', q.user_id);
  if (q.request_id) add('request_id = ?', q.request_id);
  if (q.search) add("message LIKE ? ESCAPE '\\'", likeContains(q.search));
  if (q.path) add("path LIKE ? ESCAPE '\\'", q.path.replace(/[\\%_]/g, (c) => '\\' + c) + '%');
  if (q.status_code) add('status_code = ?', q.status_code);
  if (range) add('created_at >= ? AND created_at < ?', range.from, range.to);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', binds };
}

async function list(env: Env, q: Filters & Pagination, categories?: string[]) {
  const range = q.from || q.to || q.days ? resolveRange(q) : null;
  const w = where(q, range, categories);
  const { limit, offset } = pageBounds(q);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT * FROM system_logs ${w.sql} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`).bind(...w.binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM system_logs ${w.sql}`).bind(...w.binds),
  ]);
  const items = (rows.results as LogRow[]).map((r) => ({ ...r, data: r.data ? JSON.parse(r.data) : null }));
  return paginated(items as never[], (count.results[0] as { n: number }).n, q);
}

/** The unified log (all categories); system_logs:read. */
export async function listSystemLogs(env: Env, user: AuthUser, q: Filters & Pagination) {
  await requirePermission(env, user, 'system_logs:read');
  return list(env, q);
}

/** The application's own lines: errors, background jobs and app messages (no request lines). */
export async function listApplicationLogs(env: Env, user: AuthUser, q: Filters & Pagination) {
  await requirePermission(env, user, 'system_logs:read');
  return list(env, q, ['error', 'job', 'app']);
}

export async function systemLogStats(env: Env, user: AuthUser, q: TimeRange) {
  await requirePermission(env, user, 'system_logs:read');
  const range = resolveRange(q, 1);
  const inRange = 'created_at >= ? AND created_at < ?';
  const rb = [range.from, range.to];
  const requests = `WHERE category = 'request' AND ${inRange}`;
  const [cats, levels, overall, paths, jobs, hours] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT category AS k, count(*) AS n FROM system_logs WHERE ${inRange} GROUP BY category`).bind(...rb),
    env.DB.prepare(`SELECT level AS k, count(*) AS n FROM system_logs WHERE ${inRange} GROUP BY level`).bind(...rb),
    env.DB.prepare(
      percentileSql({
        from: 'system_logs',
        where: requests,
        groups: {},
        value: 'duration_ms',
        select: `coalesce(sum(weight), 0) AS count, coalesce(sum(CASE WHEN status_code >= 500 THEN weight END), 0) AS server_errors,
          coalesce(sum(CASE WHEN status_code BETWEEN 400 AND 499 THEN weight END), 0) AS client_errors,
          sum(duration_ms * weight) / sum(weight) AS avg_ms`,
      }),
    ).bind(...rb),
    env.DB.prepare(
      percentileSql({
        from: 'system_logs',
        where: requests,
        groups: { path: 'path' },
        value: 'duration_ms',
        select: 'sum(weight) AS count, coalesce(sum(CASE WHEN status_code >= 500 THEN weight END), 0) AS errors',
        orderBy: 'count DESC, path',
        limit: 10,
      }),
    ).bind(...rb),
    env.DB.prepare(`SELECT count(*) AS runs, coalesce(sum(level = 'error'), 0) AS failures FROM system_logs WHERE category = 'job' AND ${inRange}`).bind(...rb),
    env.DB.prepare(
      `SELECT substr(created_at, 1, 13) || ':00:00Z' AS hour, sum(weight) AS requests, coalesce(sum(CASE WHEN status_code >= 500 THEN weight END), 0) AS errors
       FROM system_logs ${requests} GROUP BY substr(created_at, 1, 13) ORDER BY hour`,
    ).bind(...rb),
  ]);
  const o = overall.results[0] as { count: number; server_errors: number; client_errors: number; avg_ms: number | null; p50: number | null; p95: number | null };
  return {
    ...range,
    by_category: Object.fromEntries((cats.results as Array<{ k: string; n: number }>).map((r) => [r.k, r.n])),
    by_level: Object.fromEntries((levels.results as Array<{ k: string; n: number }>).map((r) => [r.k, r.n])),
    requests: {
      count: o?.count ?? 0,
      server_errors: o?.server_errors ?? 0,
      client_errors: o?.client_errors ?? 0,
      error_rate: ratio(o?.server_errors ?? 0, o?.count ?? 0),
      avg_ms: o?.avg_ms ?? null,
      p50_ms: o?.p50 ?? null,
      p95_ms: o?.p95 ?? null,
    },
    top_paths: (paths.results as Array<{ path: string; count: number; errors: number; p50: number | null; p95: number | null }>).map((p) => ({
      path: p.path,
      count: p.count,
      errors: p.errors,
      p50_ms: p.p50,
      p95_ms: p.p95,
    })),
    jobs: jobs.results[0] as { runs: number; failures: number },
    by_hour: hours.results as Array<{ hour: string; requests: number; errors: number }>,
  };
}
