import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, jsonContent } from '../../../lib/schemas';
import { TimeRangeQuery } from '../../../lib/time-range';
import { ApplicationLogQuery, SystemLogListQuery, SystemLogSchema, SystemLogStatsSchema } from './schemas';

const tags = ['system-logs'];

export const list = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/',
  summary: 'The unified log: request lines, errors, background jobs, application messages (system_logs:read)',
  request: { query: SystemLogListQuery },
  responses: { 200: jsonContent(paginatedSchema(SystemLogSchema, 'SystemLogList'), 'A page of log lines, newest first'), ...errors(401, 403, 422) },
});

export const stats = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/stats',
  summary: 'Log statistics over a time range (default the last day): categories, levels, request rate/errors/latency, top paths, jobs',
  request: { query: TimeRangeQuery },
  responses: { 200: jsonContent(SystemLogStatsSchema, 'Statistics'), ...errors(401, 403, 422) },
});

export const application = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/application',
  summary: 'Application logs: errors, background jobs (cron, queues) and module messages, without request lines',
  request: { query: ApplicationLogQuery },
  responses: { 200: jsonContent(paginatedSchema(SystemLogSchema), 'A page of log lines, newest first'), ...errors(401, 403, 422) },
});
