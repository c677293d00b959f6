// Tables of the goals module (its store alone reads and writes them).
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/**
 * Goals: work handed to agents. `agent_ids` (JSON) are the agents that may work on it;
 * `auto_execute` is set by execute-async, so finished tasks enqueue the ones they unblock.
 * Progress is not stored: it is computed from the tasks on every read, so it cannot drift.
 */
export const goals = sqliteTable(
  'goals',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    priority: text('priority', { enum: ['low', 'medium', 'high', 'urgent'] }).notNull().default('medium'),
    deadline: text('deadline'),
    agentIds: text('agent_ids').notNull().default('[]'),
    status: text('status', { enum: ['draft', 'active', 'paused', 'completed', 'failed', 'cancelled'] }).notNull().default('draft'),
    autoExecute: integer('auto_execute').notNull().default(0),
    result: text('result'),
    error: text('error'),
    startedAt: text('started_at'),
    completedAt: text('completed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('goals_owner_idx').on(t.ownerId, t.createdAt), index('goals_status_idx').on(t.status)],
);

/** The `interact` conversation about a goal, oldest first. */
export const goalMessages = sqliteTable(
  'goal_messages',
  {
    id: text('id').primaryKey(),
    goalId: text('goal_id').notNull(),
    seq: integer('seq').notNull(),
    role: text('role', { enum: ['user', 'assistant'] }).notNull(),
    content: text('content').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('goal_messages_goal_idx').on(t.goalId, t.seq)],
);
