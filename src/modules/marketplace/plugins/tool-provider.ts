import { MCP_TOOL_PREFIX } from '../../../engine/plugins/mcp';
import { provideInstalledPlugins, resolveMcpPluginTool } from '../../../engine/plugins/tools';
import { registerToolProvider } from '../../../engine/tools/registry';
import { enabledInstalledPlugins, enabledMcpPluginWithSlug, enabledOpenApiPlugin } from './store';

// MCP plugins' tools `mcp_<slug>_<tool>` reach invokeTool (tools API, workflow tool nodes) and
// agents' include_tools through the registry's provider seam.
// The engine's plugin tools read installations through this store.
provideInstalledPlugins({ enabled: enabledInstalledPlugins, openapi: enabledOpenApiPlugin, mcpBySlug: enabledMcpPluginWithSlug });
registerToolProvider({ prefix: MCP_TOOL_PREFIX, resolve: (ctx, name) => resolveMcpPluginTool(ctx.env, ctx.userId, name) });
