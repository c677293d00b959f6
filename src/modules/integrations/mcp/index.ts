import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/**
 * `/api/v1/mcp`: the MCP server endpoint (POST; GET and DELETE answer 405, stateless transport).
 * The MCP client side — remote MCP servers whose tools become the caller's — is the plugins
 * module's `mcp` kind.
 */
export const mcpRouter = createRouter().openapi(routes.endpoint, handlers.endpoint);
