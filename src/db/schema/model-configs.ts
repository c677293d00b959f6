// Tables of the model-configs module (its store alone reads and writes them).
import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

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
