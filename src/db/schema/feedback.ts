// Tables of the feedback module (its store alone reads and writes them).
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/**
 * Feedback on an assistant message or an execution. One row per user and target (recording
 * again replaces it). `owner_id` is the owner of what was rated (the agent or run owner), who
 * sees it in the analysis; `snapshot` keeps the answer and its context for negative samples.
 */
export const feedback = sqliteTable(
  'feedback',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    ownerId: text('owner_id').notNull(),
    targetType: text('target_type', { enum: ['message', 'execution'] }).notNull(),
    targetId: text('target_id').notNull(),
    agentId: text('agent_id'),
    sessionId: text('session_id'),
    thumb: text('thumb', { enum: ['up', 'down'] }),
    rating: integer('rating'),
    sentiment: text('sentiment', { enum: ['positive', 'neutral', 'negative'] }).notNull(),
    comment: text('comment').notNull().default(''),
    tags: text('tags').notNull().default('[]'),
    snapshot: text('snapshot').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('feedback_user_target_unique').on(t.userId, t.targetType, t.targetId),
    index('feedback_agent_idx').on(t.agentId, t.createdAt),
    index('feedback_owner_idx').on(t.ownerId, t.sentiment, t.createdAt),
  ],
);
