import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

type H<R extends keyof typeof routes> = RouteHandler<(typeof routes)[R], AppEnv>;

export const execute: H<'execute'> = async (c) => c.json(await service.executeBatch(c.env, c.get('user'), c.req.valid('json')), 202);
export const exportResources: H<'exportResources'> = async (c) => c.json(await service.exportBatch(c.env, c.get('user'), c.req.valid('json')), 200);
export const deleteResources: H<'deleteResources'> = async (c) => c.json(await service.deleteBatch(c.env, c.get('user'), c.req.valid('json')), 200);
