// Tables of the plugins module (its store alone reads and writes them).
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/**
 * Plugins: a set of tools, of one of two kinds. `openapi`: HTTP tools imported from an OpenAPI
 * document (`spec`), calls going to `base_url`. `mcp`: a remote MCP server at `base_url` whose
 * tool list is cached in `operations` (`spec` holds what the server said of itself); `auth` is
 * `{type: 'headers', headers: [names]}`. The document and the derived operations are public to
 * installers once `is_published`; credentials never live here — each installation holds its own,
 * encrypted (for `mcp`, a value per header name).
 */
export const plugins = sqliteTable(
  'plugins',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    description: text('description').notNull().default(''),
    category: text('category').notNull().default('general'),
    version: text('version').notNull().default('1.0.0'),
    kind: text('kind', { enum: ['openapi', 'mcp'] }).notNull().default('openapi'),
    baseUrl: text('base_url').notNull(),
    /** JSON: `{type: none|api_key|bearer|basic, in?, name?}` taken from the document's security scheme; mcp: `{type: 'headers', headers}`. */
    auth: text('auth').notNull(),
    /** JSON: the operations as tool definitions (openapi: name, method, path, parameters; mcp: name, remote_name, title, description, input_schema). */
    operations: text('operations').notNull(),
    spec: text('spec').notNull(),
    isPublished: integer('is_published').notNull().default(0),
    installCount: integer('install_count').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('plugins_owner_idx').on(t.ownerId, t.createdAt), index('plugins_published_idx').on(t.isPublished, t.installCount)],
);

export const pluginInstallations = sqliteTable(
  'plugin_installations',
  {
    id: text('id').primaryKey(),
    pluginId: text('plugin_id').notNull(),
    userId: text('user_id').notNull(),
    enabled: integer('enabled').notNull().default(1),
    /** AES-GCM encrypted JSON of the installer's settings (API key, token, ...); never returned. */
    settingsEncrypted: text('settings_encrypted'),
    settingsHint: text('settings_hint').notNull().default('{}'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('plugin_installations_unique').on(t.pluginId, t.userId), index('plugin_installations_user_idx').on(t.userId, t.enabled)],
);
