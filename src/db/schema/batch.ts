// Tables of the batch module (its store alone reads and writes them).
import { index, integer, sqliteTable, text, primaryKey } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';

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
