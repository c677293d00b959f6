import { and, count, eq, inArray, max, sql } from 'drizzle-orm';
import { batchable, db, runBatch, type Statement } from '../../../../db/client';
import { ragVectors } from '../../../../db/schema/knowledge-bases';
import type { LocalVectorRows, StoredVector } from '../../../../engine/rag/vector-index';

/** rag_vectors: the offline vector index's rows (the engine's LocalVectorIndex reads them through here). */

// D1 allows 100 bound parameters per statement.
const D1_PARAMS = 100;
/** Statements per D1 batch when writing many vectors. */
const PER_BATCH = 50;

function chunked<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** INSERT OR REPLACE (not an upsert: a replaced vector must get a new seq), which the builder cannot say. */
function replaceVectors(d1: D1Database, rows: StoredVector[]): Statement {
  const values = rows.map((r) => sql`(${r.id}, ${r.namespace}, ${r.documentId}, ${r.embedding}, ${r.scale})`);
  return batchable(d1, db(d1).run(sql`INSERT OR REPLACE INTO ${ragVectors} (id, namespace, document_id, embedding, scale) VALUES ${sql.join(values, sql`, `)}`));
}

/** The local index's rows in D1, for `new LocalVectorIndex(...)`. */
export function localVectorRows(d1: D1Database): LocalVectorRows {
  return {
    async upsert(rows) {
      const statements = chunked(rows, Math.floor(D1_PARAMS / 5)).map((group) => replaceVectors(d1, group));
      for (const group of chunked(statements, PER_BATCH)) await runBatch(d1, group);
    },
    async signature(namespace) {
      const [row] = await db(d1)
        .select({ count: count(), maxSeq: max(ragVectors.seq) })
        .from(ragVectors)
        .where(eq(ragVectors.namespace, namespace));
      return row ?? { count: 0, maxSeq: null };
    },
    load: (namespace) =>
      db(d1)
        .select({ id: ragVectors.id, documentId: ragVectors.documentId, embedding: ragVectors.embedding, scale: ragVectors.scale })
        .from(ragVectors)
        .where(eq(ragVectors.namespace, namespace)),
    async deleteByIds(ids) {
      const statements = chunked(ids, D1_PARAMS).map((group) => db(d1).delete(ragVectors).where(inArray(ragVectors.id, group)));
      for (const group of chunked(statements, PER_BATCH)) await runBatch(d1, group);
    },
  };
}

/** Deletes a knowledge base's local vectors (its namespace). */
export const deleteNamespaceVectors = (d1: D1Database, kbId: string): Statement =>
  db(d1).delete(ragVectors).where(eq(ragVectors.namespace, kbId));

/** Deletes a document's local vectors. */
export const deleteDocumentVectors = (d1: D1Database, kbId: string, documentId: string): Statement =>
  db(d1).delete(ragVectors).where(and(eq(ragVectors.documentId, documentId), eq(ragVectors.namespace, kbId)));
