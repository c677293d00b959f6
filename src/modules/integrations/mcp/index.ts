import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';
import { checkOrigin } from './auth';

/**
 * `/api/v1/mcp`: the MCP server endpoint (POST; GET and DELETE answer 405, stateless transport).
 * The MCP client side — remote MCP servers whose tools become the caller's — is the plugins
 * module's `mcp` kind. The Origin check covers every method (GET and DELETE included).
 */
const router = createRouter();
router.use('*', checkOrigin);
export const mcpRouter = router.openapi(routes.endpoint, handlers.endpoint);
