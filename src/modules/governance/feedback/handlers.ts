import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const record: RouteHandler<typeof routes.record, AppEnv> = async (c) => c.json(await service.recordFeedback(c.env, c.get('user'), c.req.valid('json')), 201);
export const analysis: RouteHandler<typeof routes.analysis, AppEnv> = async (c) => c.json(await service.analysis(c.env, c.get('user'), c.req.valid('query')), 200);
export const negativeSamples: RouteHandler<typeof routes.negativeSamples, AppEnv> = async (c) => {
  const result = await service.negativeSamples(c.env, c.get('user'), c.req.valid('query'));
  if (result.page) return c.json(result.page, 200);
  // The JSON Lines export is the route's second 200 content type (not a JSON body).
  return c.body(result.jsonl ?? '', 200, {
    'Content-Type': 'application/x-ndjson; charset=utf-8',
    'Content-Disposition': `attachment; filename="negative-samples-${new Date().toISOString().slice(0, 10)}.jsonl"`,
  }) as unknown as never;
};
