import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import { deferredCaller } from '../../identity/auth/guard';
import type * as routes from './routes';
import * as service from './service';

export const bare: RouteHandler<typeof routes.bare, AppEnv> = async (c) =>
  c.json(await service.chat(c.env, deferredCaller(c), null, c.req.valid('json')), 200);

export const bareStream: RouteHandler<typeof routes.bareStream, AppEnv> = async (c) =>
  service.chatStream(c.env, deferredCaller(c), null, c.req.valid('json'), c.req.valid('header')['last-event-id']);

export const orchestrate: RouteHandler<typeof routes.orchestrate, AppEnv> = async (c) =>
  c.json(await service.orchestrate(c.env, c.get('user'), c.req.valid('json')), 200);

export const orchestrateGraph: RouteHandler<typeof routes.orchestrateGraph, AppEnv> = async (c) =>
  c.json(await service.orchestrateGraph(c.env, c.get('user'), c.req.valid('json')), 200);

export const createBranch: RouteHandler<typeof routes.createBranch, AppEnv> = async (c) =>
  c.json(await service.createBranch(c.env, c.get('user'), c.req.valid('json')), 201);

export const listBranches: RouteHandler<typeof routes.listBranches, AppEnv> = async (c) =>
  c.json(await service.listBranches(c.env, c.get('user'), c.req.valid('query')), 200);

export const getBranch: RouteHandler<typeof routes.getBranch, AppEnv> = async (c) =>
  c.json(await service.getBranch(c.env, c.get('user'), c.req.valid('param').branch_id), 200);

export const deleteBranch: RouteHandler<typeof routes.deleteBranch, AppEnv> = async (c) => {
  await service.deleteBranch(c.env, c.get('user'), c.req.valid('param').branch_id);
  return c.body(null, 204);
};

export const resumeBranch: RouteHandler<typeof routes.resumeBranch, AppEnv> = async (c) =>
  c.json(await service.resumeBranch(c.env, c.get('user'), c.req.valid('param').branch_id, c.req.valid('json')), 200);

export const chat: RouteHandler<typeof routes.chat, AppEnv> = async (c) =>
  c.json(await service.chat(c.env, deferredCaller(c), c.req.valid('param').agent_id, c.req.valid('json')), 200);

export const chatStream: RouteHandler<typeof routes.chatStream, AppEnv> = async (c) =>
  service.chatStream(c.env, deferredCaller(c), c.req.valid('param').agent_id, c.req.valid('json'), c.req.valid('header')['last-event-id']);
