import { and, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { db } from '../../../db/client';
import { llmCalls } from '../../../db/schema/model-configs';
import { batchable, percentileSql } from '../../../lib/stats-sql';

/** Raw statistics queries that can join a D1 batch (see batchable). */
const raw = (d1: D1Database) => ({
  all: <T>(q: SQL) => batchable(d1, db(d1).all<T>(q)),
  get: <T>(q: SQL) => batchable(d1, db(d1).get<T>(q)),
  run: (q: SQL) => batchable(d1, db(d1).run(q)),
});


// ── for monitoring ──

type Range = { from: string; to: string };

/** Model calls in a range, optionally of one user (the own scope), one agent, one provider. */
export interface LlmCallFilter {
  range: Range;
  agentId?: string;
  userId?: string;
  provider?: string;
}

const llmCallWhere = (f: LlmCallFilter): SQL =>
  and(
    gte(llmCalls.createdAt, f.range.from),
    lt(llmCalls.createdAt, f.range.to),
    f.agentId ? eq(llmCalls.agentId, f.agentId) : undefined,
    f.userId ? eq(llmCalls.userId, f.userId) : undefined,
    f.provider ? eq(llmCalls.provider, f.provider) : undefined,
  )!;

/** Calls, errors and tokens (monitoring overview, alert metrics). */
export const llmCallTotals = (d1: D1Database, f: LlmCallFilter) =>
  raw(d1).all<{ calls: number; errors: number; prompt_tokens: number; completion_tokens: number; tokens: number }>(
    sql`SELECT count(*) AS calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
      coalesce(sum(completion_tokens), 0) AS completion_tokens, coalesce(sum(prompt_tokens + completion_tokens), 0) AS tokens FROM ${llmCalls} WHERE ${llmCallWhere(f)}`,
  );

/** The ids of users who called a model in the range, as a subquery (for active-user counts). */
export const llmCallerIds = (range: Range): SQL => sql`SELECT user_id FROM ${llmCalls} WHERE ${llmCallWhere({ range })}`;

/** Whether the user called a model in the range, as an EXISTS expression. */
export const llmCallerIn = (userId: string, range: Range): SQL => sql`EXISTS (SELECT 1 FROM ${llmCalls} WHERE ${llmCallWhere({ range, userId })})`;

/** One row: calls, errors, tokens, latency (avg, p50, p95) and the number of agents called. */
export const llmCallOverview = (d1: D1Database, f: LlmCallFilter) =>
  raw(d1).all<{ calls: number; errors: number; prompt_tokens: number; completion_tokens: number; avg: number | null; active_agents: number; p50: number | null; p95: number | null }>(
    percentileSql({
      from: sql`${llmCalls}`,
      where: llmCallWhere(f),
      groups: {},
      value: 'latency_ms',
      select: `count(*) AS calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
          coalesce(sum(completion_tokens), 0) AS completion_tokens, avg(latency_ms) AS avg, count(DISTINCT agent_id) AS active_agents`,
    }),
  );

/** Per provider and model. */
export const llmCallsByModel = (d1: D1Database, f: LlmCallFilter) =>
  raw(d1).all<{ provider: string; model: string; calls: number; errors: number; prompt_tokens: number; completion_tokens: number; avg: number; p50: number; p95: number }>(
    percentileSql({
      from: sql`${llmCalls}`,
      where: llmCallWhere(f),
      groups: { provider: 'provider', model: 'model' },
      value: 'latency_ms',
      select: `count(*) AS calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
        coalesce(sum(completion_tokens), 0) AS completion_tokens, avg(latency_ms) AS avg`,
      orderBy: 'calls DESC, provider, model',
    }),
  );

/** Per agent (calls with an agent), with the agent's name from `nameOf` (a scalar subquery over `x.agent_id`). */
export const llmCallsByAgent = (d1: D1Database, f: LlmCallFilter, nameOf: (agentId: SQL) => SQL) =>
  raw(d1).all<{ agent_id: string; calls: number; errors: number; total_tokens: number; avg: number; last_call_at: string; p50: number; p95: number; name: string | null }>(
    sql`SELECT x.*, ${nameOf(sql`x.agent_id`)} AS name FROM (${percentileSql({
      from: sql`${llmCalls}`,
      where: and(llmCallWhere(f), sql`agent_id IS NOT NULL`),
      groups: { agent_id: 'agent_id' },
      value: 'latency_ms',
      select: `count(*) AS calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens + completion_tokens), 0) AS total_tokens,
          avg(latency_ms) AS avg, max(created_at) AS last_call_at`,
    })}) x ORDER BY x.calls DESC, x.agent_id`,
  );

/** Per UTC day. */
export const llmCallsByDay = (d1: D1Database, f: LlmCallFilter) =>
  raw(d1).all<{ date: string; llm_calls: number; errors: number; total_tokens: number; avg: number; p50: number; p95: number }>(
    percentileSql({
      from: sql`${llmCalls}`,
      where: llmCallWhere(f),
      groups: { date: 'substr(created_at, 1, 10)' },
      value: 'latency_ms',
      select: `count(*) AS llm_calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens + completion_tokens), 0) AS total_tokens, avg(latency_ms) AS avg`,
    }),
  );
