import { callRemoteTool, listRemoteTools, withMcpSession, type McpEndpoint, type RemoteMcpTool } from '../../engine/tools/mcp-client';
import { registerToolProvider, type DynamicTool } from '../../engine/tools/registry';
import type { Env } from '../../env';
import { decryptSecret, encryptSecret } from '../../lib/crypto';
import { isUniqueViolation } from '../../lib/d1';
import { conflict, notFound } from '../../lib/errors';
import { checkOutboundUrl } from '../../lib/outbound';
import { pageBounds, paginated, type Pagination } from '../../lib/pagination';
import { getSecret } from '../../lib/secrets';
import type { CreateMcpServer, McpServer, McpServerTool } from './schemas';

/**
 * The MCP client side: remote MCP servers a user connects, whose tools become the user's tools
 * `mcp_<server>_<tool>` — in invokeTool (tools API, workflow tool nodes) and in agents'
 * include_tools — through the `mcp_` tool provider registered below.
 */

export const MCP_TOOL_PREFIX = 'mcp_';

interface ServerRow {
  id: string;
  owner_id: string;
  name: string;
  description: string;
  url: string;
  headers_encrypted: string | null;
  header_names: string;
  tools: string;
  server_info: string | null;
  protocol_version: string | null;
  refreshed_at: string | null;
  created_at: string;
  updated_at: string;
}

/** Model APIs accept tool names of [A-Za-z0-9_-]{1,64}; remote names are mapped into that. */
export function platformToolName(server: string, remote: string): string {
  return `${MCP_TOOL_PREFIX}${server}_${remote.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 64);
}

function toView(row: ServerRow): McpServer {
  const tools = JSON.parse(row.tools) as McpServerTool[];
  return {
    id: row.id,
    owner_id: row.owner_id,
    name: row.name,
    description: row.description,
    url: row.url,
    header_names: JSON.parse(row.header_names),
    tools,
    server_info: row.server_info ? JSON.parse(row.server_info) : null,
    protocol_version: row.protocol_version,
    refreshed_at: row.refreshed_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

async function endpointOf(env: Env, row: Pick<ServerRow, 'url' | 'headers_encrypted'>): Promise<McpEndpoint> {
  const headers = row.headers_encrypted ? (JSON.parse(await decryptSecret(row.headers_encrypted, await getSecret(env, 'ENCRYPTION_KEY'))) as Record<string, string>) : {};
  return { url: row.url, headers };
}

/** Connects, and returns what the server says about itself and its tools. */
async function discover(env: Env, serverName: string, endpoint: McpEndpoint) {
  return withMcpSession(env, endpoint, async (session) => {
    const remote = await listRemoteTools(session);
    const tools: McpServerTool[] = remote.map((t: RemoteMcpTool) => ({ ...t, name: platformToolName(serverName, t.name), remote_name: t.name }));
    // Two remote names mapping to one platform name would make the second unreachable: keep the first.
    const seen = new Set<string>();
    const unique = tools.filter((t) => (seen.has(t.name) ? false : (seen.add(t.name), true)));
    return { tools: unique, serverInfo: session.serverInfo, protocolVersion: session.negotiatedVersion };
  });
}

async function loadOwned(env: Env, userId: string, id: string): Promise<ServerRow> {
  const row = await env.DB.prepare('SELECT * FROM mcp_servers WHERE id = ? AND owner_id = ?').bind(id, userId).first<ServerRow>();
  if (!row) throw notFound('MCP server');
  return row;
}

export async function listServers(env: Env, userId: string, q: Pagination) {
  const { limit, offset } = pageBounds(q);
  const [rows, count] = await env.DB.batch([
    env.DB.prepare('SELECT * FROM mcp_servers WHERE owner_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?').bind(userId, limit, offset),
    env.DB.prepare('SELECT count(*) AS n FROM mcp_servers WHERE owner_id = ?').bind(userId),
  ]);
  return paginated((rows.results as unknown as ServerRow[]).map(toView), (count.results[0] as { n: number }).n, q);
}

export async function getServer(env: Env, userId: string, id: string): Promise<McpServer> {
  return toView(await loadOwned(env, userId, id));
}

/** Registers a server after connecting to it: a server that cannot be reached is not saved. */
export async function createServer(env: Env, userId: string, input: CreateMcpServer): Promise<McpServer> {
  checkOutboundUrl(env, input.url);
  const taken = await env.DB.prepare('SELECT 1 FROM mcp_servers WHERE owner_id = ? AND name = ?').bind(userId, input.name).first();
  if (taken) throw conflict(`An MCP server named "${input.name}" already exists`);
  const headers = input.headers ?? {};
  const found = await discover(env, input.name, { url: input.url, headers });
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  const encrypted = Object.keys(headers).length ? await encryptSecret(JSON.stringify(headers), await getSecret(env, 'ENCRYPTION_KEY')) : null;
  try {
    await env.DB.prepare(
      `INSERT INTO mcp_servers (id, owner_id, name, description, url, headers_encrypted, header_names, tools, server_info, protocol_version, refreshed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
      .bind(
        id,
        userId,
        input.name,
        input.description,
        input.url,
        encrypted,
        JSON.stringify(Object.keys(headers)),
        JSON.stringify(found.tools),
        found.serverInfo ? JSON.stringify(found.serverInfo) : null,
        found.protocolVersion,
        now,
      )
      .run();
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`An MCP server named "${input.name}" already exists`);
    throw e;
  }
  return getServer(env, userId, id);
}

/** Re-reads the server's tool list (servers add and remove tools). */
export async function refreshServer(env: Env, userId: string, id: string): Promise<McpServer> {
  const row = await loadOwned(env, userId, id);
  const found = await discover(env, row.name, await endpointOf(env, row));
  await env.DB.prepare(
    `UPDATE mcp_servers SET tools = ?, server_info = ?, protocol_version = ?, refreshed_at = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
  )
    .bind(JSON.stringify(found.tools), found.serverInfo ? JSON.stringify(found.serverInfo) : null, found.protocolVersion, new Date().toISOString(), id)
    .run();
  return getServer(env, userId, id);
}

export async function deleteServer(env: Env, userId: string, id: string): Promise<void> {
  await loadOwned(env, userId, id);
  await env.DB.prepare('DELETE FROM mcp_servers WHERE id = ?').bind(id).run();
}

/** `mcp_<server>_<tool>` of this user → the tool, from the cached list; null when unknown. */
async function resolveMcpTool(env: Env, userId: string, name: string): Promise<DynamicTool | null> {
  const server = name.slice(MCP_TOOL_PREFIX.length).split('_', 1)[0];
  if (!server) return null;
  const row = await env.DB.prepare('SELECT * FROM mcp_servers WHERE owner_id = ? AND name = ?').bind(userId, server).first<ServerRow>();
  if (!row) return null;
  const tool = (JSON.parse(row.tools) as McpServerTool[]).find((t) => t.name === name);
  if (!tool) return null;
  return {
    name: tool.name,
    description: tool.description || tool.title || tool.remote_name,
    parameters: tool.input_schema,
    type: 'mcp',
    execute: async (args, ctx) => withMcpSession(env, await endpointOf(env, row), (s) => callRemoteTool(s, tool.remote_name, args), ctx.signal),
  };
}

registerToolProvider({ prefix: MCP_TOOL_PREFIX, resolve: (ctx, name) => resolveMcpTool(ctx.env, ctx.userId, name) });
