import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const overview: RouteHandler<typeof routes.overview, AppEnv> = async (c) => c.json(await service.overview(c.env, c.get('user'), c.req.valid('query')), 200);
export const executions: RouteHandler<typeof routes.executions, AppEnv> = async (c) =>
  c.json(await service.executionStats(c.env, c.get('user'), c.req.valid('query')), 200);
export const nodeTypes: RouteHandler<typeof routes.nodeTypes, AppEnv> = async (c) => c.json(await service.nodeTypeStats(c.env, c.get('user'), c.req.valid('query')), 200);
export const activities: RouteHandler<typeof routes.activities, AppEnv> = async (c) => c.json(await service.activities(c.env, c.get('user'), c.req.valid('query')), 200);
