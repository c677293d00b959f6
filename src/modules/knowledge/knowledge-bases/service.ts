import { eq } from 'drizzle-orm';
import type { z } from '@hono/zod-openapi';
import { defaultEmbedding, LOCAL_EMBEDDING_MODEL, WORKERS_AI_EMBEDDING_MODEL, type EmbeddingSettings } from '../../../engine/rag/embeddings';
import { vectorStoreFor, VectorizeIndexAdapter, LocalVectorIndex, type VectorIndex } from '../../../engine/rag/vector-index';
import { contentToText, ExtractionError, type ExtractedText } from '../../../engine/rag/extract';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { runBatch } from '../../../db/client';
import { authorizeResource, grantsCleanup, readableWhere, requirePermission, type Action } from '../../identity/permissions/authorize';
import { decryptSecret, encryptSecret } from '../../../lib/crypto';
import { notFound, validationError } from '../../../lib/errors';
import { checkOutboundUrl } from '../../../lib/outbound';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { getSecret } from '../../../lib/secrets';
import { getUploadRow, uploadBytes, uploadText } from '../uploads/service';
import { findUpload } from '../uploads/store';
import type { IngestMessage } from '../../../queues';
import type { AddDocumentBody, CreateKnowledgeBaseBody, UpdateKnowledgeBaseBody } from './schemas';
import * as store from './store';
import { localVectorRows } from './store/vectors';
import type { DocumentRow, KbStats, KnowledgeBaseRow, ListedDocument } from './store';


const DEFAULT_CHUNKING = { strategy: 'sentence' as KnowledgeBaseRow['chunkStrategy'], chunk_size: 500, chunk_overlap: 50 };
const DEFAULT_RETRIEVAL = { mode: 'hybrid' as const, top_k: 5, score_threshold: 0 };

// ---------------------------------------------------------------------------------------------
// Knowledge bases

/**
 * A knowledge base the user may `action` (authorize(): owner, admin, grant or role); 404 when they
 * may not even read it, 403 when they may only read it. Searching and answering from it is reading.
 */
export async function getKnowledgeBaseRow(env: Env, user: AuthUser, kbId: string, action: Action = 'read'): Promise<KnowledgeBaseRow> {
  const row = await store.findKnowledgeBase(env.DB, kbId);
  await authorizeResource(env, user, 'knowledge_base', row && { id: row.id, owner_id: row.ownerId }, action);
  return row!;
}

function present(row: KnowledgeBaseRow, stats?: Partial<KbStats>) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    embedding: {
      provider: row.embeddingProvider,
      model: row.embeddingModel,
      dimensions: row.embeddingDimensions,
      base_url: row.embeddingBaseUrl,
      has_api_key: row.embeddingApiKey !== null,
    },
    vector_store: row.vectorStore,
    chunking: { strategy: row.chunkStrategy, chunk_size: row.chunkSize, chunk_overlap: row.chunkOverlap },
    retrieval: { mode: row.retrievalMode, top_k: row.topK, score_threshold: row.scoreThreshold },
    document_count: stats?.documentCount ?? 0,
    chunk_count: stats?.chunkCount ?? 0,
    total_size: stats?.totalSize ?? 0,
    documents_by_status: {
      pending: stats?.pending ?? 0,
      processing: stats?.processing ?? 0,
      ready: stats?.ready ?? 0,
      failed: stats?.failed ?? 0,
    },
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

export type KnowledgeBaseView = ReturnType<typeof present>;

export async function getKnowledgeBase(env: Env, user: AuthUser, kbId: string): Promise<KnowledgeBaseView> {
  const row = await getKnowledgeBaseRow(env, user, kbId);
  return present(row, (await store.knowledgeBaseStats(env.DB, [row.id])).get(row.id));
}

export async function listKnowledgeBases(env: Env, user: AuthUser, query: { search?: string }, p: Pagination) {
  // Own and shared ones (everyone's for admins and roles with knowledge_base:read).
  const readable = await readableWhere(env, user, 'knowledge_base', store.knowledgeBaseAccess);
  const { limit, offset } = pageBounds(p);
  const { rows, total } = await store.listKnowledgeBases(
    env.DB,
    { readable, search: query.search },
    limit,
    offset,
  );
  const stats = await store.knowledgeBaseStats(env.DB, rows.map((k) => k.id));
  return paginated(
    rows.map((k) => present(k, stats.get(k.id))),
    total,
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
  const insert = store.insertKnowledgeBase(env.DB, {
    id,
    ownerId: user.id,
    name: body.name,
    description: body.description,
    embeddingProvider: embedding.provider,
    embeddingModel: embedding.model,
    embeddingDimensions: embedding.dimensions,
    embeddingBaseUrl: embedding.base_url ?? null,
    embeddingApiKey: embedding.api_key_enc,
    vectorStore: vectorStoreFor(env, embedding.dimensions),
    chunkStrategy: chunking.strategy,
    chunkSize: chunking.chunk_size,
    chunkOverlap: chunking.chunk_overlap,
    retrievalMode: retrieval.mode,
    topK: retrieval.top_k,
    scoreThreshold: retrieval.score_threshold,
  });
  return { id, statement: insert };
}

export async function createKnowledgeBase(env: Env, user: AuthUser, body: z.infer<typeof CreateKnowledgeBaseBody>) {
  await requirePermission(env, user, 'knowledge_base:create');
  const { id, statement } = await knowledgeBaseInsert(env, user, body);
  await runBatch(env.DB, [statement]);
  return getKnowledgeBase(env, user, id);
}

/**
 * Updates settings. A new embedding model or new chunking makes the stored chunks and vectors
 * obsolete: they are removed and every document is queued for ingestion again.
 */
export async function updateKnowledgeBase(env: Env, user: AuthUser, kbId: string, body: z.infer<typeof UpdateKnowledgeBaseBody>) {
  const kb = await getKnowledgeBaseRow(env, user, kbId, 'write');
  const chunking = resolveChunking(
    { strategy: kb.chunkStrategy, chunk_size: kb.chunkSize, chunk_overlap: kb.chunkOverlap },
    body.chunking,
  );
  const retrieval = { mode: kb.retrievalMode, top_k: kb.topK, score_threshold: kb.scoreThreshold, ...body.retrieval };
  let embedding = {
    provider: kb.embeddingProvider,
    model: kb.embeddingModel,
    dimensions: kb.embeddingDimensions,
    base_url: kb.embeddingBaseUrl,
    api_key_enc: kb.embeddingApiKey,
  };
  if (body.embedding) {
    const next = await resolveEmbedding(env, body.embedding);
    // Re-sending the same OpenAI-compatible endpoint without a key keeps the stored key.
    if (next.provider === 'openai' && !body.embedding.api_key && next.base_url === kb.embeddingBaseUrl) next.api_key_enc = kb.embeddingApiKey;
    embedding = { ...next, base_url: next.base_url ?? null };
  }
  const embeddingChanged =
    embedding.provider !== kb.embeddingProvider ||
    embedding.model !== kb.embeddingModel ||
    embedding.dimensions !== kb.embeddingDimensions ||
    embedding.base_url !== kb.embeddingBaseUrl;
  const chunkingChanged =
    chunking.strategy !== kb.chunkStrategy || chunking.chunk_size !== kb.chunkSize || chunking.chunk_overlap !== kb.chunkOverlap;

  if (embeddingChanged || chunkingChanged) await removeAllChunks(env, kb);
  await store.updateKnowledgeBase(env.DB, kb.id, {
    name: body.name ?? kb.name,
    description: body.description ?? kb.description,
    embeddingProvider: embedding.provider,
    embeddingModel: embedding.model,
    embeddingDimensions: embedding.dimensions,
    embeddingBaseUrl: embedding.base_url,
    embeddingApiKey: embedding.api_key_enc,
    vectorStore: vectorStoreFor(env, embedding.dimensions),
    chunkStrategy: chunking.strategy,
    chunkSize: chunking.chunk_size,
    chunkOverlap: chunking.chunk_overlap,
    retrievalMode: retrieval.mode,
    topK: retrieval.top_k,
    scoreThreshold: retrieval.score_threshold,
  });
  if (embeddingChanged || chunkingChanged) await reindexAll(env, kb.id);
  return getKnowledgeBase(env, user, kb.id);
}

/** Queues every document of a knowledge base for ingestion under a new generation. */
async function reindexAll(env: Env, kbId: string) {
  const requeued = await store.requeueDocuments(env.DB, kbId);
  await enqueue(
    env,
    requeued.map((r) => ({ type: 'ingest', document_id: r.id, generation: r.generation })),
  );
}

async function enqueue(env: Env, messages: IngestMessage[]) {
  // sendBatch takes at most 100 messages.
  for (let i = 0; i < messages.length; i += 100) {
    await env.INGEST_QUEUE.sendBatch(messages.slice(i, i + 100).map((body) => ({ body, contentType: 'json' as const })));
  }
}

/** The vector index a knowledge base's vectors are in. */
export function vectorIndexOf(env: Env, kb: Pick<KnowledgeBaseRow, 'vectorStore'>): VectorIndex {
  if (kb.vectorStore === 'vectorize') {
    if (!env.VECTORIZE) throw new Error('This knowledge base is on Vectorize, which is not bound');
    return new VectorizeIndexAdapter(env.VECTORIZE);
  }
  return new LocalVectorIndex(localVectorRows(env.DB));
}

/** Embedding settings with the API key decrypted, for the engine. */
export async function embeddingSettingsOf(env: Env, kb: KnowledgeBaseRow): Promise<EmbeddingSettings> {
  return {
    provider: kb.embeddingProvider,
    model: kb.embeddingModel,
    dimensions: kb.embeddingDimensions,
    base_url: kb.embeddingBaseUrl,
    api_key: kb.embeddingApiKey ? await decryptSecret(kb.embeddingApiKey, await getSecret(env, 'ENCRYPTION_KEY')) : null,
  };
}

/**
 * Removes vectors that live outside D1 (Vectorize). Chunks in D1 take their full-text rows and
 * local vectors with them (trigger `kb_chunks_after_delete`).
 */
async function removeExternalVectors(env: Env, kb: Pick<KnowledgeBaseRow, 'vectorStore'>, ids: string[]) {
  if (kb.vectorStore === 'vectorize' && ids.length) await vectorIndexOf(env, kb).deleteByIds(ids);
}

/** Removes one document's chunks with their full-text rows and vectors. */
export async function removeDocumentChunks(env: Env, kb: Pick<KnowledgeBaseRow, 'vectorStore'>, documentId: string) {
  await removeExternalVectors(env, kb, await store.chunkIds(env.DB, { documentId }));
  await store.deleteDocumentChunks(env.DB, documentId);
}

async function removeAllChunks(env: Env, kb: KnowledgeBaseRow) {
  if (kb.vectorStore === 'vectorize') await removeExternalVectors(env, kb, await store.chunkIds(env.DB, { kbId: kb.id }));
  await store.deleteKnowledgeBaseChunks(env.DB, kb.id);
}

export async function deleteKnowledgeBase(env: Env, user: AuthUser, kbId: string) {
  const kb = await getKnowledgeBaseRow(env, user, kbId, 'admin');
  const deletion = await knowledgeBaseDeletion(env, kb);
  await deletion.removeExternal();
  await runBatch(env.DB, deletion.statements);
}

/**
 * How to delete a knowledge base: its D1 statements (for one batch, possibly with others) and
 * the removal of vectors that live outside D1 (Vectorize), which no batch can include.
 */
export async function knowledgeBaseDeletion(env: Env, kb: KnowledgeBaseRow) {
  const external = kb.vectorStore === 'vectorize' ? await store.chunkIds(env.DB, { kbId: kb.id }) : [];
  return {
    statements: [...store.deleteKnowledgeBaseStatements(env.DB, kb.id), grantsCleanup(env.DB, 'knowledge_base', kb.id)],
    removeExternal: () => removeExternalVectors(env, kb, external),
  };
}

// ---------------------------------------------------------------------------------------------
// Documents

export function presentDocument(row: ListedDocument) {
  return {
    id: row.id,
    knowledge_base_id: row.kbId,
    title: row.title,
    content_type: row.contentType,
    source: row.source,
    upload_id: row.uploadId,
    size: row.size,
    status: row.status,
    progress: row.progress,
    chunk_count: row.chunkCount,
    error: row.error,
    metadata: JSON.parse(row.metadata) as Record<string, string | number | boolean | null>,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
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
    contentType = upload.contentType;
    size = upload.size;
    uploadId = upload.id;
  } else {
    title = body.title!;
    content = body.content!;
    contentType = CONTENT_TYPES[body.content_type];
    size = new TextEncoder().encode(content).byteLength;
  }
  await store.insertDocument(env.DB, {
    id,
    kbId: kb.id,
    title,
    contentType,
    source: uploadId ? 'upload' : 'text',
    uploadId,
    content,
    metadata: JSON.stringify(body.metadata),
    size,
  });
  await enqueue(env, [{ type: 'ingest', document_id: id, generation: 1 }]);
  return getDocument(env, kb.id, id);
}

export async function getDocument(env: Env, kbId: string, docId: string) {
  const row = await store.findListedDocument(env.DB, kbId, docId);
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
  const { limit, offset } = pageBounds(p);
  const { rows, total } = await store.listDocuments(env.DB, kb.id, query, limit, offset);
  return paginated(rows.map(presentDocument), total, p);
}

/** Deletes a document with its chunks, full-text rows and vectors. */
export async function deleteDocument(env: Env, user: AuthUser, kbId: string, docId: string) {
  const kb = await getKnowledgeBaseRow(env, user, kbId, 'write');
  if (!(await store.documentExists(env.DB, kb.id, docId))) throw notFound('Document');
  await removeExternalVectors(env, kb, await store.chunkIds(env.DB, { documentId: docId }));
  await runBatch(env.DB, store.deleteDocumentStatements(env.DB, kb.id, docId));
}

// ---------------------------------------------------------------------------------------------
// Documents as an MCP client reads them (the integrations module's MCP server)

/**
 * A page of the documents of the knowledge bases the user may read, oldest first, after the
 * position `after` (see store.listDocumentsAcrossBases). Like an MCP tool list it is per account:
 * an admin lists their own and what is shared with them, not every user's.
 */
export async function listReadableDocuments(env: Env, user: AuthUser, after: { createdAt: string; id: string } | null, limit: number) {
  const readable = (await readableWhere(env, user, 'knowledge_base', store.knowledgeBaseAccess)) ?? eq(store.knowledgeBaseAccess.ownerId, user.id);
  return store.listDocumentsAcrossBases(env.DB, readable, after, limit);
}

const isTextType = (contentType: string) => contentType.startsWith('text/') || contentType === 'application/json';

/**
 * A document's content as added: the text of a text document, or the uploaded file (as text for
 * text types, as bytes otherwise). Reading needs `read` on its knowledge base: another user's is
 * 404, like a missing one.
 */
export async function readDocumentContent(
  env: Env,
  user: AuthUser,
  kbId: string,
  docId: string,
): Promise<{ document: ListedDocument; mimeType: string } & ({ text: string } | { bytes: Uint8Array })> {
  const kb = await getKnowledgeBaseRow(env, user, kbId);
  const row = await store.findDocumentWithContent(env.DB, kb.id, docId);
  if (!row) throw notFound('Document');
  const { content, ...document } = row;
  if (row.source === 'text') return { document, mimeType: row.contentType, text: content ?? '' };
  const upload = row.uploadId === null ? null : await findUpload(env.DB, row.uploadId);
  const bytes = upload && (await uploadBytes(env, upload));
  if (!bytes) throw notFound("The document's file");
  return isTextType(row.contentType) ? { document, mimeType: row.contentType, text: new TextDecoder().decode(bytes) } : { document, mimeType: row.contentType, bytes };
}

/**
 * The text of a document: its JSON content (HTML as visible text) or its upload's (a PDF's through
 * the runtime worker; `maxPages` reads only its first pages). Ingestion and the document_extractor
 * workflow node read documents through it.
 */
export async function documentText(
  env: Env,
  doc: Pick<DocumentRow, 'source' | 'contentType' | 'content' | 'uploadId'>,
  options: { maxPages?: number } = {},
): Promise<ExtractedText> {
  if (doc.source === 'text') {
    const kind = doc.contentType === 'text/html' ? 'html' : doc.contentType === 'text/markdown' ? 'markdown' : 'text';
    return { text: contentToText(doc.content ?? '', kind) };
  }
  const upload = doc.uploadId === null ? null : await findUpload(env.DB, doc.uploadId);
  if (!upload) throw new ExtractionError('The uploaded file no longer exists');
  const extracted = await uploadText(env, upload, options);
  if (!extracted) throw new ExtractionError('The uploaded file is missing from storage');
  return extracted;
}

/** Ids of the documents a search filter admits (undefined: no filter, all documents). */
export async function filterDocumentIds(
  env: Env,
  kbId: string,
  filter: { document_ids?: string[]; metadata?: Record<string, string | number | boolean> } | undefined,
): Promise<string[] | undefined> {
  if (!filter || (!filter.document_ids && !filter.metadata)) return undefined;
  const ids = filter.document_ids ? [...new Set(filter.document_ids)] : undefined;
  return store.matchingDocumentIds(env.DB, kbId, filter.metadata ?? {}, ids);
}
