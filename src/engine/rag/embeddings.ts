import type { Env } from '../../env';
import { guardedFetch } from '../../lib/outbound';
import { lexicalTerms } from './text';

/** Turns texts into unit-length vectors of a fixed dimension. */
export interface Embedder {
  /** The model id stored with a knowledge base, e.g. `@cf/baai/bge-m3`. */
  readonly model: string;
  readonly dimensions: number;
  /** Texts per call the backend accepts. */
  readonly maxBatch: number;
  /**
   * Cosine similarity below which a match is noise for this model (unrelated texts still score a
   * little above 0); semantic search drops matches under it.
   */
  readonly noiseFloor: number;
  /**
   * Weight of this model's ranking in hybrid fusion, next to full-text's 1. Semantic models 1;
   * the local lexical stand-in less, since it repeats the full-text signal with cruder weighting.
   */
  readonly hybridWeight: number;
  embed(texts: string[]): Promise<Float32Array[]>;
}

export class EmbeddingError extends Error {
  override name = 'EmbeddingError';
  /** True when another attempt may succeed (rate limit, upstream 5xx). */
  constructor(
    message: string,
    readonly transient = false,
  ) {
    super(message);
  }
}

export function l2normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}

export function dot(a: Float32Array | number[], b: Float32Array | number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

// FNV-1a over UTF-16 code units: fast, deterministic, good enough spread for feature hashing.
function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export const LOCAL_EMBEDDING_MODEL = 'local-hashed-char-ngram';

/**
 * The offline stand-in for an embedding model: a hashed bag of character n-grams (CJK unigrams
 * and bigrams, words and word-internal character trigrams elsewhere), square-rooted term counts,
 * signed feature hashing into `dimensions` buckets, L2-normalised. Deterministic and free, but
 * LEXICAL, not semantic: texts are close when they share characters and words, not meaning
 * (a synonym or a translation scores nothing).
 */
export class HashedNgramEmbedder implements Embedder {
  readonly model = LOCAL_EMBEDDING_MODEL;
  readonly maxBatch = 256;
  readonly noiseFloor = 0.05;
  // Chosen by cross-validation on CMRC 2018 dev (bench/scenarios/knowledge.mjs): on either half,
  // weights 0 to 0.05 tie for the best recall@1 and anything above loses; 0.05 is the largest of
  // them, so the stand-in's list only reorders what full-text ranks alike and adds what it misses.
  readonly hybridWeight = 0.05;
  // 1024 buckets: at 256 a 500-character passage's ~1000 features collide so much that
  // recall@1 on CMRC 2018 falls from 0.78 to 0.35.
  constructor(readonly dimensions = 1024) {}

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const counts = new Map<string, number>();
    const add = (feature: string, weight: number) => counts.set(feature, (counts.get(feature) ?? 0) + weight);
    const { unigrams, bigrams, words } = lexicalTerms(text);
    // Bigrams carry most of the meaning of Chinese text; single characters are weak evidence.
    for (const u of unigrams) add(`u:${u}`, 0.25);
    for (const b of bigrams) add(`b:${b}`, 1);
    for (const w of words) {
      add(`w:${w}`, 1);
      if (w.length > 4) for (let i = 0; i + 3 <= w.length; i++) add(`t:${w.slice(i, i + 3)}`, 0.3);
    }
    const v = new Float32Array(this.dimensions);
    for (const [feature, count] of counts) {
      const h = fnv1a(feature);
      const sign = fnv1a(feature, 0x9747b28c) & 1 ? 1 : -1;
      v[h % this.dimensions] += sign * Math.sqrt(count);
    }
    return l2normalize(v);
  }
}

export const WORKERS_AI_EMBEDDING_MODEL = '@cf/baai/bge-m3';

/** Workers AI `@cf/baai/bge-m3`: multilingual, 1024 dimensions. */
export class WorkersAiEmbedder implements Embedder {
  readonly dimensions = 1024;
  readonly maxBatch = 100;
  readonly noiseFloor = 0.3;
  readonly hybridWeight = 1;
  constructor(
    private readonly ai: Ai,
    readonly model = WORKERS_AI_EMBEDDING_MODEL,
  ) {}

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.maxBatch) {
      const batch = texts.slice(i, i + this.maxBatch);
      const result = (await (this.ai as unknown as { run: (m: string, i: unknown) => Promise<unknown> }).run(this.model, {
        text: batch,
      })) as { data?: number[][] };
      if (!result?.data || result.data.length !== batch.length) throw new EmbeddingError('Workers AI returned no embeddings');
      for (const row of result.data) out.push(l2normalize(Float32Array.from(row)));
    }
    return out;
  }
}

export interface OpenAiEmbeddingConfig {
  base_url: string;
  api_key?: string;
  model: string;
  dimensions: number;
}

/** Any OpenAI-compatible `POST {base_url}/embeddings` (OpenAI, DashScope, Zhipu, Ollama, vLLM...). */
export class OpenAiCompatibleEmbedder implements Embedder {
  readonly maxBatch = 64;
  readonly noiseFloor = 0.2;
  readonly hybridWeight = 1;
  constructor(
    private readonly env: Env,
    private readonly config: OpenAiEmbeddingConfig,
  ) {}
  get model() {
    return this.config.model;
  }
  get dimensions() {
    return this.config.dimensions;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const url = this.config.base_url.replace(/\/+$/, '') + '/embeddings';
    for (let i = 0; i < texts.length; i += this.maxBatch) {
      const batch = texts.slice(i, i + this.maxBatch);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (this.config.api_key) headers.authorization = `Bearer ${this.config.api_key}`;
      const res = await guardedFetch(this.env, url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: this.config.model, input: batch }),
      });
      if (!res.ok) throw new EmbeddingError(`Embeddings endpoint answered ${res.status}`, res.status === 429 || res.status >= 500);
      const body = (await res.json()) as { data?: Array<{ index?: number; embedding: number[] }> };
      const rows = [...(body.data ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
      if (rows.length !== batch.length) throw new EmbeddingError('Embeddings endpoint returned the wrong number of vectors');
      for (const row of rows) {
        if (row.embedding.length !== this.config.dimensions) {
          throw new EmbeddingError(`Embedding has ${row.embedding.length} dimensions, expected ${this.config.dimensions}`);
        }
        out.push(l2normalize(Float32Array.from(row.embedding)));
      }
    }
    return out;
  }
}

export type EmbeddingProvider = 'local' | 'workers-ai' | 'openai';

export interface EmbeddingSettings {
  provider: EmbeddingProvider;
  model: string;
  dimensions: number;
  base_url?: string | null;
  api_key?: string | null;
}

/** The embedder a knowledge base's settings name. */
export function embedderFor(env: Env, settings: EmbeddingSettings): Embedder {
  switch (settings.provider) {
    case 'local':
      return new HashedNgramEmbedder(settings.dimensions);
    case 'workers-ai':
      if (!env.AI) throw new EmbeddingError('Workers AI is not bound (AI binding missing)');
      return new WorkersAiEmbedder(env.AI, settings.model);
    case 'openai':
      if (!settings.base_url) throw new EmbeddingError('An OpenAI-compatible embedding model needs a base_url');
      return new OpenAiCompatibleEmbedder(env, {
        base_url: settings.base_url,
        api_key: settings.api_key ?? undefined,
        model: settings.model,
        dimensions: settings.dimensions,
      });
  }
}

/** The default for new knowledge bases: bge-m3 where Workers AI is bound, else the local stand-in. */
export function defaultEmbedding(env: Env): EmbeddingSettings {
  return env.AI
    ? { provider: 'workers-ai', model: WORKERS_AI_EMBEDDING_MODEL, dimensions: 1024 }
    : { provider: 'local', model: LOCAL_EMBEDDING_MODEL, dimensions: 1024 };
}
