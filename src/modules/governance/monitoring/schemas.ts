import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';
import { TimeRangeQuery } from '../../../lib/time-range';

const Scope = z.enum(['all', 'own']).meta({ description: 'all: platform-wide (monitoring:read); own: your data only' });
const Range = { scope: Scope, from: z.string(), to: z.string() };

export const MonitoringQuery = TimeRangeQuery;

export const OverviewSchema = z
  .object({
    ...Range,
    users: z.object({ total: z.int(), active: z.int().meta({ description: 'Users with requests or model calls in the range' }) }),
    agents: z.object({ total: z.int(), deployed: z.int() }),
    workflows: z.object({ total: z.int() }).nullable().meta({ description: 'null until the workflows module is deployed' }),
    executions: z.object({
      sources: z.array(z.enum(['workflow', 'agent', 'task'])),
      total: z.int(),
      today: z.int(),
      succeeded: z.int(),
      failed: z.int(),
      running: z.int(),
      success_rate: z.number().nullable().meta({ description: 'succeeded / (succeeded + failed); null without finished runs' }),
      avg_duration_ms: z.number().nullable(),
    }),
    llm: z.object({ calls: z.int(), errors: z.int(), prompt_tokens: z.int(), completion_tokens: z.int(), total_tokens: z.int() }),
  })
  .openapi('MonitoringOverview');

export const ExecutionStatsQuery = TimeRangeQuery.extend({ kind: z.enum(['workflow', 'agent', 'task']).optional() });

const DurationStats = z.object({ avg_ms: z.number().nullable(), p50_ms: z.number().nullable(), p95_ms: z.number().nullable() });

export const ExecutionStatsSchema = z
  .object({
    ...Range,
    sources: z.array(z.enum(['workflow', 'agent', 'task'])),
    total: z.int(),
    by_status: z.record(z.string(), z.int()),
    by_kind: z.array(z.object({ kind: z.string(), total: z.int(), succeeded: z.int(), failed: z.int() })),
    duration: DurationStats,
    by_day: z.array(z.object({ date: z.string(), total: z.int(), succeeded: z.int(), failed: z.int(), avg_duration_ms: z.number().nullable() })),
  })
  .openapi('ExecutionStats');

export const NodeTypeStatsSchema = z
  .object({
    ...Range,
    available: z.boolean().meta({ description: 'false until the workflows module (execution_nodes) is deployed' }),
    items: z.array(
      z.object({
        node_type: z.string(),
        runs: z.int(),
        failed: z.int(),
        error_rate: z.number(),
        avg_ms: z.number().nullable(),
        p50_ms: z.number().nullable(),
        p95_ms: z.number().nullable(),
        tokens: z.int(),
      }),
    ),
  })
  .openapi('NodeTypeStats');

export const ActivitiesQuery = PaginationQuery.extend(TimeRangeQuery.shape);

export const ActivitySchema = z
  .object({
    id: z.string(),
    user_id: z.string().nullable(),
    user_email: z.string().nullable(),
    action: z.string(),
    resource_type: z.string().nullable(),
    resource_id: z.string().nullable(),
    status_code: z.int(),
    created_at: z.string(),
  })
  .openapi('Activity');

// Trace exporter (extension, docs/traces.md).
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;

export const PutTraceExporterBody = z
  .object({
    endpoint: z.string().url().max(2000).meta({ description: 'The OTLP/HTTP traces URL, used as is (e.g. http://collector:4318/v1/traces)' }),
    headers: z
      .record(z.string().regex(HEADER_NAME), z.string().max(4000))
      .refine((h) => Object.keys(h).length <= 20, 'at most 20 headers')
      .optional()
      .meta({ description: 'Headers sent with every export (an API key): stored encrypted, read back masked. Omitted: the stored headers are kept' }),
    include_content: z.boolean().default(false).meta({ description: 'Put prompts, answers, tool arguments and results in the spans (default off)' }),
    enabled: z.boolean().default(true),
  })
  .strict()
  .openapi('PutTraceExporter');
export type PutTraceExporter = z.infer<typeof PutTraceExporterBody>;

export const TraceExporterSchema = z
  .object({
    endpoint: z.string(),
    headers: z.record(z.string(), z.string()).meta({ description: 'Header names with masked values' }),
    include_content: z.boolean(),
    enabled: z.boolean(),
    platform_export: z.boolean().meta({ description: 'The platform also exports every span to its own collector (OTEL_EXPORTER_OTLP_ENDPOINT)' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('TraceExporter');
export type TraceExporter = z.infer<typeof TraceExporterSchema>;
