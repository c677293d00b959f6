// Tables of the tools module (its store alone reads and writes them).
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';
import { users } from './auth';

/** A user's own tools: an HTTP request template or JavaScript run in the sandbox. */
export const customTools = sqliteTable(
  'custom_tools',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    type: text('type', { enum: ['http', 'code'] }).notNull(),
    category: text('category').notNull().default('custom'),
    /** JSON Schema of the arguments object. */
    parameters: text('parameters').notNull(),
    /** JSON: http {method, url, headers (secret values encrypted), body, timeout_ms}; code {source, allow_network, timeout_ms}. */
    config: text('config').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('custom_tools_owner_name_unique').on(t.ownerId, sql`lower(${t.name})`), index('custom_tools_owner_idx').on(t.ownerId, t.createdAt)],
);

/** One row per tool invocation, from any caller, for the monitoring modules. */
export const toolUsage = sqliteTable(
  'tool_usage',
  {
    id: text('id').primaryKey(),
    toolId: text('tool_id').notNull(),
    toolName: text('tool_name').notNull(),
    toolType: text('tool_type').notNull(),
    userId: text('user_id').notNull(),
    agentId: text('agent_id'),
    sessionId: text('session_id'),
    /** api, agent, workflow, ... */
    caller: text('caller').notNull().default('api'),
    durationMs: integer('duration_ms').notNull(),
    ok: integer('ok', { mode: 'boolean' }).notNull(),
    /** `CODE: message` of a failed call. */
    error: text('error'),
    createdAt: createdAt(),
  },
  (t) => [
    index('tool_usage_user_idx').on(t.userId, t.createdAt),
    index('tool_usage_tool_idx').on(t.toolId, t.createdAt),
    index('tool_usage_agent_idx').on(t.agentId, t.createdAt),
  ],
);

/** Key-value memory of the memory_store / memory_recall tools, per user and session. */
export const toolMemory = sqliteTable(
  'tool_memory',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The chat session, or a caller-chosen namespace ('default' outside a session). */
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    /** JSON value. */
    value: text('value').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.scope, t.key] })],
);
