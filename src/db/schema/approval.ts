// Tables of the approval module (its store alone reads and writes them).
import { index, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';

/** A human-approval node waiting for (or given) a decision. */
export const approvals = sqliteTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    executionId: text('execution_id').notNull(),
    nodeId: text('node_id').notNull(),
    ownerId: text('owner_id').notNull(),
    /** The designated approver; the owner may always decide. */
    approverId: text('approver_id'),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    status: text('status', { enum: ['pending', 'approved', 'rejected', 'timed_out', 'cancelled'] })
      .notNull()
      .default('pending'),
    comment: text('comment'),
    decidedBy: text('decided_by'),
    decidedAt: text('decided_at'),
    timeoutAt: text('timeout_at'),
    createdAt: createdAt(),
  },
  (t) => [
    index('approvals_approver_idx').on(t.approverId, t.status),
    index('approvals_owner_idx').on(t.ownerId, t.status),
    // Approvals of runs one may control (the approval list's filter) and the DO's lookup by run.
    index('approvals_execution_idx').on(t.executionId, t.status),
  ],
);
