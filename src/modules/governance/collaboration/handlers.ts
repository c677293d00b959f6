import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import { authenticate } from '../../identity/auth/guard';
import { bearerToken } from '../../../lib/auth';
import { unauthorized } from '../../../lib/errors';
import type * as routes from './routes';
import * as service from './service';

export const socket: RouteHandler<typeof routes.socket, AppEnv> = async (c) => {
  const user = await authenticate(c.env, c.req.valid('query').token ?? bearerToken(c.req.header('Authorization')));
  if (!user) throw unauthorized('A valid ?token= is required');
  c.set('user', user);
  const { resource_type, resource_id } = c.req.valid('param');
  // The 101 response carries the socket; its type is outside the route's JSON responses.
  return (await service.connect(c.env, user, resource_type, resource_id, c.req.raw)) as unknown as never;
};

export const users: RouteHandler<typeof routes.users, AppEnv> = async (c) => {
  const { resource_type, resource_id } = c.req.valid('param');
  return c.json(await service.onlineUsers(c.env, c.get('user'), resource_type, resource_id), 200);
};
