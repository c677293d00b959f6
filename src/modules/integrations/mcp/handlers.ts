import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import { JSONRPC, checkProtocolHeader, handleMcpPost } from './service';

export const endpoint: RouteHandler<typeof routes.endpoint, AppEnv> = async (c) => {
  const version = c.req.header('mcp-protocol-version');
  if (!checkProtocolHeader(version)) {
    return c.json({ jsonrpc: '2.0' as const, id: null, error: { code: JSONRPC.INVALID_REQUEST, message: `Unsupported MCP-Protocol-Version: ${version}` } }, 400);
  }
  const { status, body } = await handleMcpPost(c.env, c.get('user'), await c.req.text(), c.req.raw.signal);
  if (status === 202) return c.body(null, 202);
  return c.json(body as never, status);
};
