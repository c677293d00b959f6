import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => c.json(service.listScenarios(c.req.valid('query')), 200);
export const categories: RouteHandler<typeof routes.categories, AppEnv> = async (c) => c.json(service.scenarioCategories(), 200);
export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => c.json(service.getScenario(c.req.valid('param').scenario_id), 200);
export const quickCreate: RouteHandler<typeof routes.quickCreate, AppEnv> = async (c) => {
  // The body is optional: a bare POST creates the scenario as it is.
  const body = (c.req.header('content-type') ?? '').includes('json') ? c.req.valid('json') : {};
  return c.json(await service.quickCreate(c.env, c.get('user'), c.req.valid('param').scenario_id, body ?? {}), 201);
};
