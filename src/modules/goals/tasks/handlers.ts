import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import { ClaimBody } from './schemas';
import type * as routes from './routes';
import * as service from './service';

const id = (c: { req: { valid(target: 'param'): { task_id: string } } }) => c.req.valid('param').task_id;

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => c.json(await service.listTasks(c.env, c.get('user'), c.req.valid('query')), 200);

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => c.json(await service.createTask(c.env, c.get('user'), c.req.valid('json')), 201);

export const available: RouteHandler<typeof routes.available, AppEnv> = async (c) =>
  c.json(await service.available(c.env, c.get('user'), c.req.valid('param').goal_id, c.req.valid('query')), 200);

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => c.json(await service.getTask(c.env, c.get('user'), id(c)), 200);

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) => c.json(await service.updateTask(c.env, c.get('user'), id(c), c.req.valid('json')), 200);

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  await service.deleteTask(c.env, c.get('user'), id(c));
  return c.body(null, 204);
};

export const execute: RouteHandler<typeof routes.execute, AppEnv> = async (c) => c.json(await service.execute(c.env, c.get('user'), id(c)), 200);

export const retry: RouteHandler<typeof routes.retry, AppEnv> = async (c) => c.json(await service.retry(c.env, c.get('user'), id(c)), 200);

// An absent optional body skips validation (it reads as `{}`), so the defaults are applied here.
export const claim: RouteHandler<typeof routes.claim, AppEnv> = async (c) =>
  c.json(await service.claim(c.env, c.get('user'), id(c), ClaimBody.parse(c.req.valid('json') ?? {})), 200);

export const release: RouteHandler<typeof routes.release, AppEnv> = async (c) => c.json(await service.release(c.env, c.get('user'), id(c)), 200);

export const complete: RouteHandler<typeof routes.complete, AppEnv> = async (c) =>
  c.json(await service.complete(c.env, c.get('user'), id(c), c.req.valid('json').result), 200);

export const fail: RouteHandler<typeof routes.fail, AppEnv> = async (c) => c.json(await service.fail(c.env, c.get('user'), id(c), c.req.valid('json').error), 200);

export const approve: RouteHandler<typeof routes.approve, AppEnv> = async (c) =>
  c.json(await service.approve(c.env, c.get('user'), id(c), c.req.valid('json')?.comment), 200);

export const reject: RouteHandler<typeof routes.reject, AppEnv> = async (c) => c.json(await service.reject(c.env, c.get('user'), id(c), c.req.valid('json').comment), 200);

export const blockers: RouteHandler<typeof routes.blockers, AppEnv> = async (c) => c.json(await service.blockers(c.env, c.get('user'), id(c)), 200);
