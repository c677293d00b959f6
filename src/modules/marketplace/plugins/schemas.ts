import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';

export const PLUGIN_CATEGORIES = ['general', 'productivity', 'search', 'data', 'communication', 'development', 'finance', 'media', 'other'] as const;

const Settings = z
  .record(z.string().trim().min(1).max(50), z.string().max(4096))
  .refine((s) => Object.keys(s).length <= 10, 'at most 10 settings')
  .meta({ description: 'Credentials: for an OpenAPI plugin its security scheme’s api_key | token | username + password; for an MCP plugin a value per header name. Stored encrypted, never returned' });

const OpenApiDoc = z.record(z.string(), z.unknown()).meta({ description: 'An OpenAPI 3 document (JSON): servers[0].url, paths, components.securitySchemes' });

const McpUrl = z.url().max(2000).meta({ description: 'The MCP server’s streamable HTTP endpoint', example: 'https://mcp.example.com/mcp' });

const Headers = z
  .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name'), z.string().max(4096))
  .refine((h) => Object.keys(h).length <= 10, 'at most 10 headers')
  .meta({
    description: 'Sent with every request to the server, e.g. {"Authorization": "Bearer …"}. Your own values (stored encrypted, never returned); the names are what installers give values for',
    example: { Authorization: 'Bearer ghp_…' },
  });

const common = {
  description: z.string().max(2000).optional(),
  category: z.enum(PLUGIN_CATEGORIES).default('general'),
  is_published: z.boolean().default(false).meta({ description: 'List it in the plugin market' }),
};

export const CreateOpenApiPluginBody = z
  .object({
    kind: z.literal('openapi').default('openapi').meta({ description: 'Default: openapi' }),
    openapi: OpenApiDoc,
    name: z.string().trim().min(1).max(100).optional().meta({ description: 'Default: info.title' }),
    ...common,
    settings: Settings.default({}).meta({ description: 'Your own credentials (the plugin is installed for you)' }),
  })
  .openapi('CreateOpenApiPluginRequest');

export const CreateMcpPluginBody = z
  .object({
    kind: z.literal('mcp'),
    name: z.string().trim().min(1).max(100).meta({ description: 'Its slug ([a-z0-9-], fixed at creation) names the tools mcp_<slug>_<tool>', example: 'GitHub' }),
    url: McpUrl,
    ...common,
    headers: Headers.default({}),
  })
  .openapi('CreateMcpPluginRequest');

export const CreatePluginBody = z.discriminatedUnion('kind', [CreateOpenApiPluginBody, CreateMcpPluginBody]).openapi('CreatePluginRequest');
export type CreatePluginInput = z.infer<typeof CreatePluginBody>;

export const UpdatePluginBody = z
  .object({
    openapi: OpenApiDoc.optional().meta({ description: 'OpenAPI plugins: re-import the operations from a new document' }),
    url: McpUrl.optional().meta({ description: 'MCP plugins: a new endpoint (the tool list is re-read)' }),
    headers: Headers.optional().meta({ description: 'MCP plugins: replace your headers (the tool list is re-read with them)' }),
    refresh: z.boolean().optional().meta({ description: 'MCP plugins: re-read the server’s tool list' }),
    name: z.string().trim().min(1).max(100).optional(),
    description: z.string().max(2000).optional(),
    category: z.enum(PLUGIN_CATEGORIES).optional(),
    is_published: z.boolean().optional(),
  })
  .openapi('UpdatePluginRequest');
export type UpdatePluginInput = z.infer<typeof UpdatePluginBody>;

export const InstallBody = z.object({ settings: Settings.default({}) }).openapi('InstallPluginRequest');
export const EnableBody = z.object({ settings: Settings.optional().meta({ description: 'Replace your stored credentials' }) }).openapi('EnablePluginRequest');

const Operation = z.object({
  name: z.string().meta({ description: 'The operationId, or the MCP server’s own tool name' }),
  tool_ref: z.string().meta({ description: 'What include_tools and /tools/{id}/use take' }),
  tool_name: z.string().meta({ description: 'The name models see' }),
  title: z.string().optional().meta({ description: 'MCP plugins: the tool’s title' }),
  description: z.string(),
  method: z.string().optional().meta({ description: 'OpenAPI plugins' }),
  path: z.string().optional().meta({ description: 'OpenAPI plugins' }),
  parameters: z.record(z.string(), z.unknown()),
});

export const PluginSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.string(),
    name: z.string(),
    slug: z.string(),
    description: z.string(),
    category: z.string(),
    version: z.string(),
    kind: z.enum(['openapi', 'mcp']),
    base_url: z.string().meta({ description: 'OpenAPI plugins: where calls go; MCP plugins: the server’s endpoint' }),
    auth: z.object({
      type: z.enum(['none', 'api_key', 'bearer', 'basic', 'headers']),
      in: z.string().optional(),
      name: z.string().optional(),
      headers: z.array(z.string()).optional().meta({ description: 'MCP plugins: the header names sent to the server (values are each installation’s own)' }),
    }),
    required_settings: z.array(z.string()),
    operations: z.array(Operation),
    mcp: z
      .object({ server_info: z.record(z.string(), z.unknown()).nullable(), protocol_version: z.string().nullable(), refreshed_at: z.string().nullable() })
      .nullable()
      .meta({ description: 'MCP plugins: what the server said of itself when its tools were last read' }),
    is_published: z.boolean(),
    install_count: z.int(),
    installation: z
      .object({ enabled: z.boolean(), settings_fields: z.array(z.string()).meta({ description: 'Which settings you stored (values never returned)' }), installed_at: z.string() })
      .nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Plugin');

export const PluginListQuery = PaginationQuery.extend({
  search: z.string().trim().max(200).optional(),
  category: z.enum(PLUGIN_CATEGORIES).optional(),
  kind: z.enum(['openapi', 'mcp']).optional(),
});
