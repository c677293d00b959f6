import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireAuth } from '../../lib/auth';
import { errorResponses, jsonBody, jsonContent } from '../../lib/schemas';
import { RunNodeBody, RunNodeResultSchema } from './schemas';

export const run = createRoute({
  method: 'post',
  path: '/run',
  tags: ['nodes'],
  summary: 'Debug one node alone with given inputs and upstream variables (same code path as in a run)',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { body: jsonBody(RunNodeBody) },
  responses: { 200: jsonContent(RunNodeResultSchema, "The node's result, logs and events"), 401: errorResponses[401], 422: errorResponses[422] },
});
