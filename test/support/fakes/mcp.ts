import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import type { FakeHandler } from './server';

/**
 * Remote MCP servers built with the official SDK, for the platform's MCP client:
 * - `/mcp/tools`: stateful (session ids), answers over SSE — the transport's full form;
 * - `/mcp/secure`: stateless, JSON answers, and only with `Authorization: Bearer fake-mcp-secret`.
 */

export const FAKE_MCP_SECRET = 'fake-mcp-secret';

function buildServer() {
  const server = new McpServer({ name: 'fake-mcp', version: '0.1.0' });
  server.registerTool('add', { title: 'Add', description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }));
  server.registerTool('shout', { description: 'Upper-cases text', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text: text.toUpperCase() }],
    structuredContent: { shouted: text.toUpperCase(), length: text.length },
  }));
  server.registerTool('files.read', { description: 'A name with a dot', inputSchema: { path: z.string() } }, async ({ path }) => ({
    content: [{ type: 'text', text: `contents of ${path}` }],
  }));
  server.registerTool('fail', { description: 'Always fails', inputSchema: {} }, async () => ({
    content: [{ type: 'text', text: 'the disk is on fire' }],
    isError: true,
  }));
  return server;
}

const sessions = new Map<string, StreamableHTTPServerTransport>();
/** Session ids the platform ended with DELETE (tests check it closes what it opens). */
export const closedSessions = new Set<string>();

export const mcpFake: FakeHandler = async (req, res, body, url) => {
  const path = url.pathname.slice('/mcp'.length);
  const parsed = body.length ? JSON.parse(body.toString('utf8')) : undefined;

  if (path === '/secure') {
    if (req.headers.authorization !== `Bearer ${FAKE_MCP_SECRET}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    const server = buildServer();
    res.on('close', () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    await transport.handleRequest(req, res, parsed);
    return;
  }

  if (path === '/tools') {
    const sid = req.headers['mcp-session-id'];
    let transport = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (!transport) {
      if (typeof sid === 'string') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}');
        return;
      }
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, created),
      });
      created.onclose = () => {
        if (created.sessionId) {
          sessions.delete(created.sessionId);
          closedSessions.add(created.sessionId);
        }
      };
      await buildServer().connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, parsed);
    return;
  }

  if (path === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ open_sessions: sessions.size, closed_sessions: closedSessions.size }));
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such fake MCP server"}');
};
