import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errorResponse, errors, jsonBody, jsonContent } from '../../../lib/schemas';
import { PaginationQuery } from '../../../lib/pagination';
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
  ...errors(401, 404),
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
  ...authenticated,
  request: { query: ToolListQuery },
  responses: { 200: jsonContent(paginatedSchema(ToolSchema, 'ToolList'), 'Tools'), ...errors(401, 422) },
});

export const listCategories = createRoute({
  method: 'get',
  path: '/categories',
  tags,
  summary: 'Tool categories with their counts',
  ...authenticated,
  request: { query: PaginationQuery },
  responses: { 200: jsonContent(paginatedSchema(CategorySchema, 'ToolCategoryList'), 'Categories'), ...errors(401, 422) },
});

export const listBuiltin = createRoute({
  method: 'get',
  path: '/builtin',
  tags,
  summary: 'The builtin tool registry',
  ...authenticated,
  request: { query: ToolListQuery.omit({ type: true }) },
  responses: { 200: jsonContent(paginatedSchema(ToolSchema), 'Builtin tools'), ...errors(401, 422) },
});

export const getTool = createRoute({
  method: 'get',
  path: '/{tool_id}',
  tags,
  summary: 'One tool with its parameter JSON Schema (builtin by name, custom by UUID)',
  ...authenticated,
  request: { params: ToolIdParam },
  responses: { 200: jsonContent(ToolSchema, 'The tool'), ...errors(401, 404) },
});

export const createTool = createRoute({
  method: 'post',
  path: '/',
  tags,
  summary: 'Create a custom HTTP or code tool',
  ...authenticated,
  request: { body: jsonBody(CreateToolBody) },
  responses: {
    201: jsonContent(ToolSchema, 'The new tool'),
    400: errorResponse('The URL is blocked by the SSRF guard (SSRF_BLOCKED)'),
    ...errors(401, 409, 422),
  },
});

export const updateTool = createRoute({
  method: 'put',
  path: '/{tool_id}',
  tags,
  summary: 'Update a custom tool',
  ...authenticated,
  request: { params: ToolIdParam, body: jsonBody(UpdateToolBody) },
  responses: {
    200: jsonContent(ToolSchema, 'The updated tool'),
    400: errorResponse('The URL is blocked by the SSRF guard (SSRF_BLOCKED)'),
    ...errors(401, 404, 409, 422),
  },
});

export const deleteTool = createRoute({
  method: 'delete',
  path: '/{tool_id}',
  tags,
  summary: 'Delete a custom tool',
  ...authenticated,
  request: { params: ToolIdParam },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 404, 422) },
});

export const testHttp = createRoute({
  method: 'post',
  path: '/test/http',
  tags,
  summary: 'Run an unsaved HTTP tool definition',
  ...authenticated,
  request: { body: jsonBody(TestHttpBody) },
  responses: { 200: jsonContent(ToolResultSchema, 'The result'), ...runErrors },
});

export const testCode = createRoute({
  method: 'post',
  path: '/test/code',
  tags,
  summary: 'Run unsaved code in the sandbox',
  ...authenticated,
  request: { body: jsonBody(TestCodeBody) },
  responses: { 200: jsonContent(ToolResultSchema, 'The result'), ...runErrors },
});

export const useTool = createRoute({
  method: 'post',
  path: '/{tool_id}/use',
  tags,
  summary: 'Run a tool with arguments (validated against its schema; recorded in tool_usage)',
  ...authenticated,
  request: { params: ToolIdParam, body: jsonBody(UseToolBody) },
  responses: { 200: jsonContent(ToolResultSchema, 'The result'), ...runErrors },
});
