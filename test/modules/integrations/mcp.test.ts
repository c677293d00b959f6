import { env } from 'cloudflare:workers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BASE, api, createUser, expectError } from '../../support/helpers';
import { createAgent, createApiKey, workerFetch } from '../../support/protocol-helpers';
import { chain, createWorkflow } from '../../support/wf-helpers';

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

  it('an agent called as a tool reaches the platform tools (run_agent)', async () => {
    const helper = await createAgent(owner.token, { name: 'Helper' });
    const agent = await createAgent(owner.token, { include_tools: ['run_agent'] });
    const client = await connect();
    const result = await client.callTool({ name: `agent_${agent.id.replace(/-/g, '')}`, arguments: { message: `/tool run_agent ${JSON.stringify({ agent_id: helper.id, message: 'via mcp' })}` } });
    expect(result.isError).toBe(false);
    expect((result.structuredContent as { reply: string }).reply).toMatch(/^tool run_agent returned: \{.*"reply":"echo: via mcp"/);
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
    // Arguments that miss the input schema are a tool execution error the model can correct (MCP 2025-11-25).
    const bad = await client.callTool({ name: `agent_${agent.id.replace(/-/g, '')}`, arguments: {} });
    expect(bad.isError).toBe(true);
    expect((bad.content as Array<{ text: string }>)[0].text).toContain('arguments.message');
  });

  const INPUTS = [
    { name: 'city', type: 'string', required: true, description: 'Where' },
    { name: 'days', type: 'number', default: 3 },
  ];
  const greeter = () => chain([{ id: 't', type: 'template', config: { template: '{{inputs.city}} for {{inputs.days}} days' } }], { plan: '{{t.text}}', city: '{{inputs.city}}' });

  it('lists the caller’s active workflows with their input schema, not drafts or other users’', async () => {
    const active = await createWorkflow(owner.token, greeter(), { name: 'Trip planner', description: 'Plans trips', inputs_schema: INPUTS, status: 'active' });
    const draft = await createWorkflow(owner.token, greeter(), { name: 'Draft', inputs_schema: INPUTS });
    const foreign = await createWorkflow(other.token, greeter(), { name: 'Foreign', inputs_schema: INPUTS, status: 'active' });
    const { tools } = await (await connect()).listTools();
    const names = tools.map((t) => t.name);
    const name = `workflow_${active.id.replace(/-/g, '')}`;
    expect(names).toContain(name);
    expect(names).not.toContain(`workflow_${draft.id.replace(/-/g, '')}`);
    expect(names).not.toContain(`workflow_${foreign.id.replace(/-/g, '')}`);
    const tool = tools.find((t) => t.name === name)!;
    expect(tool.title).toBe('Trip planner');
    expect(tool.description).toContain('Plans trips');
    expect(tool.inputSchema).toEqual({
      type: 'object',
      properties: { city: { type: 'string', description: 'Where' }, days: { type: 'number', default: 3 } },
      required: ['city'],
    });
  });

  it('runs a workflow as a tool: outputs as structured content; bad arguments, failures, drafts and foreign workflows', async () => {
    const wf = await createWorkflow(owner.token, greeter(), { name: 'Trip planner', inputs_schema: INPUTS, status: 'active' });
    const name = `workflow_${wf.id.replace(/-/g, '')}`;
    const client = await connect();
    const ok = await client.callTool({ name, arguments: { city: 'Paris' } });
    expect(ok.isError).toBe(false);
    expect(ok.structuredContent).toEqual({ plan: 'Paris for 3 days', city: 'Paris' });
    expect(JSON.parse((ok.content as Array<{ text: string }>)[0].text)).toEqual({ plan: 'Paris for 3 days', city: 'Paris' });
    const row = await env.DB.prepare("SELECT status, trigger, inputs FROM executions WHERE workflow_id = ? AND trigger = 'mcp'").bind(wf.id).first();
    expect(row).toMatchObject({ status: 'succeeded', trigger: 'mcp' });
    expect(JSON.parse(row!.inputs as string)).toEqual({ city: 'Paris', days: 3 });

    // Arguments that miss the schema: a tool execution error naming the field, and no run.
    for (const args of [{}, { city: 'Paris', days: 'three' }]) {
      const bad = await client.callTool({ name, arguments: args });
      expect(bad.isError).toBe(true);
      expect((bad.content as Array<{ text: string }>)[0].text).toMatch(/^Input validation error: arguments\.(city|days)/);
    }
    expect(await env.DB.prepare('SELECT count(*) AS n FROM executions WHERE workflow_id = ?').bind(wf.id).first('n')).toBe(1);
    // Arguments that are not an object are a malformed request.
    const malformed = await rpc({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: [1] } });
    expect(malformed.body.error.code).toBe(-32602);

    // A run that fails is a tool result flagged isError, with the execution id to look it up.
    const failing = await createWorkflow(owner.token, chain([{ id: 'l', type: 'llm', config: { prompt: '/error' } }]), { status: 'active' });
    const failed = await client.callTool({ name: `workflow_${failing.id.replace(/-/g, '')}`, arguments: {} });
    expect(failed.isError).toBe(true);
    const exec = await env.DB.prepare('SELECT id FROM executions WHERE workflow_id = ?').bind(failing.id).first<{ id: string }>();
    expect((failed.content as Array<{ text: string }>)[0].text).toContain(exec!.id);
    expect(failed.structuredContent).toMatchObject({ execution_id: exec!.id, status: 'failed', error: { code: 'LLM_ERROR' } });

    // Drafts and other users' workflows are unknown tools (a protocol error), and nothing runs.
    const draft = await createWorkflow(owner.token, greeter(), { inputs_schema: INPUTS });
    const foreign = await createWorkflow(other.token, greeter(), { inputs_schema: INPUTS, status: 'active' });
    for (const id of [draft.id, foreign.id]) {
      await expect(client.callTool({ name: `workflow_${id.replace(/-/g, '')}`, arguments: { city: 'Rome' } })).rejects.toThrow(/Unknown tool/);
    }
    const ran = await env.DB.prepare('SELECT count(*) AS n FROM executions WHERE workflow_id IN (?, ?)').bind(draft.id, foreign.id).first('n');
    expect(ran).toBe(0);
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
      { jsonrpc: '2.0', id: 2, method: 'resources/subscribe', params: { uri: 'tiangong://x' } },
      { jsonrpc: '1.0', id: 3, method: 'ping' },
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: [] },
      42,
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 2, error: { code: -32601, message: 'Method not found: resources/subscribe' } },
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

describe('MCP Origin check (DNS rebinding protection)', () => {
  const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };

  it('refuses an Origin that is not configured with 403, before authentication and for every method', async () => {
    for (const origin of ['http://evil.example.com', 'null', 'https://inspector.example.com.evil.example.com']) {
      const res = await rpc(ping, { Origin: origin });
      expect(expectError(res, 403, 'FORBIDDEN').message).toContain(origin);
    }
    expectError(await api('/api/v1/mcp', { json: ping, headers: { Origin: 'http://evil.example.com' } }), 403, 'FORBIDDEN');
    const get = await api('/api/v1/mcp', { token: key, method: 'GET', headers: { Origin: 'http://evil.example.com', Accept: 'text/event-stream' } });
    expectError(get, 403, 'FORBIDDEN');
  });

  it('serves a configured Origin (compared as an origin) and requests without one', async () => {
    for (const origin of ['https://inspector.example.com', 'HTTPS://Inspector.Example.com:443']) {
      const res = await rpc(ping, { Origin: origin });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
    }
    const none = await rpc(ping);
    expect(none.status).toBe(200);
    expect(none.body.result).toEqual({});
    // Authentication still applies to an allowed origin.
    expectError(await api('/api/v1/mcp', { json: ping, headers: { Origin: 'https://inspector.example.com' } }), 401, 'UNAUTHORIZED');
  });
});

describe('MCP resources, prompts and logging', () => {
  const KB = '/api/v1/knowledge-bases';
  const uriOf = (kbId: string, docId: string) => `tiangong://knowledge-bases/${kbId}/documents/${docId}`;

  async function createKb(token: string, name: string) {
    const res = await api(KB, { token, json: { name } });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string };
  }
  async function addDoc(token: string, kbId: string, json: Record<string, unknown>) {
    const res = await api(`${KB}/${kbId}/documents`, { token, json });
    expect(res.status, res.text).toBe(202);
    return res.body as { id: string };
  }
  async function uploadFile(token: string, bytes: Uint8Array | string, name: string, type: string) {
    const form = new FormData();
    form.append('file', new File([bytes], name, { type }));
    const res = await api('/api/v1/uploads', { token, method: 'POST', body: form });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string };
  }

  it('declares resources, prompts and logging in initialize', async () => {
    const client = await connect();
    expect(client.getServerCapabilities()).toEqual({
      tools: { listChanged: false },
      resources: { subscribe: false, listChanged: false },
      prompts: { listChanged: false },
      logging: {},
    });
  });

  it('lists and reads the documents of knowledge bases the key’s owner may read; another user’s is not found', async () => {
    const kb = await createKb(owner.token, 'Handbook');
    const refunds = await addDoc(owner.token, kb.id, { title: 'Refunds', content: '# Refunds\nWithin 30 days.', content_type: 'markdown' });
    const shared = await createKb(other.token, 'Shared with owner');
    const sharedDoc = await addDoc(other.token, shared.id, { title: 'Shared doc', content: 'shared text' });
    const grant = await api('/api/v1/permissions/grants', { token: other.token, json: { resource_type: 'knowledge_base', resource_id: shared.id, user_id: owner.id, level: 'read' } });
    expect(grant.status, grant.text).toBe(201);
    const secret = await createKb(other.token, 'Private');
    const secretDoc = await addDoc(other.token, secret.id, { title: 'Secret', content: 'do not read' });

    const client = await connect();
    const { resources, nextCursor } = await client.listResources();
    expect(nextCursor).toBeUndefined();
    const uris = resources.map((r) => r.uri);
    expect(uris).toContain(uriOf(shared.id, sharedDoc.id));
    expect(uris).not.toContain(uriOf(secret.id, secretDoc.id));
    expect(resources.find((r) => r.uri === uriOf(kb.id, refunds.id))).toEqual({
      uri: uriOf(kb.id, refunds.id),
      name: 'Refunds',
      title: 'Refunds',
      description: expect.stringContaining('"Handbook"'),
      mimeType: 'text/markdown',
      size: new TextEncoder().encode('# Refunds\nWithin 30 days.').byteLength,
    });

    expect(await client.readResource({ uri: uriOf(kb.id, refunds.id) })).toEqual({
      contents: [{ uri: uriOf(kb.id, refunds.id), mimeType: 'text/markdown', text: '# Refunds\nWithin 30 days.' }],
    });
    expect((await client.readResource({ uri: uriOf(shared.id, sharedDoc.id) })).contents[0]).toMatchObject({ text: 'shared text' });

    // Another user's document, a document under the wrong base, and URIs that are not ours: -32002 with the URI.
    for (const uri of [uriOf(secret.id, secretDoc.id), uriOf(kb.id, secretDoc.id), 'file:///etc/passwd', `${uriOf(kb.id, refunds.id)}/x`]) {
      const res = await rpc({ jsonrpc: '2.0', id: 5, method: 'resources/read', params: { uri } });
      expect(res.body.error).toEqual({ code: -32002, message: `Resource not found: ${uri}`, data: { uri } });
    }
    const badParams = await rpc({ jsonrpc: '2.0', id: 6, method: 'resources/read', params: { uri: 42 } });
    expect(badParams.body.error.code).toBe(-32602);
  });

  it('reads uploaded documents: text types as text, others as a base64 blob', async () => {
    const kb = await createKb(owner.token, 'Uploads');
    const csv = await uploadFile(owner.token, 'a,b\n1,2\n', 'table.csv', 'text/csv');
    const csvDoc = await addDoc(owner.token, kb.id, { upload_id: csv.id });
    const pdfBytes = new TextEncoder().encode('%PDF-1.4\n%\xff\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
    const pdf = await uploadFile(owner.token, pdfBytes, 'file.pdf', 'application/pdf');
    const pdfDoc = await addDoc(owner.token, kb.id, { upload_id: pdf.id });
    const client = await connect();
    const text = (await client.readResource({ uri: uriOf(kb.id, csvDoc.id) })).contents[0];
    expect(text).toEqual({ uri: uriOf(kb.id, csvDoc.id), mimeType: 'text/csv', text: 'a,b\n1,2\n' });
    const blob = (await client.readResource({ uri: uriOf(kb.id, pdfDoc.id) })).contents[0] as { blob: string; mimeType: string };
    expect(blob.mimeType).toBe('application/pdf');
    expect(Uint8Array.from(atob(blob.blob), (c) => c.charCodeAt(0))).toEqual(pdfBytes);
  });

  it('pages resources/list with an opaque cursor and refuses a forged one', async () => {
    const pager = await createUser('pager');
    const pagerKey = await createApiKey(pager.token);
    const kb = await createKb(pager.token, 'Many');
    const ids: string[] = [];
    for (let i = 0; i < 55; i++) {
      const id = crypto.randomUUID();
      ids.push(id);
      // Rows straight into D1: the listing is what is tested, not ingestion. Equal timestamps test the id tie-break.
      await env.DB.prepare("INSERT INTO kb_documents (id, kb_id, title, content_type, source, content, size, created_at) VALUES (?, ?, ?, 'text/plain', 'text', 'x', 1, ?)")
        .bind(id, kb.id, `doc ${i}`, `2026-01-01T00:00:${String(i % 20).padStart(2, '0')}.000Z`)
        .run();
    }
    const client = await connect(pagerKey);
    const first = await client.listResources();
    expect(first.resources).toHaveLength(50);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await client.listResources({ cursor: first.nextCursor });
    expect(second.resources).toHaveLength(5);
    expect(second.nextCursor).toBeUndefined();
    const seen = [...first.resources, ...second.resources].map((r) => r.uri);
    expect(new Set(seen).size).toBe(55);
    expect(seen.sort()).toEqual(ids.map((id) => uriOf(kb.id, id)).sort());

    for (const cursor of ['not base64!', btoa('{"a":1}'), 7]) {
      const res = await api('/api/v1/mcp', { token: pagerKey, json: { jsonrpc: '2.0', id: 1, method: 'resources/list', params: { cursor } } });
      expect(res.body.error.code).toBe(-32602);
    }
  });

  it('lists the document resource template, and a URI built from it reads the document', async () => {
    const kb = await createKb(owner.token, 'Templated');
    const doc = await addDoc(owner.token, kb.id, { title: 'T', content: 'templated text' });
    const client = await connect();
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates).toEqual([
      expect.objectContaining({ uriTemplate: 'tiangong://knowledge-bases/{kb_id}/documents/{document_id}', name: 'knowledge-base-document' }),
    ]);
    const uri = resourceTemplates[0].uriTemplate.replace('{kb_id}', kb.id).replace('{document_id}', doc.id);
    expect((await client.readResource({ uri })).contents[0]).toMatchObject({ text: 'templated text', mimeType: 'text/plain' });
  });

  it('lists deployed agents’ system prompts with their {{placeholders}} as arguments and renders them', async () => {
    const agent = await createAgent(owner.token, { name: 'Counsel', description: 'Legal help', system_prompt: 'You are a {{role}} who answers in {{ language }}. Be a good {{role}}.' });
    const plain = await createAgent(owner.token, { name: 'Plain', description: '', system_prompt: 'Be brief.' });
    const draft = await createAgent(owner.token, { name: 'Draft' }, false);
    const foreign = await createAgent(other.token, { name: 'Foreign' });
    const name = (id: string) => `agent_${id.replace(/-/g, '')}`;
    const client = await connect();
    const { prompts } = await client.listPrompts();
    const names = prompts.map((p) => p.name);
    expect(names).not.toContain(name(draft.id));
    expect(names).not.toContain(name(foreign.id));
    expect(prompts.find((p) => p.name === name(agent.id))).toEqual({
      name: name(agent.id),
      title: 'Counsel',
      description: 'Legal help',
      arguments: [
        { name: 'role', description: expect.any(String), required: true },
        { name: 'language', description: expect.any(String), required: true },
        { name: 'message', description: expect.any(String), required: false },
      ],
    });
    expect(prompts.find((p) => p.name === name(plain.id))).toMatchObject({ description: 'The system prompt of the agent "Plain"', arguments: [{ name: 'message', required: false }] });

    const got = await client.getPrompt({ name: name(agent.id), arguments: { role: 'lawyer', language: 'French', message: 'Can I sue?' } });
    expect(got).toEqual({
      description: 'Legal help',
      messages: [
        { role: 'user', content: { type: 'text', text: 'You are a lawyer who answers in French. Be a good lawyer.' } },
        { role: 'user', content: { type: 'text', text: 'Can I sue?' } },
      ],
    });
    expect((await client.getPrompt({ name: name(plain.id) })).messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Be brief.' } }]);

    const call = (params: Record<string, unknown>) => rpc({ jsonrpc: '2.0', id: 3, method: 'prompts/get', params });
    const missing = await call({ name: name(agent.id), arguments: { role: 'lawyer' } });
    expect(missing.body.error).toEqual({ code: -32602, message: 'Missing required argument(s): language' });
    expect((await call({ name: name(agent.id), arguments: { role: 1, language: 'x' } })).body.error.code).toBe(-32602);
    for (const id of [draft.id, foreign.id]) {
      expect((await call({ name: name(id) })).body.error).toEqual({ code: -32602, message: `Unknown prompt: ${name(id)}` });
    }
  });

  it('accepts logging/setLevel for the protocol’s levels only', async () => {
    const client = await connect();
    expect(await client.setLoggingLevel('warning')).toEqual({});
    const bad = await rpc({ jsonrpc: '2.0', id: 4, method: 'logging/setLevel', params: { level: 'verbose' } });
    expect(bad.body.error.code).toBe(-32602);
  });
});

describe('MCP client: MCP servers as plugins of kind mcp', () => {
  const server = (path: string) => `${env.FAKE_BASE_URL}/mcp/${path}`;
  const P = '/api/v1/plugins';
  const createMcp = (token: string, json: Record<string, unknown>) => api(P, { token, json: { kind: 'mcp', ...json } });

  it('connects a server (sessions, SSE answers), lists its tools as mcp_<slug>_<tool> and runs them through the tools API', async () => {
    const created = await createMcp(owner.token, { name: 'Fake', url: server('tools'), description: 'SDK server', category: 'development', owner_id: other.id });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'mcp',
      name: 'Fake',
      slug: 'fake',
      owner_id: owner.id,
      category: 'development',
      base_url: server('tools'),
      auth: { type: 'headers', headers: [] },
      required_settings: [],
      version: '0.1.0',
      mcp: { server_info: { name: 'fake-mcp' } },
      install_count: 1,
      installation: { enabled: true, settings_fields: [] },
    });
    expect(created.body.mcp.protocol_version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const names = created.body.operations.map((t: { tool_ref: string }) => t.tool_ref).sort();
    expect(names).toEqual(['mcp_fake_add', 'mcp_fake_fail', 'mcp_fake_files_read', 'mcp_fake_shout']);
    const add = created.body.operations.find((t: { tool_ref: string }) => t.tool_ref === 'mcp_fake_add');
    expect(add).toMatchObject({ name: 'add', tool_name: 'mcp_fake_add', title: 'Add', description: 'Adds two numbers', parameters: { type: 'object', required: ['a', 'b'] } });

    const sum = await api('/api/v1/tools/mcp_fake_add/use', { token: owner.token, json: { arguments: { a: 2, b: 40 } } });
    expect(sum.status, sum.text).toBe(200);
    expect(sum.body).toMatchObject({ tool_id: 'mcp_fake_add', output: '42' });
    const shout = await api('/api/v1/tools/mcp_fake_shout/use', { token: owner.token, json: { arguments: { text: 'hi' } } });
    expect(shout.body.output).toEqual({ shouted: 'HI', length: 2 });
    const dotted = await api('/api/v1/tools/mcp_fake_files_read/use', { token: owner.token, json: { arguments: { path: '/etc/motd' } } });
    expect(dotted.body.output).toBe('contents of /etc/motd');
    // Arguments are checked against the server's schema before any call.
    expectError(await api('/api/v1/tools/mcp_fake_add/use', { token: owner.token, json: { arguments: { a: 'two' } } }), 422, 'VALIDATION_ERROR');
    const failed = expectError(await api('/api/v1/tools/mcp_fake_fail/use', { token: owner.token, json: { arguments: {} } }), 502, 'MCP_ERROR');
    expect(failed.message).toContain('the disk is on fire');

    // Every session the client opened was ended with DELETE.
    const stats = await (await fetch(`${env.FAKE_BASE_URL}/mcp/stats`)).json<{ open_sessions: number; closed_sessions: number }>();
    expect(stats.open_sessions).toBe(0);
    expect(stats.closed_sessions).toBeGreaterThanOrEqual(5);

    const usage = await env.DB.prepare("SELECT tool_type, ok FROM tool_usage WHERE tool_name = 'mcp_fake_add' AND user_id = ?").bind(owner.id).all();
    expect(usage.results).toContainEqual({ tool_type: 'mcp', ok: 1 });
  });

  it('GET /tools lists MCP plugin tools (type mcp, apart from type plugin); GET /tools/{name} answers from the cached list', async () => {
    const created = await createMcp(owner.token, { name: 'Listed', url: server('tools'), category: 'search' });
    expect(created.status, created.text).toBe(201);
    const all = await api('/api/v1/tools?page_size=100', { token: owner.token });
    const listed = all.body.items.find((t: { id: string }) => t.id === 'mcp_listed_add');
    expect(listed).toMatchObject({ name: 'mcp_listed_add', type: 'mcp', builtin: false, category: 'search', parameters: { required: ['a', 'b'] }, config: { plugin_id: created.body.id, plugin_name: 'Listed' } });
    expect(listed.description).toContain('Adds two numbers');
    const onlyMcp = await api('/api/v1/tools?type=mcp&page_size=100', { token: owner.token });
    expect(onlyMcp.body.items.every((t: { type: string }) => t.type === 'mcp')).toBe(true);
    expect(onlyMcp.body.items.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining(['mcp_listed_add', 'mcp_listed_shout']));
    expect((await api('/api/v1/tools?type=plugin&page_size=100', { token: owner.token })).body.items.some((t: { type: string }) => t.type === 'mcp')).toBe(false);
    expect((await api('/api/v1/tools?type=mcp&search=upper-cases', { token: owner.token })).body.items.map((t: { id: string }) => t.id)).toContain('mcp_listed_shout');
    expect((await api('/api/v1/tools?type=mcp&category=search', { token: owner.token })).body.items.map((t: { id: string }) => t.id)).toContain('mcp_listed_add');
    // Categories count them too.
    const categories = (await api('/api/v1/tools/categories', { token: owner.token })).body.items as Array<{ category: string; plugin_count: number; count: number; builtin_count: number; custom_count: number }>;
    const search = categories.find((c) => c.category === 'search')!;
    expect(search.plugin_count).toBeGreaterThanOrEqual(onlyMcp.body.items.filter((t: { category: string }) => t.category === 'search').length);
    expect(search.count).toBe(search.builtin_count + search.custom_count + search.plugin_count);

    // The definition comes from D1: it answers even while the server is unreachable.
    const before = (await (await fetch(`${env.FAKE_BASE_URL}/mcp/stats`)).json<{ closed_sessions: number }>()).closed_sessions;
    const one = await api('/api/v1/tools/mcp_listed_add', { token: owner.token });
    expect(one.status, one.text).toBe(200);
    expect(one.body).toEqual(listed);
    expect((await (await fetch(`${env.FAKE_BASE_URL}/mcp/stats`)).json<{ closed_sessions: number }>()).closed_sessions).toBe(before);
    expectError(await api('/api/v1/tools/mcp_listed_nope', { token: owner.token }), 404, 'NOT_FOUND');
    // Another user sees none of it.
    expect((await api('/api/v1/tools?type=mcp', { token: other.token })).body.total).toBe(0);
    expectError(await api('/api/v1/tools/mcp_listed_add', { token: other.token }), 404, 'NOT_FOUND');
    // A disabled plugin's tools leave the list and stop resolving.
    await api(`${P}/${created.body.id}/disable`, { token: owner.token, method: 'POST' });
    expect((await api('/api/v1/tools?type=mcp&page_size=100', { token: owner.token })).body.items.map((t: { id: string }) => t.id)).not.toContain('mcp_listed_add');
    expectError(await api('/api/v1/tools/mcp_listed_add/use', { token: owner.token, json: { arguments: { a: 1, b: 2 } } }), 404, 'NOT_FOUND');
  });

  it('lets an agent call an MCP tool (through the OpenAI endpoint) and a workflow tool node run one', async () => {
    expect((await createMcp(owner.token, { name: 'calc', url: server('tools') })).status).toBe(201);
    const agent = await createAgent(owner.token, { include_tools: ['mcp_calc_add'] });
    const completion = await api('/api/v1/openai/chat/completions', {
      token: key,
      json: { model: agent.id, messages: [{ role: 'user', content: '/tool mcp_calc_add {"a": 20, "b": 22}' }] },
    });
    expect(completion.status, completion.text).toBe(200);
    expect(completion.body.choices[0].message.content).toBe('tool mcp_calc_add returned: "42"');
    // Unknown MCP tools are rejected like unknown builtins.
    const bad = await api('/api/v1/agents', { token: owner.token, json: { name: 'x', include_tools: ['mcp_calc_nope'] } });
    expect(expectError(bad, 422, 'VALIDATION_ERROR').message).toContain('mcp_calc_nope');
    // Another user cannot include it; exports leave it out like other plugin tools.
    expectError(await api('/api/v1/agents', { token: other.token, json: { name: 'x', include_tools: ['mcp_calc_add'] } }), 422, 'VALIDATION_ERROR');
    const withBuiltin = await createAgent(owner.token, { include_tools: ['mcp_calc_add', 'calculator'] });
    expect((await api(`/api/v1/agents/${withBuiltin.id}/export`, { token: owner.token })).body.agent.include_tools).toEqual(['calculator']);

    const wf = await createWorkflow(owner.token, chain([{ id: 'sum', type: 'tool', config: { tool: 'mcp_calc_add', arguments: { a: 1, b: 2 } } }], { r: '{{sum.result}}' }));
    const ran = await api(`/api/v1/workflows/${wf.id}/execute`, { token: owner.token, json: { inputs: {}, wait_ms: 10_000 } });
    expect(ran.body, ran.text).toMatchObject({ status: 'succeeded', outputs: { r: '3' } });
  });

  it('sends stored headers (encrypted at rest, never returned); a server refusing us is not saved', async () => {
    const refused = await createMcp(owner.token, { name: 'secure', url: server('secure') });
    expect(expectError(refused, 502, 'MCP_ERROR').message).toContain('401');
    expect(await env.DB.prepare("SELECT count(*) AS n FROM plugins WHERE owner_id = ? AND slug = 'secure'").bind(owner.id).first('n')).toBe(0);
    const created = await createMcp(owner.token, { name: 'secure', url: server('secure'), headers: { Authorization: 'Bearer fake-mcp-secret' } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ auth: { type: 'headers', headers: ['Authorization'] }, required_settings: ['Authorization'], installation: { settings_fields: ['Authorization'] } });
    expect(created.text).not.toContain('fake-mcp-secret');
    const rows = await env.DB.prepare('SELECT p.*, i.settings_encrypted FROM plugins p JOIN plugin_installations i ON i.plugin_id = p.id WHERE p.id = ?').bind(created.body.id).first();
    expect(rows!.settings_encrypted).toBeTruthy();
    expect(JSON.stringify(rows)).not.toContain('fake-mcp-secret');
    const got = await api(`${P}/${created.body.id}`, { token: owner.token });
    expect(got.text).not.toContain('fake-mcp-secret');
    const used = await api('/api/v1/tools/mcp_secure_add/use', { token: owner.token, json: { arguments: { a: 1, b: 1 } } });
    expect(used.body.output).toBe('2');
  });

  it('published MCP plugins: an installer’s tools carry the installer’s own headers; slugs stay unique per user', async () => {
    const alice = await createUser('mcp-alice');
    const bob = await createUser('mcp-bob');
    const created = await createMcp(alice.token, { name: 'Vault', url: server('secure'), headers: { Authorization: 'Bearer fake-mcp-secret' }, is_published: true });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    const market = await api(`${P}/market?search=Vault`, { token: bob.token });
    expect(market.body.items.map((p: { id: string }) => p.id)).toContain(id);
    expect(market.text).not.toContain('fake-mcp-secret');
    // Only the plugin's header names are settings.
    expectError(await api(`${P}/${id}/install`, { token: bob.token, json: { settings: { Cookie: 'x' } } }), 422, 'VALIDATION_ERROR');
    // Installed without a value: the server refuses Bob, who never got Alice's secret.
    const inst = await api(`${P}/${id}/install`, { token: bob.token, json: { settings: {} } });
    expect(inst.status, inst.text).toBe(201);
    expect(inst.body).toMatchObject({ kind: 'mcp', install_count: 2, installation: { enabled: true, settings_fields: [] } });
    const refused = expectError(await api('/api/v1/tools/mcp_vault_add/use', { token: bob.token, json: { arguments: { a: 1, b: 1 } } }), 502, 'MCP_ERROR');
    expect(refused.message).toContain('401');
    // With his own value (given through enable), it works.
    expect((await api(`${P}/${id}/enable`, { token: bob.token, json: { settings: { Authorization: 'Bearer fake-mcp-secret' } } })).status).toBe(200);
    expect((await api('/api/v1/tools/mcp_vault_add/use', { token: bob.token, json: { arguments: { a: 2, b: 3 } } })).body.output).toBe('5');
    // Header names cannot change under installers; the owner may change values.
    expectError(await api(`${P}/${id}`, { token: alice.token, method: 'PUT', json: { headers: { 'X-Key': 'k' } } }), 422, 'VALIDATION_ERROR');
    // A second MCP plugin with the same slug for Bob is a conflict, as is installing Alice's twin.
    expectError(await createMcp(bob.token, { name: 'vault', url: server('tools') }), 409, 'CONFLICT');
    const twin = await createMcp(bob.token, { name: 'Twin', url: server('tools'), is_published: true });
    const twinOfAlice = await createMcp(alice.token, { name: 'twin', url: server('tools') });
    expect(twinOfAlice.status).toBe(201);
    expectError(await api(`${P}/${twin.body.id}/install`, { token: alice.token, json: {} }), 409, 'CONFLICT');
    // Uninstalling takes the tools away.
    expect((await api(`${P}/${id}/install`, { token: bob.token, method: 'DELETE' })).status).toBe(204);
    expectError(await api('/api/v1/tools/mcp_vault_add/use', { token: bob.token, json: { arguments: { a: 1, b: 1 } } }), 404, 'NOT_FOUND');
  });

  it('owner scoping: other users see no unpublished plugin and no tools', async () => {
    const created = await createMcp(owner.token, { name: 'private', url: server('tools') });
    expectError(await api(`${P}/${created.body.id}`, { token: other.token }), 404, 'NOT_FOUND');
    expectError(await api(`${P}/${created.body.id}`, { token: other.token, method: 'DELETE' }), 404, 'NOT_FOUND');
    expectError(await api(`${P}/${created.body.id}/install`, { token: other.token, json: {} }), 404, 'NOT_FOUND');
    expectError(await api('/api/v1/tools/mcp_private_add/use', { token: other.token, json: { arguments: { a: 1, b: 1 } } }), 404, 'NOT_FOUND');
    expect((await api(`${P}?page_size=100`, { token: other.token })).body.items.some((p: { id: string }) => p.id === created.body.id)).toBe(false);
    const mine = await api(`${P}?page_size=100`, { token: owner.token });
    expect(mine.body.items.map((s: { id: string }) => s.id)).toContain(created.body.id);
    const mcpOnly = await api(`${P}?kind=mcp&page_size=100`, { token: owner.token });
    expect(mcpOnly.body.items.length).toBeGreaterThan(0);
    expect(mcpOnly.body.items.every((p: { kind: string }) => p.kind === 'mcp')).toBe(true);
    expect((await api(`${P}?kind=openapi&page_size=100`, { token: owner.token })).body.items.some((p: { kind: string }) => p.kind === 'mcp')).toBe(false);
  });

  it('refreshes through PUT, keeps the slug, deletes (tools go with the plugin), and checks input', async () => {
    const created = await createMcp(owner.token, { name: 'temp', url: server('tools') });
    const renamed = await api(`${P}/${created.body.id}`, { token: owner.token, method: 'PUT', json: { name: 'Temporary', description: 'renamed' } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Temporary', slug: 'temp', description: 'renamed' });
    expect(renamed.body.mcp.refreshed_at).toBe(created.body.mcp.refreshed_at);
    // The tool list is re-read on refresh: tools the server dropped go, new ones come.
    await env.DB.prepare("UPDATE plugins SET operations = '[]' WHERE id = ?").bind(created.body.id).run();
    expectError(await api('/api/v1/tools/mcp_temp_add/use', { token: owner.token, json: { arguments: { a: 1, b: 1 } } }), 404, 'NOT_FOUND');
    const refreshed = await api(`${P}/${created.body.id}`, { token: owner.token, method: 'PUT', json: { refresh: true } });
    expect(refreshed.status, refreshed.text).toBe(200);
    expect(refreshed.body.operations).toHaveLength(4);
    expect(refreshed.body.mcp.refreshed_at >= created.body.mcp.refreshed_at).toBe(true);
    expect((await api('/api/v1/tools/mcp_temp_add/use', { token: owner.token, json: { arguments: { a: 1, b: 1 } } })).body.output).toBe('2');
    // A new URL is checked and connected to before it is saved.
    expectError(await api(`${P}/${created.body.id}`, { token: owner.token, method: 'PUT', json: { url: 'http://10.0.0.1/mcp' } }), 400, 'SSRF_BLOCKED');
    expectError(await api(`${P}/${created.body.id}`, { token: owner.token, method: 'PUT', json: { url: server('secure') } }), 502, 'MCP_ERROR');
    expect((await api(`${P}/${created.body.id}`, { token: owner.token })).body.base_url).toBe(server('tools'));
    // Fields of the other kind are refused, both ways.
    expectError(await api(`${P}/${created.body.id}`, { token: owner.token, method: 'PUT', json: { openapi: { openapi: '3.0.0' } } }), 422, 'VALIDATION_ERROR');
    expectError(await api(`${P}/${created.body.id}`, { token: other.token, method: 'PUT', json: { refresh: true } }), 404, 'NOT_FOUND');

    expectError(await createMcp(owner.token, { name: 'temp', url: server('tools') }), 409, 'CONFLICT');
    expect((await api(`${P}/${created.body.id}`, { token: owner.token, method: 'DELETE' })).status).toBe(204);
    expectError(await api('/api/v1/tools/mcp_temp_add/use', { token: owner.token, json: { arguments: { a: 1, b: 1 } } }), 404, 'NOT_FOUND');
    expectError(await api(`${P}/${created.body.id}`, { token: owner.token }), 404, 'NOT_FOUND');

    for (const [json, field] of [
      [{ name: '', url: server('tools') }, 'body.name'],
      [{ name: 'ok', url: 'not a url' }, 'body.url'],
      [{ name: 'ok', url: server('tools'), headers: { 'bad header': 'x' } }, 'body.headers'],
      [{ url: server('tools') }, 'body.name'],
    ] as const) {
      expect(expectError(await createMcp(owner.token, json), 422, 'VALIDATION_ERROR').message).toContain(field);
    }
    expectError(await api(P, { token: owner.token, json: { kind: 'soap', name: 'x' } }), 422, 'VALIDATION_ERROR');
    expectError(await createMcp('', { name: 'x', url: server('tools') }), 401, 'UNAUTHORIZED');
  });

  it('goes through the SSRF guard', async () => {
    for (const url of ['http://localhost:8080/mcp', 'http://169.254.169.254/latest', 'http://10.0.0.1/mcp']) {
      expectError(await createMcp(owner.token, { name: 'evil', url }), 400, 'SSRF_BLOCKED');
    }
    expect(await env.DB.prepare("SELECT count(*) AS n FROM plugins WHERE slug = 'evil'").first('n')).toBe(0);
  });

  it('the /mcp/servers endpoints are gone', async () => {
    expectError(await api('/api/v1/mcp/servers', { token: owner.token }), 404);
  });
});
