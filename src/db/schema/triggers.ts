import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './core';

/**
 * An agent run on a cron schedule (5-field cron read in `timezone`). `next_run_at` (epoch ms,
 * UTC) is the next occurrence; the cron step runs schedules whose next_run_at has passed.
 */
export const agentSchedules = sqliteTable(
  'agent_schedules',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    agentId: text('agent_id').notNull(),
    cron: text('cron').notNull(),
    timezone: text('timezone').notNull().default('UTC'),
    /** The message the agent receives (`inputs.message` of the execution). */
    input: text('input').notNull().default(''),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    nextRunAt: integer('next_run_at'),
    lastRunAt: integer('last_run_at'),
    lastExecutionId: text('last_execution_id'),
    lastStatus: text('last_status'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('agent_schedules_due_idx').on(t.enabled, t.nextRunAt),
    index('agent_schedules_owner_idx').on(t.ownerId, t.createdAt),
    index('agent_schedules_agent_idx').on(t.agentId),
  ],
);

/**
 * One run of a schedule. UNIQUE(schedule_id, scheduled_for) is the exactly-once claim of a slot:
 * whichever cron invocation inserts it first enqueues the run; `execution_id` set means it ran.
 */
export const scheduleRuns = sqliteTable(
  'schedule_runs',
  {
    id: text('id').primaryKey(),
    scheduleId: text('schedule_id').notNull(),
    /** The occurrence (epoch ms) this run is for; the trigger time for manual runs. */
    scheduledFor: integer('scheduled_for').notNull(),
    trigger: text('trigger', { enum: ['cron', 'manual'] }).notNull().default('cron'),
    status: text('status', { enum: ['queued', 'started', 'failed', 'skipped'] }).notNull().default('queued'),
    executionId: text('execution_id'),
    error: text('error'),
    /** Set by the queue consumer that is starting the run (a lease against parallel deliveries). */
    claimedAt: integer('claimed_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('schedule_runs_slot_unique').on(t.scheduleId, t.scheduledFor), index('schedule_runs_status_idx').on(t.status, t.createdAt)],
);

/** The webhook of a workflow: its secret (AES-GCM encrypted with ENCRYPTION_KEY) and whether it is on. */
export const webhookSecrets = sqliteTable('webhook_secrets', {
  workflowId: text('workflow_id').primaryKey(),
  ownerId: text('owner_id').notNull(),
  secret: text('secret').notNull(),
  secretHint: text('secret_hint').notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  createdAt: createdAt(),
  rotatedAt: text('rotated_at'),
});

/** Signatures already accepted, kept for the replay window (cleaned by the cron step). */
export const webhookNonces = sqliteTable('webhook_nonces', {
  signatureHash: text('signature_hash').primaryKey(),
  workflowId: text('workflow_id').notNull(),
  expiresAt: integer('expires_at').notNull(),
});

/** Fixed-window request counters per workflow webhook (window start, epoch ms). */
export const webhookRateWindows = sqliteTable(
  'webhook_rate_windows',
  {
    workflowId: text('workflow_id').notNull(),
    windowStart: integer('window_start').notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.windowStart] })],
);

/** A batch of runs started by POST /batch/execute. */
export const batches = sqliteTable(
  'batches',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    itemCount: integer('item_count').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('batches_owner_idx').on(t.ownerId, t.createdAt)],
);

/** One item of a batch: the run it started (`execution_id`) or why it did not (`error`). */
export const batchItems = sqliteTable(
  'batch_items',
  {
    batchId: text('batch_id').notNull(),
    idx: integer('idx').notNull(),
    type: text('type', { enum: ['agent', 'workflow'] }).notNull(),
    resourceId: text('resource_id').notNull(),
    executionId: text('execution_id'),
    status: text('status').notNull(),
    error: text('error'),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.idx] }), index('batch_items_execution_idx').on(t.executionId)],
);
