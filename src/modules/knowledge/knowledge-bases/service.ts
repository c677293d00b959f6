import type { z } from '@hono/zod-openapi';
import type { ChunkStrategy } from '../../../engine/rag/chunker';
import { defaultEmbedding, LOCAL_EMBEDDING_MODEL, WORKERS_AI_EMBEDDING_MODEL, type EmbeddingSettings } from '../../../engine/rag/embeddings';
import { vectorIndexFor, VectorizeIndexAdapter, LocalVectorIndex, type VectorIndex } from '../../../engine/rag/vector-index';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { authorizeResource, grantsCleanupStatement, readableFilter, requirePermission, type Action } from '../../identity/permissions/authorize';
import { decryptSecret, encryptSecret } from '../../../lib/crypto';
import { notFound, validationError } from '../../../lib/errors';
import { checkOutboundUrl } from '../../../lib/outbound';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { getSecret } from '../../../lib/secrets';
import { getUploadRow } from '../uploads/service';
import type { IngestMessage } from '../../../queues';
import type { AddDocumentBody, CreateKnowledgeBaseBody, UpdateKnowledgeBaseBody } from './schemas';

export interface KnowledgeBaseRow {
  id: string;
  owner_id: string;
  name: string;
  description: string;
  embedding_provider: EmbeddingSettings['provider'];
  embedding_model: string;
  embedding_dimensions: number;
  embedding_base_url: string | null;
  embedding_api_key: string | null;
  vector_store: 'local' | 'vectorize';
  chunk_strategy: ChunkStrategy;
  chunk_size: number;
  chunk_overlap: number;
  retrieval_mode: 'semantic' | 'full-text' | 'hybrid';
  top_k: number;
  score_threshold: number;
  created_at: string;
  updated_at: string;
}

export interface DocumentRow {
  id: string;
  kb_id: string;
  title: string;
  content_type: string;
  source: 'text' | 'upload';
  upload_id: string | null;
  content: string | null;
  metadata: string;
  size: number;
  status: 'pending' | 'processing' | 'ready' | 'failed';
  progress: number;
  chunk_count: number;
  error: string | null;
  generation: number;
  created_at: string;
  updated_at: string;
}

const DEFAULT_CHUNKING = { strategy: 'sentence' as ChunkStrategy, chunk_size: 500, chunk_overlap: 50 };
const DEFAULT_RETRIEVAL = { mode: 'hybrid' as const, top_k: 5, score_threshold: 0 };
const D1_PARAMS = 100;

// ---------------------------------------------------------------------------------------------
// Knowledge bases

/**
 * A knowledge base the user may `action` (authorize(): owner, admin, grant or role); 404 when they
 * may not even read it, 403 when they may only read it. Searching and answering from it is reading.
 */
export async function getKnowledgeBaseRow(env: Env, user: AuthUser, kbId: string, action: Action = 'read'): Promise<KnowledgeBaseRow> {
  const row = await env.DB.prepare('SELECT * FROM knowledge_bases WHERE id = ?').bind(kbId).first<KnowledgeBaseRow>();
  await authorizeResource(env, user, 'knowledge_base', row, action);
  return row!;
}

interface KbStats {
  document_count: number;
  chunk_count: number;
  total_size: number;
  pending: number;
  processing: number;
  ready: number;
  failed: number;
}

const STATS_SQL = `SELECT kb_id, count(*) AS document_count, coalesce(sum(chunk_count), 0) AS chunk_count,
  coalesce(sum(size), 0) AS total_size,
  sum(status = 'pending') AS pending, sum(status = 'processing') AS processing,
  sum(status = 'ready') AS ready, sum(status = 'failed') AS failed
  FROM kb_documents`;

function present(row: KnowledgeBaseRow, stats?: Partial<KbStats>) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    embedding: {
      provider: row.embedding_provider,
      model: row.embedding_model,
      dimensions: row.embedding_dimensions,
      base_url: row.embedding_base_url,
      has_api_key: row.embedding_api_key !== null,
    },
    vector_store: row.vector_store,
    chunking: { strategy: row.chunk_strategy, chunk_size: row.chunk_size, chunk_overlap: row.chunk_overlap },
    retrieval: { mode: row.retrieval_mode, top_k: row.top_k, score_threshold: row.score_threshold },
    document_count: stats?.document_count ?? 0,
    chunk_count: stats?.chunk_count ?? 0,
    total_size: stats?.total_size ?? 0,
    documents_by_status: {
      pending: stats?.pending ?? 0,
      processing: stats?.processing ?? 0,
      ready: stats?.ready ?? 0,
      failed: stats?.failed ?? 0,
    },
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export type KnowledgeBaseView = ReturnType<typeof present>;

async function statsFor(env: Env, kbIds: string[]): Promise<Map<string, KbStats>> {
  const out = new Map<string, KbStats>();
  if (kbIds.length === 0) return out;
  const { results } = await env.DB.prepare(`${STATS_SQL} WHERE kb_id IN (${kbIds.map(() => '?').join(', ')}) GROUP BY kb_id`)
    .bind(...kbIds)
    .all<KbStats & { kb_id: string }>();
  for (const r of results) out.set(r.kb_id, r);
  return out;
}

export async function getKnowledgeBase(env: Env, user: AuthUser, kbId: string): Promise<KnowledgeBaseView> {
  const row = await getKnowledgeBaseRow(env, user, kbId);
  return present(row, (await statsFor(env, [row.id])).get(row.id));
}

export async function listKnowledgeBases(env: Env, user: AuthUser, query: { search?: string }, p: Pagination) {
  const where: string[] = ['1 = 1'];
  const params: unknown[] = [];
  // Own and shared ones (everyone's for admins and roles with knowledge_base:read).
  const readable = await readableFilter(env, user, 'knowledge_base');
  if (readable) {
    where.push(readable.sql);
    params.push(...readable.binds);
  }
  if (query.search) {
    where.push("name LIKE ? ESCAPE '\\'");
    params.push(`%${escapeLike(query.search)}%`);
  }
  const { limit, offset } = pageBounds(p);
  const [count, rows] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT count(*) AS n FROM knowledge_bases WHERE ${where.join(' AND ')}`).bind(...params),
    env.DB.prepare(`SELECT * FROM knowledge_bases WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`).bind(
      ...params,
      limit,
      offset,
    ),
  ]);
  const kbs = rows.results as unknown as KnowledgeBaseRow[];
  const stats = await statsFor(env, kbs.map((k) => k.id));
  return paginated(
    kbs.map((k) => present(k, stats.get(k.id))),
    (count.results[0] as { n: number }).n,
    p,
  );
}

type EmbeddingInput = NonNullable<z.infer<typeof CreateKnowledgeBaseBody>['embedding']>;

/** Validated embedding settings with the API key encrypted for storage. */
async function resolveEmbedding(env: Env, input: EmbeddingInput | undefined): Promise<EmbeddingSettings & { api_key_enc: string | null }> {
  if (!input) return { ...defaultEmbedding(env), api_key_enc: null };
  switch (input.provider) {
    case 'local': {
      const dimensions = input.dimensions ?? 1024;
      if (dimensions > 1024) throw validationError('body.embedding.dimensions: the local embedding has at most 1024 dimensions');
      return { provider: 'local', model: LOCAL_EMBEDDING_MODEL, dimensions, api_key_enc: null };
    }
    case 'workers-ai':
      if (!env.AI) throw validationError('body.embedding.provider: Workers AI is not available in this deployment');
      if (input.model && input.model !== WORKERS_AI_EMBEDDING_MODEL) {
        throw validationError(`body.embedding.model: only ${WORKERS_AI_EMBEDDING_MODEL} is supported on Workers AI`);
      }
      return { provider: 'workers-ai', model: WORKERS_AI_EMBEDDING_MODEL, dimensions: 1024, api_key_enc: null };
    case 'openai': {
      if (!input.base_url || !input.model || !input.dimensions) {
        throw validationError('body.embedding: an OpenAI-compatible embedding needs base_url, model and dimensions');
      }
      checkOutboundUrl(env, input.base_url);
      const api_key_enc = input.api_key ? await encryptSecret(input.api_key, await getSecret(env, 'ENCRYPTION_KEY')) : null;
      return { provider: 'openai', model: input.model, dimensions: input.dimensions, base_url: input.base_url, api_key_enc };
    }
  }
}

function resolveChunking(base: typeof DEFAULT_CHUNKING, input?: Partial<typeof DEFAULT_CHUNKING>) {
  const chunking = { ...base, ...input };
  if (chunking.chunk_overlap * 2 > chunking.chunk_size) {
    throw validationError('body.chunking.chunk_overlap: must be at most half of chunk_size');
  }
  return chunking;
}

/** The INSERT of a new knowledge base, for callers that batch it with other writes (platform quick-create). */
export async function knowledgeBaseInsert(env: Env, user: AuthUser, body: z.infer<typeof CreateKnowledgeBaseBody>) {
  const embedding = await resolveEmbedding(env, body.embedding);
  const chunking = resolveChunking(DEFAULT_CHUNKING, body.chunking);
  const retrieval = { ...DEFAULT_RETRIEVAL, ...body.retrieval };
  const id = crypto.randomUUID();
  const statement = env.DB.prepare(
    `INSERT INTO knowledge_bases (id, owner_id, name, description, embedding_provider, embedding_model, embedding_dimensions,
       embedding_base_url, embedding_api_key, vector_store, chunk_strategy, chunk_size, chunk_overlap, retrieval_mode, top_k, score_threshold)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      user.id,
      body.name,
      body.description,
      embedding.provider,
      embedding.model,
      embedding.dimensions,
      embedding.base_url ?? null,
      embedding.api_key_enc,
      vectorIndexFor(env, embedding.dimensions).kind,
      chunking.strategy,
      chunking.chunk_size,
      chunking.chunk_overlap,
      retrieval.mode,
      retrieval.top_k,
      retrieval.score_threshold,
    );
  return { id, statement };
}

export async function createKnowledgeBase(env: Env, user: AuthUser, body: z.infer<typeof CreateKnowledgeBaseBody>) {
  await requirePermission(env, user, 'knowledge_base:create');
  const { id, statement } = await knowledgeBaseInsert(env, user, body);
  await statement.run();
  return getKnowledgeBase(env, user, id);
}

/**
 * Updates settings. A new embedding model or new chunking makes the stored chunks and vectors
 * obsolete: they are removed and every document is queued for ingestion again.
 */
export async function updateKnowledgeBase(env: Env, user: AuthUser, kbId: string, body: z.infer<typeof UpdateKnowledgeBaseBody>) {
  const kb = await getKnowledgeBaseRow(env, user, kbId, 'write');
  const chunking = resolveChunking(
    { strategy: kb.chunk_strategy, chunk_size: kb.chunk_size, chunk_overlap: kb.chunk_overlap },
    body.chunking,
  );
  const retrieval = { mode: kb.retrieval_mode, top_k: kb.top_k, score_threshold: kb.score_threshold, ...body.retrieval };
  let embedding = {
    provider: kb.embedding_provider,
    model: kb.embedding_model,
    dimensions: kb.embedding_dimensions,
    base_url: kb.embedding_base_url,
    api_key_enc: kb.embedding_api_key,
  };
  if (body.embedding) {
    const next = await resolveEmbedding(env, body.embedding);
    // Re-sending the same OpenAI-compatible endpoint without a key keeps the stored key.
    if (next.provider === 'openai' && !body.embedding.api_key && next.base_url === kb.embedding_base_url) next.api_key_enc = kb.embedding_api_key;
    embedding = { ...next, base_url: next.base_url ?? null };
  }
  const embeddingChanged =
    embedding.provider !== kb.embedding_provider ||
    embedding.model !== kb.embedding_model ||
    embedding.dimensions !== kb.embedding_dimensions ||
    embedding.base_url !== kb.embedding_base_url;
  const chunkingChanged =
    chunking.strategy !== kb.chunk_strategy || chunking.chunk_size !== kb.chunk_size || chunking.chunk_overlap !== kb.chunk_overlap;

  if (embeddingChanged || chunkingChanged) await removeAllChunks(env, kb);
  await env.DB.prepare(
    `UPDATE knowledge_bases SET name = ?, description = ?, embedding_provider = ?, embedding_model = ?, embedding_dimensions = ?,
       embedding_base_url = ?, embedding_api_key = ?, vector_store = ?, chunk_strategy = ?, chunk_size = ?, chunk_overlap = ?,
       retrieval_mode = ?, top_k = ?, score_threshold = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE id = ?`,
  )
    .bind(
      body.name ?? kb.name,
      body.description ?? kb.description,
      embedding.provider,
      embedding.model,
      embedding.dimensions,
      embedding.base_url,
      embedding.api_key_enc,
      vectorIndexFor(env, embedding.dimensions).kind,
      chunking.strategy,
      chunking.chunk_size,
      chunking.chunk_overlap,
      retrieval.mode,
      retrieval.top_k,
      retrieval.score_threshold,
      kb.id,
    )
    .run();
  if (embeddingChanged || chunkingChanged) await reindexAll(env, kb.id);
  return getKnowledgeBase(env, user, kb.id);
}

/** Queues every document of a knowledge base for ingestion under a new generation. */
async function reindexAll(env: Env, kbId: string) {
  const { results } = await env.DB.prepare(
    `UPDATE kb_documents SET status = 'pending', progress = 0, chunk_count = 0, error = NULL, generation = generation + 1,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE kb_id = ? RETURNING id, generation`,
  )
    .bind(kbId)
    .all<{ id: string; generation: number }>();
  await enqueue(
    env,
    results.map((r) => ({ type: 'ingest', document_id: r.id, generation: r.generation })),
  );
}

async function enqueue(env: Env, messages: IngestMessage[]) {
  // sendBatch takes at most 100 messages.
  for (let i = 0; i < messages.length; i += 100) {
    await env.INGEST_QUEUE.sendBatch(messages.slice(i, i + 100).map((body) => ({ body, contentType: 'json' as const })));
  }
}

/** The vector index a knowledge base's vectors are in. */
export function vectorIndexOf(env: Env, kb: Pick<KnowledgeBaseRow, 'vector_store'>): VectorIndex {
  if (kb.vector_store === 'vectorize') {
    if (!env.VECTORIZE) throw new Error('This knowledge base is on Vectorize, which is not bound');
    return new VectorizeIndexAdapter(env.VECTORIZE);
  }
  return new LocalVectorIndex(env.DB);
}

/** Embedding settings with the API key decrypted, for the engine. */
export async function embeddingSettingsOf(env: Env, kb: KnowledgeBaseRow): Promise<EmbeddingSettings> {
  return {
    provider: kb.embedding_provider,
    model: kb.embedding_model,
    dimensions: kb.embedding_dimensions,
    base_url: kb.embedding_base_url,
    api_key: kb.embedding_api_key ? await decryptSecret(kb.embedding_api_key, await getSecret(env, 'ENCRYPTION_KEY')) : null,
  };
}

/** Ids of a set of chunks, page by page (a knowledge base may hold many). */
async function chunkIds(env: Env, column: 'kb_id' | 'document_id', id: string): Promise<string[]> {
  const ids: string[] = [];
  let after = 0;
  for (;;) {
    const { results } = await env.DB.prepare(`SELECT seq, id FROM kb_chunks WHERE ${column} = ? AND seq > ? ORDER BY seq LIMIT 5000`)
      .bind(id, after)
      .all<{ seq: number; id: string }>();
    for (const r of results) ids.push(r.id);
    if (results.length < 5000) return ids;
    after = results[results.length - 1].seq;
  }
}

/**
 * Removes vectors that live outside D1 (Vectorize). Chunks in D1 take their full-text rows and
 * local vectors with them (trigger `kb_chunks_after_delete`).
 */
async function removeExternalVectors(env: Env, kb: Pick<KnowledgeBaseRow, 'vector_store'>, ids: string[]) {
  if (kb.vector_store === 'vectorize' && ids.length) await vectorIndexOf(env, kb).deleteByIds(ids);
}

/** Removes one document's chunks with their full-text rows and vectors. */
export async function removeDocumentChunks(env: Env, kb: Pick<KnowledgeBaseRow, 'vector_store'>, documentId: string) {
  await removeExternalVectors(env, kb, await chunkIds(env, 'document_id', documentId));
  await env.DB.prepare('DELETE FROM kb_chunks WHERE document_id = ?').bind(documentId).run();
}

async function removeAllChunks(env: Env, kb: KnowledgeBaseRow) {
  if (kb.vector_store === 'vectorize') await removeExternalVectors(env, kb, await chunkIds(env, 'kb_id', kb.id));
  await env.DB.prepare('DELETE FROM kb_chunks WHERE kb_id = ?').bind(kb.id).run();
}

export async function deleteKnowledgeBase(env: Env, user: AuthUser, kbId: string) {
  const kb = await getKnowledgeBaseRow(env, user, kbId, 'admin');
  const deletion = await knowledgeBaseDeletion(env, kb);
  await deletion.removeExternal();
  await env.DB.batch(deletion.statements);
}

/**
 * How to delete a knowledge base: its D1 statements (for one batch, possibly with others) and
 * the removal of vectors that live outside D1 (Vectorize), which no batch can include.
 */
export async function knowledgeBaseDeletion(env: Env, kb: KnowledgeBaseRow) {
  const external = kb.vector_store === 'vectorize' ? await chunkIds(env, 'kb_id', kb.id) : [];
  return {
    // Explicit deletes (not only the foreign-key cascade) so the order is certain within one batch.
    statements: [
      env.DB.prepare('DELETE FROM kb_chunks WHERE kb_id = ?').bind(kb.id),
      env.DB.prepare('DELETE FROM rag_vectors WHERE namespace = ?').bind(kb.id),
      env.DB.prepare('DELETE FROM kb_documents WHERE kb_id = ?').bind(kb.id),
      env.DB.prepare('DELETE FROM knowledge_bases WHERE id = ?').bind(kb.id),
      grantsCleanupStatement(env, 'knowledge_base', kb.id),
    ],
    removeExternal: () => removeExternalVectors(env, kb, external),
  };
}

// ---------------------------------------------------------------------------------------------
// Documents

const DOC_COLUMNS =
  'id, kb_id, title, content_type, source, upload_id, metadata, size, status, progress, chunk_count, error, generation, created_at, updated_at';

export function presentDocument(row: Omit<DocumentRow, 'content'>) {
  return {
    id: row.id,
    knowledge_base_id: row.kb_id,
    title: row.title,
    content_type: row.content_type,
    source: row.source,
    upload_id: row.upload_id,
    size: row.size,
    status: row.status,
    progress: row.progress,
    chunk_count: row.chunk_count,
    error: row.error,
    metadata: JSON.parse(row.metadata) as Record<string, string | number | boolean | null>,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const CONTENT_TYPES = { text: 'text/plain', markdown: 'text/markdown', html: 'text/html' } as const;

export async function addDocument(env: Env, user: AuthUser, kbId: string, body: z.infer<typeof AddDocumentBody>) {
  const kb = await getKnowledgeBaseRow(env, user, kbId, 'write');
  const id = crypto.randomUUID();
  let title: string;
  let contentType: string;
  let size: number;
  let content: string | null = null;
  let uploadId: string | null = null;
  if (body.upload_id !== undefined) {
    // Only the caller's own uploads: anyone else's is "not found", like a missing one.
    const upload = await getUploadRow(env, user, body.upload_id);
    title = body.title ?? upload.filename;
    contentType = upload.content_type;
    size = upload.size;
    uploadId = upload.id;
  } else {
    title = body.title!;
    content = body.content!;
    contentType = CONTENT_TYPES[body.content_type];
    size = new TextEncoder().encode(content).byteLength;
  }
  await env.DB.prepare(
    `INSERT INTO kb_documents (id, kb_id, title, content_type, source, upload_id, content, metadata, size)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(id, kb.id, title, contentType, uploadId ? 'upload' : 'text', uploadId, content, JSON.stringify(body.metadata), size)
    .run();
  await enqueue(env, [{ type: 'ingest', document_id: id, generation: 1 }]);
  return getDocument(env, kb.id, id);
}

export async function getDocument(env: Env, kbId: string, docId: string) {
  const row = await env.DB.prepare(`SELECT ${DOC_COLUMNS} FROM kb_documents WHERE id = ? AND kb_id = ?`)
    .bind(docId, kbId)
    .first<DocumentRow>();
  if (!row) throw notFound('Document');
  return presentDocument(row);
}

export async function listDocuments(
  env: Env,
  user: AuthUser,
  kbId: string,
  query: { status?: DocumentRow['status']; search?: string },
  p: Pagination,
) {
  const kb = await getKnowledgeBaseRow(env, user, kbId);
  const where = ['kb_id = ?'];
  const params: unknown[] = [kb.id];
  if (query.status) {
    where.push('status = ?');
    params.push(query.status);
  }
  if (query.search) {
    where.push("title LIKE ? ESCAPE '\\'");
    params.push(`%${escapeLike(query.search)}%`);
  }
  const { limit, offset } = pageBounds(p);
  const [count, rows] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT count(*) AS n FROM kb_documents WHERE ${where.join(' AND ')}`).bind(...params),
    env.DB.prepare(`SELECT ${DOC_COLUMNS} FROM kb_documents WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`).bind(
      ...params,
      limit,
      offset,
    ),
  ]);
  return paginated(
    (rows.results as unknown as DocumentRow[]).map(presentDocument),
    (count.results[0] as { n: number }).n,
    p,
  );
}

/** Deletes a document with its chunks, full-text rows and vectors. */
export async function deleteDocument(env: Env, user: AuthUser, kbId: string, docId: string) {
  const kb = await getKnowledgeBaseRow(env, user, kbId, 'write');
  const doc = await env.DB.prepare('SELECT id FROM kb_documents WHERE id = ? AND kb_id = ?').bind(docId, kb.id).first();
  if (!doc) throw notFound('Document');
  await removeExternalVectors(env, kb, await chunkIds(env, 'document_id', docId));
  await env.DB.batch([
    env.DB.prepare('DELETE FROM kb_chunks WHERE document_id = ?').bind(docId),
    env.DB.prepare('DELETE FROM rag_vectors WHERE document_id = ? AND namespace = ?').bind(docId, kb.id),
    env.DB.prepare('DELETE FROM kb_documents WHERE id = ?').bind(docId),
  ]);
}

/** Ids of the documents a search filter admits (undefined: no filter, all documents). */
export async function filterDocumentIds(
  env: Env,
  kbId: string,
  filter: { document_ids?: string[]; metadata?: Record<string, string | number | boolean> } | undefined,
): Promise<string[] | undefined> {
  if (!filter || (!filter.document_ids && !filter.metadata)) return undefined;
  const where = ['kb_id = ?'];
  const params: unknown[] = [kbId];
  for (const [key, value] of Object.entries(filter.metadata ?? {})) {
    // The JSON path is a bound parameter; keys are restricted to [A-Za-z0-9_.-] by the schema.
    where.push('json_extract(metadata, ?) = ?');
    params.push(`$."${key}"`, typeof value === 'boolean' ? Number(value) : value);
  }
  const ids = filter.document_ids ? [...new Set(filter.document_ids)] : undefined;
  if (!ids) {
    const { results } = await env.DB.prepare(`SELECT id FROM kb_documents WHERE ${where.join(' AND ')}`)
      .bind(...params)
      .all<{ id: string }>();
    return results.map((r) => r.id);
  }
  const out: string[] = [];
  const room = D1_PARAMS - params.length;
  for (let i = 0; i < ids.length; i += room) {
    const group = ids.slice(i, i + room);
    const { results } = await env.DB.prepare(
      `SELECT id FROM kb_documents WHERE ${where.join(' AND ')} AND id IN (${group.map(() => '?').join(', ')})`,
    )
      .bind(...params, ...group)
      .all<{ id: string }>();
    out.push(...results.map((r) => r.id));
  }
  return out;
}

function escapeLike(s: string) {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
