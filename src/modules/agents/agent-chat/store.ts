import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { db, now } from '../../../db/client';
import { chatMessages, chatSessions } from '../../../db/schema/agent-chat';
import { agentOwnerOf } from '../agents/store';

// ── for feedback ──

/** A message with its session's user and agent and the agent's owner (null when the agent is gone); null when there is no such message. */
export async function findRatedMessage(d1: D1Database, id: string) {
  const [row] = await db(d1)
    .select({
      role: chatMessages.role,
      content: chatMessages.content,
      seq: chatMessages.seq,
      sessionId: chatMessages.sessionId,
      userId: chatSessions.userId,
      agentId: chatSessions.agentId,
      agentOwner: agentOwnerOf(chatSessions.agentId),
    })
    .from(chatMessages)
    .innerJoin(chatSessions, eq(chatSessions.id, chatMessages.sessionId))
    .where(eq(chatMessages.id, id));
  return row ?? null;
}

/** The last `n` user and assistant messages of a session before `seq`, oldest first. */
export async function messagesBefore(d1: D1Database, sessionId: string, seq: number, n: number): Promise<Array<{ role: string; content: string | null }>> {
  const rows = await db(d1)
    .select({ role: chatMessages.role, content: chatMessages.content })
    .from(chatMessages)
    .where(and(eq(chatMessages.sessionId, sessionId), lt(chatMessages.seq, seq), inArray(chatMessages.role, ['user', 'assistant'])))
    .orderBy(desc(chatMessages.seq))
    .limit(n);
  return rows.reverse();
}

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
