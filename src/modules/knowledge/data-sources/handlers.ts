import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => c.json(await service.listDataSources(c.env, c.get('user'), c.req.valid('query')), 200);

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => c.json(await service.createDataSource(c.env, c.get('user'), c.req.valid('json')), 201);

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => c.json(await service.getDataSource(c.env, c.get('user'), c.req.valid('param').id), 200);

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) =>
  c.json(await service.updateDataSource(c.env, c.get('user'), c.req.valid('param').id, c.req.valid('json')), 200);

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  await service.deleteDataSource(c.env, c.get('user'), c.req.valid('param').id);
  return c.body(null, 204);
};

export const test: RouteHandler<typeof routes.test, AppEnv> = async (c) =>
  c.json(await service.testDataSource(c.env, c.get('user'), c.req.valid('param').id, c.req.valid('query').timeout_ms), 200);

export const query: RouteHandler<typeof routes.query, AppEnv> = async (c) =>
  c.json(await service.queryDataSource(c.env, c.get('user'), c.req.valid('param').id, c.req.valid('json')), 200);
