
// ── for batch ──
import { asc as ascForBatch, eq as eqForBatch } from 'drizzle-orm';
import { db as dbForBatch } from '../../../db/client';
import { kbDocuments as kbDocumentsForBatch } from '../../../db/schema/knowledge-bases';

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
