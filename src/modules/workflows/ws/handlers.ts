import type { RouteHandler } from '@hono/zod-openapi';
import { TERMINAL } from '../../../../durable-objects/contracts';
import type { AppEnv } from '../../../lib/context';
import { authenticate } from '../../identity/auth/guard';
import { ApiError, unauthorized } from '../../../lib/errors';
import { executionStub } from '../../../runs/workflow-run';
import { accessibleRow, inlineWatchSocket } from '../executions/service';
import type * as routes from './routes';

export const watch: RouteHandler<typeof routes.watch, AppEnv> = async (c) => {
  const user = await authenticate(c.env, c.req.valid('query').token);
  if (!user) throw unauthorized('A valid ?token= is required');
  const id = c.req.valid('param').execution_id;
  // Watching is reading: the starter, admins, and whoever may read the run's workflow or agent.
  const row = await accessibleRow(c.env, user, id, 'read');
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError(426, 'UPGRADE_REQUIRED', 'Connect with a WebSocket (Upgrade: websocket)');
  }
  // The 101 response carries the socket; its type is outside the route's JSON responses.
  if (row.mode !== null) return inlineWatchSocket(c.env, user, id) as unknown as never;
  const live = await executionStub(c.env, id).fetch(c.req.raw);
  // A finished run whose object storage was deleted (retention): its recorded state from D1.
  if (live.status === 404 && TERMINAL.has(row.status)) return inlineWatchSocket(c.env, user, id, 'The run finished: this is its recorded state') as unknown as never;
  return live as unknown as never;
};
