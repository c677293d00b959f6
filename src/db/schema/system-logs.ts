// Tables of the system-logs module (its store alone reads and writes them).
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';

/**
 * The unified log: request lines (category `request`; successful reads may be sampled, each kept
 * row then carries `weight` = 1/rate so counts and rates stay unbiased), unhandled errors
 * (`error`), background jobs (`job`: cron runs, queue batches) and application messages (`app`).
 */
export const systemLogs = sqliteTable(
  'system_logs',
  {
    id: text('id').primaryKey(),
    category: text('category', { enum: ['request', 'error', 'job', 'app'] }).notNull(),
    level: text('level', { enum: ['debug', 'info', 'warn', 'error'] }).notNull(),
    source: text('source').notNull(),
    message: text('message').notNull(),
    requestId: text('request_id'),
    userId: text('user_id'),
    method: text('method'),
    path: text('path'),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms'),
    weight: real('weight').notNull().default(1),
    data: text('data'),
    createdAt: createdAt(),
  },
  (t) => [
    index('system_logs_created_idx').on(t.createdAt),
    index('system_logs_category_idx').on(t.category, t.createdAt),
    index('system_logs_level_idx').on(t.level, t.createdAt),
    index('system_logs_user_idx').on(t.userId, t.createdAt),
  ],
);
