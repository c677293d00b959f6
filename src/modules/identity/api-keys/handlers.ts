import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) =>
  c.json(await service.createApiKey(c.env, c.get('user').id, c.req.valid('json')), 201);

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) =>
  c.json(await service.listApiKeys(c.env, c.get('user').id, c.req.valid('query')), 200);

export const revoke: RouteHandler<typeof routes.revoke, AppEnv> = async (c) =>
  c.json(await service.revokeApiKey(c.env, c.get('user').id, c.req.valid('param').key_id), 200);
