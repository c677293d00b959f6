import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { hasPermission } from '../../identity/permissions/authorize';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { resolveRange, type TimeRange } from '../../../lib/time-range';
import * as store from './store';
import type { AuditFilter, ListedAuditLog } from './store';

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

function filter(scope: 'all' | 'own', user: AuthUser, q: Filters, range: { from: string; to: string } | null): AuditFilter {
  return {
    ownerId: scope === 'own' ? user.id : undefined,
    userId: q.user_id,
    action: q.action,
    resourceType: q.resource_type,
    resourceId: q.resource_id,
    outcome: q.outcome,
    range,
  };
}

/** An entry as the API shows it (snake_case). */
export const toAuditLog = (r: ListedAuditLog) => ({
  id: r.id,
  user_id: r.userId,
  action: r.action,
  method: r.method,
  path: r.path,
  resource_type: r.resourceType,
  resource_id: r.resourceId,
  status_code: r.statusCode,
  ip: r.ip,
  user_agent: r.userAgent,
  request_id: r.requestId,
  duration_ms: r.durationMs,
  created_at: r.createdAt,
  user_email: r.userEmail,
});

export async function listAuditLogs(env: Env, user: AuthUser, q: Filters & Pagination) {
  const scope = await scopeOf(env, user);
  // A list without a range covers everything kept.
  const range = q.from || q.to || q.days ? resolveRange(q) : null;
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listAuditLogs(env.DB, filter(scope, user, q, range), limit, offset);
  return paginated(rows.map(toAuditLog), total, q);
}

export async function auditStats(env: Env, user: AuthUser, q: Filters) {
  const scope = await scopeOf(env, user);
  const range = resolveRange(q);
  const { totals, classes, actions, users, types, days } = await store.auditStats(env.DB, filter(scope, user, q, range));
  const t = totals;
  return {
    scope,
    ...range,
    total: t.total,
    failures: t.failures,
    failure_rate: t.total ? t.failures / t.total : 0,
    by_status_class: Object.fromEntries(classes.map((r) => [r.k, r.n])),
    by_action: actions,
    by_user: users,
    by_resource_type: types,
    by_day: days,
  };
}
