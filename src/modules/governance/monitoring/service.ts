import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { percentileSql, ratio } from '../../../lib/stats-sql';
import { resolveRange, type TimeRange } from '../../../lib/time-range';
import { daysBetween, executionsUnion, ownerClause, scopeOf, startOfTodayUtc, type ExecutionKind } from './sources';

const num = (v: unknown) => (typeof v === 'number' ? v : 0);

export async function overview(env: Env, user: AuthUser, q: TimeRange) {
  const s = await scopeOf(env, user);
  const range = resolveRange(q);
  const ex = executionsUnion(s, range);
  const today = startOfTodayUtc();
  const own = s.scope === 'own';
  const ownAgents = ownerClause(s, 'owner_id');
  const ownCalls = ownerClause(s, 'user_id');
  const statements = [
    env.DB.prepare(own ? 'SELECT 1 AS total' : "SELECT count(*) AS total FROM users WHERE status = 'active'"),
    env.DB.prepare(
      own
        ? `SELECT (EXISTS (SELECT 1 FROM audit_logs WHERE user_id = ?1 AND created_at >= ?2 AND created_at < ?3)
             OR EXISTS (SELECT 1 FROM llm_calls WHERE user_id = ?1 AND created_at >= ?2 AND created_at < ?3)) AS active`
        : `SELECT count(*) AS active FROM (SELECT user_id FROM audit_logs WHERE created_at >= ?2 AND created_at < ?3 AND user_id IS NOT NULL
             UNION SELECT user_id FROM llm_calls WHERE created_at >= ?2 AND created_at < ?3) WHERE ?1 IS NOT NULL`,
    ).bind(user.id, range.from, range.to),
    env.DB.prepare(`SELECT count(*) AS total, coalesce(sum(status = 'deployed'), 0) AS deployed FROM agents WHERE 1 = 1${ownAgents.sql}`).bind(...ownAgents.binds),
    env.DB.prepare(
      `SELECT count(*) AS total, coalesce(sum(created_at >= ?), 0) AS today, coalesce(sum(status = 'succeeded'), 0) AS succeeded,
         coalesce(sum(status = 'failed'), 0) AS failed, coalesce(sum(status = 'running'), 0) AS running, avg(duration_ms) AS avg_duration_ms FROM ${ex.sql}`,
    ).bind(today, ...ex.binds),
    env.DB.prepare(
      `SELECT count(*) AS calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
         coalesce(sum(completion_tokens), 0) AS completion_tokens FROM llm_calls WHERE created_at >= ? AND created_at < ?${ownCalls.sql}`,
    ).bind(range.from, range.to, ...ownCalls.binds),
  ];
  if (s.tables.has('workflows')) statements.push(env.DB.prepare(`SELECT count(*) AS total FROM workflows WHERE 1 = 1${ownAgents.sql}`).bind(...ownAgents.binds));
  const [users, active, agents, runs, llm, workflows] = (await env.DB.batch<Record<string, number>>(statements)).map((r) => r.results[0]);
  return {
    scope: s.scope,
    ...range,
    users: { total: num(users.total), active: num(active.active) },
    agents: { total: num(agents.total), deployed: num(agents.deployed) },
    workflows: workflows ? { total: num(workflows.total) } : null,
    executions: {
      sources: ex.kinds,
      total: num(runs.total),
      today: num(runs.today),
      succeeded: num(runs.succeeded),
      failed: num(runs.failed),
      running: num(runs.running),
      success_rate: runs.succeeded + runs.failed ? runs.succeeded / (runs.succeeded + runs.failed) : null,
      avg_duration_ms: runs.avg_duration_ms ?? null,
    },
    llm: {
      calls: num(llm.calls),
      errors: num(llm.errors),
      prompt_tokens: num(llm.prompt_tokens),
      completion_tokens: num(llm.completion_tokens),
      total_tokens: num(llm.prompt_tokens) + num(llm.completion_tokens),
    },
  };
}

export async function executionStats(env: Env, user: AuthUser, q: TimeRange & { kind?: ExecutionKind }) {
  const s = await scopeOf(env, user);
  const range = resolveRange(q);
  const ex = executionsUnion(s, range, q.kind ? [q.kind] : undefined);
  if (!ex.kinds.length) {
    return { scope: s.scope, ...range, sources: [], total: 0, by_status: {}, by_kind: [], duration: { avg_ms: null, p50_ms: null, p95_ms: null }, by_day: [] };
  }
  const [statuses, kinds, duration, days] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT status AS k, count(*) AS n FROM ${ex.sql} GROUP BY status`).bind(...ex.binds),
    env.DB.prepare(
      `SELECT kind, count(*) AS total, coalesce(sum(status = 'succeeded'), 0) AS succeeded, coalesce(sum(status = 'failed'), 0) AS failed FROM ${ex.sql} GROUP BY kind ORDER BY kind`,
    ).bind(...ex.binds),
    env.DB.prepare(percentileSql({ from: ex.sql, where: '', groups: {}, value: 'duration_ms', select: 'avg(duration_ms) AS avg_ms' })).bind(...ex.binds),
    env.DB.prepare(
      `SELECT substr(created_at, 1, 10) AS date, count(*) AS total, coalesce(sum(status = 'succeeded'), 0) AS succeeded,
         coalesce(sum(status = 'failed'), 0) AS failed, avg(duration_ms) AS avg_duration_ms FROM ${ex.sql} GROUP BY date ORDER BY date`,
    ).bind(...ex.binds),
  ]);
  const byStatus = Object.fromEntries((statuses.results as Array<{ k: string; n: number }>).map((r) => [r.k, r.n]));
  const d = duration.results[0] as { avg_ms: number | null; p50: number | null; p95: number | null } | undefined;
  const perDay = new Map((days.results as Array<{ date: string; total: number; succeeded: number; failed: number; avg_duration_ms: number | null }>).map((r) => [r.date, r]));
  return {
    scope: s.scope,
    ...range,
    sources: ex.kinds,
    total: Object.values(byStatus).reduce((a, b) => a + b, 0),
    by_status: byStatus,
    by_kind: kinds.results as Array<{ kind: string; total: number; succeeded: number; failed: number }>,
    duration: { avg_ms: d?.avg_ms ?? null, p50_ms: d?.p50 ?? null, p95_ms: d?.p95 ?? null },
    by_day: daysBetween(range.from, range.to).map((date) => perDay.get(date) ?? { date, total: 0, succeeded: 0, failed: 0, avg_duration_ms: null }),
  };
}

export async function nodeTypeStats(env: Env, user: AuthUser, q: TimeRange) {
  const s = await scopeOf(env, user);
  const range = resolveRange(q);
  if (!s.tables.has('execution_nodes') || !s.tables.has('executions')) return { scope: s.scope, ...range, available: false, items: [] };
  const o = ownerClause(s, 'e.owner_id');
  const { results } = await env.DB.prepare(
    percentileSql({
      from: '(SELECT n.node_type, n.status, n.duration_ms, n.total_tokens FROM execution_nodes n JOIN executions e ON e.id = n.execution_id WHERE e.created_at >= ? AND e.created_at < ?' + o.sql + ')',
      where: '',
      groups: { node_type: 'node_type' },
      value: 'duration_ms',
      select: "count(*) AS runs, coalesce(sum(status = 'failed'), 0) AS failed, avg(duration_ms) AS avg_ms, coalesce(sum(total_tokens), 0) AS tokens",
      orderBy: 'runs DESC, node_type',
    }),
  )
    .bind(range.from, range.to, ...o.binds)
    .all<{ node_type: string; runs: number; failed: number; avg_ms: number | null; tokens: number; p50: number | null; p95: number | null }>();
  return {
    scope: s.scope,
    ...range,
    available: true,
    items: results.map((r) => ({ node_type: r.node_type, runs: r.runs, failed: r.failed, error_rate: ratio(r.failed, r.runs), avg_ms: r.avg_ms, p50_ms: r.p50, p95_ms: r.p95, tokens: r.tokens })),
  };
}

/** Recent activity: the audit trail of state changes in scope, newest first. */
export async function activities(env: Env, user: AuthUser, q: TimeRange & Pagination) {
  const s = await scopeOf(env, user);
  const range = q.from || q.to || q.days ? resolveRange(q) : null;
  const clauses: string[] = ['l.status_code < 400'];
  const binds: unknown[] = [];
  if (s.scope === 'own') {
    clauses.push('l.user_id = ?');
    binds.push(user.id);
  }
  if (range) {
    clauses.push('l.created_at >= ? AND l.created_at < ?');
    binds.push(range.from, range.to);
  }
  const where = `WHERE ${clauses.join(' AND ')}`;
  const { limit, offset } = pageBounds(q);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(
      `SELECT l.id, l.user_id, u.email AS user_email, l.action, l.resource_type, l.resource_id, l.status_code, l.created_at
         FROM audit_logs l LEFT JOIN users u ON u.id = l.user_id ${where} ORDER BY l.created_at DESC, l.id LIMIT ? OFFSET ?`,
    ).bind(...binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM audit_logs l ${where}`).bind(...binds),
  ]);
  return paginated(rows.results as never[], (count.results[0] as { n: number }).n, q);
}
