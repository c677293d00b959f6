import type { Env } from '../../env';
import { listRemoteTools, withMcpSession, type McpEndpoint } from '../tools/mcp-client';

/**
 * Plugins of kind `mcp`: a remote MCP server (streamable HTTP) whose tools become tools named
 * `mcp_<plugin slug>_<tool>`. The tool list is read at creation and on refresh and cached in the
 * plugin's `operations`, so listing and resolving a tool costs no round trip; a call always goes
 * to the server, with the installer's own headers.
 */

export const MCP_TOOL_PREFIX = 'mcp_';

/** A remote tool as cached on the plugin. */
export interface McpToolDef {
  /** The platform name: mcp_<slug>_<remote name mapped into [A-Za-z0-9_-]>, 64 at most. */
  name: string;
  remote_name: string;
  title?: string;
  description: string;
  input_schema: Record<string, unknown>;
}

/** What is known of the server besides its tools (kept in the plugin's `spec`). */
export interface McpServerMeta {
  server_info: Record<string, unknown> | null;
  protocol_version: string | null;
  refreshed_at: string | null;
}

/**
 * Slugs of MCP plugins are `[a-z0-9-]` (no underscore): the part of a tool name between `mcp_`
 * and the next `_` names the plugin without ambiguity.
 */
export function mcpSlugOf(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32)
      .replace(/-+$/, '') || 'mcp'
  );
}

/** Model APIs accept tool names of [A-Za-z0-9_-]{1,64}; remote names are mapped into that. */
export function mcpToolName(slug: string, remote: string): string {
  return `${MCP_TOOL_PREFIX}${slug}_${remote.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 64);
}

/** The plugin slug a tool name points at (`mcp_<slug>_…`), or null. */
export function mcpSlugOfTool(name: string): string | null {
  if (!name.startsWith(MCP_TOOL_PREFIX)) return null;
  const rest = name.slice(MCP_TOOL_PREFIX.length);
  const i = rest.indexOf('_');
  return i > 0 ? rest.slice(0, i) : null;
}

/** Connects (initialize + tools/list, through the SSRF guard) and returns the server's tools and what it says about itself. */
export async function discoverMcpServer(env: Env, slug: string, endpoint: McpEndpoint): Promise<{ tools: McpToolDef[]; meta: McpServerMeta; version: string }> {
  return withMcpSession(env, endpoint, async (session) => {
    const remote = await listRemoteTools(session);
    // Two remote names mapping to one platform name would make the second unreachable: keep the first.
    const seen = new Set<string>();
    const tools: McpToolDef[] = [];
    for (const t of remote) {
      const name = mcpToolName(slug, t.name);
      if (seen.has(name)) continue;
      seen.add(name);
      tools.push({ name, remote_name: t.name, ...(t.title ? { title: t.title } : {}), description: t.description, input_schema: t.input_schema });
    }
    const info = session.serverInfo;
    return {
      tools,
      meta: { server_info: info, protocol_version: session.negotiatedVersion, refreshed_at: new Date().toISOString() },
      version: typeof info?.version === 'string' && info.version ? info.version.slice(0, 30) : '1.0.0',
    };
  });
}
