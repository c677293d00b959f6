import type { Usage } from '../llm/types';

/** The workflow graph and the run-time records of the engine (no HTTP, no storage here). */

export interface RetryPolicy {
  /** Extra attempts after the first (0 = no retry). */
  max_retries: number;
  /** Wait before the first retry; doubled each time when `backoff` is exponential. */
  backoff_ms?: number;
  backoff?: 'fixed' | 'exponential';
}

export type ErrorStrategy = 'fail' | 'default_value' | 'error_branch';

export interface NodeDef {
  id: string;
  type: string;
  label?: string;
  config?: Record<string, unknown>;
  /** Per-attempt time limit. */
  timeout_ms?: number;
  retry?: RetryPolicy;
  error_strategy?: ErrorStrategy;
  /** The output used when `error_strategy` is `default_value`. */
  default_output?: Record<string, unknown>;
  /** Editor layout; carried along untouched. */
  position?: { x: number; y: number };
}

export interface EdgeDef {
  id?: string;
  source: string;
  target: string;
  /** The source's output port (a condition case, a class, `approved`, `error`, ...); default `out`. */
  source_handle?: string;
}

export interface Graph {
  nodes: NodeDef[];
  edges: EdgeDef[];
}

export interface InputDef {
  name: string;
  type?: 'string' | 'number' | 'boolean' | 'object' | 'array';
  required?: boolean;
  default?: unknown;
  description?: string;
}

export const DEFAULT_PORT = 'out';
export const ERROR_PORT = 'error';

export type NodeStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/** A model, tool, HTTP or sub-workflow call a node made (for the call chain). */
export interface CallRecord {
  kind: 'llm' | 'tool' | 'http' | 'workflow';
  name: string;
  status: 'succeeded' | 'failed';
  started_at: string;
  duration_ms: number;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  error?: string;
  /** Nested calls (a sub-workflow's or a loop body's). */
  children?: CallRecord[];
}

export const FIELD_TYPES = ['text', 'number', 'select', 'boolean', 'json'] as const;

/** A field of a human_input node's form. */
export interface FormField {
  name: string;
  type: (typeof FIELD_TYPES)[number];
  label?: string;
  description?: string;
  required: boolean;
  options?: string[];
  default?: unknown;
}

/** What a node is waiting for, when it suspended the run. */
export interface WaitInfo {
  kind: 'approval' | 'delay';
  /** Epoch ms at which the wait ends by itself (delay end, approval timeout). */
  until?: number;
  approval_id?: string;
}

export interface NodeState {
  node_id: string;
  type: string;
  label?: string;
  status: NodeStatus;
  /** The node's resolved configuration: what it actually ran with. */
  inputs?: unknown;
  output?: Record<string, unknown>;
  error?: { code: string; message: string };
  /** The port taken (`out`, a case id, `error`, ...). */
  branch?: string;
  attempts: number;
  calls: CallRecord[];
  usage: Usage;
  started_at?: string;
  finished_at?: string;
  /** Epoch ms of the start of the current attempt sequence (a delay's reference). */
  started_ms?: number;
  duration_ms?: number;
  /** Order of completion within the run (variables are rebuilt in this order on resume). */
  seq?: number;
  wait?: WaitInfo;
  /** Reused by a retry or fork: the execution whose run produced this output (the node did not run again). */
  reused_from?: string;
  /** A fork at items of an iteration: its recorded output, whose other items' results are reused. */
  replay?: ItemReplay;
}

/** Which items of an iteration a fork runs again; the others keep their results from `output`. */
export interface ItemReplay {
  output: Record<string, unknown>;
  items: number[];
  /** The `items` the recorded run resolved: the results are reused only for the same list. */
  list: unknown;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  node_id?: string | null;
  level: LogLevel;
  message: string;
  data?: unknown;
}

export type RunEvent =
  | { type: 'node_started'; node_id: string; node_type: string; attempt: number }
  | { type: 'node_finished'; node_id: string; node_type: string; status: NodeStatus; branch?: string; duration_ms?: number; output?: unknown; error?: unknown }
  | { type: 'node_retry'; node_id: string; attempt: number; delay_ms: number; error: { code: string; message: string } }
  | { type: 'approval_required'; node_id: string; approval_id: string; title: string; approver_id: string | null; timeout_at: string | null };

export class NodeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** False for errors that another attempt cannot fix (bad config, 4xx). */
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'NodeError';
  }
}
