import type { Env } from '../../env';

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

function chunked<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One stored vector of the local index: int8 components (base64) and their scale. */
export interface StoredVector {
  id: string;
  namespace: string;
  documentId: string;
  embedding: string;
  scale: number;
}

/**
 * Where the local index keeps its vectors (the knowledge-bases store supplies it: the engine owns
 * no table). `signature` is (count, max seq) of a namespace: seq only grows, so every write changes it.
 */
export interface LocalVectorRows {
  /** Inserts or replaces (a replaced vector gets a new seq, so cached copies notice the change). */
  upsert(rows: StoredVector[]): Promise<void>;
  signature(namespace: string): Promise<{ count: number; maxSeq: number | null }>;
  load(namespace: string): Promise<Array<Pick<StoredVector, 'id' | 'documentId' | 'embedding' | 'scale'>>>;
  deleteByIds(ids: string[]): Promise<void>;
}

/** int8 quantisation with one scale per vector (components of a unit vector lie in [-1, 1]). */
export function quantize(v: Float32Array): { data: Int8Array; scale: number } {
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]));
  const scale = max > 0 ? max / 127 : 1;
  const data = new Int8Array(v.length);
  for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] / scale);
  return { data, scale };
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function decodeInto(b64: string, target: Int8Array, offset: number) {
  const s = atob(b64);
  for (let i = 0; i < s.length; i++) target[offset + i] = (s.charCodeAt(i) << 24) >> 24;
}

/** A namespace's vectors held in memory, valid while its (count, max seq) signature holds. */
interface CachedNamespace {
  signature: string;
  dims: number;
  ids: string[];
  documentIds: string[];
  scales: Float32Array;
  data: Int8Array;
}

// Per isolate; bounded so a large index does not exhaust the 128 MB isolate.
const cache = new Map<string, CachedNamespace>();
const CACHE_BYTES = 48 * 1024 * 1024;

function remember(namespace: string, entry: CachedNamespace) {
  cache.delete(namespace);
  cache.set(namespace, entry);
  let total = 0;
  for (const e of cache.values()) total += e.data.byteLength;
  for (const [key, e] of cache) {
    if (total <= CACHE_BYTES || key === namespace) break;
    cache.delete(key);
    total -= e.data.byteLength;
  }
}

/**
 * The offline index: int8-quantised vectors in D1 (the `rag_vectors` rows the knowledge-bases
 * store supplies), searched exhaustively (exact, not approximate, nearest neighbours). A namespace
 * is read from D1 once and kept in memory until a write changes its signature, checked by one
 * indexed query per search.
 */
export class LocalVectorIndex implements VectorIndex {
  readonly kind = 'local' as const;
  constructor(private readonly rows: LocalVectorRows) {}

  async upsert(namespace: string, records: VectorRecord[]): Promise<void> {
    await this.rows.upsert(
      records.map((r) => {
        const { data, scale } = quantize(r.values);
        return { id: r.id, namespace, documentId: r.document_id, embedding: toBase64(new Uint8Array(data.buffer)), scale };
      }),
    );
  }

  private async load(namespace: string): Promise<CachedNamespace | null> {
    const sig = await this.rows.signature(namespace);
    if (sig.count === 0) return null;
    const signature = `${sig.count}:${sig.maxSeq}`;
    const hit = cache.get(namespace);
    if (hit?.signature === signature) return hit;
    const results = await this.rows.load(namespace);
    if (results.length === 0) return null;
    const dims = atob(results[0].embedding).length;
    const entry: CachedNamespace = {
      signature,
      dims,
      ids: [],
      documentIds: [],
      scales: new Float32Array(results.length),
      data: new Int8Array(results.length * dims),
    };
    results.forEach((r, i) => {
      entry.ids.push(r.id);
      entry.documentIds.push(r.documentId);
      entry.scales[i] = r.scale;
      decodeInto(r.embedding, entry.data, i * dims);
    });
    // The signature read before the rows: a write in between only makes the next search reload.
    remember(namespace, entry);
    return entry;
  }

  async query(namespace: string, vector: Float32Array, { topK, documentIds }: VectorQuery): Promise<VectorMatch[]> {
    if (documentIds && documentIds.length === 0) return [];
    const entry = await this.load(namespace);
    if (!entry || entry.dims !== vector.length) return [];
    const allowed = documentIds ? new Set(documentIds) : null;
    const { dims, data, scales } = entry;
    // Only the query's non-zero components contribute to a dot product: a short query's hashed
    // embedding has a few dozen of 1024, so this is exact and many times faster than the dense loop.
    const nonZero: number[] = [];
    for (let d = 0; d < dims; d++) if (vector[d] !== 0) nonZero.push(d);
    const at = Int32Array.from(nonZero);
    const weights = Float32Array.from(nonZero, (d) => vector[d]);
    const top = new TopK(topK);
    for (let i = 0; i < entry.ids.length; i++) {
      if (allowed && !allowed.has(entry.documentIds[i])) continue;
      let s = 0;
      const off = i * dims;
      for (let j = 0; j < at.length; j++) s += data[off + at[j]] * weights[j];
      top.offer(i, s * scales[i]);
    }
    return top.sorted().map(({ index, score }) => ({ id: entry.ids[index], score }));
  }

  async deleteByIds(ids: string[]): Promise<void> {
    await this.rows.deleteByIds(ids);
  }
}

/**
 * The k best of a stream of scores, without sorting them all: a sorted array of at most k, which a
 * score enters only when it beats the worst kept (k ≤ 100, so insertion is cheap and rare).
 * Equal scores keep the earlier index first.
 */
export class TopK {
  private readonly kept: Array<{ index: number; score: number }> = [];
  constructor(private readonly k: number) {}

  offer(index: number, score: number) {
    const kept = this.kept;
    if (this.k <= 0) return;
    if (kept.length === this.k && !(score > kept[kept.length - 1].score)) return;
    let at = kept.length;
    while (at > 0 && kept[at - 1].score < score) at--;
    kept.splice(at, 0, { index, score });
    if (kept.length > this.k) kept.pop();
  }

  /** Best first. */
  sorted(): Array<{ index: number; score: number }> {
    return [...this.kept];
  }
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
 * Where a knowledge base's vectors live: Vectorize when it is bound and its dimensions fit the
 * embedding model; otherwise the local index (a Vectorize index has one fixed dimension).
 */
export function vectorStoreFor(env: Env, dimensions: number): VectorIndex['kind'] {
  const vectorizeDims = Number(env.VECTORIZE_DIMENSIONS ?? VECTORIZE_DIMENSIONS);
  return env.VECTORIZE && dimensions === vectorizeDims ? 'vectorize' : 'local';
}
