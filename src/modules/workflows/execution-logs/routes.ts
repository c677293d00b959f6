import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, jsonContent } from '../../../lib/schemas';
import {
  CallChainSchema,
  DeletedSchema,
  DeleteQuery,
  ErrorSummarySchema,
  ExecIdParam,
  ExecutionLogSchema,
  LogEntrySchema,
  LogIdParam,
  LogListQuery,
  PerformanceSchema,
  StatsSchema,
  WindowQuery,
} from './schemas';

const tags = ['execution-logs'];

export const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'Log entries of my executions (filters: execution, node, level, text, time)',
  ...authenticated,
  request: { query: LogListQuery },
  responses: { 200: jsonContent(paginatedSchema(LogEntrySchema, 'ExecutionLogList'), 'A page of log entries'), ...errors(401, 422) },
});

export const errorSummary = createRoute({
  method: 'get',
  path: '/errors',
  tags,
  summary: 'Error summary: failures by code and node type, most recent first',
  ...authenticated,
  request: { query: WindowQuery },
  responses: { 200: jsonContent(ErrorSummarySchema, 'The error summary'), ...errors(401, 422) },
});

export const stats = createRoute({
  method: 'get',
  path: '/stats',
  tags,
  summary: 'Statistics: executions by status, durations, tokens, log levels, node types',
  ...authenticated,
  request: { query: WindowQuery },
  responses: { 200: jsonContent(StatsSchema, 'The statistics'), ...errors(401, 422) },
});

export const prune = createRoute({
  method: 'delete',
  path: '/',
  tags,
  summary: 'Delete my log entries older than N days',
  ...authenticated,
  request: { query: DeleteQuery },
  responses: { 200: jsonContent(DeletedSchema, 'How many entries were deleted'), ...errors(401, 422) },
});

export const executionLog = createRoute({
  method: 'get',
  path: '/executions/{execution_id}',
  tags,
  summary: "An execution's full log, in order",
  ...authenticated,
  request: { params: ExecIdParam },
  responses: { 200: jsonContent(ExecutionLogSchema, 'The log'), ...errors(401, 404) },
});

export const performance = createRoute({
  method: 'get',
  path: '/executions/{execution_id}/performance',
  tags,
  summary: 'Performance analysis: per-node durations, slowest nodes, critical path, overhead',
  ...authenticated,
  request: { params: ExecIdParam },
  responses: { 200: jsonContent(PerformanceSchema, 'The analysis'), ...errors(401, 404) },
});

export const callChain = createRoute({
  method: 'get',
  path: '/executions/{execution_id}/call-chain',
  tags,
  summary: 'The call chain: execution → nodes → model, tool, HTTP and sub-workflow calls',
  ...authenticated,
  request: { params: ExecIdParam },
  responses: { 200: jsonContent(CallChainSchema, 'The call tree'), ...errors(401, 404) },
});

export const get = createRoute({
  method: 'get',
  path: '/{log_id}',
  tags,
  summary: 'One log entry',
  ...authenticated,
  request: { params: LogIdParam },
  responses: { 200: jsonContent(LogEntrySchema, 'The entry'), ...errors(401, 404) },
});
