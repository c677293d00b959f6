import type { ExecutionSnapshot } from '../../durable-objects/contracts';
import type { Step } from '../engine/orchestration';
import type { Graph, NodeState } from '../engine/workflow/types';
import type { ExecutionNodeRow, ExecutionRow, ListedExecution } from '../modules/workflows/executions/store';

/**
 * How a run is presented (the executions API's bodies): the D1 row, merged with the live state of
 * its Execution DO while it runs. Here (not in the executions service) because starting a run
 * answers with it.
 */

export const INLINE_MODES = ['agent', 'sequential', 'pipeline', 'debate', 'graph'] as const;
export type InlineMode = (typeof INLINE_MODES)[number];

/** One agent's part of an inline run: the orchestration step, with when it started (which goes to its node row, not the stored step). */
export type InlineStep = Step & { started_at?: string };

/** What an inline run stores in `outputs` when it succeeds. */
export interface InlineOutputs {
  output: string;
  steps: InlineStep[];
}

/** A run that ran in its request (`POST /agents/{id}/execute`), not in an Execution DO. */
export const isInline = (row: Pick<ExecutionRow, 'mode'>) => row.mode !== null && row.mode !== undefined;

/** The node id of a step: its graph node's, else `step-<n>` (1-based). */
export const stepNodeId = (step: Pick<InlineStep, 'node_id'>, index: number) => step.node_id ?? `step-${index + 1}`;

const parse = (s: string | null) => (s === null || s === undefined ? null : JSON.parse(s));

export function toExecution(row: ListedExecution) {
  return {
    id: row.id,
    owner_id: row.ownerId,
    workflow_id: row.workflowId,
    workflow_version: row.workflowVersion,
    agent_id: row.agentId,
    trigger: row.trigger,
    retry_of: row.retryOf,
    forked_from: row.forkedFrom,
    forked_at_node: row.forkedAtNode,
    attempt: row.attempt,
    mode: row.mode as InlineMode | null,
    status: row.status as any,
    inputs: JSON.parse(row.inputs),
    outputs: parse(row.outputs),
    error: parse(row.error),
    token_usage: { prompt_tokens: row.promptTokens, completion_tokens: row.completionTokens, total_tokens: row.totalTokens },
    started_at: row.startedAt,
    finished_at: row.finishedAt,
    duration_ms: row.durationMs,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

export function nodeFromState(s: NodeState) {
  return {
    node_id: s.node_id,
    node_type: s.type,
    label: s.label ?? null,
    status: s.status,
    inputs: s.inputs ?? null,
    outputs: s.output ?? null,
    error: s.error ?? null,
    branch: s.branch ?? null,
    attempts: s.attempts,
    total_tokens: s.usage?.total_tokens ?? 0,
    started_at: s.started_at ?? null,
    finished_at: s.finished_at ?? null,
    duration_ms: s.duration_ms ?? null,
    reused_from: s.reused_from ?? null,
  };
}

export function nodeFromRow(r: ExecutionNodeRow) {
  return {
    node_id: r.nodeId,
    node_type: r.nodeType,
    label: r.label,
    status: r.status as ReturnType<typeof nodeFromState>['status'],
    inputs: parse(r.inputs),
    outputs: parse(r.outputs),
    error: parse(r.error),
    branch: r.branch,
    attempts: r.attempts,
    total_tokens: r.totalTokens,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    duration_ms: r.durationMs,
    reused_from: r.reusedFrom,
  };
}

/** The D1 row merged with the live state of its Execution DO. */
/** `graph`: the run's graph when the caller has it parsed (else it is read from the row). */
export function detailFromSnapshot(row: ExecutionRow, snap: ExecutionSnapshot, graph?: Graph) {
  const base = toExecution(row);
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const n of snap.nodes) {
    usage.prompt_tokens += n.usage?.prompt_tokens ?? 0;
    usage.completion_tokens += n.usage?.completion_tokens ?? 0;
    usage.total_tokens += n.usage?.total_tokens ?? 0;
  }
  const finished = snap.finished_at;
  return {
    ...base,
    status: snap.status,
    outputs: snap.outputs,
    error: snap.error,
    started_at: snap.started_at,
    finished_at: finished,
    duration_ms: finished && snap.started_at ? Date.parse(finished) - Date.parse(snap.started_at) : base.duration_ms,
    token_usage: usage,
    nodes: inGraphOrder(row, snap.nodes.map(nodeFromState), graph),
  };
}

/**
 * Nodes in the order the graph lists them (timestamps tie within a millisecond); an inline run's
 * in the order of its steps.
 */
export function inGraphOrder<T extends { node_id: string }>(row: ExecutionRow, nodes: T[], graph?: Graph): T[] {
  const order = new Map<string, number>();
  if (graph ?? row.graph) (graph ?? (JSON.parse(row.graph!) as Graph)).nodes.forEach((n, i) => order.set(n.id, i));
  else if (isInline(row) && row.outputs) ((JSON.parse(row.outputs) as InlineOutputs).steps ?? []).forEach((s, i) => order.set(stepNodeId(s, i), i));
  return [...nodes].sort((a, b) => (order.get(a.node_id) ?? 1e9) - (order.get(b.node_id) ?? 1e9));
}

export type ExecutionDetail = ReturnType<typeof detailFromSnapshot>;

/** A run at rest in D1 (finished, pending or inline): the row and its node rows. */
export function detailFromRows(row: ExecutionRow, nodes: ExecutionNodeRow[]): ExecutionDetail {
  return { ...toExecution(row), nodes: inGraphOrder(row, nodes.map(nodeFromRow)) } as ExecutionDetail;
}
