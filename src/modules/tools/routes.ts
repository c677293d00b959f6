import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireAuth } from '../../lib/auth';
import { paginatedSchema } from '../../lib/pagination';
import { errorResponse, errorResponses, jsonBody, jsonContent } from '../../lib/schemas';
import { PaginationQuery } from '../../lib/pagination';
import {
  CategorySchema,
  CreateToolBody,
  TestCodeBody,
  TestHttpBody,
  ToolIdParam,
  ToolListQuery,
  ToolResultSchema,
  ToolSchema,
  UpdateToolBody,
  UseToolBody,
} from './schemas';

const tags = ['tools'];

const runErrors = {
  400: errorResponse('Outbound request blocked (SSRF_BLOCKED)'),
  401: errorResponses[401],
  404: errorResponses[404],
  422: errorResponse('Arguments do not match the parameter schema, or the code failed (CODE_ERROR, SANDBOX_MEMORY_LIMIT, OUTPUT_TOO_LARGE)'),
  502: errorResponse('The tool or its upstream service failed (UPSTREAM_ERROR, TOOL_ERROR, LLM_ERROR)'),
  503: errorResponse('The tool needs configuration that is missing (TOOL_NOT_CONFIGURED)'),
  504: errorResponse('The tool did not finish in time (UPSTREAM_TIMEOUT, SANDBOX_TIMEOUT)'),
};

export const listTools = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: "Every tool the user can use: custom tools, tools of their enabled plugins (type plugin and mcp) and builtins (filter by category, type, search)",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { query: ToolListQuery },
  responses: { 200: jsonContent(paginatedSchema(ToolSchema, 'ToolList'), 'Tools'), 401: errorResponses[401], 422: errorResponses[422] },
});

export const listCategories = createRoute({
  method: 'get',
  path: '/categories',
  tags,
  summary: 'Tool categories with their counts',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { query: PaginationQuery },
  responses: { 200: jsonContent(paginatedSchema(CategorySchema, 'ToolCategoryList'), 'Categories'), 401: errorResponses[401], 422: errorResponses[422] },
});

export const listBuiltin = createRoute({
  method: 'get',
  path: '/builtin',
  tags,
  summary: 'The builtin tool registry',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { query: ToolListQuery.omit({ type: true }) },
  responses: { 200: jsonContent(paginatedSchema(ToolSchema), 'Builtin tools'), 401: errorResponses[401], 422: errorResponses[422] },
});

export const getTool = createRoute({
  method: 'get',
  path: '/{tool_id}',
  tags,
  summary: 'One tool with its parameter JSON Schema (builtin by name, custom by UUID)',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: ToolIdParam },
  responses: { 200: jsonContent(ToolSchema, 'The tool'), 401: errorResponses[401], 404: errorResponses[404] },
});

export const createTool = createRoute({
  method: 'post',
  path: '/',
  tags,
  summary: 'Create a custom HTTP or code tool',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { body: jsonBody(CreateToolBody) },
  responses: {
    201: jsonContent(ToolSchema, 'The new tool'),
    400: errorResponse('The URL is blocked by the SSRF guard (SSRF_BLOCKED)'),
    401: errorResponses[401],
    409: errorResponses[409],
    422: errorResponses[422],
  },
});

export const updateTool = createRoute({
  method: 'put',
  path: '/{tool_id}',
  tags,
  summary: 'Update a custom tool',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: ToolIdParam, body: jsonBody(UpdateToolBody) },
  responses: {
    200: jsonContent(ToolSchema, 'The updated tool'),
    400: errorResponse('The URL is blocked by the SSRF guard (SSRF_BLOCKED)'),
    401: errorResponses[401],
    404: errorResponses[404],
    409: errorResponses[409],
    422: errorResponses[422],
  },
});

export const deleteTool = createRoute({
  method: 'delete',
  path: '/{tool_id}',
  tags,
  summary: 'Delete a custom tool',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: ToolIdParam },
  responses: { 204: { description: 'Deleted' }, 401: errorResponses[401], 404: errorResponses[404], 422: errorResponses[422] },
});

export const testHttp = createRoute({
  method: 'post',
  path: '/test/http',
  tags,
  summary: 'Run an unsaved HTTP tool definition',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { body: jsonBody(TestHttpBody) },
  responses: { 200: jsonContent(ToolResultSchema, 'The result'), ...runErrors },
});

export const testCode = createRoute({
  method: 'post',
  path: '/test/code',
  tags,
  summary: 'Run unsaved code in the sandbox',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { body: jsonBody(TestCodeBody) },
  responses: { 200: jsonContent(ToolResultSchema, 'The result'), ...runErrors },
});

export const useTool = createRoute({
  method: 'post',
  path: '/{tool_id}/use',
  tags,
  summary: 'Run a tool with arguments (validated against its schema; recorded in tool_usage)',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: ToolIdParam, body: jsonBody(UseToolBody) },
  responses: { 200: jsonContent(ToolResultSchema, 'The result'), ...runErrors },
});
