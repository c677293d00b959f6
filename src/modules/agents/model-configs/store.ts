import { and, asc, count, desc, eq, ne, or, sql, type SQL } from 'drizzle-orm';
import { db, now, type Statement } from '../../../db/client';
import { llmCalls, modelConfigs } from '../../../db/schema/model-configs';

/** A stored model config (the API key still encrypted). */
export type ModelConfigRow = typeof modelConfigs.$inferSelect;
/** One model call as recorded (the gateway's LlmCallRecord has this shape). */
export type LlmCallInsert = typeof llmCalls.$inferInsert;

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

/** The user's own default config, else the system default, or null. */
export async function findDefaultModelConfig(d1: D1Database, userId: string): Promise<ModelConfigRow | null> {
  const [row] = await db(d1)
    .select()
    .from(modelConfigs)
    .where(and(eq(modelConfigs.isDefault, 1), visibleTo(userId)))
    .orderBy(asc(modelConfigs.isSystem))
    .limit(1);
  return row ?? null;
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

/** Inserts of llm_calls records, one statement each (13 columns: well under D1's 100 parameters). */
export function insertLlmCalls(d1: D1Database, records: readonly LlmCallInsert[]): Statement[] {
  return records.map((r) => db(d1).insert(llmCalls).values(r));
}

/** Writes one llm_calls record now (a model call made without a recorder). */
export async function writeLlmCall(d1: D1Database, record: LlmCallInsert): Promise<void> {
  await db(d1).insert(llmCalls).values(record);
}
