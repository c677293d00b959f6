// Tables of the node-templates module (its store alone reads and writes them).
import { index, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/** Saved node configurations (the builtin ones live in code). */
export const nodeTemplates = sqliteTable(
  'node_templates',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    nodeType: text('node_type').notNull(),
    config: text('config').notNull().default('{}'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('node_templates_owner_idx').on(t.ownerId, t.updatedAt)],
);
