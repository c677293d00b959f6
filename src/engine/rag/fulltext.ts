import { lexicalTerms } from './text';

/**
 * Full-text search on D1's SQLite FTS5, Chinese included.
 *
 * FTS5's tokenizers do not segment Chinese: `unicode61` makes a whole run of Han characters one
 * token (a query word inside it never matches) and `trigram` needs query terms of at least three
 * characters (most Chinese words have two). So the text is tokenized here instead: CJK runs become
 * character unigrams and bigrams, other scripts lowercased words, written space-separated into the
 * `terms` column, which `unicode61` then splits on the spaces. Queries are tokenized the same way
 * and OR-ed, and FTS5's BM25 ranks the matches.
 *
 * `scope` holds a knowledge-base token and a document token, so a search is restricted to one
 * knowledge base (and optionally some documents) by the index itself, not by a post-filter.
 */

const MAX_QUERY_TERMS = 64;

const compact = (id: string) => id.replace(/-/g, '').toLowerCase();
export const kbScopeToken = (kbId: string) => `k${compact(kbId)}`;
export const docScopeToken = (documentId: string) => `d${compact(documentId)}`;

/** The `terms` column of a chunk: the title's and the content's terms, space-separated. */
export function ftsTerms(text: string): string {
  const { unigrams, bigrams, words } = lexicalTerms(text);
  return [...unigrams, ...bigrams, ...words].join(' ');
}

export function ftsScope(kbId: string, documentId: string): string {
  return `${kbScopeToken(kbId)} ${docScopeToken(documentId)}`;
}

/** The distinct terms of a query, bigrams and words first (the most telling), capped. */
export function queryTerms(query: string): string[] {
  const { unigrams, bigrams, words } = lexicalTerms(query);
  return [...new Set([...bigrams, ...words, ...unigrams])].slice(0, MAX_QUERY_TERMS);
}

/**
 * The FTS5 MATCH expression: the query's terms OR-ed within one knowledge base (and documents).
 * Every term is a quoted string, so no user input is read as FTS5 syntax. Null when the query has
 * no searchable term (only punctuation, say).
 */
export function ftsMatchExpression(kbId: string, query: string, documentIds?: string[]): string | null {
  const terms = queryTerms(query);
  if (terms.length === 0) return null;
  const quote = (t: string) => `"${t.replace(/"/g, '""')}"`;
  let expr = `scope : ${quote(kbScopeToken(kbId))} AND terms : (${terms.map(quote).join(' OR ')})`;
  if (documentIds) expr += ` AND scope : (${documentIds.map((d) => quote(docScopeToken(d))).join(' OR ')})`;
  return expr;
}

export interface FullTextMatch {
  chunk_id: string;
  /** BM25 relevance, higher is better (FTS5's bm25() negated); unbounded, not comparable across queries. */
  score: number;
}

export async function fullTextSearch(
  db: D1Database,
  kbId: string,
  query: string,
  options: { topK: number; documentIds?: string[] },
): Promise<FullTextMatch[]> {
  if (options.documentIds && options.documentIds.length === 0) return [];
  const expr = ftsMatchExpression(kbId, query, options.documentIds);
  if (!expr) return [];
  // bm25 weights: `terms` counts, `scope` (the same token on every row of a knowledge base) not.
  const { results } = await db
    .prepare(
      `SELECT c.id AS chunk_id, -f.score AS score FROM (
         SELECT rowid, bm25(kb_chunks_fts, 1.0, 0.0) AS score FROM kb_chunks_fts
         WHERE kb_chunks_fts MATCH ?1 ORDER BY score LIMIT ?2
       ) f JOIN kb_chunks c ON c.seq = f.rowid ORDER BY f.score`,
    )
    .bind(expr, options.topK)
    .all<FullTextMatch>();
  return results;
}
