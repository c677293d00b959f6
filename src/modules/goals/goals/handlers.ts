import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => c.json(await service.listGoals(c.env, c.get('user'), c.req.valid('query')), 200);

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => c.json(await service.createGoal(c.env, c.get('user'), c.req.valid('json')), 201);

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => c.json(await service.getGoal(c.env, c.get('user'), c.req.valid('param').goal_id), 200);

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) =>
  c.json(await service.updateGoal(c.env, c.get('user'), c.req.valid('param').goal_id, c.req.valid('json')), 200);

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  await service.deleteGoal(c.env, c.get('user'), c.req.valid('param').goal_id);
  return c.body(null, 204);
};

export const start: RouteHandler<typeof routes.start, AppEnv> = async (c) => c.json(await service.startGoal(c.env, c.get('user'), c.req.valid('param').goal_id), 200);

export const pause: RouteHandler<typeof routes.pause, AppEnv> = async (c) => c.json(await service.pauseGoal(c.env, c.get('user'), c.req.valid('param').goal_id), 200);

export const resume: RouteHandler<typeof routes.resume, AppEnv> = async (c) => c.json(await service.resumeGoal(c.env, c.get('user'), c.req.valid('param').goal_id), 200);

export const decompose: RouteHandler<typeof routes.decompose, AppEnv> = async (c) =>
  c.json(await service.decomposeGoal(c.env, c.get('user'), c.req.valid('param').goal_id), 200);

export const replan: RouteHandler<typeof routes.replan, AppEnv> = async (c) =>
  c.json(await service.replanGoal(c.env, c.get('user'), c.req.valid('param').goal_id, (c.req.valid('json') ?? {}).instructions), 200);

export const executeAsync: RouteHandler<typeof routes.executeAsync, AppEnv> = async (c) =>
  c.json(await service.executeAsync(c.env, c.get('user'), c.req.valid('param').goal_id), 202);

export const interact: RouteHandler<typeof routes.interact, AppEnv> = async (c) =>
  c.json(await service.interact(c.env, c.get('user'), c.req.valid('param').goal_id, c.req.valid('json').message), 200);

export const tasks: RouteHandler<typeof routes.tasks, AppEnv> = async (c) => c.json(await service.taskTree(c.env, c.get('user'), c.req.valid('param').goal_id), 200);
