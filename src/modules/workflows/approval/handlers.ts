import type { RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

type H<R extends RouteConfig> = RouteHandler<R, AppEnv>;

export const list: H<typeof routes.list> = async (c) => c.json(await service.listMine(c.env, c.get('user'), c.req.valid('query')), 200);

export const decide: H<typeof routes.decide> = async (c) =>
  c.json(await service.decide(c.env, c.get('user'), c.req.valid('param').approval_id, c.req.valid('json')), 200);

export const submit: H<typeof routes.submit> = async (c) =>
  c.json(await service.submit(c.env, c.get('user'), c.req.valid('param').approval_id, c.req.valid('json')), 200);
