// Tables of the agent-schedules module (its store alone reads and writes them).
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

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
