import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';
import { TimeRangeQuery } from '../../../lib/time-range';

export const SystemLogSchema = z
  .object({
    id: z.string(),
    category: z.enum(['request', 'error', 'job', 'app']),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    source: z.string(),
    message: z.string(),
    request_id: z.string().nullable(),
    user_id: z.string().nullable(),
    method: z.string().nullable(),
    path: z.string().nullable(),
    status_code: z.int().nullable(),
    duration_ms: z.int().nullable(),
    weight: z.number(),
    data: z.unknown().nullable(),
    created_at: z.string(),
  })
  .openapi('SystemLog');

const common = {
  level: z.enum(['debug', 'info', 'warn', 'error']).optional(),
  source: z.string().trim().min(1).max(200).optional(),
  user_id: z.string().min(1).optional(),
  request_id: z.string().min(1).max(128).optional(),
  search: z.string().trim().min(1).max(200).optional().meta({ description: 'Text in the message' }),
};

export const SystemLogListQuery = PaginationQuery.extend(TimeRangeQuery.shape).extend({
  ...common,
  category: z.enum(['request', 'error', 'job', 'app']).optional(),
  path: z.string().trim().min(1).max(500).optional().meta({ description: 'Path prefix, e.g. /api/v1/agents' }),
  status_code: z.coerce.number().int().min(100).max(599).optional(),
});

export const ApplicationLogQuery = PaginationQuery.extend(TimeRangeQuery.shape).extend({
  ...common,
  category: z.enum(['error', 'job', 'app']).optional(),
});

export const SystemLogStatsSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    by_category: z.record(z.string(), z.int()),
    by_level: z.record(z.string(), z.int()),
    requests: z.object({
      count: z.number().meta({ description: 'Estimated from the kept lines (weighted by 1/sampling rate)' }),
      server_errors: z.number(),
      client_errors: z.number(),
      error_rate: z.number().meta({ description: 'Share of 5xx answers' }),
      avg_ms: z.number().nullable(),
      p50_ms: z.number().nullable(),
      p95_ms: z.number().nullable(),
    }),
    top_paths: z.array(z.object({ path: z.string().nullable(), count: z.number(), errors: z.number(), p50_ms: z.number().nullable(), p95_ms: z.number().nullable() })),
    jobs: z.object({ runs: z.int(), failures: z.int() }),
    by_hour: z.array(z.object({ hour: z.string(), requests: z.number(), errors: z.number() })),
  })
  .openapi('SystemLogStats');
