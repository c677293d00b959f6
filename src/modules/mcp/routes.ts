import { createRoute, z } from '@hono/zod-openapi';
import { authenticated, bearerSecurity } from '../../lib/auth';
import { PaginationQuery, paginatedSchema } from '../../lib/pagination';
import { errorResponse, errorResponses, idParam, jsonBody, jsonContent } from '../../lib/schemas';
import { CreateMcpServerBody, JSON_RPC_MESSAGE, JsonRpcResponseSchema, McpServerSchema } from './schemas';
import { requireApiKey } from './auth';

const tags = ['mcp'];

// The body schema is a plain JSON Schema, not zod, so no validator runs: the handler reads the raw
// body and malformed JSON-RPC gets JSON-RPC errors (-32700, -32600), not the API's 422.
export const endpoint = createRoute({
  tags,
  security: bearerSecurity,
  middleware: [requireApiKey] as const,
  method: 'post',
  path: '/',
  summary: 'MCP server (streamable HTTP, stateless): initialize, ping, tools/list, tools/call; the caller’s deployed agents and active workflows as tools. API key only.',
  request: {
    headers: z.object({ 'mcp-protocol-version': z.string().optional() }),
    body: {
      required: true,
      description: 'One JSON-RPC message or a batch',
      content: { 'application/json': { schema: { oneOf: [JSON_RPC_MESSAGE, { type: 'array', items: JSON_RPC_MESSAGE, minItems: 1 }] } } },
    },
  },
  responses: {
    200: { description: 'The response, or an array of them for a batch', content: { 'application/json': { schema: z.union([JsonRpcResponseSchema, z.array(JsonRpcResponseSchema)]) } } },
    202: { description: 'Only notifications or responses were sent: nothing to answer' },
    400: { description: 'Not JSON, an empty batch, or an unsupported MCP-Protocol-Version', content: { 'application/json': { schema: JsonRpcResponseSchema } } },
    401: errorResponses[401],
  },
});

// The MCP client: remote servers whose tools become the caller's tools.
const serverParams = idParam('server_id');

export const listServers = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/servers',
  summary: 'Remote MCP servers the caller connected (the MCP client)',
  request: { query: PaginationQuery },
  responses: { 200: jsonContent(paginatedSchema(McpServerSchema, 'McpServerList'), 'A page of servers, newest first'), 401: errorResponses[401], 422: errorResponses[422] },
});

export const createServer = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/servers',
  summary: 'Connect a remote MCP server (streamable HTTP): its tools become mcp_<server>_<tool> tools',
  request: { body: jsonBody(CreateMcpServerBody) },
  responses: {
    201: jsonContent(McpServerSchema, 'The server with the tools it offers'),
    400: errorResponse('The URL is not allowed (SSRF_BLOCKED)'),
    401: errorResponses[401],
    409: errorResponses[409],
    422: errorResponses[422],
    502: errorResponse('The server could not be reached or spoke no MCP (MCP_ERROR, UPSTREAM_ERROR)'),
  },
});

export const getServer = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/servers/{server_id}',
  summary: 'A connected MCP server and its tools',
  request: { params: serverParams },
  responses: { 200: jsonContent(McpServerSchema, 'The server'), 401: errorResponses[401], 404: errorResponses[404] },
});

export const refreshServer = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/servers/{server_id}/refresh',
  summary: "Re-read the server's tool list",
  request: { params: serverParams },
  responses: { 200: jsonContent(McpServerSchema, 'The server with its current tools'), 401: errorResponses[401], 404: errorResponses[404], 502: errorResponse('The server could not be reached') },
});

export const deleteServer = createRoute({
  tags,
  ...authenticated,
  method: 'delete',
  path: '/servers/{server_id}',
  summary: 'Disconnect an MCP server (its tools go with it)',
  request: { params: serverParams },
  responses: { 204: { description: 'Deleted' }, 401: errorResponses[401], 404: errorResponses[404] },
});
