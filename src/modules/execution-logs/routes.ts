import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireAuth } from '../../lib/auth';
import { paginatedSchema } from '../../lib/pagination';
import { errorResponses, jsonContent } from '../../lib/schemas';
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
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { query: LogListQuery },
  responses: { 200: jsonContent(paginatedSchema(LogEntrySchema, 'ExecutionLogList'), 'A page of log entries'), 401: errorResponses[401], 422: errorResponses[422] },
});

export const errors = createRoute({
  method: 'get',
  path: '/errors',
  tags,
  summary: 'Error summary: failures by code and node type, most recent first',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { query: WindowQuery },
  responses: { 200: jsonContent(ErrorSummarySchema, 'The error summary'), 401: errorResponses[401], 422: errorResponses[422] },
});

export const stats = createRoute({
  method: 'get',
  path: '/stats',
  tags,
  summary: 'Statistics: executions by status, durations, tokens, log levels, node types',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { query: WindowQuery },
  responses: { 200: jsonContent(StatsSchema, 'The statistics'), 401: errorResponses[401], 422: errorResponses[422] },
});

export const prune = createRoute({
  method: 'delete',
  path: '/',
  tags,
  summary: 'Delete my log entries older than N days',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { query: DeleteQuery },
  responses: { 200: jsonContent(DeletedSchema, 'How many entries were deleted'), 401: errorResponses[401], 422: errorResponses[422] },
});

export const executionLog = createRoute({
  method: 'get',
  path: '/executions/{execution_id}',
  tags,
  summary: "An execution's full log, in order",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: ExecIdParam },
  responses: { 200: jsonContent(ExecutionLogSchema, 'The log'), 401: errorResponses[401], 404: errorResponses[404] },
});

export const performance = createRoute({
  method: 'get',
  path: '/executions/{execution_id}/performance',
  tags,
  summary: 'Performance analysis: per-node durations, slowest nodes, critical path, overhead',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: ExecIdParam },
  responses: { 200: jsonContent(PerformanceSchema, 'The analysis'), 401: errorResponses[401], 404: errorResponses[404] },
});

export const callChain = createRoute({
  method: 'get',
  path: '/executions/{execution_id}/call-chain',
  tags,
  summary: 'The call chain: execution → nodes → model, tool, HTTP and sub-workflow calls',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: ExecIdParam },
  responses: { 200: jsonContent(CallChainSchema, 'The call tree'), 401: errorResponses[401], 404: errorResponses[404] },
});

export const get = createRoute({
  method: 'get',
  path: '/{log_id}',
  tags,
  summary: 'One log entry',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: LogIdParam },
  responses: { 200: jsonContent(LogEntrySchema, 'The entry'), 401: errorResponses[401], 404: errorResponses[404] },
});
