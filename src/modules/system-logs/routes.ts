import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../lib/auth';
import { paginatedSchema } from '../../lib/pagination';
import { errorResponses, jsonContent } from '../../lib/schemas';
import { TimeRangeQuery } from '../../lib/time-range';
import { ApplicationLogQuery, SystemLogListQuery, SystemLogSchema, SystemLogStatsSchema } from './schemas';

const tags = ['system-logs'];
const { 401: e401, 403: e403, 422: e422 } = errorResponses;

export const list = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/',
  summary: 'The unified log: request lines, errors, background jobs, application messages (system_logs:read)',
  request: { query: SystemLogListQuery },
  responses: { 200: jsonContent(paginatedSchema(SystemLogSchema, 'SystemLogList'), 'A page of log lines, newest first'), 401: e401, 403: e403, 422: e422 },
});

export const stats = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/stats',
  summary: 'Log statistics over a time range (default the last day): categories, levels, request rate/errors/latency, top paths, jobs',
  request: { query: TimeRangeQuery },
  responses: { 200: jsonContent(SystemLogStatsSchema, 'Statistics'), 401: e401, 403: e403, 422: e422 },
});

export const application = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/application',
  summary: 'Application logs: errors, background jobs (cron, queues) and module messages, without request lines',
  request: { query: ApplicationLogQuery },
  responses: { 200: jsonContent(paginatedSchema(SystemLogSchema), 'A page of log lines, newest first'), 401: e401, 403: e403, 422: e422 },
});
