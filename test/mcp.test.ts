import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BASE, api, createUser, expectError } from './helpers';
import { createAgent, createApiKey, workerFetch } from './protocol-helpers';

type User = Awaited<ReturnType<typeof createUser>>;
let owner: User;
let other: User;
let key: string;
const clients: Client[] = [];

beforeAll(async () => {
  await createUser('admin');
  owner = await createUser('owner');
  other = await createUser('other');
  key = await createApiKey(owner.token);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** The official SDK client over streamable HTTP, its requests delivered to the worker under test. */
async function connect(apiKey = key) {
  const transport = new StreamableHTTPClientTransport(new URL(`${BASE}/api/v1/mcp`), {
    fetch: workerFetch,
    requestInit: { headers: { Authorization: `Bearer ${apiKey}` } },
  });
  const client = new Client({ name: 'tiangong-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const rpc = (json: unknown, headers: Record<string, string> = {}) =>
  api('/api/v1/mcp', { token: key, json, headers: { Accept: 'application/json, text/event-stream', ...headers } });

describe('MCP server with the official SDK client', () => {
  it('initializes and lists the caller’s deployed agents as tools', async () => {
    const mine = await createAgent(owner.token, { name: 'Researcher', description: 'Finds things' });
    const draft = await createAgent(owner.token, { name: 'Draft' }, false);
    const foreign = await createAgent(other.token, { name: 'Foreign' });
    const client = await connect();
    expect(client.getServerVersion()).toMatchObject({ name: 'tiangong' });
    expect(client.getServerCapabilities()?.tools).toBeDefined();
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    const toolName = `agent_${mine.id.replace(/-/g, '')}`;
    expect(names).toContain(toolName);
    expect(names).not.toContain(`agent_${draft.id.replace(/-/g, '')}`);
    expect(names).not.toContain(`agent_${foreign.id.replace(/-/g, '')}`);
    const tool = tools.find((t) => t.name === toolName)!;
    expect(tool.title).toBe('Researcher');
    expect(tool.description).toContain('Finds things');
    expect(tool.inputSchema).toMatchObject({ type: 'object', required: ['message'] });
  });

  it('calls an agent as a tool', async () => {
    const agent = await createAgent(owner.token);
    const client = await connect();
    const result = await client.callTool({ name: `agent_${agent.id.replace(/-/g, '')}`, arguments: { message: 'what is up' } });
    expect(result.isError).toBe(false);
    expect(result.content).toEqual([{ type: 'text', text: 'echo: what is up' }]);
    expect(result.structuredContent).toMatchObject({ reply: 'echo: what is up', iterations: 1 });
  });

  it('reports a failing agent as a tool error, and unknown or foreign tools as protocol errors', async () => {
    const agent = await createAgent(owner.token);
    const foreign = await createAgent(other.token);
    const client = await connect();
    const failed = await client.callTool({ name: `agent_${agent.id.replace(/-/g, '')}`, arguments: { message: '/error' } });
    expect(failed.isError).toBe(true);
    expect((failed.content as Array<{ text: string }>)[0].text).toMatch(/^LLM_ERROR/);
    for (const name of ['agent_nope', `agent_${foreign.id.replace(/-/g, '')}`]) {
      await expect(client.callTool({ name, arguments: { message: 'x' } })).rejects.toThrow(/Unknown tool/);
    }
    await expect(client.callTool({ name: `agent_${agent.id.replace(/-/g, '')}`, arguments: {} })).rejects.toThrow(/arguments.message/);
  });

  it('requires an API key: a JWT, a bad key or none is 401', async () => {
    expectError(await api('/api/v1/mcp', { json: { jsonrpc: '2.0', id: 1, method: 'ping' } }), 401, 'UNAUTHORIZED');
    const viaJwt = await api('/api/v1/mcp', { token: owner.token, json: { jsonrpc: '2.0', id: 1, method: 'ping' } });
    expectError(viaJwt, 401, 'UNAUTHORIZED');
    expect(viaJwt.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expect(connect('tg_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).rejects.toThrow();
  });
});

describe('MCP JSON-RPC details', () => {
  it('negotiates the protocol version', async () => {
    const known = await rpc({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    expect(known.body).toMatchObject({ jsonrpc: '2.0', id: 1, result: { protocolVersion: '2025-03-26' } });
    const unknown = await rpc({ jsonrpc: '2.0', id: 'a', method: 'initialize', params: { protocolVersion: '1999-01-01', capabilities: {} } });
    expect(unknown.body.result.protocolVersion).toBe('2025-11-25');
    expect(unknown.headers.get('mcp-session-id')).toBeNull();
  });

  it('answers batches, skips notifications, and uses the spec’s error codes', async () => {
    const res = await rpc([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'resources/list' },
      { jsonrpc: '1.0', id: 3, method: 'ping' },
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: [] },
      42,
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 2, error: { code: -32601, message: 'Method not found: resources/list' } },
      { jsonrpc: '2.0', id: 3, error: { code: -32600, message: expect.any(String) } },
      { jsonrpc: '2.0', id: 4, error: { code: -32602, message: expect.any(String) } },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.any(String) } },
    ]);
  });

  it('202 with no body for notifications only; 400 for a parse error, an empty batch or an unknown protocol version', async () => {
    const note = await rpc({ jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(note.status).toBe(202);
    expect(note.text).toBe('');
    const batchOfNotes = await rpc([{ jsonrpc: '2.0', method: 'notifications/initialized' }, { jsonrpc: '2.0', id: 9, result: {} }]);
    expect(batchOfNotes.status).toBe(202);

    const parse = await api('/api/v1/mcp', { token: key, body: '{"jsonrpc": "2.0", "id": 1,', headers: { 'Content-Type': 'application/json' } });
    expect(parse.status).toBe(400);
    expect(parse.body).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.any(String) } });
    const empty = await rpc([]);
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe(-32600);
    const version = await rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }, { 'MCP-Protocol-Version': '2000-01-01' });
    expect(version.status).toBe(400);
    expect(version.body.error.code).toBe(-32600);
  });

  it('GET and DELETE are 405 (stateless server: no server-initiated stream, no session)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await api('/api/v1/mcp', { token: key, method, headers: { Accept: 'text/event-stream' } });
      expectError(res, 405, 'METHOD_NOT_ALLOWED');
      expect(res.headers.get('allow')).toContain('POST');
    }
  });

  it('is in the OpenAPI document', async () => {
    const doc = await api('/openapi.json');
    expect(doc.body.paths['/api/v1/mcp'].post).toBeDefined();
  });
});
