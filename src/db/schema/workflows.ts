// Tables of the workflows module (its store alone reads and writes them).
import { index, integer, sqliteTable, text, primaryKey } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/** A workflow: the current graph; every saved state is also a row in workflow_versions. */
export const workflows = sqliteTable(
  'workflows',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    /** JSON `{nodes, edges}`. */
    graph: text('graph').notNull(),
    /** JSON array of input definitions `{name, type, required, default, description}`. */
    inputsSchema: text('inputs_schema').notNull().default('[]'),
    version: integer('version').notNull().default(1),
    status: text('status', { enum: ['draft', 'active', 'archived'] }).notNull().default('draft'),
    templateId: text('template_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('workflows_owner_idx').on(t.ownerId, t.updatedAt)],
);

/** Immutable history: one row per stored version (rollback appends, never rewrites). */
export const workflowVersions = sqliteTable(
  'workflow_versions',
  {
    workflowId: text('workflow_id').notNull(),
    version: integer('version').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    graph: text('graph').notNull(),
    inputsSchema: text('inputs_schema').notNull().default('[]'),
    note: text('note').notNull().default(''),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.version] })],
);
