import type { RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

type H<R extends RouteConfig> = RouteHandler<R, AppEnv>;

export const list: H<typeof routes.list> = async (c) => c.json(await service.list(c.env, c.get('user'), c.req.valid('query')), 200);

export const nodeTypes: H<typeof routes.nodeTypes> = async (c) => c.json(service.nodeTypeCatalog(), 200);

export const get: H<typeof routes.get> = async (c) => c.json(await service.get(c.env, c.get('user'), c.req.valid('param').template_id), 200);

export const create: H<typeof routes.create> = async (c) => c.json(await service.create(c.env, c.get('user'), c.req.valid('json')), 201);

export const update: H<typeof routes.update> = async (c) =>
  c.json(await service.update(c.env, c.get('user'), c.req.valid('param').template_id, c.req.valid('json')), 200);

export const remove: H<typeof routes.remove> = async (c) => {
  await service.remove(c.env, c.get('user'), c.req.valid('param').template_id);
  return c.body(null, 204);
};
