import { index, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt, users } from './core';

/**
 * Remote MCP servers a user connected (the MCP client). Their tools are cached here at
 * registration and on refresh, so listing and resolving a tool costs no round trip; a call
 * always goes to the server. Stands in for plugins of kind `mcp` until the plugins module has it.
 */
export const mcpServers = sqliteTable(
  'mcp_servers',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Lowercase `[a-z0-9-]`: the `<server>` in tool names `mcp_<server>_<tool>`. */
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    url: text('url').notNull(),
    /** AES-GCM encrypted JSON of request headers (Authorization, API keys); never returned. */
    headersEncrypted: text('headers_encrypted'),
    /** JSON array of the header names, to show which are set. */
    headerNames: text('header_names').notNull().default('[]'),
    /** JSON: [{name, title?, description, input_schema}] from the server's tools/list. */
    tools: text('tools').notNull().default('[]'),
    /** JSON: the server's serverInfo from initialize. */
    serverInfo: text('server_info'),
    protocolVersion: text('protocol_version'),
    refreshedAt: text('refreshed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('mcp_servers_owner_name_unique').on(t.ownerId, t.name), index('mcp_servers_owner_idx').on(t.ownerId, t.createdAt)],
);
