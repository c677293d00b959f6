import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

type H<R extends keyof typeof routes> = RouteHandler<(typeof routes)[R], AppEnv>;

export const list: H<'list'> = async (c) => c.json(await service.listRules(c.env, c.get('user'), c.req.valid('query')), 200);
export const create: H<'create'> = async (c) => c.json(await service.createRule(c.env, c.get('user'), c.req.valid('json')), 201);
export const alerts: H<'alerts'> = async (c) => c.json(await service.listAlerts(c.env, c.get('user'), c.req.valid('query')), 200);
export const acknowledge: H<'acknowledge'> = async (c) => c.json(await service.acknowledge(c.env, c.get('user'), c.req.valid('param').alert_id), 200);
export const get: H<'get'> = async (c) => c.json(await service.getRule(c.env, c.get('user'), c.req.valid('param').rule_id), 200);
export const update: H<'update'> = async (c) => c.json(await service.updateRule(c.env, c.get('user'), c.req.valid('param').rule_id, c.req.valid('json')), 200);
export const remove: H<'remove'> = async (c) => {
  await service.deleteRule(c.env, c.get('user'), c.req.valid('param').rule_id);
  return c.body(null, 204);
};
export const evaluate: H<'evaluate'> = async (c) => c.json(await service.evaluateNow(c.env, c.get('user'), c.req.valid('param').rule_id), 200);
