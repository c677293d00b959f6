import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { ratio } from '../../../lib/stats-sql';
import { resolveRange, type TimeRange } from '../../../lib/time-range';
import { sql } from 'drizzle-orm';
import { db } from '../../../db/client';
import { countAgents } from '../../agents/agents/store';
import { llmCallTotals } from '../../agents/model-configs/store';
import { countActiveUsers } from '../../identity/auth/store';
import { nodeTypeStats as nodeTypeRows } from '../../workflows/executions/store';
import { countWorkflows } from '../../workflows/workflows/store';
import { listActivities } from '../audit-logs/store';
import { daysBetween, ownerOf, scopeOf, startOfTodayUtc } from './sources';
import { type ExecutionKind } from './store';
import * as store from './store';

const num = (v: unknown) => (typeof v === 'number' ? v : 0);

export async function overview(env: Env, user: AuthUser, q: TimeRange) {
  const s = await scopeOf(env, user);
  const range = resolveRange(q);
  const owner = ownerOf(s);
  const ex = store.runsUnion(range, owner);
  const d = db(env.DB);
  const [usersRows, activeRows, agentRows, runRows, llmRows, workflowRows] = await d.batch([
    owner ? d.all<{ total: number }>(sql`SELECT 1 AS total`) : countActiveUsers(env.DB),
    store.activeUsers(env.DB, range, owner),
    countAgents(env.DB, owner),
    store.runTotals(env.DB, ex.from, startOfTodayUtc()),
    llmCallTotals(env.DB, { range, userId: owner }),
    countWorkflows(env.DB, owner),
  ]);
  const [users, active, agents, runs, llm, workflows] = [usersRows[0], activeRows[0], agentRows[0], runRows[0], llmRows[0], workflowRows[0]];
  return {
    scope: s.scope,
    ...range,
    users: { total: num(users.total), active: num(active.active) },
    agents: { total: num(agents.total), deployed: num(agents.deployed) },
    workflows: { total: num(workflows.total) },
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
  const ex = store.runsUnion(range, ownerOf(s), q.kind ? [q.kind] : undefined);
  if (!ex.kinds.length) {
    return { scope: s.scope, ...range, sources: [], total: 0, by_status: {}, by_kind: [], duration: { avg_ms: null, p50_ms: null, p95_ms: null }, by_day: [] };
  }
  const { statuses, kinds, duration: d, days } = await store.runStats(env.DB, ex.from);
  const byStatus = Object.fromEntries(statuses.map((r) => [r.k, r.n]));
  const perDay = new Map(days.map((r) => [r.date, r]));
  return {
    scope: s.scope,
    ...range,
    sources: ex.kinds,
    total: Object.values(byStatus).reduce((a, b) => a + b, 0),
    by_status: byStatus,
    by_kind: kinds,
    duration: { avg_ms: d?.avg_ms ?? null, p50_ms: d?.p50 ?? null, p95_ms: d?.p95 ?? null },
    by_day: daysBetween(range.from, range.to).map((date) => perDay.get(date) ?? { date, total: 0, succeeded: 0, failed: 0, avg_duration_ms: null }),
  };
}

export async function nodeTypeStats(env: Env, user: AuthUser, q: TimeRange) {
  const s = await scopeOf(env, user);
  const range = resolveRange(q);
  const results = await nodeTypeRows(env.DB, range, ownerOf(s));
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
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await listActivities(env.DB, ownerOf(s), range, limit, offset);
  const items = rows.map((r) => ({
    id: r.id,
    user_id: r.userId,
    user_email: r.userEmail,
    action: r.action,
    resource_type: r.resourceType,
    resource_id: r.resourceId,
    status_code: r.statusCode,
    created_at: r.createdAt,
  }));
  return paginated(items, total, q);
}
