// Tables of the tasks module (its store alone reads and writes them).
import { index, integer, sqliteTable, text, primaryKey } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/**
 * Tasks of a goal. A lease (`lease_expires_at`) covers both a claim and a run by the queue
 * consumer, so work of a worker that died is released by the cron and picked up again.
 */
export const tasks = sqliteTable(
  'tasks',
  {
    id: text('id').primaryKey(),
    goalId: text('goal_id').notNull(),
    ownerId: text('owner_id').notNull(),
    parentId: text('parent_id'),
    position: integer('position').notNull().default(0),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    status: text('status', { enum: ['pending', 'awaiting_approval', 'claimed', 'running', 'completed', 'failed', 'rejected'] })
      .notNull()
      .default('pending'),
    assignedAgentId: text('assigned_agent_id'),
    requiresApproval: integer('requires_approval').notNull().default(0),
    approvalStatus: text('approval_status', { enum: ['approved', 'rejected'] }),
    approvalComment: text('approval_comment'),
    claimedBy: text('claimed_by'),
    claimedByAgentId: text('claimed_by_agent_id'),
    leaseExpiresAt: text('lease_expires_at'),
    attempts: integer('attempts').notNull().default(0),
    maxRetries: integer('max_retries').notNull().default(2),
    result: text('result'),
    error: text('error'),
    startedAt: text('started_at'),
    completedAt: text('completed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('tasks_goal_idx').on(t.goalId, t.position),
    index('tasks_owner_idx').on(t.ownerId, t.createdAt),
    index('tasks_lease_idx').on(t.status, t.leaseExpiresAt),
  ],
);

/** `task_id` waits for `depends_on_id` (both tasks of the same goal). */
export const taskDependencies = sqliteTable(
  'task_dependencies',
  {
    taskId: text('task_id').notNull(),
    dependsOnId: text('depends_on_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.dependsOnId] }), index('task_dependencies_depends_on_idx').on(t.dependsOnId)],
);

/** One row per execution attempt of a task (queue or synchronous), for history and exactly-once checks. */
export const taskRuns = sqliteTable(
  'task_runs',
  {
    id: text('id').primaryKey(),
    taskId: text('task_id').notNull(),
    goalId: text('goal_id').notNull(),
    attempt: integer('attempt').notNull(),
    trigger: text('trigger', { enum: ['queue', 'execute'] }).notNull(),
    agentId: text('agent_id'),
    status: text('status', { enum: ['running', 'completed', 'failed'] }).notNull(),
    output: text('output'),
    error: text('error'),
    tokenUsage: text('token_usage'),
    startedAt: createdAt(),
    finishedAt: text('finished_at'),
  },
  (t) => [
    index('task_runs_task_idx').on(t.taskId, t.attempt),
    index('task_runs_goal_idx').on(t.goalId),
    // Monitoring counts runs over a time range (startedAt is the created_at column).
    index('task_runs_started_idx').on(t.startedAt),
  ],
);
