import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { errors, jsonBody, jsonContent } from '../../../lib/schemas';
import { RunNodeBody, RunNodeResultSchema } from './schemas';

export const run = createRoute({
  method: 'post',
  path: '/run',
  tags: ['nodes'],
  summary: 'Debug one node alone with given inputs and upstream variables (same code path as in a run)',
  ...authenticated,
  request: { body: jsonBody(RunNodeBody) },
  responses: { 200: jsonContent(RunNodeResultSchema, "The node's result, logs and events"), ...errors(401, 422) },
});
