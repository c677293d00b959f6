import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { hasPermission } from '../../identity/permissions/authorize';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { resolveRange, type TimeRange } from '../../../lib/time-range';

interface Filters extends TimeRange {
  user_id?: string;
  action?: string;
  resource_type?: string;
  resource_id?: string;
  outcome?: 'success' | 'failure';
}

/** Everyone's entries with audit_logs:read (admins), otherwise the caller's own. */
async function scopeOf(env: Env, user: AuthUser): Promise<'all' | 'own'> {
  return (await hasPermission(env, user, 'audit_logs:read')) ? 'all' : 'own';
}

function where(scope: 'all' | 'own', user: AuthUser, q: Filters, range: { from: string; to: string } | null) {
  const clauses: string[] = [];
  const binds: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    clauses.push(sql);
    binds.push(...values);
  };
  if (scope === 'own') add('l.user_id = ?', user.id);
  if (q.user_id) add('l.user_id = ?', q.user_id);
  if (q.action) add("(l.action = ? OR l.action LIKE ? || '.%')", q.action, q.action);
  if (q.resource_type) add('l.resource_type = ?', q.resource_type);
  if (q.resource_id) add('l.resource_id = ?', q.resource_id);
  if (q.outcome) add(q.outcome === 'success' ? 'l.status_code < 400' : 'l.status_code >= 400');
  if (range) add('l.created_at >= ? AND l.created_at < ?', range.from, range.to);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', binds };
}

export async function listAuditLogs(env: Env, user: AuthUser, q: Filters & Pagination) {
  const scope = await scopeOf(env, user);
  // A list without a range covers everything kept.
  const range = q.from || q.to || q.days ? resolveRange(q) : null;
  const w = where(scope, user, q, range);
  const { limit, offset } = pageBounds(q);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(
      `SELECT l.*, u.email AS user_email FROM audit_logs l LEFT JOIN users u ON u.id = l.user_id ${w.sql}
       ORDER BY l.created_at DESC, l.id LIMIT ? OFFSET ?`,
    ).bind(...w.binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM audit_logs l ${w.sql}`).bind(...w.binds),
  ]);
  return paginated(rows.results as never[], (count.results[0] as { n: number }).n, q);
}

export async function auditStats(env: Env, user: AuthUser, q: Filters) {
  const scope = await scopeOf(env, user);
  const range = resolveRange(q);
  const w = where(scope, user, q, range);
  const from = `FROM audit_logs l ${w.sql}`;
  const [totals, classes, actions, users, types, days] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT count(*) AS total, coalesce(sum(l.status_code >= 400), 0) AS failures ${from}`).bind(...w.binds),
    env.DB.prepare(`SELECT (l.status_code / 100) || 'xx' AS k, count(*) AS n ${from} GROUP BY k`).bind(...w.binds),
    env.DB.prepare(`SELECT l.action AS key, count(*) AS count ${from} GROUP BY l.action ORDER BY count DESC, key LIMIT 20`).bind(...w.binds),
    env.DB.prepare(
      `SELECT l.user_id AS key, u.email, count(*) AS count FROM audit_logs l LEFT JOIN users u ON u.id = l.user_id ${w.sql}
       GROUP BY l.user_id ORDER BY count DESC, key LIMIT 10`,
    ).bind(...w.binds),
    env.DB.prepare(`SELECT l.resource_type AS key, count(*) AS count ${from} GROUP BY l.resource_type ORDER BY count DESC, key LIMIT 20`).bind(...w.binds),
    env.DB.prepare(`SELECT substr(l.created_at, 1, 10) AS date, count(*) AS count, sum(l.status_code >= 400) AS failures ${from} GROUP BY date ORDER BY date`).bind(...w.binds),
  ]);
  const t = totals.results[0] as { total: number; failures: number };
  return {
    scope,
    ...range,
    total: t.total,
    failures: t.failures,
    failure_rate: t.total ? t.failures / t.total : 0,
    by_status_class: Object.fromEntries((classes.results as Array<{ k: string; n: number }>).map((r) => [r.k, r.n])),
    by_action: actions.results as Array<{ key: string; count: number }>,
    by_user: users.results as Array<{ key: string | null; email: string | null; count: number }>,
    by_resource_type: types.results as Array<{ key: string | null; count: number }>,
    by_day: days.results as Array<{ date: string; count: number; failures: number }>,
  };
}
