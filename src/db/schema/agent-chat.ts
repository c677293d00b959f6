// Tables of the agent-chat module (its store alone reads and writes them).
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/**
 * Conversations: `chat` (talking to an agent or bare), `preview` (the owner trying an agent while
 * designing it), `branch` (a fork of another session at one of its messages).
 */
export const chatSessions = sqliteTable(
  'chat_sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    agentId: text('agent_id'),
    kind: text('kind', { enum: ['chat', 'preview', 'branch'] }).notNull().default('chat'),
    title: text('title').notNull().default(''),
    parentSessionId: text('parent_session_id'),
    forkedFromMessageId: text('forked_from_message_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('chat_sessions_user_idx').on(t.userId, t.updatedAt),
    index('chat_sessions_agent_idx').on(t.agentId, t.kind),
    index('chat_sessions_parent_idx').on(t.parentSessionId),
  ],
);

/** Messages of a session in order: `seq` is dense per session (unique), so order never ties. */
export const chatMessages = sqliteTable(
  'chat_messages',
  {
    id: text('id').primaryKey(),
    sessionId: text('session_id').notNull(),
    seq: integer('seq').notNull(),
    role: text('role', { enum: ['system', 'user', 'assistant', 'tool'] }).notNull(),
    content: text('content'),
    /** JSON array of {id, name, arguments} for assistant messages that call tools. */
    toolCalls: text('tool_calls'),
    toolCallId: text('tool_call_id'),
    name: text('name'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    /** The partial answer of a turn stopped by a newer message (double-texting `interrupt`). */
    interrupted: integer('interrupted', { mode: 'boolean' }).notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('chat_messages_session_seq_unique').on(t.sessionId, t.seq)],
);
