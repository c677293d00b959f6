import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import { db } from '../../../db/client';
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
