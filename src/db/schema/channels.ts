import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './core';

/** A Feishu user (open_id) bound to a platform user; `agent_id` null means the default agent. */
export const feishuBindings = sqliteTable(
  'feishu_bindings',
  {
    openId: text('open_id').primaryKey(),
    userId: text('user_id').notNull(),
    agentId: text('agent_id'),
    name: text('name'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('feishu_bindings_user_unique').on(t.userId)],
);

/**
 * An unbound Feishu user who wrote to the bot. The one-time code shown to them in Feishu is kept
 * only as a hash; `status` pending → bound (code used or an admin approved) or rejected.
 */
export const feishuBindingRequests = sqliteTable(
  'feishu_binding_requests',
  {
    id: text('id').primaryKey(),
    openId: text('open_id').notNull(),
    chatId: text('chat_id'),
    name: text('name'),
    codeHash: text('code_hash').notNull(),
    codeExpiresAt: text('code_expires_at').notNull(),
    status: text('status', { enum: ['pending', 'bound', 'rejected'] }).notNull().default('pending'),
    userId: text('user_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('feishu_binding_requests_open_unique').on(t.openId), index('feishu_binding_requests_status_idx').on(t.status, t.createdAt)],
);

/** The chat session of one Feishu user in one Feishu chat (p2p or group) with one agent. */
export const feishuSessions = sqliteTable(
  'feishu_sessions',
  {
    chatId: text('chat_id').notNull(),
    openId: text('open_id').notNull(),
    agentId: text('agent_id').notNull(),
    sessionId: text('session_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.chatId, t.openId, t.agentId] })],
);

/** Event ids already accepted (Feishu redelivers); kept at least 8 hours, cleaned by cron. */
export const feishuEvents = sqliteTable(
  'feishu_events',
  {
    eventId: text('event_id').primaryKey(),
    eventType: text('event_type').notNull(),
    receivedAt: integer('received_at').notNull(),
    processedAt: integer('processed_at'),
  },
  (t) => [index('feishu_events_received_idx').on(t.receivedAt)],
);

/** A cron schedule running an agent with a fixed input. */
export const agentSchedules = sqliteTable(
  'agent_schedules',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    agentId: text('agent_id').notNull(),
    name: text('name').notNull().default(''),
    cron: text('cron').notNull(),
    timezone: text('timezone').notNull().default('UTC'),
    input: text('input').notNull(),
    enabled: integer('enabled').notNull().default(1),
    /** The next minute it is due (ISO, UTC); null when disabled. */
    nextRunAt: text('next_run_at'),
    /** The scheduled minute last claimed: the guard against running one minute twice. */
    lastRunMinute: text('last_run_minute'),
    lastRunAt: text('last_run_at'),
    lastExecutionId: text('last_execution_id'),
    runCount: integer('run_count').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('agent_schedules_owner_idx').on(t.ownerId, t.createdAt), index('agent_schedules_due_idx').on(t.enabled, t.nextRunAt)],
);

/**
 * Queued agent runs of schedules and batches. `id` is the id of the execution the run records
 * (agent_executions), fixed when it is queued so callers get it at once; `state` queued → running
 * → done is claimed by conditional UPDATEs, so a redelivered message runs it once.
 */
export const channelRuns = sqliteTable(
  'channel_runs',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    source: text('source', { enum: ['schedule', 'batch'] }).notNull(),
    sourceId: text('source_id').notNull(),
    agentId: text('agent_id').notNull(),
    input: text('input').notNull(),
    state: text('state', { enum: ['queued', 'running', 'done'] }).notNull().default('queued'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('channel_runs_source_idx').on(t.sourceId, t.createdAt)],
);

/** A batch of runs: its items are channel_runs (agents) and workflow executions. */
export const batches = sqliteTable(
  'batches',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    /** JSON array of {index, type, id, execution_id}. */
    items: text('items').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('batches_owner_idx').on(t.ownerId, t.createdAt)],
);

/** The webhook secret of a workflow (the workflows module has none of its own). */
export const workflowWebhooks = sqliteTable('workflow_webhooks', {
  workflowId: text('workflow_id').primaryKey(),
  ownerId: text('owner_id').notNull(),
  /** Encrypted at rest with ENCRYPTION_KEY; needed in clear to verify HMAC signatures. */
  secret: text('secret').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** Webhook calls per workflow per minute (fixed-window rate limit). */
export const webhookRateLimits = sqliteTable(
  'webhook_rate_limits',
  {
    workflowId: text('workflow_id').notNull(),
    windowStart: integer('window_start').notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.windowStart] })],
);
