import { z } from '@hono/zod-openapi';
import { CHUNK_STRATEGIES } from '../../../engine/rag/chunker';
import { RETRIEVAL_MODES } from '../../../engine/rag/fusion';
import { ErrorSchema, eventStream } from '../../../lib/schemas';

export const DOCUMENT_STATUSES = ['pending', 'processing', 'ready', 'failed'] as const;

const ChunkingSchema = z
  .object({
    strategy: z.enum(CHUNK_STRATEGIES).meta({ description: 'fixed size, paragraph, Markdown headings, or sentence (Chinese punctuation aware)' }),
    chunk_size: z.int().min(10).max(4000).meta({ description: 'Largest chunk, in characters' }),
    chunk_overlap: z.int().min(0).max(2000).meta({ description: 'Characters shared by consecutive chunks' }),
  })
  .openapi('ChunkingSettings');

const RetrievalSchema = z
  .object({
    mode: z.enum(RETRIEVAL_MODES),
    top_k: z.int().min(1).max(50),
    score_threshold: z.number().min(0).meta({
      description: 'Results scoring below are dropped (semantic: cosine; full-text: BM25; hybrid: normalised RRF in (0, 1])',
    }),
  })
  .openapi('RetrievalSettings');

const EmbeddingSchema = z
  .object({
    provider: z.enum(['local', 'workers-ai', 'openai']),
    model: z.string(),
    dimensions: z.int(),
    base_url: z.string().nullable(),
    has_api_key: z.boolean(),
  })
  .openapi('EmbeddingSettings');

export const KnowledgeBaseSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    embedding: EmbeddingSchema,
    vector_store: z.enum(['local', 'vectorize']),
    chunking: ChunkingSchema,
    retrieval: RetrievalSchema,
    document_count: z.int(),
    chunk_count: z.int(),
    total_size: z.int().meta({ description: 'Bytes of all documents' }),
    documents_by_status: z.object({ pending: z.int(), processing: z.int(), ready: z.int(), failed: z.int() }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('KnowledgeBase');

const EmbeddingInput = z
  .object({
    provider: z.enum(['local', 'workers-ai', 'openai']).meta({
      description: '`local`: the offline hashed character n-gram embedding (lexical); `workers-ai`: @cf/baai/bge-m3; `openai`: any OpenAI-compatible embeddings endpoint',
    }),
    model: z.string().trim().min(1).max(128).optional(),
    dimensions: z.int().min(2).max(4096).optional(),
    base_url: z.string().trim().url().max(2048).optional(),
    api_key: z.string().min(1).max(1024).optional(),
  })
  .openapi('EmbeddingInput');

export const CreateKnowledgeBaseBody = z
  .object({
    name: z.string().trim().min(1).max(128),
    description: z.string().max(2000).default(''),
    embedding: EmbeddingInput.optional(),
    chunking: ChunkingSchema.partial().optional(),
    retrieval: RetrievalSchema.partial().optional(),
  })
  .openapi('CreateKnowledgeBaseRequest');

export const UpdateKnowledgeBaseBody = z
  .object({
    name: z.string().trim().min(1).max(128).optional(),
    description: z.string().max(2000).optional(),
    embedding: EmbeddingInput.optional(),
    chunking: ChunkingSchema.partial().optional(),
    retrieval: RetrievalSchema.partial().optional(),
  })
  .openapi('UpdateKnowledgeBaseRequest');

export const KnowledgeBaseListQuery = z.object({
  search: z.string().max(128).optional().meta({ description: 'Substring of the name' }),
});

const MetadataValue = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);
const MetadataSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'Metadata keys are 1-64 letters, digits, _ . -'), MetadataValue)
  .refine((m) => Object.keys(m).length <= 32, 'At most 32 metadata keys');

export const DocumentSchema = z
  .object({
    id: z.uuid(),
    knowledge_base_id: z.uuid(),
    title: z.string(),
    content_type: z.string(),
    source: z.enum(['text', 'upload']),
    upload_id: z.string().nullable(),
    size: z.int(),
    status: z.enum(DOCUMENT_STATUSES),
    progress: z.int().meta({ description: '0-100' }),
    chunk_count: z.int(),
    error: z.string().nullable(),
    metadata: z.record(z.string(), MetadataValue),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('KnowledgeDocument');

export const AddDocumentBody = z
  .object({
    title: z.string().trim().min(1).max(255).optional(),
    content: z.string().min(1).optional().meta({ description: 'The text (alternatively `upload_id`)' }),
    content_type: z.enum(['text', 'markdown', 'html']).default('text'),
    upload_id: z.string().min(1).optional().meta({ description: 'An upload of yours (txt, md, html, csv, json, pdf)' }),
    metadata: MetadataSchema.default({}),
  })
  .refine((b) => (b.content === undefined) !== (b.upload_id === undefined), {
    message: 'Give exactly one of content and upload_id',
    path: ['content'],
  })
  .refine((b) => b.upload_id !== undefined || b.title !== undefined, { message: 'A title is required with content', path: ['title'] })
  .openapi('AddDocumentRequest');

export const DocumentListQuery = z.object({
  status: z.enum(DOCUMENT_STATUSES).optional(),
  search: z.string().max(255).optional().meta({ description: 'Substring of the title' }),
});

export const SearchFilter = z
  .object({
    document_ids: z.array(z.string().min(1)).max(500).optional(),
    metadata: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), z.union([z.string(), z.number(), z.boolean()])).optional().meta({
      description: 'Documents whose metadata has all these values',
    }),
  })
  .openapi('SearchFilter');

export const SearchBody = z
  .object({
    query: z.string().trim().min(1).max(2000),
    top_k: z.int().min(1).max(50).optional(),
    mode: z.enum(RETRIEVAL_MODES).optional(),
    score_threshold: z.number().min(0).optional(),
    filter: SearchFilter.optional(),
  })
  .openapi('SearchRequest');

export const SearchResultSchema = z
  .object({
    chunk_id: z.string(),
    document_id: z.string(),
    document_title: z.string(),
    content: z.string(),
    score: z.number(),
    position: z.int(),
    heading: z.string().nullable(),
  })
  .openapi('SearchResult');

export const SearchResponse = z
  .object({
    query: z.string(),
    mode: z.enum(RETRIEVAL_MODES),
    results: z.array(SearchResultSchema),
    took_ms: z.number(),
  })
  .openapi('SearchResponse');

const ModelConfigInput = z
  .object({
    provider: z.string().min(1).max(64),
    model_name: z.string().min(1).max(128),
    temperature: z.number().min(0).max(2).optional(),
    max_tokens: z.int().min(1).max(32000).optional(),
  })
  .openapi('RagModelConfig');

export const RagBody = z
  .object({
    query: z.string().trim().min(1).max(2000),
    top_k: z.int().min(1).max(20).optional(),
    mode: z.enum(RETRIEVAL_MODES).optional(),
    score_threshold: z.number().min(0).optional(),
    filter: SearchFilter.optional(),
    model_config: ModelConfigInput.optional().meta({ description: 'The model to answer with (default: the system model)' }),
    stream: z.boolean().default(false).meta({ description: 'Answer as SSE: `citations`, `token`..., `done` (or `error`)' }),
  })
  .openapi('RagRequest');

export const CitationSchema = z
  .object({
    index: z.int().meta({ description: 'The [n] the answer cites it by' }),
    chunk_id: z.string(),
    document_id: z.string(),
    title: z.string(),
    snippet: z.string(),
    score: z.number(),
  })
  .openapi('Citation');

export const RagResponse = z
  .object({
    answer: z.string(),
    citations: z.array(CitationSchema),
    token_usage: z.object({ prompt_tokens: z.int(), completion_tokens: z.int(), total_tokens: z.int() }),
  })
  .openapi('RagResponse');

/** The events of `POST /knowledge-bases/{kb_id}/rag` with `stream: true`: citations, token..., then done or error. */
export const RagEvents = eventStream('Rag', {
  citations: z.object({ citations: z.array(CitationSchema) }).meta({ description: 'The sources, first' }),
  token: z.object({ content: z.string() }).meta({ description: 'A piece of the answer' }),
  // The whole answer, as the non-streaming call answers it; the last event.
  done: RagResponse,
  // The model failed; the last event.
  error: ErrorSchema,
});

export type SearchInput = z.infer<typeof SearchBody>;
export type RagInput = z.infer<typeof RagBody>;
