import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema, PaginationQuery } from '../../../lib/pagination';
import { errorResponse, errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import {
  AddDocumentBody,
  CreateKnowledgeBaseBody,
  DocumentListQuery,
  DocumentSchema,
  KnowledgeBaseListQuery,
  KnowledgeBaseSchema,
  RagBody,
  RagEvents,
  RagResponse,
  SearchBody,
  SearchResponse,
  UpdateKnowledgeBaseBody,
} from './schemas';

const tags = ['knowledge-bases'];
const KbParams = idParam('kb_id');
const DocParams = KbParams.merge(idParam('doc_id'));

export const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'Your knowledge bases',
  ...authenticated,
  request: { query: PaginationQuery.merge(KnowledgeBaseListQuery) },
  responses: {
    200: jsonContent(paginatedSchema(KnowledgeBaseSchema, 'KnowledgeBaseList'), 'A page of knowledge bases'),
    ...errors(401, 422),
  },
});

export const create = createRoute({
  method: 'post',
  path: '/',
  tags,
  summary: 'Create a knowledge base (embedding model, chunking and retrieval defaults)',
  ...authenticated,
  request: { body: jsonBody(CreateKnowledgeBaseBody) },
  responses: {
    201: jsonContent(KnowledgeBaseSchema, 'The new knowledge base'),
    ...errors(400, 401, 403, 422),
  },
});

export const get = createRoute({
  method: 'get',
  path: '/{kb_id}',
  tags,
  summary: 'A knowledge base with its document and chunk counts and total size',
  ...authenticated,
  request: { params: KbParams },
  responses: {
    200: jsonContent(KnowledgeBaseSchema, 'The knowledge base'),
    ...errors(401, 404),
  },
});

export const update = createRoute({
  method: 'put',
  path: '/{kb_id}',
  tags,
  summary: 'Update a knowledge base; a new embedding model or chunking re-indexes every document',
  ...authenticated,
  request: { params: KbParams, body: jsonBody(UpdateKnowledgeBaseBody) },
  responses: {
    200: jsonContent(KnowledgeBaseSchema, 'The updated knowledge base'),
    ...errors(400, 401, 403, 404, 422),
  },
});

export const remove = createRoute({
  method: 'delete',
  path: '/{kb_id}',
  tags,
  summary: 'Delete a knowledge base with all its documents, chunks, vectors and full-text entries',
  ...authenticated,
  request: { params: KbParams },
  responses: {
    204: { description: 'Deleted' },
    ...errors(401, 403, 404),
  },
});

export const listDocuments = createRoute({
  method: 'get',
  path: '/{kb_id}/documents',
  tags,
  summary: 'Documents of a knowledge base, with ingestion status and progress',
  ...authenticated,
  request: { params: KbParams, query: PaginationQuery.merge(DocumentListQuery) },
  responses: {
    200: jsonContent(paginatedSchema(DocumentSchema, 'KnowledgeDocumentList'), 'A page of documents'),
    ...errors(401, 404, 422),
  },
});

export const addDocument = createRoute({
  method: 'post',
  path: '/{kb_id}/documents',
  tags,
  summary: 'Add a document from text or an upload; it is ingested asynchronously (pending → processing → ready | failed)',
  ...authenticated,
  request: { params: KbParams, body: jsonBody(AddDocumentBody) },
  responses: {
    202: jsonContent(DocumentSchema, 'The document, queued for ingestion'),
    ...errors(401, 403, 404),
    413: errorResponse('Body too large'),
    ...errors(422),
  },
});

export const deleteDocument = createRoute({
  method: 'delete',
  path: '/{kb_id}/documents/{doc_id}',
  tags,
  summary: 'Delete a document with its chunks, vectors and full-text entries',
  ...authenticated,
  request: { params: DocParams },
  responses: {
    204: { description: 'Deleted' },
    ...errors(401, 403, 404),
  },
});

export const search = createRoute({
  method: 'post',
  path: '/{kb_id}/search',
  tags,
  summary: 'Search: semantic (vectors), full-text (FTS5 BM25, Chinese aware) or hybrid (reciprocal-rank fusion)',
  ...authenticated,
  request: { params: KbParams, body: jsonBody(SearchBody) },
  responses: {
    200: jsonContent(SearchResponse, 'Ranked results'),
    ...errors(401, 404, 422),
    502: errorResponse('The embedding model failed'),
  },
});

export const rag = createRoute({
  method: 'post',
  path: '/{kb_id}/rag',
  tags,
  summary: 'Answer a question from the knowledge base with numbered citations (JSON, or SSE with `stream: true`)',
  ...authenticated,
  request: { params: KbParams, body: jsonBody(RagBody) },
  responses: {
    200: {
      description: 'The grounded answer; with `stream: true` an SSE stream of `citations`, `token`, `done` or `error` events',
      content: {
        'application/json': { schema: RagResponse },
        ...RagEvents,
      },
    },
    ...errors(401, 404, 422),
    502: errorResponse('The model failed'),
  },
});
