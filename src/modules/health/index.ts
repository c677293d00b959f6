import { createRoute, z } from '@hono/zod-openapi';
import { builtinTools } from '../../engine/tools/registry';
import { createRouter } from '../../lib/router';
import { jsonContent } from '../../lib/schemas';

export const APP_VERSION = '1.0.0';

const HealthSchema = z
  .object({
    status: z.literal('ok'),
    version: z.string(),
    builtin_tools: z.object({ count: z.int(), ready: z.boolean() }),
  })
  .openapi('Health');

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['health'],
  summary: 'Liveness and the builtin tool registry',
  responses: { 200: jsonContent(HealthSchema, 'The service is up') },
});

export const healthRouter = createRouter().openapi(health, (c) =>
  c.json(
    {
      status: 'ok' as const,
      version: APP_VERSION,
      builtin_tools: { count: builtinTools.length, ready: true },
    },
    200,
  ),
);
