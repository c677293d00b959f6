import { and, asc, count, desc, eq, ne, or, sql, type SQL, gte, lt } from 'drizzle-orm';
import { columnsAs, db, now, type Statement, sqlQuery } from '../../../db/client';
import { llmCalls, modelConfigs } from '../../../db/schema/model-configs';
import { percentileSql } from '../../../lib/stats-sql';

/** A stored model config (the API key still encrypted). */
export type ModelConfigRow = typeof modelConfigs.$inferSelect;
/** One model call as recorded: the gateway's record, every column given. */
export type LlmCallRecord = Required<typeof llmCalls.$inferInsert>;

// A user sees their own configs and the system-wide ones.
const visibleTo = (userId: string): SQL => or(and(eq(modelConfigs.ownerId, userId), eq(modelConfigs.isSystem, 0)), eq(modelConfigs.isSystem, 1))!;
// A config a user may call: their own or a system-wide one.
const usableBy = (userId: string): SQL => or(eq(modelConfigs.ownerId, userId), eq(modelConfigs.isSystem, 1))!;

export async function listModelConfigs(d1: D1Database, userId: string, limit: number, offset: number): Promise<{ rows: ModelConfigRow[]; total: number }> {
  const where = visibleTo(userId);
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(modelConfigs).where(where).orderBy(asc(modelConfigs.isSystem), desc(modelConfigs.createdAt), modelConfigs.id).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(modelConfigs).where(where),
  ]);
  return { rows, total };
}

/** A config the user sees (own or system-wide), or null. */
export async function findVisibleModelConfig(d1: D1Database, userId: string, id: string): Promise<ModelConfigRow | null> {
  const [row] = await db(d1).select().from(modelConfigs).where(and(eq(modelConfigs.id, id), visibleTo(userId))).limit(1);
  return row ?? null;
}

/** A config the user may use (own or system-wide), or null. */
export async function findUsableModelConfig(d1: D1Database, userId: string, id: string): Promise<ModelConfigRow | null> {
  const [row] = await db(d1).select().from(modelConfigs).where(and(eq(modelConfigs.id, id), usableBy(userId))).limit(1);
  return row ?? null;
}

/** The openai config for a model name: own before system, same model name, then default, then oldest. */
export async function findOpenAiModelConfig(d1: D1Database, userId: string, modelName: string): Promise<ModelConfigRow | null> {
  const [row] = await db(d1)
    .select()
    .from(modelConfigs)
    .where(and(eq(modelConfigs.provider, 'openai'), usableBy(userId)))
    .orderBy(asc(modelConfigs.isSystem), desc(sql`(${modelConfigs.modelName} = ${modelName})`), desc(modelConfigs.isDefault), asc(modelConfigs.createdAt))
    .limit(1);
  return row ?? null;
}

// Every model call resolves its model (without a stored config: the default) and writes a record:
// raw statements, as on the other hot paths (drizzle's ~0.2 ms of CPU a statement, measured).
const DEFAULT_CONFIG = `SELECT ${columnsAs(modelConfigs)} FROM "model_configs"
  WHERE "is_default" = 1 AND (("owner_id" = ? AND "is_system" = 0) OR "is_system" = 1) ORDER BY "is_system" LIMIT 1`;

/** The user's own default config, else the system default, or null (visibleTo's rule). */
export async function findDefaultModelConfig(d1: D1Database, userId: string): Promise<ModelConfigRow | null> {
  return d1.prepare(DEFAULT_CONFIG).bind(userId).first<ModelConfigRow>();
}

export function insertModelConfig(d1: D1Database, row: typeof modelConfigs.$inferInsert): Statement {
  return db(d1).insert(modelConfigs).values(row);
}

/** Changes the given fields and updated_at. */
export function updateModelConfig(d1: D1Database, id: string, fields: Partial<Omit<ModelConfigRow, 'id' | 'ownerId' | 'isSystem' | 'createdAt' | 'updatedAt'>>): Statement {
  return db(d1)
    .update(modelConfigs)
    .set({ ...fields, updatedAt: now() })
    .where(eq(modelConfigs.id, id));
}

/** Clears the other default in the same scope (the user's own configs, or the system ones). */
export function clearDefaultModelConfig(d1: D1Database, scope: { ownerId: string; isSystem: number }, exceptId: string): Statement {
  const inScope = scope.isSystem === 1 ? eq(modelConfigs.isSystem, 1) : and(eq(modelConfigs.ownerId, scope.ownerId), eq(modelConfigs.isSystem, 0));
  return db(d1)
    .update(modelConfigs)
    .set({ isDefault: 0 })
    .where(and(inScope, eq(modelConfigs.isDefault, 1), ne(modelConfigs.id, exceptId)));
}

export async function deleteModelConfig(d1: D1Database, id: string): Promise<void> {
  await db(d1).delete(modelConfigs).where(eq(modelConfigs.id, id));
}

const INSERT_LLM_CALL = `INSERT INTO "llm_calls" ("id", "user_id", "agent_id", "session_id", "provider", "model", "prompt_tokens", "completion_tokens",
  "latency_ms", "status", "error", "source", "created_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** The insert of one llm_calls record (a statement for a batch). */
export const insertLlmCall = (d1: D1Database, r: LlmCallRecord): D1PreparedStatement =>
  d1
    .prepare(INSERT_LLM_CALL)
    .bind(r.id, r.userId, r.agentId, r.sessionId, r.provider, r.model, r.promptTokens, r.completionTokens, r.latencyMs, r.status, r.error, r.source, r.createdAt);

/** Writes one llm_calls record now (a model call made without a recorder). */
export async function writeLlmCall(d1: D1Database, record: LlmCallRecord): Promise<void> {
  await insertLlmCall(d1, record).run();
}

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
  sqlQuery(d1).all<{ calls: number; errors: number; prompt_tokens: number; completion_tokens: number; tokens: number }>(
    sql`SELECT count(*) AS calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
      coalesce(sum(completion_tokens), 0) AS completion_tokens, coalesce(sum(prompt_tokens + completion_tokens), 0) AS tokens FROM ${llmCalls} WHERE ${llmCallWhere(f)}`,
  );

/** The ids of users who called a model in the range, as a subquery (for active-user counts). */
export const llmCallerIds = (range: Range): SQL => sql`SELECT user_id FROM ${llmCalls} WHERE ${llmCallWhere({ range })}`;

/** Whether the user called a model in the range, as an EXISTS expression. */
export const llmCallerIn = (userId: string, range: Range): SQL => sql`EXISTS (SELECT 1 FROM ${llmCalls} WHERE ${llmCallWhere({ range, userId })})`;

/** One row: calls, errors, tokens, latency (avg, p50, p95) and the number of agents called. */
export const llmCallOverview = (d1: D1Database, f: LlmCallFilter) =>
  sqlQuery(d1).all<{ calls: number; errors: number; prompt_tokens: number; completion_tokens: number; avg: number | null; active_agents: number; p50: number | null; p95: number | null }>(
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
  sqlQuery(d1).all<{ provider: string; model: string; calls: number; errors: number; prompt_tokens: number; completion_tokens: number; avg: number; p50: number; p95: number }>(
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
  sqlQuery(d1).all<{ agent_id: string; calls: number; errors: number; total_tokens: number; avg: number; last_call_at: string; p50: number; p95: number; name: string | null }>(
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
  sqlQuery(d1).all<{ date: string; llm_calls: number; errors: number; total_tokens: number; avg: number; p50: number; p95: number }>(
    percentileSql({
      from: sql`${llmCalls}`,
      where: llmCallWhere(f),
      groups: { date: 'substr(created_at, 1, 10)' },
      value: 'latency_ms',
      select: `count(*) AS llm_calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens + completion_tokens), 0) AS total_tokens, avg(latency_ms) AS avg`,
    }),
  );
