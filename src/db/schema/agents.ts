import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './core';

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

/**
 * Stored model configurations. The API key is kept AES-GCM encrypted plus a masked hint for
 * display, so listing never decrypts. `is_system` configs are an admin's, visible to everyone.
 */
export const modelConfigs = sqliteTable(
  'model_configs',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    isSystem: integer('is_system').notNull().default(0),
    name: text('name').notNull(),
    provider: text('provider').notNull(),
    modelName: text('model_name').notNull(),
    baseUrl: text('base_url'),
    apiKeyEncrypted: text('api_key_encrypted'),
    apiKeyHint: text('api_key_hint'),
    temperature: real('temperature'),
    maxTokens: integer('max_tokens'),
    isDefault: integer('is_default').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('model_configs_owner_idx').on(t.ownerId),
    // At most one default per user among their own configs, and one among system configs.
    uniqueIndex('model_configs_user_default_unique').on(t.ownerId).where(sql`is_default = 1 AND is_system = 0`),
    uniqueIndex('model_configs_system_default_unique').on(t.isSystem).where(sql`is_default = 1 AND is_system = 1`),
  ],
);

/** One row per model call (ok or failed); the monitoring modules aggregate this table. */
export const llmCalls = sqliteTable(
  'llm_calls',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    agentId: text('agent_id'),
    sessionId: text('session_id'),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    latencyMs: integer('latency_ms').notNull(),
    status: text('status', { enum: ['ok', 'error'] }).notNull(),
    error: text('error'),
    source: text('source'),
    createdAt: createdAt(),
  },
  (t) => [
    index('llm_calls_created_idx').on(t.createdAt),
    index('llm_calls_user_idx').on(t.userId, t.createdAt),
    index('llm_calls_agent_idx').on(t.agentId, t.createdAt),
    // Covers the monitoring aggregates over a time range (no table reads for counts, tokens, latency).
    index('llm_calls_stats_idx').on(t.createdAt, t.provider, t.model, t.status, t.latencyMs, t.promptTokens, t.completionTokens),
  ],
);
