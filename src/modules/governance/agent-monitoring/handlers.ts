import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const overview: RouteHandler<typeof routes.overview, AppEnv> = async (c) => c.json(await service.overview(c.env, c.get('user'), c.req.valid('query')), 200);
export const llmCalls: RouteHandler<typeof routes.llmCalls, AppEnv> = async (c) => c.json(await service.llmCallStats(c.env, c.get('user'), c.req.valid('query')), 200);
export const agentsStats: RouteHandler<typeof routes.agentsStats, AppEnv> = async (c) => c.json(await service.agentStats(c.env, c.get('user'), c.req.valid('query')), 200);
export const toolUsage: RouteHandler<typeof routes.toolUsage, AppEnv> = async (c) => c.json(await service.toolUsage(c.env, c.get('user'), c.req.valid('query')), 200);
export const dailyTrend: RouteHandler<typeof routes.dailyTrend, AppEnv> = async (c) => c.json(await service.dailyTrend(c.env, c.get('user'), c.req.valid('query')), 200);
