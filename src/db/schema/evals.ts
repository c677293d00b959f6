// Tables of the evals module (its store alone reads and writes them).
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/** An evaluation dataset: its current version is the newest row of `eval_dataset_versions`. */
export const evalDatasets = sqliteTable(
  'eval_datasets',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    version: integer('version').notNull().default(1),
    rowCount: integer('row_count').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('eval_datasets_owner_idx').on(t.ownerId, t.createdAt)],
);

/**
 * One row per dataset version. The unique key is the optimistic lock of a change: two writers
 * that read the same version both try to insert version + 1, and the batch of the second fails.
 */
export const evalDatasetVersions = sqliteTable(
  'eval_dataset_versions',
  {
    datasetId: text('dataset_id').notNull(),
    version: integer('version').notNull(),
    rowCount: integer('row_count').notNull(),
    /** What made the version: created, added, removed. */
    change: text('change').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('eval_dataset_versions_unique').on(t.datasetId, t.version)],
);

/**
 * Dataset rows are immutable: a row belongs to versions `added_version` up to (not including)
 * `removed_version`, so every version stays readable and a run can name the one it used.
 */
export const evalDatasetRows = sqliteTable(
  'eval_dataset_rows',
  {
    id: text('id').primaryKey(),
    datasetId: text('dataset_id').notNull(),
    position: integer('position').notNull(),
    /** JSON: a message (string) or a workflow's inputs (object). */
    input: text('input').notNull(),
    /** JSON, or null when the row has no expected answer. */
    expected: text('expected'),
    metadata: text('metadata').notNull().default('{}'),
    addedVersion: integer('added_version').notNull(),
    removedVersion: integer('removed_version'),
    createdAt: createdAt(),
  },
  (t) => [index('eval_dataset_rows_dataset_idx').on(t.datasetId, t.position)],
);

/** An eval run: a target over one dataset version, scored by the run's scorers. */
export const evalRuns = sqliteTable(
  'eval_runs',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    datasetId: text('dataset_id').notNull(),
    datasetVersion: integer('dataset_version').notNull(),
    name: text('name').notNull().default(''),
    /** JSON: `{type: agent|workflow|model, ...}`; an agent's version is pinned at creation. */
    target: text('target').notNull(),
    /** JSON: the scorer specs. */
    scorers: text('scorers').notNull(),
    /** JSON: prices per million tokens, or null (cost 0). */
    price: text('price'),
    concurrency: integer('concurrency').notNull().default(4),
    status: text('status', { enum: ['queued', 'running', 'completed', 'cancelled', 'failed'] }).notNull().default('queued'),
    total: integer('total').notNull(),
    done: integer('done').notNull().default(0),
    passed: integer('passed').notNull().default(0),
    errors: integer('errors').notNull().default(0),
    /** JSON: per scorer mean and pass rate, set when the run completes. */
    summary: text('summary'),
    error: text('error'),
    startedAt: text('started_at'),
    finishedAt: text('finished_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('eval_runs_owner_idx').on(t.ownerId, t.createdAt), index('eval_runs_dataset_idx').on(t.datasetId, t.createdAt)],
);

/**
 * One row's result in a run. UNIQUE(run_id, row_id) with an insert that does nothing on conflict:
 * a queue message delivered again never scores a row twice.
 */
export const evalResults = sqliteTable(
  'eval_results',
  {
    id: text('id').primaryKey(),
    runId: text('run_id').notNull(),
    rowId: text('row_id').notNull(),
    position: integer('position').notNull(),
    output: text('output'),
    toolCalls: text('tool_calls').notNull().default('[]'),
    /** JSON: `[{scorer, score, passed, detail}]`. */
    scores: text('scores').notNull().default('[]'),
    passed: integer('passed').notNull().default(0),
    latencyMs: integer('latency_ms').notNull().default(0),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    cost: real('cost').notNull().default(0),
    error: text('error'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('eval_results_run_row_unique').on(t.runId, t.rowId), index('eval_results_run_idx').on(t.runId, t.position)],
);

/**
 * An agent's deploy gate: deploying it first runs `scorer` over the current version of the
 * dataset, and the deploy is refused when the scorer's mean is below `min_score`.
 */
export const evalGates = sqliteTable(
  'eval_gates',
  {
    agentId: text('agent_id').primaryKey(),
    /** Who set the gate (the dataset's owner): the gate's eval runs are theirs. */
    ownerId: text('owner_id').notNull(),
    datasetId: text('dataset_id').notNull(),
    /** JSON: one scorer spec, as in a run's `scorers`. */
    scorer: text('scorer').notNull(),
    minScore: real('min_score').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('eval_gates_dataset_idx').on(t.datasetId)],
);

/**
 * A workflow's deploy gate (docs/evals.md): a change that creates a new version of the workflow
 * (`PUT /workflows/{id}` changing its graph, a rollback) first scores the candidate over the
 * dataset, and is refused when the scorer's mean is below `min_score`.
 */
export const evalWorkflowGates = sqliteTable(
  'eval_workflow_gates',
  {
    workflowId: text('workflow_id').primaryKey(),
    /** Who set the gate (the dataset's owner): the gate's eval runs are theirs. */
    ownerId: text('owner_id').notNull(),
    datasetId: text('dataset_id').notNull(),
    /** JSON: one scorer spec, as in a run's `scorers`. */
    scorer: text('scorer').notNull(),
    minScore: real('min_score').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('eval_workflow_gates_dataset_idx').on(t.datasetId)],
);
