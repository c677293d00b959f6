import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';
import * as traces from './traces';

export const overview: RouteHandler<typeof routes.overview, AppEnv> = async (c) => c.json(await service.overview(c.env, c.get('user'), c.req.valid('query')), 200);
export const executions: RouteHandler<typeof routes.executions, AppEnv> = async (c) =>
  c.json(await service.executionStats(c.env, c.get('user'), c.req.valid('query')), 200);
export const nodeTypes: RouteHandler<typeof routes.nodeTypes, AppEnv> = async (c) => c.json(await service.nodeTypeStats(c.env, c.get('user'), c.req.valid('query')), 200);
export const activities: RouteHandler<typeof routes.activities, AppEnv> = async (c) => c.json(await service.activities(c.env, c.get('user'), c.req.valid('query')), 200);
export const getTraceExporter: RouteHandler<typeof routes.getTraceExporter, AppEnv> = async (c) => c.json(await traces.getExporter(c.env, c.get('user')), 200);
export const putTraceExporter: RouteHandler<typeof routes.putTraceExporter, AppEnv> = async (c) =>
  c.json(await traces.putExporter(c.env, c.get('user'), c.req.valid('json')), 200);
export const deleteTraceExporter: RouteHandler<typeof routes.deleteTraceExporter, AppEnv> = async (c) => {
  await traces.deleteExporter(c.env, c.get('user'));
  return c.body(null, 204);
};
