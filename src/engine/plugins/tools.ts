import type { Env } from '../../env';
import { decryptSecret } from '../../lib/crypto';
import { getSecret } from '../../lib/secrets';
import type { ToolSpec } from '../llm/types';
import { callRemoteTool, withMcpSession } from '../tools/mcp-client';
import type { DynamicTool } from '../tools/registry';
import type { ToolContext } from '../tools/types';
import { mcpSlugOfTool, type McpToolDef } from './mcp';
import type { PluginAuth, PluginOperation } from './openapi';
import { runOperation } from './run';

/**
 * Plugin tools in the tool registry. An OpenAPI plugin's tool is referenced as
 * `plugin:<plugin id>:<operation>` (in agents' include_tools, workflow tool nodes,
 * /tools/{id}/use) and shown to models as `<plugin slug>__<operation>`. An MCP plugin's tool is
 * referenced and shown as `mcp_<plugin slug>_<tool>`, resolved by the `mcp_` tool provider
 * (resolveMcpPluginTool). Only plugins the user has installed and enabled resolve.
 */
export const PLUGIN_REF = /^plugin:([0-9a-f-]{36}):([A-Za-z][A-Za-z0-9_]*)$/i;

export const pluginToolRef = (pluginId: string, op: string) => `plugin:${pluginId}:${op}`;
export const isPluginRef = (ref: string) => ref.startsWith('plugin:');

export interface PluginTool {
  /** `plugin:<id>:<op>` for OpenAPI plugins; the tool name for MCP plugins. */
  ref: string;
  type: 'plugin' | 'mcp';
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  plugin_id: string;
  plugin_name: string;
  category: string;
}

interface InstalledRow {
  plugin_id: string;
  kind: 'openapi' | 'mcp';
  name: string;
  slug: string;
  category: string;
  base_url: string;
  auth: string;
  operations: string;
  settings_encrypted: string | null;
}

const INSTALLED = `SELECT p.id AS plugin_id, p.kind, p.name, p.slug, p.category, p.base_url, p.auth, p.operations, i.settings_encrypted
  FROM plugin_installations i JOIN plugins p ON p.id = i.plugin_id WHERE i.user_id = ? AND i.enabled = 1`;

function toolsOf(row: InstalledRow): PluginTool[] {
  if (row.kind === 'mcp') {
    return (JSON.parse(row.operations) as McpToolDef[]).map((t) => ({
      ref: t.name,
      type: 'mcp' as const,
      name: t.name,
      description: `[${row.name}] ${t.description || t.title || t.remote_name}`,
      parameters: t.input_schema,
      plugin_id: row.plugin_id,
      plugin_name: row.name,
      category: row.category,
    }));
  }
  return (JSON.parse(row.operations) as PluginOperation[]).map((op) => ({
    ref: pluginToolRef(row.plugin_id, op.name),
    type: 'plugin' as const,
    name: `${row.slug}__${op.name}`.slice(0, 64),
    description: `[${row.name}] ${op.description}`,
    parameters: op.parameters,
    plugin_id: row.plugin_id,
    plugin_name: row.name,
    category: row.category,
  }));
}

/** Every tool of the user's enabled plugins, both kinds. */
export async function enabledPluginTools(env: Env, userId: string): Promise<PluginTool[]> {
  const { results } = await env.DB.prepare(`${INSTALLED} ORDER BY i.created_at, p.id`).bind(userId).all<InstalledRow>();
  return results.flatMap(toolsOf);
}

/** The specs (for the model) of the plugin refs among `refs` that the user can use; unknown ones are left out. */
export async function pluginToolSpecs(env: Env, userId: string, refs: string[]): Promise<Array<{ ref: string; spec: ToolSpec }>> {
  const wanted = new Set(refs.filter(isPluginRef));
  if (!wanted.size) return [];
  return (await enabledPluginTools(env, userId)).filter((t) => wanted.has(t.ref)).map((t) => ({ ref: t.ref, spec: { name: t.name, description: t.description, parameters: t.parameters } }));
}

/** A plugin tool ready to run for the caller, or null when the ref names nothing they have enabled. */
export async function resolvePluginTool(ctx: ToolContext, ref: string) {
  const m = PLUGIN_REF.exec(ref);
  if (!m) return null;
  const row = await ctx.env.DB.prepare(`${INSTALLED} AND p.kind = 'openapi' AND p.id = ?`).bind(ctx.userId, m[1].toLowerCase()).first<InstalledRow>();
  if (!row) return null;
  const op = (JSON.parse(row.operations) as PluginOperation[]).find((o) => o.name === m[2]);
  if (!op) return null;
  const tool = toolsOf(row).find((t) => t.ref === pluginToolRef(row.plugin_id, op.name))!;
  return {
    id: tool.ref,
    name: tool.name,
    type: 'plugin' as const,
    parameters: op.parameters,
    run: async (args: Record<string, unknown>) => {
      // The installer's own credentials, decrypted only for the call.
      const settings = await installerSettings(ctx.env, row.settings_encrypted);
      return { output: await runOperation(ctx, row.base_url, JSON.parse(row.auth) as PluginAuth, settings, op, args) };
    },
  };
}

async function installerSettings(env: Env, encrypted: string | null): Promise<Record<string, string>> {
  return encrypted ? (JSON.parse(await decryptSecret(encrypted, await getSecret(env, 'ENCRYPTION_KEY'))) as Record<string, string>) : {};
}

/**
 * `mcp_<slug>_<tool>` → the tool of the user's installed, enabled MCP plugin with that slug, from
 * the cached tool list; null when unknown. Calls carry the installer's own headers.
 */
export async function resolveMcpPluginTool(env: Env, userId: string, name: string): Promise<DynamicTool | null> {
  const slug = mcpSlugOfTool(name);
  if (!slug) return null;
  const row = await env.DB.prepare(`${INSTALLED} AND p.kind = 'mcp' AND p.slug = ? ORDER BY i.created_at LIMIT 1`).bind(userId, slug).first<InstalledRow>();
  if (!row) return null;
  const tool = (JSON.parse(row.operations) as McpToolDef[]).find((t) => t.name === name);
  if (!tool) return null;
  return {
    name: tool.name,
    description: tool.description || tool.title || tool.remote_name,
    parameters: tool.input_schema,
    type: 'mcp',
    execute: async (args, ctx) =>
      withMcpSession(env, { url: row.base_url, headers: await installerSettings(env, row.settings_encrypted) }, (s) => callRemoteTool(s, tool.remote_name, args), ctx.signal),
  };
}
