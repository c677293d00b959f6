import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errorResponse, errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import { CreatePluginBody, EnableBody, InstallBody, PluginListQuery, PluginSchema, UpdatePluginBody } from './schemas';

const tags = ['plugins'];
const params = idParam('plugin_id');
const one = (d: string) => jsonContent(PluginSchema, d);

export const list = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/',
  summary: 'Your plugins: the ones you made and the ones you installed',
  request: { query: PluginListQuery },
  responses: { 200: jsonContent(paginatedSchema(PluginSchema, 'PluginList'), 'A page of plugins'), ...errors(401, 422) },
});

export const create = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/',
  summary:
    'Create a plugin, installed for you with your settings: kind openapi (default) from an OpenAPI 3 document, each operation a tool; kind mcp from a remote MCP server (connected first), each of its tools a tool mcp_<slug>_<tool>',
  request: { body: jsonBody(CreatePluginBody) },
  responses: {
    201: one('The plugin'),
    400: errorResponse('The URL is not allowed (SSRF_BLOCKED)'),
    ...errors(401),
    409: errorResponse('MCP: you already have an MCP plugin with this slug'),
    ...errors(422),
    502: errorResponse('MCP: the server could not be reached or spoke no MCP (MCP_ERROR, UPSTREAM_ERROR)'),
  },
});

export const market = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/market',
  summary: 'The plugin market: published plugins, most installed first',
  request: { query: PluginListQuery },
  responses: { 200: jsonContent(paginatedSchema(PluginSchema), 'A page of plugins'), ...errors(401, 422) },
});

export const get = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/{plugin_id}',
  summary: 'A plugin with its operations (tools) and your installation',
  request: { params },
  responses: { 200: one('The plugin'), ...errors(401, 404) },
});

export const update = createRoute({
  ...authenticated,
  tags,
  method: 'put',
  path: '/{plugin_id}',
  summary: 'Update a plugin (owner): metadata, publishing, a new document (openapi); a new URL or headers, or refresh: true, re-read the tool list (mcp)',
  request: { params, body: jsonBody(UpdatePluginBody) },
  responses: {
    200: one('The plugin'),
    400: errorResponse('The URL is not allowed (SSRF_BLOCKED)'),
    ...errors(401, 403, 404, 422),
    502: errorResponse('MCP: the server could not be reached (MCP_ERROR, UPSTREAM_ERROR)'),
  },
});

export const remove = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/{plugin_id}',
  summary: 'Delete a plugin (owner); every installation goes with it',
  request: { params },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404) },
});

export const install = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/{plugin_id}/install',
  summary: 'Install a published plugin with your own credentials (encrypted, never returned)',
  request: { params, body: jsonBody(InstallBody) },
  responses: {
    201: one('The plugin with your installation'),
    ...errors(401, 404),
    409: errorResponse('Already installed, or (MCP) you have an MCP plugin with the same slug'),
    ...errors(422),
  },
});

export const uninstall = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/{plugin_id}/install',
  summary: 'Uninstall (your credentials are deleted)',
  request: { params },
  responses: { 204: { description: 'Uninstalled' }, ...errors(401, 404) },
});

export const enable = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/{plugin_id}/enable',
  summary: 'Enable your installation (its tools join your tool registry); optionally replace your credentials',
  request: { params, body: { required: false, content: { 'application/json': { schema: EnableBody } } } },
  responses: { 200: one('The plugin'), ...errors(401, 404, 422) },
});

export const disable = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/{plugin_id}/disable',
  summary: 'Disable your installation (its tools leave your tool registry)',
  request: { params },
  responses: { 200: one('The plugin'), ...errors(401, 404) },
});
