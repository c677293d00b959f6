import { sql } from 'drizzle-orm';
import { batchable, db, type Statement } from '../../../../db/client';
import { ftsMatchExpression } from '../../../../engine/rag/fulltext';
import type { ReadyChunk } from '../store';

/**
 * kb_chunks_fts: the FTS5 table of the chunks' terms (rowid = the chunk's seq). FTS5 is beyond the
 * query builder, so its SQL is written out here; the terms and the MATCH expression come from
 * the engine (src/engine/rag/fulltext.ts).
 */

// D1 allows 100 bound parameters per statement.
const D1_PARAMS = 100;

/**
 * The full-text rows of chunks just written in the same batch (rowid = the chunk's seq); a chunk
 * not written (its document gone) gets none.
 */
export function insertChunkTerms(d1: D1Database, scope: string, rows: Array<{ chunkId: string; terms: string }>): Statement[] {
  const perStatement = Math.floor((D1_PARAMS - 1) / 2);
  const statements: Statement[] = [];
  for (let i = 0; i < rows.length; i += perStatement) {
    const values = rows.slice(i, i + perStatement).map((r) => sql`(${r.chunkId}, ${r.terms})`);
    statements.push(
      batchable(d1, db(d1).run(
        sql`INSERT INTO kb_chunks_fts (rowid, terms, scope)
         SELECT c.seq, v.column2, ${scope} FROM (VALUES ${sql.join(values, sql`, `)}) v JOIN kb_chunks c ON c.id = v.column1`,
      )),
    );
  }
  return statements;
}

export interface FullTextMatch extends ReadyChunk {
  /** BM25 relevance, higher is better (FTS5's bm25() negated); unbounded, not comparable across queries. */
  score: number;
}

/**
 * BM25-ranked chunks of one knowledge base (optionally some of its documents) matching a query,
 * best first: the `topK` best matches, less those whose document is not ready, each with what a
 * search result shows (one statement, so a full-text search needs no second look-up).
 */
export async function fullTextSearch(
  d1: D1Database,
  kbId: string,
  query: string,
  options: { topK: number; documentIds?: string[] },
): Promise<FullTextMatch[]> {
  if (options.documentIds && options.documentIds.length === 0) return [];
  const expr = ftsMatchExpression(kbId, query, options.documentIds);
  if (!expr) return [];
  // bm25 weights: `terms` counts, `scope` (the same token on every row of a knowledge base) not.
  return db(d1).all<FullTextMatch>(
    sql`SELECT c.id AS chunkId, c.document_id AS documentId, d.title AS documentTitle, c.content AS content,
         c.position AS position, c.heading AS heading, -f.score AS score FROM (
         SELECT rowid, bm25(kb_chunks_fts, 1.0, 0.0) AS score FROM kb_chunks_fts
         WHERE kb_chunks_fts MATCH ${expr} ORDER BY score LIMIT ${options.topK}
       ) f JOIN kb_chunks c ON c.seq = f.rowid JOIN kb_documents d ON d.id = c.document_id
       WHERE d.status = 'ready' ORDER BY f.score`,
  );
}
