import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, jsonContent } from '../../../lib/schemas';
import { AuditListQuery, AuditLogSchema, AuditStatsQuery, AuditStatsSchema } from './schemas';

const tags = ['audit-logs'];

export const list = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/',
  summary: 'Audit log of state-changing requests, newest first (everyone’s with audit_logs:read, else your own)',
  request: { query: AuditListQuery },
  responses: { 200: jsonContent(paginatedSchema(AuditLogSchema, 'AuditLogList'), 'A page of entries'), ...errors(401, 422) },
});

export const stats = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/stats',
  summary: 'Audit statistics over a time range: totals, failures, by action, user, resource type and day',
  request: { query: AuditStatsQuery },
  responses: { 200: jsonContent(AuditStatsSchema, 'Statistics'), ...errors(401, 422) },
});
