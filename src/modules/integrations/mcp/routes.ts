import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity } from '../../../lib/auth';
import { errorResponse, errors } from '../../../lib/schemas';
import { JSON_RPC_MESSAGE, JsonRpcResponseSchema } from './schemas';
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
  summary: 'MCP server (streamable HTTP, stateless): initialize, ping, tools, resources, prompts, logging/setLevel; the caller’s deployed agents and active workflows as tools, readable knowledge-base documents as resources, deployed agents’ system prompts as prompts. API key only.',
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
    ...errors(401),
    403: errorResponse('The request’s Origin is not one of MCP_ALLOWED_ORIGINS (DNS rebinding protection)'),
  },
});
