import { eq, asc as ascForBatch, eq as eqForBatch } from 'drizzle-orm';
import { db, db as dbForBatch } from '../../../db/client';
import { knowledgeBases, kbDocuments as kbDocumentsForBatch } from '../../../db/schema/knowledge-bases';

// ── for permissions ──

/** A knowledge base's id and owner, for authorize(); null when there is none. */
export async function findResourceRef(d1: D1Database, id: string): Promise<{ id: string; owner_id: string } | null> {
  const [row] = await db(d1).select({ id: knowledgeBases.id, owner_id: knowledgeBases.ownerId }).from(knowledgeBases).where(eq(knowledgeBases.id, id));
  return row ?? null;
}

// ── for batch ──

/** What an export lists of a knowledge base's documents (no contents), oldest first, up to `limit`. */
export function exportedDocuments(d1: D1Database, kbId: string, limit: number) {
  const d = kbDocumentsForBatch;
  return dbForBatch(d1)
    .select({ title: d.title, contentType: d.contentType, source: d.source, size: d.size, status: d.status })
    .from(d)
    .where(eqForBatch(d.kbId, kbId))
    .orderBy(ascForBatch(d.createdAt), ascForBatch(d.id))
    .limit(limit);
}
