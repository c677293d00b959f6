// Tables of the execution-logs module (its store alone reads and writes them).
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';

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
