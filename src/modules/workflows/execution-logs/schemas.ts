import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';

export const LogLevel = z.enum(['debug', 'info', 'warn', 'error']);

export const LogEntrySchema = z
  .object({
    id: z.string(),
    execution_id: z.string(),
    seq: z.int(),
    node_id: z.string().nullable(),
    level: LogLevel,
    message: z.string(),
    data: z.unknown().nullable(),
    created_at: z.string(),
  })
  .openapi('ExecutionLogEntry');

export const LogListQuery = PaginationQuery.extend({
  execution_id: z.string().optional(),
  node_id: z.string().optional(),
  level: LogLevel.optional(),
  search: z.string().max(200).optional(),
  since: z.string().datetime({ offset: true }).optional(),
  until: z.string().datetime({ offset: true }).optional(),
});

export const ExecutionLogSchema = z
  .object({ execution_id: z.string(), status: z.string(), items: z.array(LogEntrySchema) })
  .openapi('ExecutionFullLog');

const NodeTiming = z.object({ node_id: z.string(), node_type: z.string(), status: z.string(), duration_ms: z.int(), share: z.number() });

export const PerformanceSchema = z
  .object({
    execution_id: z.string(),
    status: z.string(),
    total_duration_ms: z.int().nullable(),
    node_count: z.int(),
    nodes_duration_ms: z.int(),
    nodes: z.array(NodeTiming),
    slowest: z.array(NodeTiming),
    critical_path: z.object({ node_ids: z.array(z.string()), duration_ms: z.int() }),
    /** Run time not spent inside nodes on the critical path (scheduling, persistence). */
    overhead_ms: z.int().nullable(),
  })
  .openapi('ExecutionPerformance');

export type CallNode = {
  type: string;
  id: string;
  name: string;
  status: string;
  duration_ms: number | null;
  started_at?: string | null;
  usage?: unknown;
  error?: string | null;
  children: CallNode[];
};

// Not declared recursively: the OpenAPI generator cannot walk a lazy self-reference.
const CallNodeSchema = z
  .object({
    type: z.string().meta({ description: 'execution, node, llm, tool, http or workflow' }),
    id: z.string(),
    name: z.string(),
    status: z.string(),
    duration_ms: z.number().nullable(),
    started_at: z.string().nullable().optional(),
    usage: z.unknown().optional(),
    error: z.string().nullable().optional(),
    children: z.array(z.record(z.string(), z.unknown())).meta({ description: 'Nested call nodes of this same shape' }),
  })
  .openapi('CallNode');

export const CallChainSchema = z.object({ execution_id: z.string(), tree: CallNodeSchema }).openapi('ExecutionCallChain');

export const WindowQuery = z.object({
  workflow_id: z.string().optional(),
  since: z.string().datetime({ offset: true }).optional(),
  until: z.string().datetime({ offset: true }).optional(),
});

export const ErrorSummarySchema = z
  .object({
    failed_executions: z.int(),
    failed_nodes: z.int(),
    by_code: z.array(z.object({ code: z.string(), count: z.int(), last_seen: z.string().nullable(), sample_message: z.string() })),
    by_node_type: z.array(z.object({ node_type: z.string(), count: z.int() })),
    recent: z.array(
      z.object({ execution_id: z.string(), node_id: z.string(), node_type: z.string(), code: z.string(), message: z.string(), finished_at: z.string().nullable() }),
    ),
  })
  .openapi('ExecutionErrorSummary');

export const StatsSchema = z
  .object({
    executions: z.object({ total: z.int(), by_status: z.record(z.string(), z.int()) }),
    avg_duration_ms: z.number().nullable(),
    success_rate: z.number().nullable(),
    total_tokens: z.int(),
    logs: z.object({ total: z.int(), by_level: z.record(z.string(), z.int()) }),
    node_types: z.array(
      z.object({ node_type: z.string(), runs: z.int(), failures: z.int(), avg_duration_ms: z.number().nullable() }),
    ),
  })
  .openapi('ExecutionLogStats');

export const DeleteQuery = z.object({
  /** Delete entries older than this many days (0 = everything before now). */
  older_than_days: z.coerce.number().int().min(0).max(3650),
});

export const DeletedSchema = z.object({ deleted: z.int() }).openapi('DeletedLogs');

export const LogIdParam = z.object({ log_id: z.string().min(1).openapi({ param: { name: 'log_id', in: 'path' } }) });
export const ExecIdParam = z.object({ execution_id: z.string().min(1).openapi({ param: { name: 'execution_id', in: 'path' } }) });
