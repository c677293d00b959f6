import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type { NodeDef } from '../../../engine/workflow/types';
import type * as routes from './routes';
import * as service from './service';

export const run: RouteHandler<typeof routes.run, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  return c.json(await service.runNode(c.env, c.get('user'), { ...body, node: body.node as NodeDef }), 200);
};
