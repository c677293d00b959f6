import { and, or, asc, count, desc, eq, inArray, ne, sql, type SQL, gte, lt } from 'drizzle-orm';
import { db, now, runBatch, type Statement, likeContains, likeStartsWith, sqlQuery } from '../../../db/client';
import { customTools, toolMemory, toolUsage } from '../../../db/schema/tools';
import { percentileSql } from '../../../lib/stats-sql';

/** A user's custom tool as stored (parameters and config are JSON text). */
export type CustomToolRow = typeof customTools.$inferSelect;
export type ToolUsageInsert = Omit<typeof toolUsage.$inferInsert, 'id' | 'createdAt'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The owner's custom tool by id (any case), or null; a non-UUID id is no custom tool (no query). */
export async function findCustomTool(d1: D1Database, ownerId: string, id: string): Promise<CustomToolRow | null> {
  if (!UUID.test(id)) return null;
  const [row] = await db(d1)
    .select()
    .from(customTools)
    .where(and(eq(customTools.id, id.toLowerCase()), eq(customTools.ownerId, ownerId)))
    .limit(1);
  return row ?? null;
}

/** One page of the owner's custom tools (newest first) and their count, in one round trip. */
export async function listCustomTools(
  d1: D1Database,
  ownerId: string,
  filter: { type?: 'http' | 'code'; category?: string; search?: string },
  limit: number,
  offset: number,
): Promise<{ rows: CustomToolRow[]; total: number }> {
  const conditions: SQL[] = [eq(customTools.ownerId, ownerId)];
  if (filter.type) conditions.push(eq(customTools.type, filter.type));
  if (filter.category) conditions.push(eq(customTools.category, filter.category));
  if (filter.search) {
    conditions.push(or(likeContains(customTools.name, filter.search), likeContains(customTools.description, filter.search))!);
  }
  const where = and(...conditions);
  const [[{ total }], rows] = await db(d1).batch([
    db(d1).select({ total: count() }).from(customTools).where(where),
    db(d1).select().from(customTools).where(where).orderBy(desc(customTools.createdAt), customTools.id).limit(limit).offset(offset),
  ]);
  return { rows, total };
}

/** How many custom tools the owner has per category. */
export function customToolCategoryCounts(d1: D1Database, ownerId: string): Promise<Array<{ category: string; n: number }>> {
  return db(d1)
    .select({ category: customTools.category, n: count() })
    .from(customTools)
    .where(eq(customTools.ownerId, ownerId))
    .groupBy(customTools.category);
}

/** Whether the owner has another tool of this name (case-insensitive). */
export async function customToolNameTaken(d1: D1Database, ownerId: string, name: string, exceptId = ''): Promise<boolean> {
  const [row] = await db(d1)
    .select({ id: customTools.id })
    .from(customTools)
    .where(and(eq(customTools.ownerId, ownerId), sql`lower(${customTools.name}) = lower(${name})`, ne(customTools.id, exceptId)))
    .limit(1);
  return row !== undefined;
}

export async function insertCustomTool(d1: D1Database, row: Omit<typeof customTools.$inferInsert, 'createdAt' | 'updatedAt'>): Promise<void> {
  await db(d1).insert(customTools).values(row);
}

export async function updateCustomTool(
  d1: D1Database,
  ownerId: string,
  id: string,
  fields: Pick<CustomToolRow, 'name' | 'description' | 'category' | 'parameters' | 'config'>,
): Promise<void> {
  await db(d1)
    .update(customTools)
    .set({ ...fields, updatedAt: now() })
    .where(and(eq(customTools.id, id), eq(customTools.ownerId, ownerId)));
}

/** Deletes the owner's tool; false when there was none. */
export async function deleteCustomTool(d1: D1Database, ownerId: string, id: string): Promise<boolean> {
  const res = await db(d1)
    .delete(customTools)
    .where(and(eq(customTools.id, id.toLowerCase()), eq(customTools.ownerId, ownerId)));
  return res.meta.changes > 0;
}

/** Which of `ids` are custom tools of the owner. */
export async function ownedCustomToolIds(d1: D1Database, ownerId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db(d1)
    .select({ id: customTools.id })
    .from(customTools)
    .where(and(eq(customTools.ownerId, ownerId), inArray(customTools.id, ids)));
  return new Set(rows.map((r) => r.id));
}

/** What a model is told of the owner's custom tools `ids` (name, description, parameters JSON). */
export function customToolSpecs(d1: D1Database, ownerId: string, ids: string[]): Promise<Array<Pick<CustomToolRow, 'id' | 'name' | 'description' | 'parameters'>>> {
  if (ids.length === 0) return Promise.resolve([]);
  return db(d1)
    .select({ id: customTools.id, name: customTools.name, description: customTools.description, parameters: customTools.parameters })
    .from(customTools)
    .where(and(eq(customTools.ownerId, ownerId), inArray(customTools.id, ids)));
}

/** Records one tool invocation. */
export async function insertToolUsage(d1: D1Database, usage: ToolUsageInsert): Promise<void> {
  await db(d1)
    .insert(toolUsage)
    .values({ id: crypto.randomUUID(), ...usage });
}

/**
 * Stores a memory value (JSON text), overwriting the key; a new key past `maxKeys` in its scope is
 * refused (false). One statement, so concurrent stores agree on the cap.
 */
export async function putToolMemory(d1: D1Database, userId: string, scope: string, key: string, value: string, maxKeys: number): Promise<boolean> {
  const res = await db(d1).run(sql`INSERT INTO ${toolMemory} (user_id, scope, key, value)
    SELECT ${userId}, ${scope}, ${key}, ${value}
    WHERE EXISTS (SELECT 1 FROM ${toolMemory} WHERE user_id = ${userId} AND scope = ${scope} AND key = ${key})
       OR (SELECT count(*) FROM ${toolMemory} WHERE user_id = ${userId} AND scope = ${scope}) < ${maxKeys}
    ON CONFLICT (user_id, scope, key) DO UPDATE SET value = excluded.value, updated_at = ${now()}`);
  return res.meta.changes > 0;
}

/** Memory entries of a scope: one key, the keys with a prefix, or all; in key order. */
export function findToolMemory(
  d1: D1Database,
  userId: string,
  scope: string,
  which: { key?: string; prefix?: string },
  limit: number,
): Promise<Array<{ key: string; value: string; updatedAt: string }>> {
  const keyCondition =
    which.key !== undefined ? eq(toolMemory.key, which.key) : which.prefix ? likeStartsWith(toolMemory.key, which.prefix) : undefined;
  return db(d1)
    .select({ key: toolMemory.key, value: toolMemory.value, updatedAt: toolMemory.updatedAt })
    .from(toolMemory)
    .where(and(eq(toolMemory.userId, userId), eq(toolMemory.scope, scope), keyCondition))
    .orderBy(asc(toolMemory.key))
    .limit(limit);
}

/** Forgets keys of a scope, in one batch. */
export async function deleteToolMemory(d1: D1Database, userId: string, scope: string, keys: string[]): Promise<void> {
  await runBatch(
    d1,
    keys.map((key) => db(d1).delete(toolMemory).where(and(eq(toolMemory.userId, userId), eq(toolMemory.scope, scope), eq(toolMemory.key, key)))),
  );
}

/** The delete of the owner's tool as a statement, for a caller's batch (batch deletes). */
export function deleteCustomToolStatement(d1: D1Database, ownerId: string, id: string): Statement {
  return db(d1)
    .delete(customTools)
    .where(and(eq(customTools.id, id.toLowerCase()), eq(customTools.ownerId, ownerId)));
}



// ── for agent-monitoring ──

/** Tool calls in a range, optionally of one agent, one user (the own scope). */
export interface ToolUsageFilter {
  range: { from: string; to: string };
  agentId?: string;
  userId?: string;
}

const toolUsageWhere = (f: ToolUsageFilter): SQL =>
  and(
    gte(toolUsage.createdAt, f.range.from),
    lt(toolUsage.createdAt, f.range.to),
    f.agentId ? eq(toolUsage.agentId, f.agentId) : undefined,
    f.userId ? eq(toolUsage.userId, f.userId) : undefined,
  )!;

export const toolUsageTotals = (d1: D1Database, f: ToolUsageFilter) =>
  sqlQuery(d1).all<{ total: number; failed: number }>(sql`SELECT count(*) AS total, coalesce(sum(NOT ok), 0) AS failed FROM ${toolUsage} WHERE ${toolUsageWhere(f)}`);

export const toolUsageByTool = (d1: D1Database, f: ToolUsageFilter) =>
  sqlQuery(d1).all<{ tool_name: string; tool_type: string; calls: number; failed: number; avg_ms: number; p50: number; p95: number }>(
    percentileSql({
      from: sql`${toolUsage}`,
      where: toolUsageWhere(f),
      groups: { tool_name: 'tool_name', tool_type: 'tool_type' },
      value: 'duration_ms',
      select: 'count(*) AS calls, coalesce(sum(NOT ok), 0) AS failed, avg(duration_ms) AS avg_ms',
      orderBy: 'calls DESC, tool_name',
    }),
  );

export const toolUsageByDay = (d1: D1Database, f: ToolUsageFilter) =>
  sqlQuery(d1).all<{ date: string; n: number }>(sql`SELECT substr(created_at, 1, 10) AS date, count(*) AS n FROM ${toolUsage} WHERE ${toolUsageWhere(f)} GROUP BY date`);
