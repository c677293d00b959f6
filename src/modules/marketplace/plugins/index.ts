import { MCP_TOOL_PREFIX } from '../../../engine/plugins/mcp';
import { provideInstalledPlugins, resolveMcpPluginTool } from '../../../engine/plugins/tools';
import { registerToolProvider } from '../../../engine/tools/registry';
import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';
import { enabledInstalledPlugins, enabledMcpPluginWithSlug, enabledOpenApiPlugin } from './store';

// MCP plugins' tools `mcp_<slug>_<tool>` reach invokeTool (tools API, workflow tool nodes) and
// agents' include_tools through the registry's provider seam.
// The engine's plugin tools read installations through this store.
provideInstalledPlugins({ enabled: enabledInstalledPlugins, openapi: enabledOpenApiPlugin, mcpBySlug: enabledMcpPluginWithSlug });
registerToolProvider({ prefix: MCP_TOOL_PREFIX, resolve: (ctx, name) => resolveMcpPluginTool(ctx.env, ctx.userId, name) });

export const pluginsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.market, handlers.market)
  .openapi(routes.get, handlers.get)
  .openapi(routes.update, handlers.update)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.install, handlers.install)
  .openapi(routes.uninstall, handlers.uninstall)
  .openapi(routes.enable, handlers.enable)
  .openapi(routes.disable, handlers.disable);
