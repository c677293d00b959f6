import { createRoute, z } from '@hono/zod-openapi';
import { errors } from '../../../lib/schemas';

/**
 * `/api/v1/ws/executions/{id}?token=<JWT>`: live observation of a run. Browsers cannot set
 * headers on sockets, hence the token in the query. The socket first receives
 * `{"type":"snapshot", status, nodes, ...}`, then events: execution_started, node_started,
 * node_finished, node_retry, approval_required, execution_paused, execution_resumed,
 * execution_finished. Send `ping` for `{"type":"pong"}`, `snapshot` for a fresh snapshot.
 */
export const watch = createRoute({
  method: 'get',
  path: '/executions/{execution_id}',
  tags: ['executions'],
  summary: 'WebSocket: the execution snapshot, then live events (whoever may read the execution; auth by ?token=)',
  request: {
    params: z.object({ execution_id: z.string().min(1).openapi({ param: { name: 'execution_id', in: 'path' } }) }),
    query: z.object({ token: z.string().optional().meta({ description: 'The access token (JWT)' }) }),
  },
  responses: {
    101: { description: 'Switching protocols: the WebSocket is open' },
    ...errors(401, 404),
    426: { description: 'Not a WebSocket upgrade request', content: { 'application/json': { schema: z.object({ error: z.string(), message: z.string() }) } } },
  },
});

