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

/** A plugin the user installed and enabled, with their installation's (encrypted) settings. */
export interface InstalledPlugin {
  pluginId: string;
  kind: 'openapi' | 'mcp';
  name: string;
  slug: string;
  category: string;
  baseUrl: string;
  auth: string;
  operations: string;
  settingsEncrypted: string | null;
}

/**
 * Where installed plugins are read from: the plugins module's store, supplied at import by the
 * plugins module (src/modules/marketplace/plugins/index.ts) — the engine touches no table.
 */
export interface InstalledPlugins {
  /** Every enabled installation of the user, in installation order. */
  enabled(d1: D1Database, userId: string): Promise<InstalledPlugin[]>;
  /** The user's enabled OpenAPI plugin with this id. */
  openapi(d1: D1Database, userId: string, pluginId: string): Promise<InstalledPlugin | null>;
  /** The user's (first installed) enabled MCP plugin with this slug. */
  mcpBySlug(d1: D1Database, userId: string, slug: string): Promise<InstalledPlugin | null>;
}

let source: InstalledPlugins | null = null;

export function provideInstalledPlugins(s: InstalledPlugins): void {
  source = s;
}

function installed(): InstalledPlugins {
  if (!source) throw new Error('No installed-plugins source: the plugins module provides it at import');
  return source;
}

function toolsOf(row: InstalledPlugin): PluginTool[] {
  if (row.kind === 'mcp') {
    return (JSON.parse(row.operations) as McpToolDef[]).map((t) => ({
      ref: t.name,
      type: 'mcp' as const,
      name: t.name,
      description: `[${row.name}] ${t.description || t.title || t.remote_name}`,
      parameters: t.input_schema,
      plugin_id: row.pluginId,
      plugin_name: row.name,
      category: row.category,
    }));
  }
  return (JSON.parse(row.operations) as PluginOperation[]).map((op) => ({
    ref: pluginToolRef(row.pluginId, op.name),
    type: 'plugin' as const,
    name: `${row.slug}__${op.name}`.slice(0, 64),
    description: `[${row.name}] ${op.description}`,
    parameters: op.parameters,
    plugin_id: row.pluginId,
    plugin_name: row.name,
    category: row.category,
  }));
}

/** Every tool of the user's enabled plugins, both kinds. */
export async function enabledPluginTools(env: Env, userId: string): Promise<PluginTool[]> {
  return (await installed().enabled(env.DB, userId)).flatMap(toolsOf);
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
  const row = await installed().openapi(ctx.env.DB, ctx.userId, m[1].toLowerCase());
  if (!row) return null;
  const op = (JSON.parse(row.operations) as PluginOperation[]).find((o) => o.name === m[2]);
  if (!op) return null;
  const tool = toolsOf(row).find((t) => t.ref === pluginToolRef(row.pluginId, op.name))!;
  return {
    id: tool.ref,
    name: tool.name,
    type: 'plugin' as const,
    parameters: op.parameters,
    run: async (args: Record<string, unknown>) => {
      // The installer's own credentials, decrypted only for the call.
      const settings = await installerSettings(ctx.env, row.settingsEncrypted);
      return { output: await runOperation(ctx, row.baseUrl, JSON.parse(row.auth) as PluginAuth, settings, op, args) };
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
  const row = await installed().mcpBySlug(env.DB, userId, slug);
  if (!row) return null;
  const tool = (JSON.parse(row.operations) as McpToolDef[]).find((t) => t.name === name);
  if (!tool) return null;
  return {
    name: tool.name,
    description: tool.description || tool.title || tool.remote_name,
    parameters: tool.input_schema,
    type: 'mcp',
    execute: async (args, ctx) =>
      withMcpSession(env, { url: row.baseUrl, headers: await installerSettings(env, row.settingsEncrypted) }, (s) => callRemoteTool(s, tool.remote_name, args), ctx.signal),
  };
}
