// Tables of the agents module (its store alone reads and writes them).
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/**
 * Agents. JSON-valued fields (model_config, include_tools, workflow_config, sub_agent_ids) are
 * stored as JSON text: they are read and written whole, never queried by their parts.
 */
export const agents = sqliteTable(
  'agents',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    systemPrompt: text('system_prompt').notNull().default(''),
    modelConfig: text('model_config'),
    iterationLimit: integer('iteration_limit').notNull().default(15),
    includeTools: text('include_tools').notNull().default('[]'),
    workflowConfig: text('workflow_config'),
    status: text('status', { enum: ['draft', 'deployed', 'stopped'] }).notNull().default('draft'),
    version: integer('version').notNull().default(1),
    isMainAgent: integer('is_main_agent').notNull().default(0),
    subAgentIds: text('sub_agent_ids').notNull().default('[]'),
    /** What a chat message does while a turn of the same session runs (durable-objects/contracts.ts MULTITASK_STRATEGIES). */
    multitaskStrategy: text('multitask_strategy', { enum: ['reject', 'enqueue', 'interrupt', 'rollback'] }).notNull().default('enqueue'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('agents_owner_idx').on(t.ownerId, t.createdAt), index('agents_status_idx').on(t.status)],
);

/** Every version an agent ever had (a JSON snapshot of its definition), so history is never lost. */
export const agentVersions = sqliteTable(
  'agent_versions',
  {
    id: text('id').primaryKey(),
    agentId: text('agent_id').notNull(),
    version: integer('version').notNull(),
    snapshot: text('snapshot').notNull(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('agent_versions_agent_version_unique').on(t.agentId, t.version)],
);
