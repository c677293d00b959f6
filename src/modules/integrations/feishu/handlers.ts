import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import { UnbindBody } from './schemas';
import * as service from './service';


export const event: RouteHandler<typeof routes.event, AppEnv> = async (c) => {
  // The signature is over the exact bytes Feishu sent, so the raw text is used, not parsed JSON.
  const rawBody = await c.req.text();
  const ack = await service.receiveEvent(c.env, {
    rawBody,
    timestamp: c.req.header('x-lark-request-timestamp'),
    nonce: c.req.header('x-lark-request-nonce'),
    signature: c.req.header('x-lark-signature'),
  });
  return c.json(ack, 200);
};

export const bind: RouteHandler<typeof routes.bind, AppEnv> = async (c) => c.json(await service.bind(c.env, c.get('user'), c.req.valid('json')), 200);

export const unbind: RouteHandler<typeof routes.unbind, AppEnv> = async (c) => {
  await service.unbind(c.env, c.get('user'), UnbindBody.parse(c.req.valid('json') ?? {}));
  return c.body(null, 204);
};

export const lookup: RouteHandler<typeof routes.lookup, AppEnv> = async (c) => c.json(await service.lookup(c.env, c.get('user'), c.req.valid('json').open_id), 200);

export const status: RouteHandler<typeof routes.status, AppEnv> = async (c) => c.json(await service.status(c.env), 200);

export const pending: RouteHandler<typeof routes.pending, AppEnv> = async (c) => c.json(await service.listPending(c.env, c.get('user'), c.req.valid('query')), 200);

export const bindPending: RouteHandler<typeof routes.bindPending, AppEnv> = async (c) =>
  c.json(await service.bindPending(c.env, c.get('user'), c.req.valid('json')), 200);

export const getDefaultAgent: RouteHandler<typeof routes.getDefaultAgent, AppEnv> = async (c) => c.json(await service.getDefaultAgent(c.env, c.get('user')), 200);

export const setDefaultAgent: RouteHandler<typeof routes.setDefaultAgent, AppEnv> = async (c) =>
  c.json(await service.setDefaultAgent(c.env, c.get('user'), c.req.valid('json').agent_id), 200);
