import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { authorize } from '../../identity/permissions/authorize';
import { paginateArray, type Pagination } from '../../../lib/pagination';
import { percentileSql, ratio } from '../../../lib/stats-sql';
import { resolveRange, type TimeRange } from '../../../lib/time-range';
import { daysBetween, executionsUnion, ownerClause, scopeOf, type Scope } from '../monitoring/sources';

/** llm_calls (alias c) in range and scope, optionally of one agent (which the caller must be able to read). */
async function callFilter(env: Env, user: AuthUser, s: Scope, range: { from: string; to: string }, agentId?: string, alias = '') {
  const clauses = [`${alias}created_at >= ?`, `${alias}created_at < ?`];
  const binds: unknown[] = [range.from, range.to];
  const o = ownerClause(s, `${alias}user_id`);
  if (agentId) {
    await authorize(env, user, 'agent', agentId, 'read');
    clauses.push(`${alias}agent_id = ?`);
    binds.push(agentId);
  }
  return { sql: `WHERE ${clauses.join(' AND ')}${o.sql}`, binds: [...binds, ...o.binds] };
}

const latency = (r: { avg: number | null; p50: number | null; p95: number | null } | undefined) => ({
  avg_latency_ms: r?.avg ?? null,
  p50_latency_ms: r?.p50 ?? null,
  p95_latency_ms: r?.p95 ?? null,
});

export async function overview(env: Env, user: AuthUser, q: TimeRange & { agent_id?: string }) {
  const s = await scopeOf(env, user);
  const range = resolveRange(q);
  const f = await callFilter(env, user, s, range, q.agent_id);
  const fbOwner = ownerClause(s, 'owner_id');
  const statements = [
    env.DB.prepare(
      percentileSql({
        from: 'llm_calls',
        where: f.sql,
        groups: {},
        value: 'latency_ms',
        select: `count(*) AS calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
          coalesce(sum(completion_tokens), 0) AS completion_tokens, avg(latency_ms) AS avg, count(DISTINCT agent_id) AS active_agents`,
      }),
    ).bind(...f.binds),
    env.DB.prepare(
      `SELECT coalesce(sum(sentiment = 'positive'), 0) AS positive, coalesce(sum(sentiment = 'negative'), 0) AS negative FROM feedback
       WHERE created_at >= ? AND created_at < ?${q.agent_id ? ' AND agent_id = ?' : ''}${fbOwner.sql}`,
    ).bind(range.from, range.to, ...(q.agent_id ? [q.agent_id] : []), ...fbOwner.binds),
  ];
  if (s.tables.has('tool_usage')) {
    statements.push(env.DB.prepare(`SELECT count(*) AS total, coalesce(sum(NOT ok), 0) AS failed FROM tool_usage ${f.sql}`).bind(...f.binds));
  }
  const [calls, fb, tools] = (await env.DB.batch<Record<string, number>>(statements)).map((r) => r.results[0]);
  const c = calls ?? ({} as Record<string, number>);
  const n = c.calls ?? 0;
  return {
    scope: s.scope,
    ...range,
    llm_calls: n,
    errors: c.errors ?? 0,
    error_rate: ratio(c.errors ?? 0, n),
    prompt_tokens: c.prompt_tokens ?? 0,
    completion_tokens: c.completion_tokens ?? 0,
    total_tokens: (c.prompt_tokens ?? 0) + (c.completion_tokens ?? 0),
    ...latency(calls as never),
    active_agents: c.active_agents ?? 0,
    tool_calls: tools ? { total: tools.total, failed: tools.failed } : null,
    feedback: { positive: fb.positive, negative: fb.negative, satisfaction: fb.positive + fb.negative ? fb.positive / (fb.positive + fb.negative) : null },
  };
}

export async function llmCallStats(env: Env, user: AuthUser, q: TimeRange & { agent_id?: string; provider?: string }) {
  const s = await scopeOf(env, user);
  const range = resolveRange(q);
  const f = await callFilter(env, user, s, range, q.agent_id);
  const where = q.provider ? `${f.sql} AND provider = ?` : f.sql;
  const binds = q.provider ? [...f.binds, q.provider] : f.binds;
  const { results } = await env.DB.prepare(
    percentileSql({
      from: 'llm_calls',
      where,
      groups: { provider: 'provider', model: 'model' },
      value: 'latency_ms',
      select: `count(*) AS calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
        coalesce(sum(completion_tokens), 0) AS completion_tokens, avg(latency_ms) AS avg`,
      orderBy: 'calls DESC, provider, model',
    }),
  )
    .bind(...binds)
    .all<{ provider: string; model: string; calls: number; errors: number; prompt_tokens: number; completion_tokens: number; avg: number; p50: number; p95: number }>();
  return {
    scope: s.scope,
    ...range,
    items: results.map((r) => ({
      provider: r.provider,
      model: r.model,
      calls: r.calls,
      errors: r.errors,
      error_rate: ratio(r.errors, r.calls),
      prompt_tokens: r.prompt_tokens,
      completion_tokens: r.completion_tokens,
      total_tokens: r.prompt_tokens + r.completion_tokens,
      ...latency(r),
    })),
  };
}

export async function agentStats(env: Env, user: AuthUser, q: TimeRange & Pagination) {
  const s = await scopeOf(env, user);
  const range = resolveRange(q);
  const f = await callFilter(env, user, s, range, undefined, '');
  const fbOwner = ownerClause(s, 'owner_id');
  const [calls, fb] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(
      `SELECT x.*, a.name FROM (${percentileSql({
        from: 'llm_calls',
        where: `${f.sql} AND agent_id IS NOT NULL`,
        groups: { agent_id: 'agent_id' },
        value: 'latency_ms',
        select: `count(*) AS calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens + completion_tokens), 0) AS total_tokens,
          avg(latency_ms) AS avg, max(created_at) AS last_call_at`,
      })}) x LEFT JOIN agents a ON a.id = x.agent_id ORDER BY x.calls DESC, x.agent_id`,
    ).bind(...f.binds),
    env.DB.prepare(
      `SELECT agent_id, coalesce(sum(sentiment = 'positive'), 0) AS positive, coalesce(sum(sentiment = 'negative'), 0) AS negative FROM feedback
       WHERE agent_id IS NOT NULL AND created_at >= ? AND created_at < ?${fbOwner.sql} GROUP BY agent_id`,
    ).bind(range.from, range.to, ...fbOwner.binds),
  ]);
  const feedbackBy = new Map((fb.results as Array<{ agent_id: string; positive: number; negative: number }>).map((r) => [r.agent_id, r]));
  const items = (calls.results as Array<{ agent_id: string; name: string | null; calls: number; errors: number; total_tokens: number; avg: number; p50: number; p95: number; last_call_at: string }>).map(
    (r) => ({
      agent_id: r.agent_id,
      name: r.name,
      calls: r.calls,
      errors: r.errors,
      error_rate: ratio(r.errors, r.calls),
      total_tokens: r.total_tokens,
      ...latency(r),
      last_call_at: r.last_call_at,
      feedback_positive: feedbackBy.get(r.agent_id)?.positive ?? 0,
      feedback_negative: feedbackBy.get(r.agent_id)?.negative ?? 0,
    }),
  );
  return paginateArray(items, q);
}

export async function toolUsage(env: Env, user: AuthUser, q: TimeRange & { agent_id?: string }) {
  const s = await scopeOf(env, user);
  const range = resolveRange(q);
  const f = await callFilter(env, user, s, range, q.agent_id);
  if (!s.tables.has('tool_usage')) return { scope: s.scope, ...range, available: false, items: [] };
  const { results } = await env.DB.prepare(
    percentileSql({
      from: 'tool_usage',
      where: f.sql,
      groups: { tool_name: 'tool_name', tool_type: 'tool_type' },
      value: 'duration_ms',
      select: 'count(*) AS calls, coalesce(sum(NOT ok), 0) AS failed, avg(duration_ms) AS avg_ms',
      orderBy: 'calls DESC, tool_name',
    }),
  )
    .bind(...f.binds)
    .all<{ tool_name: string; tool_type: string; calls: number; failed: number; avg_ms: number; p50: number; p95: number }>();
  return {
    scope: s.scope,
    ...range,
    available: true,
    items: results.map((r) => ({ tool_name: r.tool_name, tool_type: r.tool_type, calls: r.calls, failed: r.failed, error_rate: ratio(r.failed, r.calls), avg_ms: r.avg_ms, p50_ms: r.p50, p95_ms: r.p95 })),
  };
}

export async function dailyTrend(env: Env, user: AuthUser, q: { days: number; agent_id?: string }) {
  const s = await scopeOf(env, user);
  const todayStart = Date.parse(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
  const range = { from: new Date(todayStart - (q.days - 1) * 86_400_000).toISOString(), to: new Date(todayStart + 86_400_000).toISOString() };
  const f = await callFilter(env, user, s, range, q.agent_id);
  const ex = executionsUnion(s, range);
  const exWhere = q.agent_id ? 'WHERE agent_id = ?' : '';
  const statements = [
    env.DB.prepare(
      percentileSql({
        from: 'llm_calls',
        where: f.sql,
        groups: { date: 'substr(created_at, 1, 10)' },
        value: 'latency_ms',
        select: `count(*) AS llm_calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens + completion_tokens), 0) AS total_tokens, avg(latency_ms) AS avg`,
      }),
    ).bind(...f.binds),
    env.DB.prepare(`SELECT substr(created_at, 1, 10) AS date, count(*) AS n FROM ${ex.sql} ${exWhere} GROUP BY date`).bind(...ex.binds, ...(q.agent_id ? [q.agent_id] : [])),
  ];
  if (s.tables.has('tool_usage')) statements.push(env.DB.prepare(`SELECT substr(created_at, 1, 10) AS date, count(*) AS n FROM tool_usage ${f.sql} GROUP BY date`).bind(...f.binds));
  const [calls, runs, tools] = await env.DB.batch<Record<string, unknown>>(statements);
  const byDate = <T extends { date: string }>(rows: unknown[]) => new Map((rows as T[]).map((r) => [r.date, r]));
  const c = byDate<{ date: string; llm_calls: number; errors: number; total_tokens: number; avg: number; p95: number }>(calls.results);
  const r = byDate<{ date: string; n: number }>(runs.results);
  const t = tools ? byDate<{ date: string; n: number }>(tools.results) : null;
  return {
    scope: s.scope,
    days: q.days,
    items: daysBetween(range.from, range.to).map((date) => ({
      date,
      llm_calls: c.get(date)?.llm_calls ?? 0,
      errors: c.get(date)?.errors ?? 0,
      total_tokens: c.get(date)?.total_tokens ?? 0,
      avg_latency_ms: c.get(date)?.avg ?? null,
      p95_latency_ms: c.get(date)?.p95 ?? null,
      tool_calls: t ? (t.get(date)?.n ?? 0) : null,
      executions: r.get(date)?.n ?? 0,
    })),
  };
}
