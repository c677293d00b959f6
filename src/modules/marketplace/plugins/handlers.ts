import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => c.json(await service.listPlugins(c.env, c.get('user'), c.req.valid('query')), 200);
export const market: RouteHandler<typeof routes.market, AppEnv> = async (c) => c.json(await service.marketPlugins(c.env, c.get('user'), c.req.valid('query')), 200);
export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => c.json(await service.createPlugin(c.env, c.get('user'), c.req.valid('json')), 201);
export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => c.json(await service.getPlugin(c.env, c.get('user'), c.req.valid('param').plugin_id), 200);
export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) =>
  c.json(await service.updatePlugin(c.env, c.get('user'), c.req.valid('param').plugin_id, c.req.valid('json')), 200);
export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  await service.deletePlugin(c.env, c.get('user'), c.req.valid('param').plugin_id);
  return c.body(null, 204);
};
export const install: RouteHandler<typeof routes.install, AppEnv> = async (c) =>
  c.json(await service.installPlugin(c.env, c.get('user'), c.req.valid('param').plugin_id, c.req.valid('json').settings), 201);
export const uninstall: RouteHandler<typeof routes.uninstall, AppEnv> = async (c) => {
  await service.uninstallPlugin(c.env, c.get('user'), c.req.valid('param').plugin_id);
  return c.body(null, 204);
};
export const enable: RouteHandler<typeof routes.enable, AppEnv> = async (c) => {
  // The body is optional: a bare POST only enables.
  const body = (c.req.header('content-type') ?? '').includes('json') ? c.req.valid('json') : {};
  return c.json(await service.setEnabled(c.env, c.get('user'), c.req.valid('param').plugin_id, true, body?.settings), 200);
};
export const disable: RouteHandler<typeof routes.disable, AppEnv> = async (c) =>
  c.json(await service.setEnabled(c.env, c.get('user'), c.req.valid('param').plugin_id, false), 200);
