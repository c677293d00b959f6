import { desc, eq, sql } from 'drizzle-orm';
import { db, now } from '../../../db/client';
import { chatMessages, chatSessions } from '../../../db/schema/agent-chat';

// ── for feishu ──
export type ChatMessageRow = typeof chatMessages.$inferSelect;

/** A new chat session (a statement, for the caller's batch). */
export const insertChatSession = (d1: D1Database, s: { id: string; userId: string; agentId: string | null; kind: 'chat' | 'preview' | 'branch'; title: string }) =>
  db(d1).insert(chatSessions).values(s);

/** The last `limit` messages of a session, newest first. */
export function latestMessages(d1: D1Database, sessionId: string, limit: number): Promise<Array<Pick<ChatMessageRow, 'role' | 'content' | 'toolCalls' | 'toolCallId' | 'name'>>> {
  return db(d1)
    .select({ role: chatMessages.role, content: chatMessages.content, toolCalls: chatMessages.toolCalls, toolCallId: chatMessages.toolCallId, name: chatMessages.name })
    .from(chatMessages)
    .where(eq(chatMessages.sessionId, sessionId))
    .orderBy(desc(chatMessages.seq))
    .limit(limit);
}

/** A message appended at the end of its session (the next seq), as a statement for a batch. */
export const appendMessage = (
  d1: D1Database,
  m: Pick<ChatMessageRow, 'id' | 'sessionId' | 'role' | 'content' | 'toolCalls' | 'toolCallId' | 'name' | 'promptTokens' | 'completionTokens'>,
) =>
  db(d1)
    .insert(chatMessages)
    .values({ ...m, seq: sql`(SELECT COALESCE(MAX(${chatMessages.seq}), 0) + 1 FROM ${chatMessages} WHERE ${chatMessages.sessionId} = ${m.sessionId})` });

/** Marks a session as just used. */
export const touchChatSession = (d1: D1Database, id: string) => db(d1).update(chatSessions).set({ updatedAt: now() }).where(eq(chatSessions.id, id));
