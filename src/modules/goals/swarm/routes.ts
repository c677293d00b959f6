import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { errorResponse, errors, jsonBody, jsonContent } from '../../../lib/schemas';
import { SwarmEvents, SwarmResultSchema, SwarmRunBody } from './schemas';

const tags = ['swarm'];

export const run = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/run',
  summary: 'Run an agent swarm: the first agent splits the task among the others, they work concurrently, and it merges their results',
  request: { body: jsonBody(SwarmRunBody) },
  responses: {
    200: jsonContent(SwarmResultSchema, 'The transcript per agent and the final result'),
    ...errors(401, 403, 404, 422),
    502: errorResponse('A model failed'),
  },
});

export const runStream = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/run/stream',
  summary: 'The swarm as Server-Sent Events: agent_started, token, agent_finished, done (the whole result), error',
  request: { body: jsonBody(SwarmRunBody) },
  responses: {
    200: { description: 'The swarm as server-sent events', content: SwarmEvents },
    ...errors(401, 403, 404, 422),
  },
});
