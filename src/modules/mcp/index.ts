import { createRouter } from '../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** `/api/v1/mcp`: the MCP server endpoint. GET and DELETE answer 405 (stateless transport). */
export const mcpRouter = createRouter().openapi(routes.endpoint, handlers.endpoint);
