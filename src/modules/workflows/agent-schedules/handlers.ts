import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

type H<R extends keyof typeof routes> = RouteHandler<(typeof routes)[R], AppEnv>;

export const list: H<'list'> = async (c) => c.json(await service.listSchedules(c.env, c.get('user'), c.req.valid('query')), 200);
export const create: H<'create'> = async (c) => c.json(await service.createSchedule(c.env, c.get('user'), c.req.valid('json')), 201);
export const update: H<'update'> = async (c) =>
  c.json(await service.updateSchedule(c.env, c.get('user'), c.req.valid('param').schedule_id, c.req.valid('json')), 200);
export const remove: H<'remove'> = async (c) => {
  await service.deleteSchedule(c.env, c.get('user'), c.req.valid('param').schedule_id);
  return c.body(null, 204);
};
export const trigger: H<'trigger'> = async (c) => c.json(await service.triggerSchedule(c.env, c.get('user'), c.req.valid('param').schedule_id), 202);
