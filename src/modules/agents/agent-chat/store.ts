import { and, desc, eq, inArray, lt, sql, asc, count, getTableColumns, gt, lte, type SQL } from 'drizzle-orm';
import { db, now, NOW_SQL, rowByIdSql, type Statement } from '../../../db/client';
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

/** Conversations (chat, preview, branch) and their messages (`tool_calls` as JSON text). */
export type SessionRow = typeof chatSessions.$inferSelect;
export type MessageRow = typeof chatMessages.$inferSelect;
export type NewSession = Pick<SessionRow, 'id' | 'userId' | 'agentId' | 'kind' | 'title'> & Partial<Pick<SessionRow, 'parentSessionId' | 'forkedFromMessageId'>>;

/** What the API shows of a message (no token counts). */
const shown = {
  id: chatMessages.id,
  sessionId: chatMessages.sessionId,
  seq: chatMessages.seq,
  role: chatMessages.role,
  content: chatMessages.content,
  toolCalls: chatMessages.toolCalls,
  toolCallId: chatMessages.toolCallId,
  name: chatMessages.name,
  interrupted: chatMessages.interrupted,
  createdAt: chatMessages.createdAt,
};
export type ShownMessage = Pick<MessageRow, keyof typeof shown>;

// ── sessions ────────────────────────────────────────────────────────────────────────────────

/** The select of one session by id, for a caller's batch (a list of at most one row). */
export function selectSession(d1: D1Database, id: string) {
  return db(d1).select().from(chatSessions).where(eq(chatSessions.id, id));
}

const SESSION_BY_ID = rowByIdSql(chatSessions);

/** The same read as a raw statement (its result: D1Result<SessionRow>) — the chat turn's hot path: no per-call query building. */
export function sessionRowStatement(d1: D1Database, id: string): D1PreparedStatement {
  return d1.prepare(SESSION_BY_ID).bind(id);
}

export async function findSession(d1: D1Database, id: string): Promise<SessionRow | null> {
  const [row] = await selectSession(d1, id);
  return row ?? null;
}

export function insertSession(d1: D1Database, session: NewSession): Statement {
  return db(d1).insert(chatSessions).values(session);
}

/**
 * The new-session fast path of a chat turn: the session row, written in the turn's read batch on
 * the conditions the checks after it enforce (an active user; their own agent, not stopped, or
 * none). Raw SQL: an INSERT ... SELECT over the users and agents tables, on the hot path.
 * `meta.changes` says whether it was written.
 */
export function insertSessionIfChattable(d1: D1Database, s: { id: string; title: string; userId: string; agentId: string | null }): D1PreparedStatement {
  return s.agentId === null
    ? d1
        .prepare(`INSERT INTO chat_sessions (id, user_id, agent_id, kind, title) SELECT ?1, id, NULL, 'chat', ?2 FROM users WHERE id = ?3 AND status = 'active'`)
        .bind(s.id, s.title, s.userId)
    : d1
        .prepare(
          `INSERT INTO chat_sessions (id, user_id, agent_id, kind, title)
           SELECT ?1, u.id, a.id, CASE WHEN a.status = 'draft' THEN 'preview' ELSE 'chat' END, ?2
           FROM users u JOIN agents a ON a.id = ?4 AND a.owner_id = u.id AND a.status != 'stopped'
           WHERE u.id = ?3 AND u.status = 'active'`,
        )
        .bind(s.id, s.title, s.userId, s.agentId);
}

export function deleteSessionRow(d1: D1Database, id: string): Statement {
  return db(d1).delete(chatSessions).where(eq(chatSessions.id, id));
}

/** The statements that delete a session and its messages. */
export function deleteSession(d1: D1Database, id: string): Statement[] {
  return [db(d1).delete(chatMessages).where(eq(chatMessages.sessionId, id)), deleteSessionRow(d1, id)];
}

// ── messages ────────────────────────────────────────────────────────────────────────────────

/** A session's messages in order, as the model's context needs them. */
export function readHistory(d1: D1Database, sessionId: string) {
  return db(d1)
    .select({
      seq: chatMessages.seq,
      id: chatMessages.id,
      role: chatMessages.role,
      content: chatMessages.content,
      toolCalls: chatMessages.toolCalls,
      toolCallId: chatMessages.toolCallId,
      name: chatMessages.name,
    })
    .from(chatMessages)
    .where(eq(chatMessages.sessionId, sessionId))
    .orderBy(asc(chatMessages.seq));
}

/** A session's messages in order, as the API shows them. */
export function listMessages(d1: D1Database, sessionId: string): Promise<ShownMessage[]> {
  return db(d1).select(shown).from(chatMessages).where(eq(chatMessages.sessionId, sessionId)).orderBy(asc(chatMessages.seq));
}

// The chat turn's save (hot path): raw statements, no per-call query building.
const INSERT_MESSAGE = `INSERT INTO chat_messages (id, session_id, seq, role, content, tool_calls, tool_call_id, name, prompt_tokens, completion_tokens, interrupted)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** A message of a turn, as a raw statement for the turn's save batch. */
export function insertMessageStatement(d1: D1Database, m: Omit<MessageRow, 'createdAt'>): D1PreparedStatement {
  return d1
    .prepare(INSERT_MESSAGE)
    .bind(m.id, m.sessionId, m.seq, m.role, m.content, m.toolCalls, m.toolCallId, m.name, m.promptTokens, m.completionTokens, m.interrupted ? 1 : 0);
}

/** Deletes the given messages of a session (a rolled-back turn's). */
export function deleteMessages(d1: D1Database, sessionId: string, ids: string[]): Statement {
  return db(d1).delete(chatMessages).where(and(eq(chatMessages.sessionId, sessionId), inArray(chatMessages.id, ids)));
}

const TOUCH_SESSION = `UPDATE chat_sessions SET updated_at = ${NOW_SQL} WHERE id = ?`;

/** The session's updated_at set to now, as a raw statement for the turn's save batch. */
export function touchSessionStatement(d1: D1Database, id: string): D1PreparedStatement {
  return d1.prepare(TOUCH_SESSION).bind(id);
}

/** One message of a session (where a branch forks). */
export async function findSessionMessage(d1: D1Database, sessionId: string, messageId: string) {
  const [row] = await db(d1)
    .select({ seq: chatMessages.seq, role: chatMessages.role, toolCalls: chatMessages.toolCalls })
    .from(chatMessages)
    .where(and(eq(chatMessages.id, messageId), eq(chatMessages.sessionId, sessionId)));
  return row ?? null;
}

/** The roles of the (up to 100) messages after `seq`, in order. */
export function messagesAfter(d1: D1Database, sessionId: string, seq: number) {
  return db(d1)
    .select({ seq: chatMessages.seq, role: chatMessages.role })
    .from(chatMessages)
    .where(and(eq(chatMessages.sessionId, sessionId), gt(chatMessages.seq, seq)))
    .orderBy(asc(chatMessages.seq))
    .limit(100);
}

// A UUID v4 made by SQLite, so copying a conversation is one INSERT ... SELECT.
const SQL_UUID = sql<string>`lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
  substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`;

/** Copies the messages of `fromId` up to `upTo` (seq) into `toId`, keeping seqs and times. */
export function copyMessages(d1: D1Database, fromId: string, toId: string, upTo: number): Statement {
  const m = chatMessages;
  return db(d1)
    .insert(m)
    .select(
      db(d1)
        .select({
          id: SQL_UUID.as('id'),
          sessionId: sql<string>`${toId}`.as('session_id'),
          seq: m.seq,
          role: m.role,
          content: m.content,
          toolCalls: m.toolCalls,
          toolCallId: m.toolCallId,
          name: m.name,
          promptTokens: m.promptTokens,
          completionTokens: m.completionTokens,
          interrupted: m.interrupted,
          createdAt: m.createdAt,
        })
        .from(m)
        .where(and(eq(m.sessionId, fromId), lte(m.seq, upTo))),
    );
}

// ── branches ────────────────────────────────────────────────────────────────────────────────

// (The outer id is spelled out: drizzle writes a column in a select unqualified, which the subquery would read as its own.)
const branchFields = {
  ...getTableColumns(chatSessions),
  messageCount: sql<number>`(SELECT count(*) FROM chat_messages m WHERE m.session_id = chat_sessions.id)`.mapWith(Number).as('message_count'),
};
export type BranchRow = SessionRow & { messageCount: number };

export async function findBranch(d1: D1Database, id: string): Promise<BranchRow | null> {
  const [row] = await db(d1)
    .select(branchFields)
    .from(chatSessions)
    .where(and(eq(chatSessions.id, id), eq(chatSessions.kind, 'branch')));
  return (row as BranchRow | undefined) ?? null;
}

/** A page of the user's branches (of one session, when given), newest first, with the total. */
export async function listBranches(d1: D1Database, userId: string, parentId: string | undefined, limit: number, offset: number) {
  const where = and(eq(chatSessions.userId, userId), eq(chatSessions.kind, 'branch'), parentId ? eq(chatSessions.parentSessionId, parentId) : undefined);
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select(branchFields).from(chatSessions).where(where).orderBy(desc(chatSessions.createdAt), desc(chatSessions.id)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(chatSessions).where(where),
  ]);
  return { rows: rows as BranchRow[], total };
}

// ── an agent's sessions ─────────────────────────────────────────────────────────────────────

/** The select of the ids of an agent's sessions (whose objects must be cleared when it goes). */
export function selectSessionIdsOfAgent(d1: D1Database, agentId: string) {
  return db(d1).select({ id: chatSessions.id }).from(chatSessions).where(eq(chatSessions.agentId, agentId));
}

/** The statements that delete an agent's sessions and their messages. */
export function deleteForAgent(d1: D1Database, agentId: string): Statement[] {
  return [
    db(d1).delete(chatMessages).where(inArray(chatMessages.sessionId, selectSessionIdsOfAgent(d1, agentId))),
    db(d1).delete(chatSessions).where(eq(chatSessions.agentId, agentId)),
  ];
}

/** A page of the user's design-preview conversation(s) with the agent (oldest first), with the total. */
export async function listPreviewMessages(d1: D1Database, agentId: string, userId: string, limit: number, offset: number) {
  const on = eq(chatSessions.id, chatMessages.sessionId);
  const where: SQL | undefined = and(eq(chatSessions.agentId, agentId), eq(chatSessions.kind, 'preview'), eq(chatSessions.userId, userId));
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1)
      .select(shown)
      .from(chatMessages)
      .innerJoin(chatSessions, on)
      .where(where)
      .orderBy(asc(chatSessions.createdAt), asc(chatSessions.id), asc(chatMessages.seq))
      .limit(limit)
      .offset(offset),
    db(d1).select({ total: count() }).from(chatMessages).innerJoin(chatSessions, on).where(where),
  ]);
  return { rows, total };
}
