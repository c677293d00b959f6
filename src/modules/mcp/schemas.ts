import { z } from '@hono/zod-openapi';

// JSON-RPC 2.0 as MCP uses it. Field names are the protocol's.

/** A request or notification, as JSON Schema (documentation only; see routes.ts). */
export const JSON_RPC_MESSAGE: Record<string, unknown> = {
  type: 'object',
  required: ['jsonrpc'],
  properties: {
    jsonrpc: { type: 'string', enum: ['2.0'] },
    id: { type: ['string', 'integer'] },
    method: { type: 'string', examples: ['initialize', 'tools/list', 'tools/call'] },
    params: { type: 'object' },
  },
};

export const JsonRpcResponseSchema = z
  .object({
    jsonrpc: z.literal('2.0'),
    id: z.union([z.string(), z.number()]).nullable(),
    result: z.unknown().optional(),
    error: z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }).optional(),
  })
  .openapi('JsonRpcResponse');

export const McpServerToolSchema = z
  .object({
    name: z.string().openapi({ description: 'The platform name: mcp_<server>_<tool>', example: 'mcp_github_search_issues' }),
    remote_name: z.string(),
    title: z.string().optional(),
    description: z.string(),
    input_schema: z.record(z.string(), z.unknown()),
  })
  .openapi('McpServerTool');
export type McpServerTool = z.infer<typeof McpServerToolSchema>;

export const McpServerSchema = z
  .object({
    id: z.string(),
    owner_id: z.string(),
    name: z.string(),
    description: z.string(),
    url: z.string(),
    header_names: z.array(z.string()).openapi({ description: 'Headers sent with every request (values are stored encrypted, never returned)' }),
    tools: z.array(McpServerToolSchema),
    server_info: z.record(z.string(), z.unknown()).nullable(),
    protocol_version: z.string().nullable(),
    refreshed_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('McpServer');
export type McpServer = z.infer<typeof McpServerSchema>;

export const CreateMcpServerBody = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lowercase letters, digits and dashes, at most 32')
      .openapi({ description: 'Becomes the <server> in tool names mcp_<server>_<tool>', example: 'github' }),
    description: z.string().max(1000).default(''),
    url: z.url().max(2000).openapi({ description: 'The streamable HTTP endpoint', example: 'https://mcp.example.com/mcp' }),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name'), z.string().max(4000))
      .optional()
      .openapi({ description: 'Sent with every request, e.g. {"Authorization": "Bearer …"}; stored encrypted', example: { Authorization: 'Bearer ghp_…' } }),
  })
  .openapi('CreateMcpServer');
export type CreateMcpServer = z.infer<typeof CreateMcpServerBody>;
