import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../../lib/context';
import { authenticate } from '../../identity/auth/guard';
import { bearerToken } from '../../../lib/auth';
import { forbidden, unauthorized } from '../../../lib/errors';

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

/** `scheme://host[:port]` as browsers send it (lowercase, default port dropped); unparsable values stay as given. */
function normalizeOrigin(value: string): string {
  try {
    return new URL(value).origin;
  } catch {
    return value;
  }
}

/**
 * DNS rebinding protection (MCP transport, 2025-11-25): a request carrying an `Origin` that is not
 * one of MCP_ALLOWED_ORIGINS is 403 before anything else. Requests without one (MCP clients outside
 * a browser) pass. The request's own host proves nothing here — under DNS rebinding the page's
 * origin and the Host header name the attacker's domain alike — so only the configured list counts.
 */
export const checkOrigin = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header('Origin');
  if (origin !== undefined) {
    const allowed = (c.env.MCP_ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean)
      .map(normalizeOrigin);
    if (!allowed.includes(normalizeOrigin(origin))) {
      throw forbidden(`Origin ${origin} may not use the MCP server (allowed origins are set with MCP_ALLOWED_ORIGINS)`);
    }
  }
  await next();
});
