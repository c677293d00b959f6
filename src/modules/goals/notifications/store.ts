import { db, type Statement } from '../../../db/client';
import { notifications } from '../../../db/schema/notifications';

// ── for permissions ──

/** The insert of a notification, for a caller's batch (title and body cut as notificationStatement does). */
export function insertNotification(
  d1: D1Database,
  userId: string,
  input: { type: string; title: string; body: string; resource_type?: string | null; resource_id?: string | null },
  id: string = crypto.randomUUID(),
): Statement {
  return db(d1)
    .insert(notifications)
    .values({
      id,
      userId,
      type: input.type,
      title: input.title.slice(0, 500),
      body: input.body.slice(0, 10_000),
      resourceType: input.resource_type ?? null,
      resourceId: input.resource_id ?? null,
    });
}
