// Tables of the approval module (its store alone reads and writes them).
import { index, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';

/** A human_approval node waiting for (or given) a decision, or a human_input node's form waiting for (or given) its values. */
export const approvals = sqliteTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    executionId: text('execution_id').notNull(),
    nodeId: text('node_id').notNull(),
    /** approval: approve or reject; input: a form to fill in (`fields`), answered with `values`. */
    kind: text('kind', { enum: ['approval', 'input'] })
      .notNull()
      .default('approval'),
    ownerId: text('owner_id').notNull(),
    /** The designated approver (an input's assignee); the owner may always decide. */
    approverId: text('approver_id'),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    status: text('status', { enum: ['pending', 'approved', 'rejected', 'submitted', 'timed_out', 'cancelled'] })
      .notNull()
      .default('pending'),
    comment: text('comment'),
    /** An input's form fields (JSON, the node's `fields`) and, once submitted, the validated values (JSON). */
    fields: text('fields'),
    values: text('values'),
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
