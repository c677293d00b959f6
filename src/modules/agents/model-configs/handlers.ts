import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) =>
  c.json(await service.listModelConfigs(c.env, c.get('user'), c.req.valid('query')), 200);

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) =>
  c.json(await service.createModelConfig(c.env, c.get('user'), c.req.valid('json')), 201);

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) =>
  c.json(await service.getModelConfig(c.env, c.get('user'), c.req.valid('param').config_id), 200);

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) =>
  c.json(await service.updateModelConfig(c.env, c.get('user'), c.req.valid('param').config_id, c.req.valid('json')), 200);

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  await service.deleteModelConfig(c.env, c.get('user'), c.req.valid('param').config_id);
  return c.body(null, 204);
};

export const test: RouteHandler<typeof routes.test, AppEnv> = async (c) =>
  c.json(await service.testModelConfig(c.env, c.get('user'), c.req.valid('param').config_id), 200);
