import { and, asc, count, eq, gt, lt, ne, sql } from 'drizzle-orm';
import { db, now, type Statement } from '../../../db/client';
import { feishuBindingRequests, feishuBindings, feishuEvents, feishuSessions } from '../../../db/schema/feishu';

/** The feishu_* tables: bindings, binding requests, chat sessions per Feishu chat, accepted events. */
export type BindingRow = typeof feishuBindings.$inferSelect;
export type BindingRequestRow = typeof feishuBindingRequests.$inferSelect;

// ── events (dedupe of Feishu's redeliveries) ──

/** Records an event id; true only when this call inserted it (a redelivery gets false). */
export async function recordEvent(d1: D1Database, eventId: string, eventType: string, receivedAt: number): Promise<boolean> {
  const rows = await db(d1).insert(feishuEvents).values({ eventId, eventType, receivedAt }).onConflictDoNothing({ target: feishuEvents.eventId }).returning({ eventId: feishuEvents.eventId });
  return rows.length > 0;
}

export async function forgetEvent(d1: D1Database, eventId: string): Promise<void> {
  await db(d1).delete(feishuEvents).where(eq(feishuEvents.eventId, eventId));
}

export async function deleteEventsReceivedBefore(d1: D1Database, before: number): Promise<void> {
  await db(d1).delete(feishuEvents).where(lt(feishuEvents.receivedAt, before));
}

/** When the event was processed (null: not yet; undefined: unknown event). */
export async function eventProcessedAt(d1: D1Database, eventId: string): Promise<number | null | undefined> {
  const [row] = await db(d1).select({ processedAt: feishuEvents.processedAt }).from(feishuEvents).where(eq(feishuEvents.eventId, eventId)).limit(1);
  return row ? row.processedAt : undefined;
}

export async function markEventProcessed(d1: D1Database, eventId: string, at: number): Promise<void> {
  await db(d1).update(feishuEvents).set({ processedAt: at }).where(eq(feishuEvents.eventId, eventId));
}

// ── bindings ──

export async function findBindingByOpenId(d1: D1Database, openId: string): Promise<BindingRow | null> {
  const [row] = await db(d1).select().from(feishuBindings).where(eq(feishuBindings.openId, openId)).limit(1);
  return row ?? null;
}

export async function findBindingOfUser(d1: D1Database, userId: string): Promise<BindingRow | null> {
  const [row] = await db(d1).select().from(feishuBindings).where(eq(feishuBindings.userId, userId)).limit(1);
  return row ?? null;
}

/**
 * Binding statements (one batch): the user's earlier binding to another open_id goes, the request
 * is marked bound, and the binding is inserted (or its agent changed); the last returns the row.
 */
export function bindingStatements(d1: D1Database, b: { openId: string; userId: string; agentId: string | null; name: string | null; requestId: string }) {
  return [
    db(d1)
      .delete(feishuBindings)
      .where(and(eq(feishuBindings.userId, b.userId), ne(feishuBindings.openId, b.openId))),
    db(d1)
      .update(feishuBindingRequests)
      .set({ status: 'bound', userId: b.userId, updatedAt: now() })
      .where(eq(feishuBindingRequests.id, b.requestId)),
    db(d1)
      .insert(feishuBindings)
      .values({ openId: b.openId, userId: b.userId, agentId: b.agentId, name: b.name })
      .onConflictDoUpdate({ target: feishuBindings.openId, set: { agentId: sql`excluded.agent_id`, updatedAt: now() } })
      .returning(),
  ] as const;
}

/** An open_id's binding and its Feishu chat sessions. */
export function unbindStatements(d1: D1Database, openId: string): Statement[] {
  return [db(d1).delete(feishuBindings).where(eq(feishuBindings.openId, openId)), db(d1).delete(feishuSessions).where(eq(feishuSessions.openId, openId))];
}

// ── binding requests ──

/** A request with a fresh code (replacing an earlier one for the same open_id); returns the row's id. */
export async function upsertBindingRequest(
  d1: D1Database,
  r: { id: string; openId: string; chatId: string | null; name: string | null; codeHash: string; codeExpiresAt: string },
): Promise<string | undefined> {
  const [row] = await db(d1)
    .insert(feishuBindingRequests)
    .values({ ...r, status: 'pending' })
    .onConflictDoUpdate({
      target: feishuBindingRequests.openId,
      set: {
        codeHash: sql`excluded.code_hash`,
        codeExpiresAt: sql`excluded.code_expires_at`,
        chatId: sql`excluded.chat_id`,
        status: 'pending',
        userId: null,
        updatedAt: now(),
      },
    })
    .returning({ id: feishuBindingRequests.id });
  return row?.id;
}

export async function findPendingRequestOf(d1: D1Database, openId: string): Promise<BindingRequestRow | null> {
  const [row] = await db(d1)
    .select()
    .from(feishuBindingRequests)
    .where(and(eq(feishuBindingRequests.openId, openId), eq(feishuBindingRequests.status, 'pending')))
    .limit(1);
  return row ?? null;
}

export async function findRequest(d1: D1Database, id: string): Promise<BindingRequestRow | null> {
  const [row] = await db(d1).select().from(feishuBindingRequests).where(eq(feishuBindingRequests.id, id)).limit(1);
  return row ?? null;
}

export async function rejectRequest(d1: D1Database, id: string): Promise<BindingRequestRow | null> {
  const [row] = await db(d1).update(feishuBindingRequests).set({ status: 'rejected', updatedAt: now() }).where(eq(feishuBindingRequests.id, id)).returning();
  return row ?? null;
}

/** A page of pending requests (oldest first) and how many there are, in one round trip. */
export async function listPendingRequests(d1: D1Database, limit: number, offset: number) {
  const pending = eq(feishuBindingRequests.status, 'pending');
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(feishuBindingRequests).where(pending).orderBy(asc(feishuBindingRequests.createdAt), asc(feishuBindingRequests.id)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(feishuBindingRequests).where(pending),
  ]);
  return { rows, total };
}

/** The status page's figures (one round trip): bindings, pending requests, events received since `since`. */
export async function counts(d1: D1Database, since: number): Promise<{ bindings: number; pending: number; events: number }> {
  const [[b], [p], [e]] = await db(d1).batch([
    db(d1).select({ n: count() }).from(feishuBindings),
    db(d1).select({ n: count() }).from(feishuBindingRequests).where(eq(feishuBindingRequests.status, 'pending')),
    db(d1).select({ n: count() }).from(feishuEvents).where(gt(feishuEvents.receivedAt, since)),
  ]);
  return { bindings: b.n, pending: p.n, events: e.n };
}

// ── Feishu chat sessions ──

export async function findSessionId(d1: D1Database, chatId: string, openId: string, agentId: string): Promise<string | null> {
  const [row] = await db(d1)
    .select({ sessionId: feishuSessions.sessionId })
    .from(feishuSessions)
    .where(and(eq(feishuSessions.chatId, chatId), eq(feishuSessions.openId, openId), eq(feishuSessions.agentId, agentId)))
    .limit(1);
  return row?.sessionId ?? null;
}

/** Maps a Feishu chat (user, agent) to a chat session, unless one already is (the first wins). */
export const insertSessionIfAbsent = (d1: D1Database, s: { chatId: string; openId: string; agentId: string; sessionId: string }) =>
  db(d1).insert(feishuSessions).values(s).onConflictDoNothing();

/** Whether the Feishu user has talked to the bot in this chat. */
export async function hasSessionInChat(d1: D1Database, chatId: string, openId: string): Promise<boolean> {
  const [row] = await db(d1)
    .select({ x: sql`1` })
    .from(feishuSessions)
    .where(and(eq(feishuSessions.chatId, chatId), eq(feishuSessions.openId, openId)))
    .limit(1);
  return row !== undefined;
}
