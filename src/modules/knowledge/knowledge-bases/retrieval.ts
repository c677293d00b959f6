import { embedderFor } from '../../../engine/rag/embeddings';
import { reciprocalRankFusion, type RetrievalMode } from '../../../engine/rag/fusion';
import { isCjk } from '../../../engine/rag/text';
import { complete, defaultTarget, streamComplete, type ModelTarget } from '../../../engine/llm/gateway';
import type { ChatMessage, Usage } from '../../../engine/llm/types';
import { emptyUsage } from '../../../engine/llm/types';
import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { IsolateCache } from '../../../lib/isolate-cache';
import { unauthorized } from '../../../lib/errors';
import { findActiveUser } from '../../identity/auth/store';
import { SseWriter } from '../../../lib/sse';
import { embeddingSettingsOf, filterDocumentIds, getKnowledgeBaseRow, vectorIndexOf } from './service';
import { findKnowledgeBase, type KnowledgeBaseRow, type ReadyChunk } from './store';
import type { RagInput, SearchInput } from './schemas';
import { readyChunks } from './store';
import { fullTextSearch } from './store/fulltext';

export type { RetrievalMode };

export interface RetrievalResult {
  chunk_id: string;
  document_id: string;
  document_title: string;
  content: string;
  score: number;
  position: number;
  heading: string | null;
}

export interface RetrievalOptions {
  query: string;
  top_k?: number;
  mode?: RetrievalMode;
  score_threshold?: number;
  filter?: SearchInput['filter'];
}

/**
 * Searches a knowledge base as a user: the search endpoint, the `knowledge_search` tool and the
 * `knowledge_retrieval` workflow node all go through here. `user` is the request's user or the id
 * of the one a tool call or a run acts for (a tool's caller, a run's principal). authorize() at
 * `read`: a base they may not read answers 404 like a missing one. Omitted options take the
 * knowledge base's retrieval defaults.
 */
export async function retrieveFromKnowledgeBase(
  env: Env,
  user: AuthUser | string,
  kbId: string,
  options: RetrievalOptions,
): Promise<{ kb: { id: string; name: string }; mode: RetrievalMode; results: RetrievalResult[] }> {
  const actor = typeof user === 'string' ? await findActiveUser(env, user) : user;
  if (!actor) throw unauthorized('The user this search runs for no longer exists');
  const known = knownBases.get(kbId);
  if (known && (known.ownerId === actor.id || isAdmin(actor))) {
    // The base's row and the search with the copy's settings in one wave; the answer stands if the
    // row is still the copy (the access the copy gives its owner and admins is then current too).
    const [fresh, found] = await Promise.all([
      findKnowledgeBase(env.DB, kbId),
      retrieve(env, known, options).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
    ]);
    if (fresh && JSON.stringify(fresh) === JSON.stringify(known)) {
      if ('error' in found) throw found.error;
      return { kb: { id: known.id, name: known.name }, ...found.value };
    }
    knownBases.delete(kbId);
  }
  const kb = await getKnowledgeBaseRow(env, actor, kbId);
  knownBases.set(kbId, kb);
  return { kb: { id: kb.id, name: kb.name }, ...(await retrieve(env, kb, options)) };
}

/**
 * Knowledge bases as this isolate last read them (their API keys still encrypted). A search of a
 * known base by its owner or an admin — access the row alone decides — runs with the copy in the
 * same wave as the read of the row, and answers only if the row read is the copy; otherwise it runs
 * again with the row as it is. One round trip before the results instead of two. Others (grantees)
 * are checked first, so nobody without access has a query embedded with the base's settings.
 */
const knownBases = new IsolateCache<string, KnowledgeBaseRow>(1000, Infinity);

/** How a passage is cited: `[n] document title — heading`. */
export function citationLabel(index: number, result: Pick<RetrievalResult, 'document_title' | 'heading'>): string {
  return `[${index}] ${result.document_title}${result.heading ? ` — ${result.heading}` : ''}`;
}

/** Search over an already authorised knowledge base. */
export async function retrieve(env: Env, kb: KnowledgeBaseRow, options: RetrievalOptions): Promise<{ mode: RetrievalMode; results: RetrievalResult[] }> {
  const mode = options.mode ?? kb.retrievalMode;
  const topK = options.top_k ?? kb.topK;
  const threshold = options.score_threshold ?? kb.scoreThreshold;
  const documentIds = await filterDocumentIds(env, kb.id, options.filter);
  // Candidates beyond top_k: fusion needs depth, and some may belong to documents not ready.
  const depth = Math.min(100, mode === 'hybrid' ? Math.max(topK * 4, 40) : topK * 2 + 10);

  const embedder = mode === 'full-text' ? null : embedderFor(env, await embeddingSettingsOf(env, kb));
  const semantic = async () => {
    if (!embedder) return [];
    const [vector] = await embedder.embed([options.query]);
    const matches = await vectorIndexOf(env, kb).query(kb.id, vector, { topK: depth, documentIds });
    return matches.filter((m) => m.score >= embedder.noiseFloor);
  };
  const fullText = () => fullTextSearch(env.DB, kb.id, options.query, { topK: depth, documentIds });

  let ranked: Array<{ id: string; score: number }>;
  // Full-text matches come with their chunk (ready documents only); the others are looked up.
  let known = new Map<string, ReadyChunk>();
  if (mode === 'semantic') ranked = await semantic();
  else if (mode === 'full-text') {
    const ft = await fullText();
    known = new Map(ft.map((m) => [m.chunkId, m]));
    ranked = ft.map((m) => ({ id: m.chunkId, score: m.score }));
  } else {
    const [sem, ft] = await Promise.all([semantic(), fullText()]);
    known = new Map(ft.map((m) => [m.chunkId, m]));
    ranked = reciprocalRankFusion([ft.map((m) => ({ id: m.chunkId })), sem], { weights: [1, embedder!.hybridWeight] });
  }

  ranked = ranked.filter((r) => r.score >= threshold);
  const unknown = mode === 'full-text' ? [] : ranked.filter((r) => !known.has(r.id)).map((r) => r.id);
  const rows = unknown.length ? new Map([...known, ...(await readyChunks(env.DB, kb.id, unknown))]) : known;
  const results: RetrievalResult[] = [];
  for (const r of ranked) {
    const row = rows.get(r.id);
    // Unknown ids: chunks deleted since (Vectorize is eventually consistent) or documents not ready.
    if (!row) continue;
    results.push({
      chunk_id: row.chunkId,
      document_id: row.documentId,
      document_title: row.documentTitle,
      content: row.content,
      position: row.position,
      heading: row.heading,
      score: Math.round(r.score * 1e6) / 1e6,
    });
    if (results.length >= topK) break;
  }
  return { mode, results };
}

// ---------------------------------------------------------------------------------------------
// Grounded answers

export interface Citation {
  index: number;
  chunk_id: string;
  document_id: string;
  title: string;
  snippet: string;
  score: number;
}

const SNIPPET_CHARS = 240;

function snippet(text: string): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  return chars.length > SNIPPET_CHARS ? chars.slice(0, SNIPPET_CHARS).join('') + '…' : chars.join('');
}

/** What the answer says when nothing relevant was found, in the question's language. */
export function nothingFoundAnswer(query: string): string {
  return Array.from(query).some(isCjk)
    ? '知识库中没有找到与这个问题相关的内容，因此无法根据知识库回答。'
    : 'I could not find anything relevant to this question in the knowledge base, so I cannot answer it from there.';
}

/**
 * The prompt: the numbered passages and the rules in the system message, the question alone as
 * the user message (so the answer addresses the question, and the mock model echoes it).
 */
export function groundedMessages(kbName: string, query: string, results: RetrievalResult[]): ChatMessage[] {
  const context = results.map((r, i) => `${citationLabel(i + 1, r)}\n${r.content}`).join('\n\n');
  const system = [
    `You answer questions using only the numbered passages below, taken from the knowledge base "${kbName}".`,
    'Cite the passages you use by their numbers in square brackets, like [1] or [2][3], right after the statements they support.',
    'If the passages do not contain the answer, say that the knowledge base does not contain it; do not use outside knowledge and do not invent.',
    'Answer in the language of the question.',
    '',
    'Passages:',
    context,
  ].join('\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: query },
  ];
}

function citationsOf(results: RetrievalResult[]): Citation[] {
  return results.map((r, i) => ({
    index: i + 1,
    chunk_id: r.chunk_id,
    document_id: r.document_id,
    title: r.document_title,
    snippet: snippet(r.content),
    score: r.score,
  }));
}

function targetOf(env: Env, input: RagInput): ModelTarget {
  return input.model_config ? { ...input.model_config } : defaultTarget(env);
}

export async function answer(
  env: Env,
  user: AuthUser,
  kbId: string,
  input: RagInput,
): Promise<{ answer: string; citations: Citation[]; token_usage: Usage }> {
  const kb = await getKnowledgeBaseRow(env, user, kbId);
  const { results } = await retrieve(env, kb, input);
  if (results.length === 0) return { answer: nothingFoundAnswer(input.query), citations: [], token_usage: emptyUsage() };
  const result = await complete(env, targetOf(env, input), { messages: groundedMessages(kb.name, input.query, results) }, {
    user_id: user.id,
    source: 'rag',
  });
  return { answer: result.content, citations: citationsOf(results), token_usage: result.usage };
}

/** The same as `answer`, as SSE: `citations`, then `token` events, then `done` (or `error`). */
export async function answerStream(env: Env, user: AuthUser, kbId: string, input: RagInput, signal?: AbortSignal): Promise<Response> {
  // Access and retrieval errors surface as ordinary HTTP errors, before the stream starts.
  const kb = await getKnowledgeBaseRow(env, user, kbId);
  const { results } = await retrieve(env, kb, input);
  const sse = new SseWriter();
  const citations = citationsOf(results);
  const run = async () => {
    let seq = 0;
    try {
      await sse.send('citations', { citations }, ++seq);
      if (results.length === 0) {
        const text = nothingFoundAnswer(input.query);
        await sse.send('token', { content: text }, ++seq);
        await sse.send('done', { answer: text, citations, token_usage: emptyUsage() }, ++seq);
        return;
      }
      let text = '';
      for await (const event of streamComplete(
        env,
        targetOf(env, input),
        { messages: groundedMessages(kb.name, input.query, results), signal },
        { user_id: user.id, source: 'rag' },
      )) {
        if (event.type === 'token') {
          text += event.text;
          await sse.send('token', { content: event.text }, ++seq);
        } else if (event.type === 'done') {
          await sse.send('done', { answer: event.result.content || text, citations, token_usage: event.result.usage }, ++seq);
        }
      }
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'LLM_ERROR';
      await sse.send('error', { error: code, message: e instanceof Error ? e.message : 'The model failed' }, ++seq);
    } finally {
      await sse.close();
    }
  };
  // Not awaited: the response streams while `run` writes; an open response keeps the request alive.
  void run();
  return sse.response();
}
