import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => c.json(await service.listAuditLogs(c.env, c.get('user'), c.req.valid('query')), 200);
export const stats: RouteHandler<typeof routes.stats, AppEnv> = async (c) => c.json(await service.auditStats(c.env, c.get('user'), c.req.valid('query')), 200);
