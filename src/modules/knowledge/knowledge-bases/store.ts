import { eq } from 'drizzle-orm';
import { db } from '../../../db/client';
import { knowledgeBases } from '../../../db/schema/knowledge-bases';

// ── for permissions ──

/** A knowledge base's id and owner, for authorize(); null when there is none. */
export async function findResourceRef(d1: D1Database, id: string): Promise<{ id: string; owner_id: string } | null> {
  const [row] = await db(d1).select({ id: knowledgeBases.id, owner_id: knowledgeBases.ownerId }).from(knowledgeBases).where(eq(knowledgeBases.id, id));
  return row ?? null;
}
