import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, jsonBody, jsonContent } from '../../../lib/schemas';
import { ActivitiesQuery, ActivitySchema, ExecutionStatsQuery, ExecutionStatsSchema, MonitoringQuery, NodeTypeStatsSchema, OverviewSchema, PutTraceExporterBody, TraceExporterSchema } from './schemas';

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

// Extension beyond the specification (docs/traces.md): the user's OpenTelemetry trace exporter.
export const getTraceExporter = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/traces/exporter',
  summary: 'Your OpenTelemetry trace exporter: endpoint, masked headers, content setting (extension)',
  responses: { 200: jsonContent(TraceExporterSchema, 'The exporter'), ...errors(401, 404) },
});

export const putTraceExporter = createRoute({
  ...authenticated,
  tags,
  method: 'put',
  path: '/traces/exporter',
  summary: 'Send the spans of your agent turns and workflow runs to your OTLP/HTTP collector (extension)',
  request: { body: jsonBody(PutTraceExporterBody) },
  responses: { 200: jsonContent(TraceExporterSchema, 'The exporter'), ...errors(400, 401, 422) },
});

export const deleteTraceExporter = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/traces/exporter',
  summary: 'Stop exporting your traces (extension)',
  responses: { 204: { description: 'Removed' }, ...errors(401, 404) },
});
