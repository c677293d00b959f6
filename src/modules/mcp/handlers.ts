import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import type * as routes from './routes';
import * as servers from './servers';
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

export const listServers: RouteHandler<typeof routes.listServers, AppEnv> = async (c) =>
  c.json(await servers.listServers(c.env, c.get('user').id, c.req.valid('query')), 200);

export const createServer: RouteHandler<typeof routes.createServer, AppEnv> = async (c) =>
  c.json(await servers.createServer(c.env, c.get('user').id, c.req.valid('json')), 201);

export const getServer: RouteHandler<typeof routes.getServer, AppEnv> = async (c) =>
  c.json(await servers.getServer(c.env, c.get('user').id, c.req.valid('param').server_id), 200);

export const refreshServer: RouteHandler<typeof routes.refreshServer, AppEnv> = async (c) =>
  c.json(await servers.refreshServer(c.env, c.get('user').id, c.req.valid('param').server_id), 200);

export const deleteServer: RouteHandler<typeof routes.deleteServer, AppEnv> = async (c) => {
  await servers.deleteServer(c.env, c.get('user').id, c.req.valid('param').server_id);
  return c.body(null, 204);
};
