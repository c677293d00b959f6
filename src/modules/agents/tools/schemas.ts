import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';

export const TOOL_TYPES = ['builtin', 'http', 'code', 'mcp', 'plugin'] as const;

const JsonSchemaObject = z.record(z.string(), z.unknown()).meta({
  description: 'JSON Schema of the arguments object',
  example: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
});

export const ToolSchema = z
  .object({
    id: z.string().meta({ description: 'Builtin tools: their name; custom tools: a UUID', example: 'calculator' }),
    name: z.string(),
    description: z.string(),
    description_zh: z.string().nullable(),
    category: z.string(),
    type: z.enum(TOOL_TYPES),
    builtin: z.boolean(),
    /** Builtin tools backed by an outside service: whether it is configured. */
    configured: z.boolean(),
    parameters: JsonSchemaObject,
    config: z.record(z.string(), z.unknown()).nullable().meta({ description: 'Custom tools: the HTTP request or code (secret header values masked)' }),
    owner_id: z.string().nullable(),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .openapi('Tool');

export const ToolListQuery = PaginationQuery.extend({
  category: z.string().max(50).optional(),
  type: z.enum(TOOL_TYPES).optional(),
  search: z.string().max(200).optional(),
});

export const CategorySchema = z
  .object({
    category: z.string(),
    count: z.int(),
    builtin_count: z.int(),
    custom_count: z.int(),
    plugin_count: z.int().meta({ description: 'Tools of your enabled plugins (OpenAPI and MCP)' }),
  })
  .openapi('ToolCategory');

const TOOL_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

const HttpConfigFields = {
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  url: z.string().trim().min(1).max(4096).openapi({ description: 'URL template; {{param}} placeholders are percent-encoded', example: 'https://api.example.com/weather?city={{city}}' }),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'Invalid header name'), z.string().max(8192))
    .default({})
    .meta({ description: 'Header templates; values of Authorization, Cookie and names containing key/token/secret/password/auth are stored encrypted and returned masked' }),
  body: z.string().max(100_000).nullable().default(null).openapi({ description: 'Body template; in JSON bodies "{{param}}" keeps the value\'s JSON type' }),
  timeout_ms: z.int().min(100).max(30_000).default(15_000),
  secret_headers: z.array(z.string()).max(50).default([]).meta({ description: 'More header names to treat as secrets' }),
};
export const HttpConfigSchema = z.object(HttpConfigFields).openapi('HttpToolConfig');

const CodeConfigFields = {
  source: z.string().min(1).max(100_000).meta({ description: 'JavaScript; the result is main(args) if defined, else the last expression', example: 'function main({ a, b }) { return a + b }' }),
  allow_network: z.boolean().default(false).meta({ description: 'Give the code an SSRF-guarded fetch()' }),
  timeout_ms: z.int().min(10).max(10_000).default(5_000),
};
export const CodeConfigSchema = z.object(CodeConfigFields).openapi('CodeToolConfig');

const common = {
  name: z.string().trim().regex(TOOL_NAME, 'A letter, then up to 63 letters, digits, _ or -'),
  description: z.string().trim().max(2000).default(''),
  category: z.string().trim().min(1).max(50).default('custom'),
  parameters: JsonSchemaObject.default({ type: 'object', properties: {} }),
};

export const CreateToolBody = z
  .discriminatedUnion('type', [
    z.object({ ...common, type: z.literal('http'), config: HttpConfigSchema }),
    z.object({ ...common, type: z.literal('code'), config: CodeConfigSchema }),
  ])
  .openapi('CreateToolRequest');
export type CreateToolInput = z.infer<typeof CreateToolBody>;

export const UpdateToolBody = z
  .object({
    name: common.name.optional(),
    description: z.string().trim().max(2000).optional(),
    category: z.string().trim().min(1).max(50).optional(),
    parameters: JsonSchemaObject.optional(),
    config: z.record(z.string(), z.unknown()).optional().meta({ description: 'The whole config of the tool\'s type; a masked secret header value keeps the stored secret' }),
  })
  .openapi('UpdateToolRequest');
export type UpdateToolInput = z.infer<typeof UpdateToolBody>;

const Arguments = z.record(z.string(), z.unknown()).default({}).openapi({ description: 'Arguments, validated against the parameter schema', example: { expression: '2 * (3 + 4)' } });

export const UseToolBody = z.object({ arguments: Arguments }).openapi('UseToolRequest');

export const TestHttpBody = z
  .object({ ...HttpConfigFields, parameters: JsonSchemaObject.optional(), arguments: Arguments })
  .openapi('TestHttpToolRequest');

export const TestCodeBody = z
  .object({ ...CodeConfigFields, parameters: JsonSchemaObject.optional(), arguments: Arguments })
  .openapi('TestCodeToolRequest');

export const ToolResultSchema = z
  .object({
    tool_id: z.string(),
    tool_name: z.string(),
    output: z.unknown(),
    duration_ms: z.int(),
    logs: z.array(z.string()).optional(),
  })
  .openapi('ToolResult');

export const ToolIdParam = z.object({
  tool_id: z.string().min(1).max(100).openapi({ param: { name: 'tool_id', in: 'path' }, example: 'calculator' }),
});
