import { eq, and, asc, count, desc, gt, inArray, ne, or, sql, type SQL } from 'drizzle-orm';
import { batchable, db, now, type Statement, likeContains } from '../../../db/client';
import { knowledgeBases, kbChunks, kbDocuments } from '../../../db/schema/knowledge-bases';
import { deleteDocumentVectors, deleteNamespaceVectors } from './store/vectors';

/** The owner and resource-id columns of listed knowledge bases, for authorize's readableWhere(). */
export const knowledgeBaseAccess = { ownerId: knowledgeBases.ownerId, id: knowledgeBases.id };

/**
 * The knowledge-bases module's tables: knowledge_bases, kb_documents, kb_chunks here; rag_vectors
 * in ./store/vectors.ts, the FTS5 table kb_chunks_fts in ./store/fulltext.ts.
 */

export type KnowledgeBaseRow = typeof knowledgeBases.$inferSelect;
export type NewKnowledgeBase = typeof knowledgeBases.$inferInsert;
export type DocumentRow = typeof kbDocuments.$inferSelect;

// D1 allows 100 bound parameters per statement.
const D1_PARAMS = 100;


// ---------------------------------------------------------------------------------------------
// Knowledge bases

export async function findKnowledgeBase(d1: D1Database, id: string): Promise<KnowledgeBaseRow | null> {
  return (await db(d1).select().from(knowledgeBases).where(eq(knowledgeBases.id, id)).get()) ?? null;
}

export interface KbStats {
  documentCount: number;
  chunkCount: number;
  totalSize: number;
  pending: number;
  processing: number;
  ready: number;
  failed: number;
}

/** Document counts and sizes of knowledge bases, by id (those without documents are absent). */
export async function knowledgeBaseStats(d1: D1Database, kbIds: string[]): Promise<Map<string, KbStats>> {
  const out = new Map<string, KbStats>();
  if (kbIds.length === 0) return out;
  const d = kbDocuments;
  const rows = await db(d1)
    .select({
      kbId: d.kbId,
      documentCount: count(),
      chunkCount: sql<number>`coalesce(sum(${d.chunkCount}), 0)`,
      totalSize: sql<number>`coalesce(sum(${d.size}), 0)`,
      pending: sql<number>`sum(${d.status} = 'pending')`,
      processing: sql<number>`sum(${d.status} = 'processing')`,
      ready: sql<number>`sum(${d.status} = 'ready')`,
      failed: sql<number>`sum(${d.status} = 'failed')`,
    })
    .from(d)
    .where(inArray(d.kbId, kbIds))
    .groupBy(d.kbId);
  for (const { kbId, ...stats } of rows) out.set(kbId, stats);
  return out;
}

/** A page of knowledge bases (newest first) the condition admits, and how many it admits. */
export async function listKnowledgeBases(
  d1: D1Database,
  filter: { readable?: SQL; search?: string },
  limit: number,
  offset: number,
): Promise<{ rows: KnowledgeBaseRow[]; total: number }> {
  const where = and(filter.readable, filter.search ? likeContains(knowledgeBases.name, filter.search) : undefined);
  const [[{ total }], rows] = await db(d1).batch([
    db(d1).select({ total: count() }).from(knowledgeBases).where(where),
    db(d1).select().from(knowledgeBases).where(where).orderBy(desc(knowledgeBases.createdAt), knowledgeBases.id).limit(limit).offset(offset),
  ]);
  return { rows, total };
}

export const insertKnowledgeBase = (d1: D1Database, values: NewKnowledgeBase): Statement => db(d1).insert(knowledgeBases).values(values);

export async function updateKnowledgeBase(
  d1: D1Database,
  id: string,
  values: Omit<NewKnowledgeBase, 'id' | 'ownerId' | 'createdAt' | 'updatedAt'>,
): Promise<void> {
  await db(d1)
    .update(knowledgeBases)
    .set({ ...values, updatedAt: now() })
    .where(eq(knowledgeBases.id, id));
}

/**
 * The deletes of a knowledge base with its chunks (their full-text rows go by trigger), local
 * vectors and documents. Explicit (not only the foreign-key cascade) so the order is certain
 * within one batch.
 */
export function deleteKnowledgeBaseStatements(d1: D1Database, kbId: string): Statement[] {
  return [
    deleteKnowledgeBaseChunks(d1, kbId),
    deleteNamespaceVectors(d1, kbId),
    db(d1).delete(kbDocuments).where(eq(kbDocuments.kbId, kbId)),
    db(d1).delete(knowledgeBases).where(eq(knowledgeBases.id, kbId)),
  ];
}

// ---------------------------------------------------------------------------------------------
// Documents

/** A document as listed: everything but its content. */
const listed = {
  id: kbDocuments.id,
  kbId: kbDocuments.kbId,
  title: kbDocuments.title,
  contentType: kbDocuments.contentType,
  source: kbDocuments.source,
  uploadId: kbDocuments.uploadId,
  metadata: kbDocuments.metadata,
  size: kbDocuments.size,
  status: kbDocuments.status,
  progress: kbDocuments.progress,
  chunkCount: kbDocuments.chunkCount,
  error: kbDocuments.error,
  generation: kbDocuments.generation,
  createdAt: kbDocuments.createdAt,
  updatedAt: kbDocuments.updatedAt,
};
export type ListedDocument = Omit<DocumentRow, 'content'>;

export async function insertDocument(d1: D1Database, values: typeof kbDocuments.$inferInsert): Promise<void> {
  await db(d1).insert(kbDocuments).values(values);
}

/** A document of a knowledge base, without its content. */
export async function findListedDocument(d1: D1Database, kbId: string, id: string): Promise<ListedDocument | null> {
  return (await db(d1).select(listed).from(kbDocuments).where(and(eq(kbDocuments.id, id), eq(kbDocuments.kbId, kbId))).get()) ?? null;
}

export async function documentExists(d1: D1Database, kbId: string, id: string): Promise<boolean> {
  const row = await db(d1).select({ id: kbDocuments.id }).from(kbDocuments).where(and(eq(kbDocuments.id, id), eq(kbDocuments.kbId, kbId))).get();
  return row !== undefined;
}

export async function listDocuments(
  d1: D1Database,
  kbId: string,
  filter: { status?: DocumentRow['status']; search?: string },
  limit: number,
  offset: number,
): Promise<{ rows: ListedDocument[]; total: number }> {
  const where = and(
    eq(kbDocuments.kbId, kbId),
    filter.status ? eq(kbDocuments.status, filter.status) : undefined,
    filter.search ? likeContains(kbDocuments.title, filter.search) : undefined,
  );
  const [[{ total }], rows] = await db(d1).batch([
    db(d1).select({ total: count() }).from(kbDocuments).where(where),
    db(d1).select(listed).from(kbDocuments).where(where).orderBy(desc(kbDocuments.createdAt), kbDocuments.id).limit(limit).offset(offset),
  ]);
  return { rows, total };
}

/** A document as listed across knowledge bases: no content, with its knowledge base's name. */
export interface DocumentAcrossBases {
  id: string;
  kbId: string;
  kbName: string;
  title: string;
  contentType: string;
  size: number;
  status: DocumentRow['status'];
  createdAt: string;
  updatedAt: string;
}

/**
 * Documents of the knowledge bases `readable` admits, oldest first (created_at, then id), after
 * the (created_at, id) position `after` when given, up to `limit`: keyset pages that stay right
 * while documents are added.
 */
export function listDocumentsAcrossBases(
  d1: D1Database,
  readable: SQL,
  after: { createdAt: string; id: string } | null,
  limit: number,
): Promise<DocumentAcrossBases[]> {
  const position = after
    ? or(gt(kbDocuments.createdAt, after.createdAt), and(eq(kbDocuments.createdAt, after.createdAt), gt(kbDocuments.id, after.id)))
    : undefined;
  return db(d1)
    .select({
      id: kbDocuments.id,
      kbId: kbDocuments.kbId,
      kbName: knowledgeBases.name,
      title: kbDocuments.title,
      contentType: kbDocuments.contentType,
      size: kbDocuments.size,
      status: kbDocuments.status,
      createdAt: kbDocuments.createdAt,
      updatedAt: kbDocuments.updatedAt,
    })
    .from(kbDocuments)
    .innerJoin(knowledgeBases, eq(knowledgeBases.id, kbDocuments.kbId))
    .where(and(readable, position))
    .orderBy(asc(kbDocuments.createdAt), asc(kbDocuments.id))
    .limit(limit);
}

/** A document of a knowledge base with its content (null for uploads, which live in R2). */
export async function findDocumentWithContent(d1: D1Database, kbId: string, id: string): Promise<DocumentRow | null> {
  return (await db(d1).select().from(kbDocuments).where(and(eq(kbDocuments.id, id), eq(kbDocuments.kbId, kbId))).get()) ?? null;
}

/** The deletes of a document with its chunks (their full-text rows go by trigger) and local vectors. */
export function deleteDocumentStatements(d1: D1Database, kbId: string, id: string): Statement[] {
  return [deleteDocumentChunks(d1, id), deleteDocumentVectors(d1, kbId, id), db(d1).delete(kbDocuments).where(eq(kbDocuments.id, id))];
}

/** Puts every document of a knowledge base back to pending under a new generation; their ids and generations. */
export function requeueDocuments(d1: D1Database, kbId: string): Promise<Array<{ id: string; generation: number }>> {
  return db(d1)
    .update(kbDocuments)
    .set({ status: 'pending', progress: 0, chunkCount: 0, error: null, generation: sql`${kbDocuments.generation} + 1`, updatedAt: now() })
    .where(eq(kbDocuments.kbId, kbId))
    .returning({ id: kbDocuments.id, generation: kbDocuments.generation });
}

/**
 * Ids of the documents of a knowledge base whose metadata has the given values (`$."key"` paths;
 * booleans as 0/1), among `ids` when given.
 */
export async function matchingDocumentIds(
  d1: D1Database,
  kbId: string,
  metadata: Record<string, string | number | boolean>,
  ids?: string[],
): Promise<string[]> {
  const conditions: SQL[] = [eq(kbDocuments.kbId, kbId)];
  for (const [key, value] of Object.entries(metadata)) {
    // The JSON path is a bound parameter; keys are restricted to [A-Za-z0-9_.-] by the schema.
    conditions.push(sql`json_extract(${kbDocuments.metadata}, ${`$."${key}"`}) = ${typeof value === 'boolean' ? Number(value) : value}`);
  }
  const select = (where: SQL | undefined) => db(d1).select({ id: kbDocuments.id }).from(kbDocuments).where(where);
  if (!ids) return (await select(and(...conditions))).map((r) => r.id);
  const out: string[] = [];
  const room = D1_PARAMS - (1 + 2 * Object.keys(metadata).length);
  for (let i = 0; i < ids.length; i += room) {
    const rows = await select(and(...conditions, inArray(kbDocuments.id, ids.slice(i, i + room))));
    out.push(...rows.map((r) => r.id));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ingestion (the queue consumer)

export async function findDocument(d1: D1Database, id: string): Promise<DocumentRow | null> {
  return (await db(d1).select().from(kbDocuments).where(eq(kbDocuments.id, id)).get()) ?? null;
}

/** The document at this generation, unless it is already ready. */
const unfinished = (id: string, generation: number) =>
  and(eq(kbDocuments.id, id), eq(kbDocuments.generation, generation), ne(kbDocuments.status, 'ready'));

/** Marks the document processing; false when it is gone, of another generation or already ready. */
export async function claimDocument(d1: D1Database, id: string, generation: number): Promise<boolean> {
  const result = await db(d1).update(kbDocuments).set({ status: 'processing', progress: 0, updatedAt: now() }).where(unfinished(id, generation));
  return result.meta.changes > 0;
}

export async function markDocumentRetrying(d1: D1Database, id: string, generation: number, error: string): Promise<void> {
  await db(d1).update(kbDocuments).set({ status: 'pending', error, updatedAt: now() }).where(unfinished(id, generation));
}

/** Marks the document failed; false when it is gone, of another generation or already ready. */
export async function markDocumentFailed(d1: D1Database, id: string, generation: number, error: string): Promise<boolean> {
  const result = await db(d1)
    .update(kbDocuments)
    .set({ status: 'failed', error, progress: 0, chunkCount: 0, updatedAt: now() })
    .where(unfinished(id, generation));
  return result.meta.changes > 0;
}

/** Marks the document ready with its chunk count; false when it is gone or of another generation. */
export async function markDocumentReady(d1: D1Database, id: string, generation: number, chunkCount: number): Promise<boolean> {
  const result = await db(d1)
    .update(kbDocuments)
    .set({ status: 'ready', progress: 100, chunkCount, error: null, updatedAt: now() })
    .where(and(eq(kbDocuments.id, id), eq(kbDocuments.generation, generation)));
  return result.meta.changes === 1;
}

const atGeneration = (id: string, generation: number) => and(eq(kbDocuments.id, id), eq(kbDocuments.generation, generation));

export const documentProgress = (d1: D1Database, id: string, generation: number, progress: number): Statement =>
  db(d1).update(kbDocuments).set({ progress }).where(atGeneration(id, generation));

/** A select (for the end of a batch) whose row `n` is 1 while the document exists at this generation. */
export const documentAtGeneration = (d1: D1Database, id: string, generation: number) =>
  db(d1).select({ n: count() }).from(kbDocuments).where(atGeneration(id, generation));

// ---------------------------------------------------------------------------------------------
// Chunks (their full-text rows: ./store/fulltext.ts; a trigger deletes those and local vectors with a chunk)

export interface NewChunk {
  id: string;
  position: number;
  content: string;
  heading: string | null;
  charCount: number;
}

/**
 * Inserts of chunk rows, each only while the document still exists at this generation
 * (INSERT … SELECT with a condition: raw SQL).
 */
export function insertChunks(d1: D1Database, kbId: string, documentId: string, generation: number, chunks: NewChunk[]): Statement[] {
  // 5 values per chunk plus 4 shared parameters per statement.
  const perStatement = Math.floor((D1_PARAMS - 4) / 5);
  const statements: Statement[] = [];
  for (let i = 0; i < chunks.length; i += perStatement) {
    const values = chunks.slice(i, i + perStatement).map((c) => sql`(${c.id}, ${c.position}, ${c.content}, ${c.heading}, ${c.charCount})`);
    statements.push(
      batchable(d1, db(d1).run(
        sql`INSERT INTO kb_chunks (id, kb_id, document_id, position, content, heading, char_count)
         SELECT column1, ${kbId}, ${documentId}, column2, column3, column4, column5 FROM (VALUES ${sql.join(values, sql`, `)})
         WHERE EXISTS (SELECT 1 FROM kb_documents WHERE id = ${documentId} AND generation = ${generation})`,
      )),
    );
  }
  return statements;
}

/** Ids of a knowledge base's or a document's chunks, page by page (a knowledge base may hold many). */
export async function chunkIds(d1: D1Database, of: { kbId: string } | { documentId: string }): Promise<string[]> {
  const owner = 'kbId' in of ? eq(kbChunks.kbId, of.kbId) : eq(kbChunks.documentId, of.documentId);
  const ids: string[] = [];
  let after = 0;
  for (;;) {
    const rows = await db(d1)
      .select({ seq: kbChunks.seq, id: kbChunks.id })
      .from(kbChunks)
      .where(and(owner, gt(kbChunks.seq, after)))
      .orderBy(asc(kbChunks.seq))
      .limit(5000);
    for (const r of rows) ids.push(r.id);
    if (rows.length < 5000) return ids;
    after = rows[rows.length - 1].seq;
  }
}

/** Ids of a document's chunks, in one query. */
export async function documentChunkIds(d1: D1Database, documentId: string): Promise<string[]> {
  const rows = await db(d1).select({ id: kbChunks.id }).from(kbChunks).where(eq(kbChunks.documentId, documentId));
  return rows.map((r) => r.id);
}

export const deleteDocumentChunks = (d1: D1Database, documentId: string): Statement => db(d1).delete(kbChunks).where(eq(kbChunks.documentId, documentId));

export const deleteKnowledgeBaseChunks = (d1: D1Database, kbId: string): Statement => db(d1).delete(kbChunks).where(eq(kbChunks.kbId, kbId));

/** Deletes chunks by id, one statement per 100. */
export async function deleteChunksByIds(d1: D1Database, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += D1_PARAMS) await db(d1).delete(kbChunks).where(inArray(kbChunks.id, ids.slice(i, i + D1_PARAMS)));
}

export interface ReadyChunk {
  chunkId: string;
  documentId: string;
  documentTitle: string;
  content: string;
  position: number;
  heading: string | null;
}

/** Chunks of a knowledge base among `ids` whose document is ready, by id. */
export async function readyChunks(d1: D1Database, kbId: string, ids: string[]): Promise<Map<string, ReadyChunk>> {
  const out = new Map<string, ReadyChunk>();
  for (let i = 0; i < ids.length; i += D1_PARAMS - 1) {
    const rows = await db(d1)
      .select({
        chunkId: kbChunks.id,
        documentId: kbChunks.documentId,
        documentTitle: kbDocuments.title,
        content: kbChunks.content,
        position: kbChunks.position,
        heading: kbChunks.heading,
      })
      .from(kbChunks)
      .innerJoin(kbDocuments, eq(kbDocuments.id, kbChunks.documentId))
      .where(and(eq(kbChunks.kbId, kbId), eq(kbDocuments.status, 'ready'), inArray(kbChunks.id, ids.slice(i, i + D1_PARAMS - 1))));
    for (const r of rows) out.set(r.chunkId, r);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Transitional

// ── for permissions ──

/** A knowledge base's id and owner, for authorize(); null when there is none. */
export async function findResourceRef(d1: D1Database, id: string): Promise<{ id: string; owner_id: string } | null> {
  const [row] = await db(d1).select({ id: knowledgeBases.id, owner_id: knowledgeBases.ownerId }).from(knowledgeBases).where(eq(knowledgeBases.id, id));
  return row ?? null;
}

// ── for batch ──

/** What an export lists of a knowledge base's documents (no contents), oldest first, up to `limit`. */
export function exportedDocuments(d1: D1Database, kbId: string, limit: number) {
  return db(d1)
    .select({ title: kbDocuments.title, contentType: kbDocuments.contentType, source: kbDocuments.source, size: kbDocuments.size, status: kbDocuments.status })
    .from(kbDocuments)
    .where(eq(kbDocuments.kbId, kbId))
    .orderBy(asc(kbDocuments.createdAt), asc(kbDocuments.id))
    .limit(limit);
}
