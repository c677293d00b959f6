import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { requirePermission } from '../../identity/permissions/authorize';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { ratio } from '../../../lib/stats-sql';
import { resolveRange, type TimeRange } from '../../../lib/time-range';
import * as store from './store';
import type { SystemLogFilter, SystemLogRow } from './store';

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

function filter(q: Filters, range: { from: string; to: string } | null, categories?: SystemLogFilter['categories']): SystemLogFilter {
  return {
    category: q.category,
    categories,
    level: q.level,
    source: q.source,
    userId: q.user_id,
    requestId: q.request_id,
    search: q.search,
    pathPrefix: q.path,
    statusCode: q.status_code,
    range,
  };
}

/** A line as the API shows it (snake_case, data parsed). */
const toSystemLog = (r: SystemLogRow) => ({
  id: r.id,
  category: r.category,
  level: r.level,
  source: r.source,
  message: r.message,
  request_id: r.requestId,
  user_id: r.userId,
  method: r.method,
  path: r.path,
  status_code: r.statusCode,
  duration_ms: r.durationMs,
  weight: r.weight,
  data: r.data ? JSON.parse(r.data) : null,
  created_at: r.createdAt,
});

async function list(env: Env, q: Filters & Pagination, categories?: SystemLogFilter['categories']) {
  const range = q.from || q.to || q.days ? resolveRange(q) : null;
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listSystemLogs(env.DB, filter(q, range, categories), limit, offset);
  return paginated(rows.map(toSystemLog), total, q);
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
  const { cats, levels, overall, paths, jobs, hours } = await store.systemLogStats(env.DB, range);
  const o = overall;
  return {
    ...range,
    by_category: Object.fromEntries(cats.map((r) => [r.k, r.n])),
    by_level: Object.fromEntries(levels.map((r) => [r.k, r.n])),
    requests: {
      count: o?.count ?? 0,
      server_errors: o?.server_errors ?? 0,
      client_errors: o?.client_errors ?? 0,
      error_rate: ratio(o?.server_errors ?? 0, o?.count ?? 0),
      avg_ms: o?.avg_ms ?? null,
      p50_ms: o?.p50 ?? null,
      p95_ms: o?.p95 ?? null,
    },
    top_paths: paths.map((p) => ({
      path: p.path,
      count: p.count,
      errors: p.errors,
      p50_ms: p.p50,
      p95_ms: p.p95,
    })),
    jobs,
    by_hour: hours,
  };
}
