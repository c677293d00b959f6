import { chunkText, type Chunk } from '../../../engine/rag/chunker';
import { EmbeddingError, embedderFor } from '../../../engine/rag/embeddings';
import { contentToText, ExtractionError, extractText, UnsupportedFileError, type SupportedType } from '../../../engine/rag/extract';
import { ftsScope, ftsTerms } from '../../../engine/rag/fulltext';
import type { Env } from '../../../env';
import { embeddingSettingsOf, removeDocumentChunks, vectorIndexOf, type DocumentRow, type KnowledgeBaseRow } from './service';
import type { IngestMessage } from '../../../queues';


/** Deliveries of one message before it is given up (1 + max_retries in wrangler.toml). */
export const MAX_ATTEMPTS = 4;
/** Chunks embedded and written per step; progress is reported after each. */
const STEP = 64;
const D1_PARAMS = 100;

/** A failure that another attempt cannot fix (bad file, no text, misconfigured model). */
export class PermanentIngestError extends Error {
  override name = 'PermanentIngestError';
}

const isPermanent = (e: unknown) =>
  e instanceof PermanentIngestError ||
  e instanceof UnsupportedFileError ||
  e instanceof ExtractionError ||
  (e instanceof EmbeddingError && !e.transient);

/**
 * The consumer of `tiangong-ingest`. Messages are independent (one failing does not retry the
 * others) and processed concurrently, so one document's D1 round trips overlap another's work.
 */
export async function handleIngestBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  await Promise.all(batch.messages.map((message) => handleIngestMessage(message, env)));
}

async function handleIngestMessage(message: Message<unknown>, env: Env): Promise<void> {
  const body = message.body as Partial<IngestMessage> | null;
  if (!body || body.type !== 'ingest' || typeof body.document_id !== 'string' || typeof body.generation !== 'number') {
    console.warn(JSON.stringify({ type: 'ingest', warning: 'malformed message dropped', id: message.id }));
    message.ack();
    return;
  }
  try {
    await ingestDocument(env, body.document_id, body.generation);
    message.ack();
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    const final = isPermanent(e) || message.attempts >= MAX_ATTEMPTS;
    console.error(JSON.stringify({ type: 'ingest', document_id: body.document_id, attempt: message.attempts, final, error }));
    if (final) {
      await markFailed(env, body.document_id, body.generation, error);
      message.ack();
    } else {
      await env.DB.prepare(
        `UPDATE kb_documents SET status = 'pending', error = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE id = ? AND generation = ? AND status != 'ready'`,
      )
        .bind(`Attempt ${message.attempts} failed (will retry): ${error}`, body.document_id, body.generation)
        .run();
      message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
    }
  }
}

/** The consumer of the dead-letter queue: messages whose consumer itself kept crashing. */
export async function handleIngestDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const body = message.body as Partial<IngestMessage> | null;
    if (body?.type === 'ingest' && typeof body.document_id === 'string' && typeof body.generation === 'number') {
      await markFailed(env, body.document_id, body.generation, 'Ingestion gave up after repeated delivery failures');
    }
    message.ack();
  }
}

/** A failed document keeps no chunks: nothing half-indexed lingers in any store. */
async function markFailed(env: Env, documentId: string, generation: number, error: string) {
  const result = await env.DB.prepare(
    `UPDATE kb_documents SET status = 'failed', error = ?, progress = 0, chunk_count = 0, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE id = ? AND generation = ? AND status != 'ready'`,
  )
    .bind(error.slice(0, 1000), documentId, generation)
    .run();
  if (result.meta.changes === 0) return;
  const doc = await loadDocument(env, documentId);
  if (doc) await removeDocumentChunks(env, doc.kb, documentId);
}

/** A name-based UUID (RFC 9562 version 5, SHA-1): the same chunk of the same generation keeps its id. */
export async function nameUuid(name: string): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(`tiangong-chunk:${name}`)));
  const b = hash.slice(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type Loaded = DocumentRow & { kb: KnowledgeBaseRow };

async function loadDocument(env: Env, documentId: string): Promise<Loaded | null> {
  const doc = await env.DB.prepare('SELECT * FROM kb_documents WHERE id = ?').bind(documentId).first<DocumentRow>();
  if (!doc) return null;
  const kb = await env.DB.prepare('SELECT * FROM knowledge_bases WHERE id = ?').bind(doc.kb_id).first<KnowledgeBaseRow>();
  return kb ? { ...doc, kb } : null;
}

async function documentText(env: Env, doc: Loaded): Promise<string> {
  if (doc.source === 'text') {
    const kind = doc.content_type === 'text/html' ? 'html' : doc.content_type === 'text/markdown' ? 'markdown' : 'text';
    return contentToText(doc.content ?? '', kind);
  }
  const upload = await env.DB.prepare('SELECT storage_key, content_type FROM uploads WHERE id = ?')
    .bind(doc.upload_id)
    .first<{ storage_key: string; content_type: SupportedType }>();
  if (!upload) throw new PermanentIngestError('The uploaded file no longer exists');
  const object = await env.FILES.get(upload.storage_key);
  if (!object) throw new PermanentIngestError('The uploaded file is missing from storage');
  const { text } = await extractText(new Uint8Array(await object.arrayBuffer()), upload.content_type);
  return text;
}

/**
 * Chunks, embeds and indexes one document. Safe to run again for the same message (at-least-once
 * delivery): it does nothing for a document that is gone, already ready, or of a newer generation;
 * otherwise it replaces whatever an earlier, interrupted attempt wrote (chunk ids are derived from
 * document, generation and position, and there is one chunk per position).
 */
export async function ingestDocument(env: Env, documentId: string, generation: number): Promise<'ingested' | 'skipped'> {
  const doc = await loadDocument(env, documentId);
  if (!doc || doc.generation !== generation || doc.status === 'ready') return 'skipped';
  const { kb } = doc;
  const claimed = await env.DB.prepare(
    `UPDATE kb_documents SET status = 'processing', progress = 0, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE id = ? AND generation = ? AND status != 'ready'`,
  )
    .bind(documentId, generation)
    .run();
  if (claimed.meta.changes === 0) return 'skipped';

  const text = await documentText(env, doc);
  const chunks = chunkText(text, { strategy: kb.chunk_strategy, chunk_size: kb.chunk_size, chunk_overlap: kb.chunk_overlap });
  if (chunks.length === 0) throw new PermanentIngestError('The document has no extractable text');

  const index = vectorIndexOf(env, kb);
  const embedder = embedderFor(env, await embeddingSettingsOf(env, kb));
  const ids = await Promise.all(chunks.map((c) => nameUuid(`${documentId}:${generation}:${c.position}`)));

  // Whatever an earlier attempt left goes first: in D1 with the first write below (chunks take
  // their full-text rows and local vectors with them); in Vectorize here, ids not reused.
  if (index.kind === 'vectorize') {
    const stale = await env.DB.prepare('SELECT id FROM kb_chunks WHERE document_id = ?').bind(documentId).all<{ id: string }>();
    const keep = new Set(ids);
    await index.deleteByIds(stale.results.map((r) => r.id).filter((id) => !keep.has(id)));
  }

  const written: string[] = [];
  try {
    for (let start = 0; start < chunks.length; start += STEP) {
      const step = chunks.slice(start, start + STEP);
      const stepIds = ids.slice(start, start + STEP);
      const vectors = await embedder.embed(step.map((c) => `${doc.title}\n${c.content}`));
      const last = start + STEP >= chunks.length;
      const progress = last ? null : Math.floor(((start + step.length) / chunks.length) * 99);
      const still = await writeChunks(env, kb, doc, generation, step, stepIds, { replace: start === 0, progress });
      if (!still) return 'skipped'; // deleted or re-generated meanwhile: the finally block cleans up
      written.push(...stepIds);
      await index.upsert(
        kb.id,
        step.map((_, i) => ({ id: stepIds[i], values: vectors[i], document_id: documentId })),
      );
    }
    const done = await env.DB.prepare(
      `UPDATE kb_documents SET status = 'ready', progress = 100, chunk_count = ?, error = NULL,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       WHERE id = ? AND generation = ?`,
    )
      .bind(chunks.length, documentId, generation)
      .run();
    if (done.meta.changes === 1) {
      written.length = 0; // keep them
      return 'ingested';
    }
    return 'skipped';
  } finally {
    // The document was deleted or re-indexed while this ran: remove what this run wrote.
    if (written.length) await removeWritten(env, index, written);
  }
}

async function removeWritten(env: Env, index: ReturnType<typeof vectorIndexOf>, ids: string[]) {
  await index.deleteByIds(ids);
  for (let i = 0; i < ids.length; i += D1_PARAMS) {
    const group = ids.slice(i, i + D1_PARAMS);
    await env.DB.prepare(`DELETE FROM kb_chunks WHERE id IN (${group.map(() => '?').join(', ')})`).bind(...group).run();
  }
}

/**
 * Writes chunk rows and their full-text rows in one atomic batch, only while the document still
 * exists at this generation. Returns false when it no longer does.
 */
async function writeChunks(
  env: Env,
  kb: KnowledgeBaseRow,
  doc: Loaded,
  generation: number,
  chunks: Chunk[],
  ids: string[],
  options: { replace: boolean; progress: number | null },
): Promise<boolean> {
  const statements: D1PreparedStatement[] = [];
  if (options.replace) statements.push(env.DB.prepare('DELETE FROM kb_chunks WHERE document_id = ?').bind(doc.id));
  const guard = 'EXISTS (SELECT 1 FROM kb_documents WHERE id = ? AND generation = ?)';
  // 5 values per chunk plus 4 shared parameters per statement.
  const perChunkStmt = Math.floor((D1_PARAMS - 4) / 5);
  for (let i = 0; i < chunks.length; i += perChunkStmt) {
    const group = chunks.slice(i, i + perChunkStmt);
    statements.push(
      env.DB.prepare(
        `INSERT INTO kb_chunks (id, kb_id, document_id, position, content, heading, char_count)
         SELECT column1, ?, ?, column2, column3, column4, column5 FROM (VALUES ${group.map(() => '(?, ?, ?, ?, ?)').join(', ')})
         WHERE ${guard}`,
      ).bind(
        kb.id,
        doc.id,
        ...group.flatMap((c, j) => [ids[i + j], c.position, c.content, c.heading ?? null, [...c.content].length]),
        doc.id,
        generation,
      ),
    );
  }
  const scope = ftsScope(kb.id, doc.id);
  const perFtsStmt = Math.floor((D1_PARAMS - 1) / 2);
  for (let i = 0; i < chunks.length; i += perFtsStmt) {
    const group = chunks.slice(i, i + perFtsStmt);
    // rowid = the chunk's seq; a chunk not written (document gone) gets no full-text row.
    statements.push(
      env.DB.prepare(
        `INSERT INTO kb_chunks_fts (rowid, terms, scope)
         SELECT c.seq, v.column2, ? FROM (VALUES ${group.map(() => '(?, ?)').join(', ')}) v JOIN kb_chunks c ON c.id = v.column1`,
      ).bind(scope, ...group.flatMap((c, j) => [ids[i + j], ftsTerms(`${doc.title}\n${c.content}`)])),
    );
  }
  if (options.progress !== null) {
    statements.push(
      env.DB.prepare('UPDATE kb_documents SET progress = ? WHERE id = ? AND generation = ?').bind(options.progress, doc.id, generation),
    );
  }
  statements.push(env.DB.prepare('SELECT count(*) AS n FROM kb_documents WHERE id = ? AND generation = ?').bind(doc.id, generation));
  const results = await env.DB.batch<{ n: number }>(statements);
  return results[results.length - 1].results[0].n === 1;
}
