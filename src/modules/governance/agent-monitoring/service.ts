import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { authorize } from '../../identity/permissions/authorize';
import { paginateArray, type Pagination } from '../../../lib/pagination';
import { ratio } from '../../../lib/stats-sql';
import { resolveRange, type TimeRange } from '../../../lib/time-range';
import { db } from '../../../db/client';
import { agentNameOf } from '../../agents/agents/store';
import { llmCallOverview, llmCallsByAgent, llmCallsByDay, llmCallsByModel, type LlmCallFilter } from '../../agents/model-configs/store';
import { toolUsageByDay, toolUsageByTool, toolUsageTotals, type ToolUsageFilter } from '../../agents/tools/store';
import { sentimentByAgent, sentimentTotals, type FeedbackFilter } from '../feedback/store';
import { daysBetween, ownerOf, scopeOf, type Scope } from '../monitoring/sources';
import { runsByDay, runsUnion } from '../monitoring/store';

/** Calls in range and scope, optionally of one agent (which the caller must be able to read). */
async function callFilter(env: Env, user: AuthUser, s: Scope, range: { from: string; to: string }, agentId?: string): Promise<LlmCallFilter & ToolUsageFilter> {
  if (agentId) await authorize(env, user, 'agent', agentId, 'read');
  return { range, agentId, userId: ownerOf(s) };
}

/** Feedback sentiment counts in range and scope, optionally of one agent. */
const feedbackOf = (s: Scope, range: { from: string; to: string }, agentId?: string): FeedbackFilter => ({ range, agentId, ownerId: ownerOf(s) });

const latency = (r: { avg: number | null; p50: number | null; p95: number | null } | undefined) => ({
  avg_latency_ms: r?.avg ?? null,
  p50_latency_ms: r?.p50 ?? null,
  p95_latency_ms: r?.p95 ?? null,
});

export async function overview(env: Env, user: AuthUser, q: TimeRange & { agent_id?: string }) {
  const s = await scopeOf(env, user);
  const range = resolveRange(q);
  const f = await callFilter(env, user, s, range, q.agent_id);
  const [[calls], [fb], [tools]] = await db(env.DB).batch([llmCallOverview(env.DB, f), sentimentTotals(env.DB, feedbackOf(s, range, q.agent_id)), toolUsageTotals(env.DB, f)]);
  const c = (calls ?? {}) as Partial<typeof calls>;
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
    ...latency(calls),
    active_agents: c.active_agents ?? 0,
    tool_calls: { total: tools.total, failed: tools.failed },
    feedback: { positive: fb.positive, negative: fb.negative, satisfaction: fb.positive + fb.negative ? fb.positive / (fb.positive + fb.negative) : null },
  };
}

export async function llmCallStats(env: Env, user: AuthUser, q: TimeRange & { agent_id?: string; provider?: string }) {
  const s = await scopeOf(env, user);
  const range = resolveRange(q);
  const f = await callFilter(env, user, s, range, q.agent_id);
  const results = await llmCallsByModel(env.DB, { ...f, provider: q.provider });
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
  const f = await callFilter(env, user, s, range);
  const [calls, fb] = await db(env.DB).batch([llmCallsByAgent(env.DB, f, agentNameOf), sentimentByAgent(env.DB, feedbackOf(s, range))]);
  const feedbackBy = new Map(fb.map((r) => [r.agent_id, r]));
  const items = calls.map((r) => ({
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
  }));
  return paginateArray(items, q);
}

export async function toolUsage(env: Env, user: AuthUser, q: TimeRange & { agent_id?: string }) {
  const s = await scopeOf(env, user);
  const range = resolveRange(q);
  const f = await callFilter(env, user, s, range, q.agent_id);
  const results = await toolUsageByTool(env.DB, f);
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
  const ex = runsUnion(range, ownerOf(s));
  const [calls, runs, tools] = await db(env.DB).batch([llmCallsByDay(env.DB, f), runsByDay(env.DB, ex.from, q.agent_id), toolUsageByDay(env.DB, f)]);
  const byDate = <T extends { date: string }>(rows: unknown[]) => new Map((rows as T[]).map((r) => [r.date, r]));
  const c = byDate<{ date: string; llm_calls: number; errors: number; total_tokens: number; avg: number; p95: number }>(calls);
  const r = byDate<{ date: string; n: number }>(runs);
  const t = byDate<{ date: string; n: number }>(tools);
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
      tool_calls: t.get(date)?.n ?? 0,
      executions: r.get(date)?.n ?? 0,
    })),
  };
}
