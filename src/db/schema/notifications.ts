// Tables of the notifications module (its store alone reads and writes them).
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';

/** Notifications to a user about platform events (approvals, failures, completions, alerts). */
export const notifications = sqliteTable(
  'notifications',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    type: text('type').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull().default(''),
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    isRead: integer('is_read').notNull().default(0),
    readAt: text('read_at'),
    createdAt: createdAt(),
  },
  (t) => [index('notifications_user_idx').on(t.userId, t.isRead, t.createdAt)],
);
