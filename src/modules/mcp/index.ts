import { createRouter } from '../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/**
 * `/api/v1/mcp`: the MCP server endpoint (POST; GET and DELETE answer 405, stateless transport)
 * and `/servers`, the remote MCP servers whose tools the caller's agents and workflows use.
 * Importing the module registers the `mcp_` tool provider (servers.ts).
 */
export const mcpRouter = createRouter()
  .openapi(routes.endpoint, handlers.endpoint)
  .openapi(routes.listServers, handlers.listServers)
  .openapi(routes.createServer, handlers.createServer)
  .openapi(routes.getServer, handlers.getServer)
  .openapi(routes.refreshServer, handlers.refreshServer)
  .openapi(routes.deleteServer, handlers.deleteServer);
