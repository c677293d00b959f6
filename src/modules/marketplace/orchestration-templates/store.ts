import { and, asc, count, desc, eq, type SQL } from 'drizzle-orm';
import { db, now } from '../../../db/client';
import { orchestrationTemplates } from '../../../db/schema/orchestration-templates';

/** The orchestration_templates table: user-defined multi-agent patterns. */
export type TemplateRow = typeof orchestrationTemplates.$inferSelect;

export async function findTemplate(d1: D1Database, id: string): Promise<TemplateRow | null> {
  const [row] = await db(d1).select().from(orchestrationTemplates).where(eq(orchestrationTemplates.id, id)).limit(1);
  return row ?? null;
}

/** A page of the owner's templates (newest first) and how many they have, in one round trip. */
export async function listOwnTemplates(d1: D1Database, ownerId: string, mode: string | undefined, limit: number, offset: number) {
  const where: SQL | undefined = and(eq(orchestrationTemplates.ownerId, ownerId), mode ? eq(orchestrationTemplates.mode, mode) : undefined);
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(orchestrationTemplates).where(where).orderBy(desc(orchestrationTemplates.createdAt), asc(orchestrationTemplates.id)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(orchestrationTemplates).where(where),
  ]);
  return { rows, total };
}

export async function insertTemplate(d1: D1Database, t: Pick<TemplateRow, 'id' | 'ownerId' | 'name' | 'description' | 'mode' | 'roles' | 'config'>): Promise<void> {
  await db(d1).insert(orchestrationTemplates).values(t);
}

export async function updateTemplate(d1: D1Database, id: string, set: Pick<TemplateRow, 'name' | 'description' | 'mode' | 'roles' | 'config'>): Promise<void> {
  await db(d1)
    .update(orchestrationTemplates)
    .set({ ...set, updatedAt: now() })
    .where(eq(orchestrationTemplates.id, id));
}

export async function deleteTemplate(d1: D1Database, id: string): Promise<void> {
  await db(d1).delete(orchestrationTemplates).where(eq(orchestrationTemplates.id, id));
}
