import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const run: RouteHandler<typeof routes.run, AppEnv> = async (c) => c.json(await service.runSwarmOnce(c.env, c.get('user'), c.req.valid('json')), 200);

export const runStream: RouteHandler<typeof routes.runStream, AppEnv> = async (c) =>
  service.runSwarmStream(c.env, c.get('user'), c.req.valid('json'), c.executionCtx, c.req.raw.signal) as never;
