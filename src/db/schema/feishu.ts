// Tables of the feishu module (its store alone reads and writes them).
import { index, integer, sqliteTable, text, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

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
