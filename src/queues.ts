/**
 * The worker's queues: each one's name (as in wrangler.toml), its dead-letter queue, and the shape
 * of its messages. Producers and consumers import from here; src/env.ts types its bindings with it.
 * Imports nothing, so no module is ever pulled into the environment type.
 */

/** Goal tasks to run (src/modules/goals/tasks/execution.ts). */
export const TASKS_QUEUE_NAME = 'tiangong-tasks';
export const TASKS_DLQ_NAME = 'tiangong-tasks-dlq';
export interface TaskMessage {
  task_id: string;
  goal_id: string;
}

/** Document ingestion: ingest this document as of this generation (re-indexing bumps it). */
export interface IngestMessage {
  type: 'ingest';
  document_id: string;
  generation: number;
}

/** Feishu events accepted by POST /feishu/event, processed after Feishu got its 200. */
export const FEISHU_QUEUE_NAME = 'tiangong-feishu';
export const FEISHU_DLQ_NAME = 'tiangong-feishu-dlq';
export interface FeishuMessage {
  event_id: string;
  payload: Record<string, unknown>;
}

/** Due schedule runs, enqueued by the cron step and started by this worker's consumer. */
export const SCHEDULES_QUEUE_NAME = 'tiangong-schedules';
export const SCHEDULES_DLQ_NAME = 'tiangong-schedules-dlq';
export interface ScheduleRunMessage {
  run_id: string;
}

/** Each API request's audit row and system_logs lines, written in batches by the consumer. */
export const AUDIT_QUEUE_NAME = 'tiangong-audit';
export const AUDIT_DLQ_NAME = 'tiangong-audit-dlq';

/** One audit_logs row, as queued. */
export interface AuditRow {
  id: string;
  created_at: string;
  user_id: string | null;
  action: string;
  method: string;
  path: string;
  resource_type: string | null;
  resource_id: string | null;
  status_code: number;
  ip: string | null;
  user_agent: string | null;
  request_id: string;
  duration_ms: number;
}

export type LogCategory = 'request' | 'error' | 'job' | 'app';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One system_logs line. */
export interface SystemLogEntry {
  /** Set when the row is queued (generated at request time), so a redelivered write inserts nothing. */
  id?: string;
  /** ISO time of the event; defaults to the insert time. */
  created_at?: string;
  category: LogCategory;
  level: LogLevel;
  source: string;
  message: string;
  request_id?: string | null;
  user_id?: string | null;
  method?: string | null;
  path?: string | null;
  status_code?: number | null;
  duration_ms?: number | null;
  /** 1/sampling rate for sampled request lines, so weighted counts stay unbiased. */
  weight?: number;
  data?: unknown;
}

/** What one request records: its audit row (writes only) and its system_logs lines (request, error). */
export interface RecordMessage {
  audit?: AuditRow;
  logs: Array<SystemLogEntry & { id: string; created_at: string }>;
}

/** Eval runs: rows of a run to execute and score (src/modules/governance/evals/queue.ts). */
export const EVALS_QUEUE_NAME = 'tiangong-evals';
export const EVALS_DLQ_NAME = 'tiangong-evals-dlq';
export interface EvalRowsMessage {
  run_id: string;
  row_ids: string[];
}

/**
 * OpenTelemetry traces (src/engine/telemetry/, docs/traces.md): the finished spans of an agent
 * turn or a workflow run, for one destination (the platform's collector, or the user's own),
 * exported over OTLP/HTTP by the consumer in src/modules/governance/monitoring/traces-queue.ts.
 */
export const TRACES_QUEUE_NAME = 'tiangong-traces';
export const TRACES_DLQ_NAME = 'tiangong-traces-dlq';

/** One finished span, as queued: plain data, made into an SDK ReadableSpan by the consumer. */
export interface TraceSpan {
  /** 32 hex digits. */
  trace_id: string;
  /** 16 hex digits. */
  span_id: string;
  parent_span_id?: string;
  name: string;
  kind: 'internal' | 'client';
  /** Epoch milliseconds. */
  start_ms: number;
  end_ms: number;
  attributes: Record<string, string | number | boolean | string[]>;
  status: 'unset' | 'ok' | 'error';
  status_message?: string;
}

export interface TraceExportMessage {
  /** `platform`: OTEL_EXPORTER_OTLP_ENDPOINT; `user`: the user's exporter (GET /monitoring/traces/exporter). */
  destination: 'platform' | 'user';
  user_id: string;
  spans: TraceSpan[];
}
