import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import type { Notification } from './schemas';
import { NOW_SQL } from '../../../lib/d1';

/** What the platform tells a user; `type` names the event (task_failed, goal_completed, ...). */
export interface NotificationInput {
  type: string;
  title: string;
  body: string;
  resource_type?: string | null;
  resource_id?: string | null;
}

interface NotificationRow {
  id: string;
  user_id: string;
  type: string;
  title: string;
  body: string;
  resource_type: string | null;
  resource_id: string | null;
  is_read: number;
  read_at: string | null;
  created_at: string;
}


const toNotification = (r: NotificationRow): Notification => ({ ...r, is_read: r.is_read === 1 });

/** The INSERT of a notification, for callers that write it in one batch with their own change. */
export function notificationStatement(env: Env, userId: string, input: NotificationInput, id: string = crypto.randomUUID()): D1PreparedStatement {
  return env.DB.prepare(
    'INSERT INTO notifications (id, user_id, type, title, body, resource_type, resource_id) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
  ).bind(id, userId, input.type, input.title.slice(0, 500), input.body.slice(0, 10_000), input.resource_type ?? null, input.resource_id ?? null);
}

/** Creates a notification for `userId` (the one entry point for every module). */
export async function createNotification(env: Env, userId: string, input: NotificationInput): Promise<Notification> {
  const row = await notificationStatement(env, userId, input).first<NotificationRow>();
  return toNotification(row!);
}

export async function listNotifications(env: Env, user: AuthUser, query: Pagination & { unread?: boolean; type?: string }) {
  const where = ['user_id = ?'];
  const binds: unknown[] = [user.id];
  if (query.unread !== undefined) {
    where.push('is_read = ?');
    binds.push(query.unread ? 0 : 1);
  }
  if (query.type) {
    where.push('type = ?');
    binds.push(query.type);
  }
  const clause = `WHERE ${where.join(' AND ')}`;
  const { limit, offset } = pageBounds(query);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT * FROM notifications ${clause} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`).bind(...binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM notifications ${clause}`).bind(...binds),
  ]);
  return paginated((rows.results as unknown as NotificationRow[]).map(toNotification), (count.results[0] as { n: number }).n, query);
}

export async function unreadCount(env: Env, user: AuthUser): Promise<{ count: number }> {
  const row = await env.DB.prepare('SELECT count(*) AS n FROM notifications WHERE user_id = ? AND is_read = 0').bind(user.id).first<{ n: number }>();
  return { count: row!.n };
}

/** Marks one of the user's notifications read (idempotent: read_at keeps the first time). */
export async function markRead(env: Env, user: AuthUser, id: string): Promise<Notification> {
  const row = await env.DB.prepare(
    `UPDATE notifications SET is_read = 1, read_at = coalesce(read_at, ${NOW_SQL}) WHERE id = ? AND user_id = ? RETURNING *`,
  )
    .bind(id, user.id)
    .first<NotificationRow>();
  if (!row) throw notFound('Notification');
  return toNotification(row);
}

export async function markAllRead(env: Env, user: AuthUser): Promise<{ updated: number }> {
  const res = await env.DB.prepare(`UPDATE notifications SET is_read = 1, read_at = ${NOW_SQL} WHERE user_id = ? AND is_read = 0`).bind(user.id).run();
  return { updated: res.meta.changes };
}

export async function deleteNotification(env: Env, user: AuthUser, id: string): Promise<void> {
  const res = await env.DB.prepare('DELETE FROM notifications WHERE id = ? AND user_id = ?').bind(id, user.id).run();
  if (res.meta.changes === 0) throw notFound('Notification');
}
