import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import type { Notification } from './schemas';
import type { Statement } from '../../../db/client';
import * as store from './store';
import type { NotificationRow, NotificationValues } from './store';

/** What the platform tells a user; `type` names the event (task_failed, goal_completed, ...). */
export interface NotificationInput {
  type: string;
  title: string;
  body: string;
  resource_type?: string | null;
  resource_id?: string | null;
}

const toNotification = (r: NotificationRow): Notification => ({
  id: r.id,
  user_id: r.userId,
  type: r.type,
  title: r.title,
  body: r.body,
  resource_type: r.resourceType,
  resource_id: r.resourceId,
  is_read: r.isRead === 1,
  read_at: r.readAt,
  created_at: r.createdAt,
});

const values = (input: NotificationInput): NotificationValues => ({
  type: input.type,
  title: input.title,
  body: input.body,
  resourceType: input.resource_type ?? null,
  resourceId: input.resource_id ?? null,
});

/** The INSERT of a notification, for callers that write it in one batch with their own change. */
export function notificationInsert(env: Env, userId: string, input: NotificationInput, id: string = crypto.randomUUID()): Statement {
  return store.insertNotification(env.DB, userId, values(input), id);
}

/** Creates a notification for `userId` (the one entry point for every module). */
export async function createNotification(env: Env, userId: string, input: NotificationInput): Promise<Notification> {
  const [row] = await store.insertNotification(env.DB, userId, values(input));
  return toNotification(row);
}

export async function listNotifications(env: Env, user: AuthUser, query: Pagination & { unread?: boolean; type?: string }) {
  const { limit, offset } = pageBounds(query);
  const isRead = query.unread === undefined ? undefined : query.unread ? 0 : 1;
  const { rows, total } = await store.listNotifications(env.DB, user.id, { isRead, type: query.type }, limit, offset);
  return paginated(rows.map(toNotification), total, query);
}

export async function unreadCount(env: Env, user: AuthUser): Promise<{ count: number }> {
  return { count: await store.countUnread(env.DB, user.id) };
}

/** Marks one of the user's notifications read (idempotent: read_at keeps the first time). */
export async function markRead(env: Env, user: AuthUser, id: string): Promise<Notification> {
  const row = await store.markNotificationRead(env.DB, user.id, id);
  if (!row) throw notFound('Notification');
  return toNotification(row);
}

export async function markAllRead(env: Env, user: AuthUser): Promise<{ updated: number }> {
  return { updated: await store.markAllNotificationsRead(env.DB, user.id) };
}

export async function deleteNotification(env: Env, user: AuthUser, id: string): Promise<void> {
  if (!(await store.deleteNotification(env.DB, user.id, id))) throw notFound('Notification');
}
