import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) =>
  c.json(await service.listAgents(c.env, c.get('user'), c.req.valid('query')), 200);

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) =>
  c.json(await service.createAgent(c.env, c.get('user'), c.req.valid('json')), 201);

export const importAgent: RouteHandler<typeof routes.importAgent, AppEnv> = async (c) =>
  c.json(await service.importAgent(c.env, c.get('user'), c.req.valid('json')), 201);

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) =>
  c.json(await service.getAgent(c.env, c.get('user'), c.req.valid('param').agent_id), 200);

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) =>
  c.json(await service.updateAgent(c.env, c.get('user'), c.req.valid('param').agent_id, c.req.valid('json')), 200);

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  await service.deleteAgent(c.env, c.get('user'), c.req.valid('param').agent_id);
  return c.body(null, 204);
};

export const deploy: RouteHandler<typeof routes.deploy, AppEnv> = async (c) =>
  c.json(await service.deployAgent(c.env, c.get('user'), c.req.valid('param').agent_id), 200);

export const stop: RouteHandler<typeof routes.stop, AppEnv> = async (c) =>
  c.json(await service.stopAgent(c.env, c.get('user'), c.req.valid('param').agent_id), 200);

export const duplicate: RouteHandler<typeof routes.duplicate, AppEnv> = async (c) =>
  c.json(await service.duplicateAgent(c.env, c.get('user'), c.req.valid('param').agent_id), 201);

export const exportAgent: RouteHandler<typeof routes.exportAgent, AppEnv> = async (c) =>
  c.json(await service.exportAgent(c.env, c.get('user'), c.req.valid('param').agent_id), 200);

export const createMainAgent: RouteHandler<typeof routes.createMainAgent, AppEnv> = async (c) =>
  c.json(await service.createMainAgent(c.env, c.get('user'), c.req.valid('param').agent_id, c.req.valid('json').sub_agent_ids), 200);

export const previewChatHistory: RouteHandler<typeof routes.previewChatHistory, AppEnv> = async (c) =>
  c.json(await service.previewChatHistory(c.env, c.get('user'), c.req.valid('param').agent_id, c.req.valid('query')), 200);
