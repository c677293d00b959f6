// Tables of the knowledge-bases module (its store alone reads and writes them).
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';
import { users } from './auth';
import { uploads } from './uploads';

export const knowledgeBases = sqliteTable(
  'knowledge_bases',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    embeddingProvider: text('embedding_provider', { enum: ['local', 'workers-ai', 'openai'] }).notNull(),
    embeddingModel: text('embedding_model').notNull(),
    embeddingDimensions: integer('embedding_dimensions').notNull(),
    embeddingBaseUrl: text('embedding_base_url'),
    /** AES-GCM encrypted (ENCRYPTION_KEY); never returned. */
    embeddingApiKey: text('embedding_api_key'),
    vectorStore: text('vector_store', { enum: ['local', 'vectorize'] }).notNull(),
    chunkStrategy: text('chunk_strategy', { enum: ['fixed', 'paragraph', 'markdown', 'sentence'] }).notNull(),
    chunkSize: integer('chunk_size').notNull(),
    chunkOverlap: integer('chunk_overlap').notNull(),
    retrievalMode: text('retrieval_mode', { enum: ['semantic', 'full-text', 'hybrid'] }).notNull(),
    topK: integer('top_k').notNull(),
    scoreThreshold: real('score_threshold').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('knowledge_bases_owner_idx').on(t.ownerId, t.createdAt)],
);

export const kbDocuments = sqliteTable(
  'kb_documents',
  {
    id: text('id').primaryKey(),
    kbId: text('kb_id')
      .notNull()
      .references(() => knowledgeBases.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    contentType: text('content_type').notNull(),
    source: text('source', { enum: ['text', 'upload'] }).notNull(),
    uploadId: text('upload_id').references(() => uploads.id, { onDelete: 'set null' }),
    /** The text of documents added as JSON; uploads are read from R2 when ingested. */
    content: text('content'),
    metadata: text('metadata').notNull().default('{}'),
    size: integer('size').notNull(),
    status: text('status', { enum: ['pending', 'processing', 'ready', 'failed'] }).notNull().default('pending'),
    /** 0–100. */
    progress: integer('progress').notNull().default(0),
    chunkCount: integer('chunk_count').notNull().default(0),
    error: text('error'),
    /** Bumped by every re-index; a queue message for an older generation is stale. */
    generation: integer('generation').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('kb_documents_kb_idx').on(t.kbId, t.createdAt)],
);

export const kbChunks = sqliteTable(
  'kb_chunks',
  {
    /** The row id, also the rowid of the chunk's row in the `kb_chunks_fts` FTS5 table. */
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    id: text('id').notNull(),
    kbId: text('kb_id')
      .notNull()
      .references(() => knowledgeBases.id, { onDelete: 'cascade' }),
    documentId: text('document_id')
      .notNull()
      .references(() => kbDocuments.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    content: text('content').notNull(),
    heading: text('heading'),
    charCount: integer('char_count').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('kb_chunks_id_unique').on(t.id),
    // One chunk per position: a redelivered ingestion cannot add a second copy.
    uniqueIndex('kb_chunks_document_position_unique').on(t.documentId, t.position),
    index('kb_chunks_kb_idx').on(t.kbId),
  ],
);

/**
 * The offline vector index (stand-in for Vectorize): one row per vector, namespaced by knowledge
 * base, quantised to int8 (base64) with its scale. `seq` only grows, so (count, max seq) of a
 * namespace changes with every write and tells a cached copy that it is stale.
 */
export const ragVectors = sqliteTable(
  'rag_vectors',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    id: text('id').notNull(),
    namespace: text('namespace').notNull(),
    documentId: text('document_id').notNull(),
    /** int8 components, base64. */
    embedding: text('embedding').notNull(),
    scale: real('scale').notNull(),
  },
  (t) => [uniqueIndex('rag_vectors_id_unique').on(t.id), index('rag_vectors_namespace_idx').on(t.namespace, t.documentId)],
);
