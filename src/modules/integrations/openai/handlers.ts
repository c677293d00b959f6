import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const listModels: RouteHandler<typeof routes.listModels, AppEnv> = async (c) => c.json(await service.listModels(c.env, c.get('user')), 200);

export const chatCompletions: RouteHandler<typeof routes.chatCompletions, AppEnv> = async (c) => {
  const result = await service.chatCompletion(c.env, c.get('user'), c.req.valid('json'), c.executionCtx, c.req.raw.signal);
  if (result instanceof Response) return result as never;
  return c.json(result, 200);
};
