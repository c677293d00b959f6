import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './core';

/** A workflow: the current graph; every saved state is also a row in workflow_versions. */
export const workflows = sqliteTable(
  'workflows',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    /** JSON `{nodes, edges}`. */
    graph: text('graph').notNull(),
    /** JSON array of input definitions `{name, type, required, default, description}`. */
    inputsSchema: text('inputs_schema').notNull().default('[]'),
    version: integer('version').notNull().default(1),
    status: text('status', { enum: ['draft', 'active', 'archived'] }).notNull().default('draft'),
    templateId: text('template_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('workflows_owner_idx').on(t.ownerId, t.updatedAt)],
);

/** Immutable history: one row per stored version (rollback appends, never rewrites). */
export const workflowVersions = sqliteTable(
  'workflow_versions',
  {
    workflowId: text('workflow_id').notNull(),
    version: integer('version').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    graph: text('graph').notNull(),
    inputsSchema: text('inputs_schema').notNull().default('[]'),
    note: text('note').notNull().default(''),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.version] })],
);

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
  },
  (t) => [primaryKey({ columns: [t.executionId, t.nodeId] })],
);

export const executionLogs = sqliteTable(
  'execution_logs',
  {
    id: text('id').primaryKey(),
    executionId: text('execution_id').notNull(),
    ownerId: text('owner_id').notNull(),
    seq: integer('seq').notNull(),
    nodeId: text('node_id'),
    level: text('level', { enum: ['debug', 'info', 'warn', 'error'] }).notNull(),
    message: text('message').notNull(),
    data: text('data'),
    createdAt: createdAt(),
  },
  (t) => [
    index('execution_logs_exec_idx').on(t.executionId, t.seq),
    index('execution_logs_owner_idx').on(t.ownerId, t.createdAt),
  ],
);

/** A human-approval node waiting for (or given) a decision. */
export const approvals = sqliteTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    executionId: text('execution_id').notNull(),
    nodeId: text('node_id').notNull(),
    ownerId: text('owner_id').notNull(),
    /** The designated approver; the owner may always decide. */
    approverId: text('approver_id'),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    status: text('status', { enum: ['pending', 'approved', 'rejected', 'timed_out', 'cancelled'] })
      .notNull()
      .default('pending'),
    comment: text('comment'),
    decidedBy: text('decided_by'),
    decidedAt: text('decided_at'),
    timeoutAt: text('timeout_at'),
    createdAt: createdAt(),
  },
  (t) => [
    index('approvals_approver_idx').on(t.approverId, t.status),
    index('approvals_owner_idx').on(t.ownerId, t.status),
    // Approvals of runs one may control (the approval list's filter) and the DO's lookup by run.
    index('approvals_execution_idx').on(t.executionId, t.status),
  ],
);

/** Saved node configurations (the builtin ones live in code). */
export const nodeTemplates = sqliteTable(
  'node_templates',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    nodeType: text('node_type').notNull(),
    config: text('config').notNull().default('{}'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('node_templates_owner_idx').on(t.ownerId, t.updatedAt)],
);
