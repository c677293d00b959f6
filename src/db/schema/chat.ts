import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './core';

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
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('chat_messages_session_seq_unique').on(t.sessionId, t.seq)],
);

/**
 * Runs of `POST /agents/{id}/execute` (agent, sequential, pipeline, debate, graph). Kept apart
 * from the workflow module's `executions` until the two are unified; the columns mirror it
 * (owner, status, inputs/outputs, tokens, timings) so that is a rename, not a redesign.
 */
export const agentExecutions = sqliteTable(
  'agent_executions',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    agentId: text('agent_id').notNull(),
    mode: text('mode', { enum: ['agent', 'sequential', 'pipeline', 'debate', 'graph'] }).notNull(),
    status: text('status', { enum: ['running', 'succeeded', 'failed'] }).notNull().default('running'),
    input: text('input').notNull(),
    output: text('output'),
    /** JSON array of steps: {agent_id, agent_name, input, output, token_usage, duration_ms, ...}. */
    steps: text('steps').notNull().default('[]'),
    /** JSON `{code, message}` of a failed run. */
    error: text('error'),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    totalTokens: integer('total_tokens').notNull().default(0),
    startedAt: text('started_at').notNull(),
    finishedAt: text('finished_at'),
    durationMs: integer('duration_ms'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('agent_executions_owner_idx').on(t.ownerId, t.createdAt), index('agent_executions_agent_idx').on(t.agentId, t.createdAt)],
);
