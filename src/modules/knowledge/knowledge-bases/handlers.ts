import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import { answer, answerStream, retrieveFromKnowledgeBase } from './retrieval';
import type * as routes from './routes';
import * as service from './service';

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const { page, page_size, ...query } = c.req.valid('query');
  return c.json(await service.listKnowledgeBases(c.env, c.get('user'), query, { page, page_size }), 200);
};

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) =>
  c.json(await service.createKnowledgeBase(c.env, c.get('user'), c.req.valid('json')), 201);

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) =>
  c.json(await service.getKnowledgeBase(c.env, c.get('user'), c.req.valid('param').kb_id), 200);

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) =>
  c.json(await service.updateKnowledgeBase(c.env, c.get('user'), c.req.valid('param').kb_id, c.req.valid('json')), 200);

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  await service.deleteKnowledgeBase(c.env, c.get('user'), c.req.valid('param').kb_id);
  return c.body(null, 204);
};

export const listDocuments: RouteHandler<typeof routes.listDocuments, AppEnv> = async (c) => {
  const { page, page_size, ...query } = c.req.valid('query');
  return c.json(await service.listDocuments(c.env, c.get('user'), c.req.valid('param').kb_id, query, { page, page_size }), 200);
};

export const addDocument: RouteHandler<typeof routes.addDocument, AppEnv> = async (c) =>
  c.json(await service.addDocument(c.env, c.get('user'), c.req.valid('param').kb_id, c.req.valid('json')), 202);

export const deleteDocument: RouteHandler<typeof routes.deleteDocument, AppEnv> = async (c) => {
  const { kb_id, doc_id } = c.req.valid('param');
  await service.deleteDocument(c.env, c.get('user'), kb_id, doc_id);
  return c.body(null, 204);
};

export const search: RouteHandler<typeof routes.search, AppEnv> = async (c) => {
  const started = Date.now();
  const body = c.req.valid('json');
  const { mode, results } = await retrieveFromKnowledgeBase(c.env, c.get('user'), c.req.valid('param').kb_id, body);
  return c.json({ query: body.query, mode, results, took_ms: Date.now() - started }, 200);
};

export const rag: RouteHandler<typeof routes.rag, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  const kbId = c.req.valid('param').kb_id;
  if (body.stream) return answerStream(c.env, c.get('user'), kbId, body, c.req.raw.signal) as never;
  return c.json(await answer(c.env, c.get('user'), kbId, body), 200);
};
