import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => c.json(await service.listTemplates(c.env, c.get('user'), c.req.valid('query')), 200);
export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => c.json(await service.createTemplate(c.env, c.get('user'), c.req.valid('json')), 201);
export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => c.json(await service.getTemplate(c.env, c.get('user'), c.req.valid('param').template_id), 200);
export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) =>
  c.json(await service.updateTemplate(c.env, c.get('user'), c.req.valid('param').template_id, c.req.valid('json')), 200);
export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  await service.deleteTemplate(c.env, c.get('user'), c.req.valid('param').template_id);
  return c.body(null, 204);
};
