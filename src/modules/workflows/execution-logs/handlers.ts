import type { RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type { z } from '@hono/zod-openapi';
import type * as routes from './routes';
import type { CallChainSchema } from './schemas';
import * as service from './service';

type H<R extends RouteConfig> = RouteHandler<R, AppEnv>;

export const list: H<typeof routes.list> = async (c) => c.json(await service.list(c.env, c.get('user'), c.req.valid('query')), 200);
export const errorSummary: H<typeof routes.errorSummary> = async (c) => c.json(await service.errorSummary(c.env, c.get('user'), c.req.valid('query')), 200);
export const stats: H<typeof routes.stats> = async (c) => c.json(await service.stats(c.env, c.get('user'), c.req.valid('query')), 200);
export const prune: H<typeof routes.prune> = async (c) =>
  c.json(await service.deleteOld(c.env, c.get('user'), c.req.valid('query').older_than_days), 200);
export const executionLog: H<typeof routes.executionLog> = async (c) =>
  c.json(await service.fullLog(c.env, c.get('user'), c.req.valid('param').execution_id), 200);
export const performance: H<typeof routes.performance> = async (c) =>
  c.json(await service.performance(c.env, c.get('user'), c.req.valid('param').execution_id), 200);
export const callChain: H<typeof routes.callChain> = async (c) => {
  const chain = await service.callChain(c.env, c.get('user'), c.req.valid('param').execution_id);
  // The tree is recursive; its schema documents one level (children are the same shape).
  return c.json(chain as unknown as z.infer<typeof CallChainSchema>, 200);
};
export const get: H<typeof routes.get> = async (c) => c.json(await service.get(c.env, c.get('user'), c.req.valid('param').log_id), 200);
