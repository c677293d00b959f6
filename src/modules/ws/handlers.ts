import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { authenticate } from '../../lib/auth';
import { ApiError, notFound, unauthorized } from '../../lib/errors';
import { executionStub, inlineWatchSocket } from '../executions/service';
import type * as routes from './routes';

export const watch: RouteHandler<typeof routes.watch, AppEnv> = async (c) => {
  const user = await authenticate(c.env, c.req.valid('query').token);
  if (!user) throw unauthorized('A valid ?token= is required');
  const id = c.req.valid('param').execution_id;
  const owner = await c.env.DB.prepare('SELECT owner_id, mode FROM executions WHERE id = ?').bind(id).first<{ owner_id: string; mode: string | null }>();
  if (!owner || owner.owner_id !== user.id) throw notFound('Execution');
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError(426, 'UPGRADE_REQUIRED', 'Connect with a WebSocket (Upgrade: websocket)');
  }
  // The 101 response carries the socket; its type is outside the route's JSON responses.
  if (owner.mode !== null) return inlineWatchSocket(c.env, user, id) as unknown as never;
  return executionStub(c.env, id).fetch(c.req.raw) as unknown as never;
};
