import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../../lib/context';
import { authenticate } from '../../identity/auth/guard';
import { bearerToken } from '../../../lib/auth';
import { unauthorized } from '../../../lib/errors';

/**
 * MCP clients are configured once and run unattended, so the MCP server takes API keys only:
 * a short-lived access token pasted into a client config would stop working within the hour.
 */
export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const user = await authenticate(c.env, bearerToken(c.req.header('Authorization')));
  if (!user || user.auth_method !== 'api_key') {
    c.header('WWW-Authenticate', 'Bearer realm="tiangong-mcp"');
    throw unauthorized('The MCP server requires an API key (Authorization: Bearer tg_…); create one at /api/v1/api-keys');
  }
  c.set('user', user);
  await next();
});
