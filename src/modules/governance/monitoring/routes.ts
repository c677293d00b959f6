import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, jsonContent } from '../../../lib/schemas';
import { ActivitiesQuery, ActivitySchema, ExecutionStatsQuery, ExecutionStatsSchema, MonitoringQuery, NodeTypeStatsSchema, OverviewSchema } from './schemas';

const tags = ['monitoring'];
const failures = errors(401, 422);

export const overview = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/overview',
  summary: 'System overview over a time range: users, agents, workflows, executions (today, success rate, duration), tokens',
  request: { query: MonitoringQuery },
  responses: { 200: jsonContent(OverviewSchema, 'The overview'), ...failures },
});

export const executions = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/executions',
  summary: 'Execution statistics (workflow, agent and goal-task runs) by status, kind and day, with duration p50/p95',
  request: { query: ExecutionStatsQuery },
  responses: { 200: jsonContent(ExecutionStatsSchema, 'Statistics'), ...failures },
});

export const nodeTypes = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/node-types',
  summary: 'Usage by workflow node type: runs, failures, duration p50/p95, tokens',
  request: { query: MonitoringQuery },
  responses: { 200: jsonContent(NodeTypeStatsSchema, 'Per node type'), ...failures },
});

export const activities = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/activities',
  summary: 'Recent activities: successful state changes from the audit trail, newest first',
  request: { query: ActivitiesQuery },
  responses: { 200: jsonContent(paginatedSchema(ActivitySchema, 'ActivityList'), 'A page of activities'), ...failures },
});
