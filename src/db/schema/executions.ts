// Tables of the executions module (its store alone reads and writes them).
import { index, integer, sqliteTable, text, primaryKey } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/** One run of a workflow (or an agent's workflow); the Execution DO owns it while live. */
export const executions = sqliteTable(
  'executions',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    workflowId: text('workflow_id'),
    workflowVersion: integer('workflow_version'),
    agentId: text('agent_id'),
    parentExecutionId: text('parent_execution_id'),
    /** The failed or cancelled run this one retries (`POST /executions/{id}/retry`). */
    retryOf: text('retry_of'),
    /** The run this one was forked from (`POST /executions/{id}/fork`), and the node it ran again from. */
    forkedFrom: text('forked_from'),
    forkedAtNode: text('forked_at_node'),
    /** 1 for a run, n + 1 for a retry of attempt n. */
    attempt: integer('attempt').notNull().default(1),
    trigger: text('trigger').notNull().default('api'),
    /**
     * Runs of `POST /agents/{id}/execute` (trigger `execute`): the pattern the agent ran in. They
     * run inline in the request, not in an Execution DO; null for workflow-graph runs.
     */
    mode: text('mode', { enum: ['agent', 'sequential', 'pipeline', 'debate', 'graph'] }),
    status: text('status', {
      enum: ['pending', 'running', 'paused', 'waiting_approval', 'succeeded', 'failed', 'cancelled'],
    })
      .notNull()
      .default('pending'),
    inputs: text('inputs').notNull().default('{}'),
    /** The graph as it ran (the workflow may change or go later). */
    graph: text('graph'),
    outputs: text('outputs'),
    /** JSON `{code, message, node_id}` of a failed run. */
    error: text('error'),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    totalTokens: integer('total_tokens').notNull().default(0),
    startedAt: text('started_at'),
    finishedAt: text('finished_at'),
    durationMs: integer('duration_ms'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('executions_owner_idx').on(t.ownerId, t.createdAt),
    index('executions_workflow_idx').on(t.workflowId, t.createdAt),
    // Runs readable through their agent (authorizeExecution's list filter) stay index lookups.
    index('executions_agent_idx').on(t.agentId, t.createdAt),
    index('executions_status_idx').on(t.status),
  ],
);

/** Per-node record of a run, mirrored from the Execution DO. */
export const executionNodes = sqliteTable(
  'execution_nodes',
  {
    executionId: text('execution_id').notNull(),
    nodeId: text('node_id').notNull(),
    nodeType: text('node_type').notNull(),
    label: text('label'),
    status: text('status').notNull(),
    inputs: text('inputs'),
    outputs: text('outputs'),
    error: text('error'),
    branch: text('branch'),
    attempts: integer('attempts').notNull().default(0),
    /** JSON array of model/tool/http calls the node made, for the call chain. */
    calls: text('calls').notNull().default('[]'),
    totalTokens: integer('total_tokens').notNull().default(0),
    startedAt: text('started_at'),
    finishedAt: text('finished_at'),
    durationMs: integer('duration_ms'),
    /** Order of completion within the run (a retry or fork rebuilds variables in this order). */
    seq: integer('seq'),
    /** A retry's or fork's node reused from an earlier run: the execution whose attempt produced its output. */
    reusedFrom: text('reused_from'),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.nodeId] })],
);
