import { and, count, desc, eq, or } from 'drizzle-orm';
import { db, now, likeContains } from '../../../db/client';
import { nodeTemplates } from '../../../db/schema/node-templates';

export type NodeTemplateRow = typeof nodeTemplates.$inferSelect;

const mine = (ownerId: string, id: string) => and(eq(nodeTemplates.id, id), eq(nodeTemplates.ownerId, ownerId));

/** One page of a user's templates (newest change first) and their total; one round trip. */
export async function listNodeTemplates(
  d1: D1Database,
  q: { ownerId: string; nodeType?: string; search?: string; limit: number; offset: number },
): Promise<{ rows: NodeTemplateRow[]; total: number }> {
  const where = and(
    eq(nodeTemplates.ownerId, q.ownerId),
    q.nodeType ? eq(nodeTemplates.nodeType, q.nodeType) : undefined,
    q.search ? or(likeContains(nodeTemplates.name, q.search), likeContains(nodeTemplates.description, q.search)) : undefined,
  );
  const [[{ total }], rows] = await db(d1).batch([
    db(d1).select({ total: count() }).from(nodeTemplates).where(where),
    db(d1).select().from(nodeTemplates).where(where).orderBy(desc(nodeTemplates.updatedAt), nodeTemplates.id).limit(q.limit).offset(q.offset),
  ]);
  return { rows, total };
}

export async function findNodeTemplate(d1: D1Database, ownerId: string, id: string): Promise<NodeTemplateRow | null> {
  return (await db(d1).select().from(nodeTemplates).where(mine(ownerId, id)).get()) ?? null;
}

export async function insertNodeTemplate(d1: D1Database, row: Pick<NodeTemplateRow, 'id' | 'ownerId' | 'name' | 'description' | 'nodeType' | 'config'>): Promise<void> {
  await db(d1).insert(nodeTemplates).values(row);
}

export async function updateNodeTemplate(d1: D1Database, ownerId: string, id: string, set: Pick<NodeTemplateRow, 'name' | 'description' | 'config'>): Promise<void> {
  await db(d1).update(nodeTemplates).set({ ...set, updatedAt: now() }).where(mine(ownerId, id));
}

/** False when the user has no such template. */
export async function deleteNodeTemplate(d1: D1Database, ownerId: string, id: string): Promise<boolean> {
  return (await db(d1).delete(nodeTemplates).where(mine(ownerId, id)).returning({ id: nodeTemplates.id })).length > 0;
}
