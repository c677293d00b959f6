import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';

export const NotificationSchema = z
  .object({
    id: z.uuid(),
    user_id: z.string(),
    type: z.string().meta({ example: 'task_awaiting_approval' }),
    title: z.string(),
    body: z.string(),
    resource_type: z.string().nullable().meta({ example: 'task' }),
    resource_id: z.string().nullable(),
    is_read: z.boolean(),
    read_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Notification');

export const NotificationListQuery = PaginationQuery.extend({
  unread: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .meta({ description: 'true: only unread; false: only read; absent: all' }),
  type: z.string().trim().max(100).optional(),
});

export const UnreadCountSchema = z.object({ count: z.int() }).openapi('UnreadCount');
export const ReadAllSchema = z.object({ updated: z.int() }).openapi('ReadAllResult');

export type Notification = z.infer<typeof NotificationSchema>;
