// Tables of the orchestration-templates module (its store alone reads and writes them).
import { index, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/** User-defined multi-agent patterns (the builtin ones live in code). */
export const orchestrationTemplates = sqliteTable(
  'orchestration_templates',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    mode: text('mode').notNull(),
    /** JSON: the roles (name, instructions) the pattern needs. */
    roles: text('roles').notNull(),
    /** JSON: graph edges between roles (graph mode), rounds (debate), ... */
    config: text('config').notNull().default('{}'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('orchestration_templates_owner_idx').on(t.ownerId, t.createdAt)],
);
