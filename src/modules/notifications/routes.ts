import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireAuth } from '../../lib/auth';
import { paginatedSchema } from '../../lib/pagination';
import { errorResponses, idParam, jsonContent } from '../../lib/schemas';
import { NotificationListQuery, NotificationSchema, ReadAllSchema, UnreadCountSchema } from './schemas';

const tags = ['notifications'];
const params = idParam('id');

export const list = createRoute({
  tags,
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  method: 'get',
  path: '/',
  summary: 'Your notifications, newest first; `unread=true` for the unread ones',
  request: { query: NotificationListQuery },
  responses: {
    200: jsonContent(paginatedSchema(NotificationSchema, 'NotificationList'), 'A page of notifications'),
    401: errorResponses[401],
    422: errorResponses[422],
  },
});

export const unreadCount = createRoute({
  tags,
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  method: 'get',
  path: '/unread-count',
  summary: 'How many of your notifications are unread',
  responses: {
    200: jsonContent(UnreadCountSchema, 'The unread count'),
    401: errorResponses[401],
  },
});

export const readAll = createRoute({
  tags,
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  method: 'put',
  path: '/read-all',
  summary: 'Mark all your notifications read',
  responses: {
    200: jsonContent(ReadAllSchema, 'How many were marked'),
    401: errorResponses[401],
  },
});

export const markRead = createRoute({
  tags,
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  method: 'put',
  path: '/{id}/read',
  summary: 'Mark a notification read',
  request: { params },
  responses: {
    200: jsonContent(NotificationSchema, 'The notification'),
    401: errorResponses[401],
    404: errorResponses[404],
  },
});

export const remove = createRoute({
  tags,
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  method: 'delete',
  path: '/{id}',
  summary: 'Delete a notification',
  request: { params },
  responses: {
    204: { description: 'Deleted' },
    401: errorResponses[401],
    404: errorResponses[404],
  },
});
