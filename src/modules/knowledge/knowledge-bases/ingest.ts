import { chunkText, type Chunk } from '../../../engine/rag/chunker';
import { EmbeddingError, embedderFor } from '../../../engine/rag/embeddings';
import { ExtractionError, UnsupportedFileError } from '../../../engine/rag/extract';
import { ftsScope, ftsTerms } from '../../../engine/rag/fulltext';
import type { Env } from '../../../env';
import { documentText, embeddingSettingsOf, removeDocumentChunks, vectorIndexOf } from './service';
import { type DocumentRow, type KnowledgeBaseRow } from './store';
import type { IngestMessage } from '../../../queues';
import { logJobFailure } from '../../governance/system-logs/log';
import { runBatch, type Statement } from '../../../db/client';
import * as store from './store';
import { insertChunkTerms } from './store/fulltext';

/** Deliveries of one message before it is given up (1 + max_retries in wrangler.toml). */
export const MAX_ATTEMPTS = 4;
const INGEST_JOB = 'queue:tiangong-ingest';
/** Chunks embedded and written per step; progress is reported after each. */
const STEP = 64;

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
    await logJobFailure(env, { job: INGEST_JOB, gaveUp: true, messageId: message.id, attempt: message.attempts, cause: 'malformed ingest message dropped' });
    message.ack();
    return;
  }
  try {
    await ingestDocument(env, body.document_id, body.generation);
    message.ack();
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    const final = isPermanent(e) || message.attempts >= MAX_ATTEMPTS;
    await logJobFailure(env, { job: INGEST_JOB, gaveUp: final, messageId: message.id, attempt: message.attempts, resource: { type: 'kb_document', id: body.document_id }, cause: error });
    if (final) {
      await markFailed(env, body.document_id, body.generation, error);
      message.ack();
    } else {
      await store.markDocumentRetrying(env.DB, body.document_id, body.generation, `Attempt ${message.attempts} failed (will retry): ${error}`);
      message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
    }
  }
}

/** The consumer of the dead-letter queue: messages whose consumer itself kept crashing. */
export async function handleIngestDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const body = message.body as Partial<IngestMessage> | null;
    if (body?.type === 'ingest' && typeof body.document_id === 'string' && typeof body.generation === 'number') {
      await logJobFailure(env, { job: INGEST_JOB, gaveUp: true, messageId: message.id, resource: { type: 'kb_document', id: body.document_id } });
      await markFailed(env, body.document_id, body.generation, 'Ingestion gave up after repeated delivery failures');
    }
    message.ack();
  }
}

/** A failed document keeps no chunks: nothing half-indexed lingers in any store. */
async function markFailed(env: Env, documentId: string, generation: number, error: string) {
  if (!(await store.markDocumentFailed(env.DB, documentId, generation, error.slice(0, 1000)))) return;
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
  const doc = await store.findDocument(env.DB, documentId);
  if (!doc) return null;
  const kb = await store.findKnowledgeBase(env.DB, doc.kbId);
  return kb ? { ...doc, kb } : null;
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
  if (!(await store.claimDocument(env.DB, documentId, generation))) return 'skipped';

  const { text } = await documentText(env, doc);
  const chunks = chunkText(text, { strategy: kb.chunkStrategy, chunk_size: kb.chunkSize, chunk_overlap: kb.chunkOverlap });
  if (chunks.length === 0) throw new PermanentIngestError('The document has no extractable text');

  const index = vectorIndexOf(env, kb);
  const embedder = embedderFor(env, await embeddingSettingsOf(env, kb));
  const ids = await Promise.all(chunks.map((c) => nameUuid(`${documentId}:${generation}:${c.position}`)));

  // Whatever an earlier attempt left goes first: in D1 with the first write below (chunks take
  // their full-text rows and local vectors with them); in Vectorize here, ids not reused.
  if (index.kind === 'vectorize') {
    const stale = await store.documentChunkIds(env.DB, documentId);
    const keep = new Set(ids);
    await index.deleteByIds(stale.filter((id) => !keep.has(id)));
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
    if (await store.markDocumentReady(env.DB, documentId, generation, chunks.length)) {
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
  await store.deleteChunksByIds(env.DB, ids);
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
  const statements: Statement[] = [];
  if (options.replace) statements.push(store.deleteDocumentChunks(env.DB, doc.id));
  statements.push(
    ...store.insertChunks(
      env.DB,
      kb.id,
      doc.id,
      generation,
      chunks.map((c, j) => ({ id: ids[j], position: c.position, content: c.content, heading: c.heading ?? null, charCount: [...c.content].length })),
    ),
  );
  statements.push(...insertChunkTerms(env.DB, ftsScope(kb.id, doc.id), chunks.map((c, j) => ({ chunkId: ids[j], terms: ftsTerms(`${doc.title}\n${c.content}`) }))));
  if (options.progress !== null) statements.push(store.documentProgress(env.DB, doc.id, generation, options.progress));
  statements.push(store.documentAtGeneration(env.DB, doc.id, generation));
  const results = await runBatch(env.DB, statements);
  return (results[results.length - 1] as Array<{ n: number }>)[0].n === 1;
}
