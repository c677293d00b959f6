import type { Env } from '../../env';
import { dot } from './embeddings';

export interface VectorRecord {
  /** The chunk id (≤ 64 bytes, as Vectorize requires). */
  id: string;
  values: Float32Array;
  document_id: string;
}

export interface VectorMatch {
  id: string;
  /** Cosine similarity. */
  score: number;
}

export interface VectorQuery {
  topK: number;
  /** Only vectors of these documents. */
  documentIds?: string[];
}

/**
 * One vector store per deployment, partitioned by namespace (a knowledge base's id). Vectorize in
 * production; `LocalVectorIndex` (brute-force cosine over rows in D1) everywhere else.
 */
export interface VectorIndex {
  readonly kind: 'vectorize' | 'local';
  upsert(namespace: string, records: VectorRecord[]): Promise<void>;
  query(namespace: string, vector: Float32Array, options: VectorQuery): Promise<VectorMatch[]>;
  deleteByIds(ids: string[]): Promise<void>;
}

// D1 allows 100 bound parameters per statement.
const D1_PARAMS = 100;

function chunked<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toBlob(v: Float32Array): ArrayBuffer {
  return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) as ArrayBuffer;
}

function fromBlob(blob: ArrayBuffer | Uint8Array | number[]): Float32Array {
  if (blob instanceof ArrayBuffer) return new Float32Array(blob);
  const bytes = blob instanceof Uint8Array ? blob : Uint8Array.from(blob);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The offline index: vectors as float32 blobs in the `rag_vectors` table, searched exhaustively. */
export class LocalVectorIndex implements VectorIndex {
  readonly kind = 'local' as const;
  constructor(private readonly db: D1Database) {}

  async upsert(namespace: string, records: VectorRecord[]): Promise<void> {
    const statements = chunked(records, Math.floor(D1_PARAMS / 4)).map((group) =>
      this.db
        .prepare(
          `INSERT INTO rag_vectors (id, namespace, document_id, embedding) VALUES ${group.map(() => '(?, ?, ?, ?)').join(', ')}
           ON CONFLICT(id) DO UPDATE SET namespace = excluded.namespace, document_id = excluded.document_id, embedding = excluded.embedding`,
        )
        .bind(...group.flatMap((r) => [r.id, namespace, r.document_id, toBlob(r.values)])),
    );
    for (const group of chunked(statements, 50)) await this.db.batch(group);
  }

  async query(namespace: string, vector: Float32Array, { topK, documentIds }: VectorQuery): Promise<VectorMatch[]> {
    if (documentIds && documentIds.length === 0) return [];
    const rows: Array<{ id: string; embedding: ArrayBuffer | number[] }> = [];
    if (documentIds) {
      for (const ids of chunked(documentIds, D1_PARAMS - 1)) {
        const { results } = await this.db
          .prepare(`SELECT id, embedding FROM rag_vectors WHERE namespace = ? AND document_id IN (${ids.map(() => '?').join(', ')})`)
          .bind(namespace, ...ids)
          .all<{ id: string; embedding: ArrayBuffer }>();
        rows.push(...results);
      }
    } else {
      const { results } = await this.db
        .prepare('SELECT id, embedding FROM rag_vectors WHERE namespace = ?')
        .bind(namespace)
        .all<{ id: string; embedding: ArrayBuffer }>();
      rows.push(...results);
    }
    return topMatches(
      rows.map((r) => ({ id: r.id, score: dot(vector, fromBlob(r.embedding)) })),
      topK,
    );
  }

  async deleteByIds(ids: string[]): Promise<void> {
    const statements = chunked(ids, D1_PARAMS).map((group) =>
      this.db.prepare(`DELETE FROM rag_vectors WHERE id IN (${group.map(() => '?').join(', ')})`).bind(...group),
    );
    for (const group of chunked(statements, 50)) await this.db.batch(group);
  }
}

function topMatches(all: VectorMatch[], k: number): VectorMatch[] {
  return all.sort((a, b) => b.score - a.score).slice(0, k);
}

/**
 * Vectorize (V2). Limits respected: ≤ 1000 vectors per upsert and ids per delete, topK ≤ 100
 * (20 with metadata, which is not requested), ids ≤ 64 bytes, namespace ≤ 64 bytes. Filtering by
 * document needs a metadata index on `document_id`
 * (`wrangler vectorize create-metadata-index <index> --property-name document_id --type string`).
 * Writes are eventually consistent: a fresh vector may take seconds to be queryable, and a deleted
 * one may still match for a while, so callers resolve matches against D1 and drop unknown ids.
 */
export class VectorizeIndexAdapter implements VectorIndex {
  readonly kind = 'vectorize' as const;
  constructor(private readonly index: Vectorize) {}

  async upsert(namespace: string, records: VectorRecord[]): Promise<void> {
    for (const group of chunked(records, 1000)) {
      await this.index.upsert(
        group.map((r) => ({ id: r.id, values: Array.from(r.values), namespace, metadata: { document_id: r.document_id } })),
      );
    }
  }

  async query(namespace: string, vector: Float32Array, { topK, documentIds }: VectorQuery): Promise<VectorMatch[]> {
    if (documentIds && documentIds.length === 0) return [];
    const result = await this.index.query(Array.from(vector), {
      topK: Math.min(topK, 100),
      namespace,
      returnValues: false,
      returnMetadata: 'none',
      ...(documentIds ? { filter: { document_id: { $in: documentIds } } } : {}),
    });
    return result.matches.map((m) => ({ id: m.id, score: m.score }));
  }

  async deleteByIds(ids: string[]): Promise<void> {
    for (const group of chunked(ids, 1000)) await this.index.deleteByIds(group);
  }
}

/** Dimensions of the production Vectorize index (bge-m3). */
export const VECTORIZE_DIMENSIONS = 1024;

/**
 * The index a knowledge base's vectors live in: Vectorize when it is bound and its dimensions fit
 * the embedding model; otherwise the local index (a Vectorize index has one fixed dimension).
 */
export function vectorIndexFor(env: Env, dimensions: number): VectorIndex {
  const vectorizeDims = Number(env.VECTORIZE_DIMENSIONS ?? VECTORIZE_DIMENSIONS);
  if (env.VECTORIZE && dimensions === vectorizeDims) return new VectorizeIndexAdapter(env.VECTORIZE);
  return new LocalVectorIndex(env.DB);
}
