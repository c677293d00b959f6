import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, idParam, jsonContent } from '../../../lib/schemas';
import { NotificationListQuery, NotificationSchema, ReadAllSchema, UnreadCountSchema } from './schemas';

const tags = ['notifications'];
const params = idParam('id');

export const list = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/',
  summary: 'Your notifications, newest first; `unread=true` for the unread ones',
  request: { query: NotificationListQuery },
  responses: {
    200: jsonContent(paginatedSchema(NotificationSchema, 'NotificationList'), 'A page of notifications'),
    ...errors(401, 422),
  },
});

export const unreadCount = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/unread-count',
  summary: 'How many of your notifications are unread',
  responses: {
    200: jsonContent(UnreadCountSchema, 'The unread count'),
    ...errors(401),
  },
});

export const readAll = createRoute({
  tags,
  ...authenticated,
  method: 'put',
  path: '/read-all',
  summary: 'Mark all your notifications read',
  responses: {
    200: jsonContent(ReadAllSchema, 'How many were marked'),
    ...errors(401),
  },
});

export const markRead = createRoute({
  tags,
  ...authenticated,
  method: 'put',
  path: '/{id}/read',
  summary: 'Mark a notification read',
  request: { params },
  responses: {
    200: jsonContent(NotificationSchema, 'The notification'),
    ...errors(401, 404),
  },
});

export const remove = createRoute({
  tags,
  ...authenticated,
  method: 'delete',
  path: '/{id}',
  summary: 'Delete a notification',
  request: { params },
  responses: {
    204: { description: 'Deleted' },
    ...errors(401, 404),
  },
});
