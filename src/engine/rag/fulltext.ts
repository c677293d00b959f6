import { lexicalTerms, withoutInterrogatives } from './text';

/**
 * Full-text search on D1's SQLite FTS5, Chinese included.
 *
 * FTS5's tokenizers do not segment Chinese: `unicode61` makes a whole run of Han characters one
 * token (a query word inside it never matches) and `trigram` needs query terms of at least three
 * characters (most Chinese words have two). So the text is tokenized here instead: CJK runs become
 * character unigrams and bigrams, other scripts lowercased words, written space-separated into the
 * `terms` column, which `unicode61` then splits on the spaces. Queries are tokenized the same way,
 * without their interrogatives (什么, 哪, 谁...: see text.ts), each distinct term once and OR-ed, and
 * FTS5's BM25 (k1 1.2, b 0.75, IDF per term, length normalised by the row's term count) ranks the
 * matches: plain BM25 over character unigrams and bigrams, no weight fitted to a data set. IDF and
 * the average length are those of the whole FTS5 table (every knowledge base), as FTS5 computes them.
 *
 * `scope` holds a knowledge-base token and a document token, so a search is restricted to one
 * knowledge base (and optionally some documents) by the index itself, not by a post-filter.
 */

const MAX_STRONG_TERMS = 48;
const MAX_WEAK_TERMS = 32;

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

/**
 * The distinct terms of a query, interrogatives left out: strong ones (CJK bigrams, words) and
 * weak ones (single CJK characters, which nearly every Chinese text shares: 的, 是, 在).
 */
export function queryTerms(query: string): { strong: string[]; weak: string[] } {
  const { unigrams, bigrams, words } = lexicalTerms(withoutInterrogatives(query));
  return {
    strong: [...new Set([...bigrams, ...words])].slice(0, MAX_STRONG_TERMS),
    weak: [...new Set(unigrams)].slice(0, MAX_WEAK_TERMS),
  };
}

/**
 * The FTS5 MATCH expression, within one knowledge base (and optionally some documents). A chunk
 * must share a strong term with the query: sharing only single characters is no evidence of
 * relevance (and would match almost everything). Every query term appears once in the expression,
 * since BM25 sums over the expression's phrases: the single characters are in an OR with the
 * knowledge-base token, which every row of the base has and whose column weighs 0, so they add to
 * the rank without being required. A query of one Chinese character falls back to characters.
 * Every term is a quoted string, so no user input is read as FTS5 syntax. Null when there is no term.
 */
export function ftsMatchExpression(kbId: string, query: string, documentIds?: string[]): string | null {
  const { strong, weak } = queryTerms(query);
  if (strong.length === 0 && weak.length === 0) return null;
  const quote = (t: string) => `"${t.replace(/"/g, '""')}"`;
  const any = (terms: string[]) => `(${terms.map(quote).join(' OR ')})`;
  const kb = quote(kbScopeToken(kbId));
  let expr = `scope : ${kb} AND `;
  if (strong.length === 0) expr += `terms : ${any(weak)}`;
  else if (weak.length === 0) expr += `terms : ${any(strong)}`;
  else expr += `terms : ${any(strong)} AND (terms : ${any(weak)} OR scope : ${kb})`;
  if (documentIds) expr += ` AND scope : ${any(documentIds.map(docScopeToken))}`;
  return expr;
}
