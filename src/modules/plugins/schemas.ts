import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../lib/pagination';

export const PLUGIN_CATEGORIES = ['general', 'productivity', 'search', 'data', 'communication', 'development', 'finance', 'media', 'other'] as const;

const Settings = z
  .record(z.string().trim().min(1).max(50), z.string().max(4096))
  .refine((s) => Object.keys(s).length <= 10, 'at most 10 settings')
  .openapi({ description: 'Credentials for the document’s security scheme: api_key | token | username + password. Stored encrypted, never returned' });

const OpenApiDoc = z.record(z.string(), z.unknown()).openapi({ description: 'An OpenAPI 3 document (JSON): servers[0].url, paths, components.securitySchemes' });

export const CreatePluginBody = z
  .object({
    openapi: OpenApiDoc,
    name: z.string().trim().min(1).max(100).optional().openapi({ description: 'Default: info.title' }),
    description: z.string().max(2000).optional(),
    category: z.enum(PLUGIN_CATEGORIES).default('general'),
    is_published: z.boolean().default(false).openapi({ description: 'List it in the plugin market' }),
    settings: Settings.default({}).openapi({ description: 'Your own credentials (the plugin is installed for you)' }),
  })
  .openapi('CreatePluginRequest');

export const UpdatePluginBody = z
  .object({
    openapi: OpenApiDoc.optional().openapi({ description: 'Re-import the operations from a new document' }),
    name: z.string().trim().min(1).max(100).optional(),
    description: z.string().max(2000).optional(),
    category: z.enum(PLUGIN_CATEGORIES).optional(),
    is_published: z.boolean().optional(),
  })
  .openapi('UpdatePluginRequest');

export const InstallBody = z.object({ settings: Settings.default({}) }).openapi('InstallPluginRequest');
export const EnableBody = z.object({ settings: Settings.optional().openapi({ description: 'Replace your stored credentials' }) }).openapi('EnablePluginRequest');

const Operation = z.object({
  name: z.string(),
  tool_ref: z.string().openapi({ description: 'What include_tools and /tools/{id}/use take' }),
  tool_name: z.string().openapi({ description: 'The name models see' }),
  description: z.string(),
  method: z.string(),
  path: z.string(),
  parameters: z.record(z.string(), z.unknown()),
});

export const PluginSchema = z
  .object({
    id: z.string().uuid(),
    owner_id: z.string(),
    name: z.string(),
    slug: z.string(),
    description: z.string(),
    category: z.string(),
    version: z.string(),
    kind: z.literal('openapi'),
    base_url: z.string(),
    auth: z.object({ type: z.enum(['none', 'api_key', 'bearer', 'basic']), in: z.string().optional(), name: z.string().optional() }),
    required_settings: z.array(z.string()),
    operations: z.array(Operation),
    is_published: z.boolean(),
    install_count: z.number().int(),
    installation: z
      .object({ enabled: z.boolean(), settings_fields: z.array(z.string()).openapi({ description: 'Which settings you stored (values never returned)' }), installed_at: z.string() })
      .nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Plugin');

export const PluginListQuery = PaginationQuery.extend({
  search: z.string().trim().max(200).optional(),
  category: z.enum(PLUGIN_CATEGORIES).optional(),
});
