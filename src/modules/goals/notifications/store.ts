import { and, count, desc, eq, sql, type SQL } from 'drizzle-orm';
import { db, now, type Statement } from '../../../db/client';
import { notifications } from '../../../db/schema/notifications';

/** The notifications table: what the platform tells a user. */
export type NotificationRow = typeof notifications.$inferSelect;

/** A notification to write; `type` names the event (task_failed, goal_completed, ...). */
export interface NotificationValues {
  type: string;
  title: string;
  body: string;
  resourceType?: string | null;
  resourceId?: string | null;
}

/** The INSERT of a notification (title and body cut to their limits), returning the row. */
export function insertNotification(d1: D1Database, userId: string, n: NotificationValues, id: string = crypto.randomUUID()) {
  return db(d1)
    .insert(notifications)
    .values({ id, userId, type: n.type, title: n.title.slice(0, 500), body: n.body.slice(0, 10_000), resourceType: n.resourceType ?? null, resourceId: n.resourceId ?? null })
    .returning();
}

/**
 * The INSERT of a notification that is written only when the statement right before it in the
 * same batch changed a row (`changes() = 1`): a conditional UPDATE notifies once.
 */
export function insertNotificationIfChanged(d1: D1Database, userId: string, n: NotificationValues, id: string = crypto.randomUUID()): Statement {
  return db(d1)
    .insert(notifications)
    .select(
      sql`SELECT ${id}, ${userId}, ${n.type}, ${n.title}, ${n.body}, ${n.resourceType ?? null}, ${n.resourceId ?? null}, 0, NULL, ${now()} WHERE changes() = 1`,
    );
}

export async function listNotifications(d1: D1Database, userId: string, filter: { isRead?: number; type?: string }, limit: number, offset: number) {
  const conditions: SQL[] = [eq(notifications.userId, userId)];
  if (filter.isRead !== undefined) conditions.push(eq(notifications.isRead, filter.isRead));
  if (filter.type) conditions.push(eq(notifications.type, filter.type));
  const where = and(...conditions);
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(notifications).where(where).orderBy(desc(notifications.createdAt), desc(notifications.id)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(notifications).where(where),
  ]);
  return { rows, total };
}

export async function countUnread(d1: D1Database, userId: string): Promise<number> {
  const [{ n }] = await db(d1)
    .select({ n: count() })
    .from(notifications)
    .where(and(eq(notifications.userId, userId), eq(notifications.isRead, 0)));
  return n;
}

/** Marks one of the user's notifications read (read_at keeps the first time); null when it is not theirs. */
export async function markNotificationRead(d1: D1Database, userId: string, id: string): Promise<NotificationRow | null> {
  const [row] = await db(d1)
    .update(notifications)
    .set({ isRead: 1, readAt: sql`coalesce(${notifications.readAt}, ${now()})` })
    .where(and(eq(notifications.id, id), eq(notifications.userId, userId)))
    .returning();
  return row ?? null;
}

export async function markAllNotificationsRead(d1: D1Database, userId: string): Promise<number> {
  const res = await db(d1)
    .update(notifications)
    .set({ isRead: 1, readAt: now() })
    .where(and(eq(notifications.userId, userId), eq(notifications.isRead, 0)));
  return res.meta.changes;
}

export async function deleteNotification(d1: D1Database, userId: string, id: string): Promise<boolean> {
  const res = await db(d1)
    .delete(notifications)
    .where(and(eq(notifications.id, id), eq(notifications.userId, userId)));
  return res.meta.changes > 0;
}
