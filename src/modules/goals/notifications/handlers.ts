import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) =>
  c.json(await service.listNotifications(c.env, c.get('user'), c.req.valid('query')), 200);

export const unreadCount: RouteHandler<typeof routes.unreadCount, AppEnv> = async (c) => c.json(await service.unreadCount(c.env, c.get('user')), 200);

export const readAll: RouteHandler<typeof routes.readAll, AppEnv> = async (c) => c.json(await service.markAllRead(c.env, c.get('user')), 200);

export const markRead: RouteHandler<typeof routes.markRead, AppEnv> = async (c) =>
  c.json(await service.markRead(c.env, c.get('user'), c.req.valid('param').id), 200);

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  await service.deleteNotification(c.env, c.get('user'), c.req.valid('param').id);
  return c.body(null, 204);
};
