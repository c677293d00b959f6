import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { invokeTool } from '../../../src/engine/tools/invoke';
import { builtinTools } from '../../../src/engine/tools/registry';
import { api, createUser, expectError } from '../../support/helpers';

type User = Awaited<ReturnType<typeof createUser>>;
let alice: User;
let bob: User;

beforeAll(async () => {
  alice = await createUser('alice');
  bob = await createUser('bob');
});

const weatherTool = () => ({
  name: 'item_lookup',
  description: 'Look up an item',
  category: 'inventory',
  type: 'http',
  parameters: { type: 'object', properties: { id: { type: 'string' }, q: { type: 'string' }, n: { type: 'integer' } }, required: ['id'] },
  config: {
    method: 'POST',
    url: `${env.FAKE_BASE_URL}/tools/api?id={{id}}&q={{q}}`,
    headers: { 'X-Api-Key': 'secret-key-123456', 'X-Trace': 'trace-{{id}}' },
    body: '{"id": "{{id}}", "n": {{n}}, "text": "item {{q}}"}',
  },
});

async function create(user: User, body: unknown) {
  const res = await api('/api/v1/tools', { token: user.token, json: body });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

describe('auth', () => {
  it('every endpoint needs a token', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/tools'],
      ['GET', '/api/v1/tools/categories'],
      ['GET', '/api/v1/tools/builtin'],
      ['GET', '/api/v1/tools/calculator'],
      ['POST', '/api/v1/tools'],
      ['PUT', '/api/v1/tools/x'],
      ['DELETE', '/api/v1/tools/x'],
      ['POST', '/api/v1/tools/test/http'],
      ['POST', '/api/v1/tools/test/code'],
      ['POST', '/api/v1/tools/calculator/use'],
    ]) {
      expectError(await api(path, { method, json: method === 'GET' || method === 'DELETE' ? undefined : {} }), 401, 'UNAUTHORIZED');
    }
  });
});

describe('GET /tools/builtin, /tools/categories, /tools/{id}', () => {
  it('lists the registry, paginated and filterable', async () => {
    const all = await api('/api/v1/tools/builtin?page_size=100', { token: alice.token });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(builtinTools.length);
    expect(all.body.items[0]).toMatchObject({ id: 'calculator', name: 'calculator', type: 'builtin', builtin: true, category: 'math', configured: true });
    expect(all.body.items[0].description_zh).toMatch(/[\u4e00-\u9fff]/);
    expect(all.body.items.find((t: any) => t.name === 'web_search').configured).toBe(false);
    const page2 = await api('/api/v1/tools/builtin?page=2&page_size=10', { token: alice.token });
    expect(page2.body.items).toHaveLength(10);
    expect(page2.body.items[0].name).toBe(builtinTools[10].name);
    const time = await api('/api/v1/tools/builtin?category=time', { token: alice.token });
    expect(time.body.items.every((t: any) => t.category === 'time')).toBe(true);
    expect(time.body.total).toBe(6);
    const zh = await api(`/api/v1/tools/builtin?search=${encodeURIComponent('时区')}`, { token: alice.token });
    expect(zh.body.items.map((t: any) => t.name)).toContain('timezone_convert');
    expectError(await api('/api/v1/tools/builtin?page_size=1000', { token: alice.token }), 422);
  });

  it('/health counts the registry', async () => {
    expect((await api('/health')).body.builtin_tools).toEqual({ count: builtinTools.length, ready: true });
  });

  it('categories with counts, custom ones included', async () => {
    const user = await createUser('cats');
    await create(user, { name: 'adder', type: 'code', category: 'finance', parameters: { type: 'object', properties: {} }, config: { source: '1' } });
    const res = await api('/api/v1/tools/categories', { token: user.token });
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.body.items.map((c: any) => [c.category, c]));
    expect(byName.math).toEqual({ category: 'math', count: 5, builtin_count: 5, custom_count: 0, plugin_count: 0 });
    expect(byName.finance).toEqual({ category: 'finance', count: 1, builtin_count: 0, custom_count: 1, plugin_count: 0 });
    expect(res.body.items.reduce((n: number, c: any) => n + c.count, 0)).toBe(builtinTools.length + 1);
    expect(res.body.items[0].category).toBe('math');
  });

  it('one tool with its schema; unknown is 404', async () => {
    const res = await api('/api/v1/tools/calculator', { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.body.parameters.required).toEqual(['expression']);
    expectError(await api('/api/v1/tools/no_such_tool', { token: alice.token }), 404, 'NOT_FOUND');
    expectError(await api(`/api/v1/tools/${crypto.randomUUID()}`, { token: alice.token }), 404, 'NOT_FOUND');
  });
});

describe('custom tools: CRUD', () => {
  it('creates an HTTP tool with secret headers encrypted and masked', async () => {
    const tool = await create(alice, weatherTool());
    expect(tool.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(tool).toMatchObject({ name: 'item_lookup', type: 'http', builtin: false, category: 'inventory', owner_id: alice.id });
    expect(tool.config.headers['X-Api-Key']).not.toContain('secret-key-123456');
    expect(tool.config.headers['X-Api-Key']).toMatch(/…3456$/);
    expect(tool.config.headers['X-Trace']).toBe('trace-{{id}}');
    expect(tool.config.secret_headers).toEqual(['X-Api-Key']);
    const row = await env.DB.prepare('SELECT config FROM custom_tools WHERE id = ?').bind(tool.id).first<{ config: string }>();
    expect(row!.config).not.toContain('secret-key-123456');
    expect(row!.config).toMatch(/"X-Api-Key":"v1:/);
    const got = await api(`/api/v1/tools/${tool.id}`, { token: alice.token });
    expect(got.text).not.toContain('secret-key-123456');
  });

  it('lists custom tools first, filters by type, category and search', async () => {
    const user = await createUser('lister');
    const code = await create(user, { name: 'double', type: 'code', description: 'Doubles a number', parameters: { type: 'object', properties: { x: { type: 'number' } } }, config: { source: 'args.x * 2' } });
    const list = await api('/api/v1/tools?page_size=5', { token: user.token });
    expect(list.body.total).toBe(builtinTools.length + 1);
    expect(list.body.items[0].id).toBe(code.id);
    expect(list.body.items[1].type).toBe('builtin');
    const codeOnly = await api('/api/v1/tools?type=code', { token: user.token });
    expect(codeOnly.body.items.map((t: any) => t.id)).toEqual([code.id]);
    expect((await api('/api/v1/tools?type=mcp', { token: user.token })).body.total).toBe(0);
    expect((await api('/api/v1/tools?type=builtin&page_size=100', { token: user.token })).body.total).toBe(builtinTools.length);
    const search = await api('/api/v1/tools?search=doubles', { token: user.token });
    expect(search.body.items.map((t: any) => t.name)).toEqual(['double']);
    const last = await api(`/api/v1/tools?page=${Math.ceil((builtinTools.length + 1) / 20)}&page_size=20`, { token: user.token });
    expect(last.body.items.at(-1).name).toBe(builtinTools.at(-1)!.name);
    // Another user's tools are not listed.
    expect((await api('/api/v1/tools?type=code', { token: bob.token })).body.total).toBe(0);
  });

  it('validates bodies: name, type, config fields, schema, placeholders', async () => {
    const base = weatherTool();
    expect(expectError(await api('/api/v1/tools', { token: alice.token, json: { ...base, name: '1bad name' } }), 422).message).toContain('body.name');
    expectError(await api('/api/v1/tools', { token: alice.token, json: { ...base, type: 'mcp' } }), 422);
    expect(expectError(await api('/api/v1/tools', { token: alice.token, json: { ...base, name: 'x1', config: { ...base.config, url: undefined } } }), 422).message).toContain('body.config.url');
    expect(expectError(await api('/api/v1/tools', { token: alice.token, json: { ...base, name: 'x2', parameters: { type: 'array' } } }), 422).message).toContain('body.parameters.type');
    expect(expectError(await api('/api/v1/tools', { token: alice.token, json: { ...base, name: 'x3', parameters: { type: 'object', properties: { a: { type: 'strin' } } } } }), 422).message).toContain('unknown type');
    expect(expectError(await api('/api/v1/tools', { token: alice.token, json: { ...base, name: 'x4', config: { ...base.config, url: 'https://example.com/{{nope}}' } } }), 422).message).toContain('{{nope}}');
    expect(expectError(await api('/api/v1/tools', { token: alice.token, json: { name: 'x5', type: 'code', config: { source: '' } } }), 422).message).toContain('body.config.source');
  });

  it('checks the URL with the SSRF guard at save time', async () => {
    for (const url of ['http://127.0.0.1/x', 'http://169.254.169.254/latest', 'http://[::1]/', 'file:///etc/passwd', 'https://{{host}}/x', 'http://db.internal/{{id}}']) {
      const res = await api('/api/v1/tools', { token: alice.token, json: { ...weatherTool(), name: 'ssrf', config: { ...weatherTool().config, url } } });
      expectError(res, 400, 'SSRF_BLOCKED');
    }
  });

  it('names are unique per user and never a builtin name; an id or owner in the body is ignored', async () => {
    const user = await createUser('names');
    const body = { name: 'Twice', type: 'code', config: { source: '1' }, id: '00000000-0000-4000-8000-000000000000', owner_id: bob.id };
    const first = await create(user, body);
    expect(first.id).not.toBe(body.id);
    expect(first.owner_id).toBe(user.id);
    expectError(await api('/api/v1/tools', { token: user.token, json: { ...body, name: 'twice' } }), 409, 'CONFLICT');
    expectError(await api('/api/v1/tools', { token: user.token, json: { ...body, name: 'calculator' } }), 409, 'CONFLICT');
    await create(bob, { ...body, name: 'Twice' });
  });

  it('updates: fields, config, masked secrets kept, owner-scoped', async () => {
    const tool = await create(alice, { ...weatherTool(), name: 'updatable' });
    const renamed = await api(`/api/v1/tools/${tool.id}`, { method: 'PUT', token: alice.token, json: { name: 'updated', description: 'new' } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'updated', description: 'new', category: 'inventory' });
    expect(renamed.body.updated_at >= tool.updated_at).toBe(true);
    // Round-trip the config as shown (secret masked): the stored secret is kept.
    const shown = renamed.body.config;
    const res = await api(`/api/v1/tools/${tool.id}`, { method: 'PUT', token: alice.token, json: { config: { ...shown, timeout_ms: 5000 } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.config.timeout_ms).toBe(5000);
    const used = await api(`/api/v1/tools/${tool.id}/use`, { token: alice.token, json: { arguments: { id: 'a1' } } });
    expect(used.status, used.text).toBe(200);
    // A new secret value replaces it.
    await api(`/api/v1/tools/${tool.id}`, { method: 'PUT', token: alice.token, json: { config: { ...shown, headers: { ...shown.headers, 'X-Api-Key': 'wrong-key-999999' } } } });
    expectError(await api(`/api/v1/tools/${tool.id}/use`, { token: alice.token, json: { arguments: { id: 'a1' } } }), 502, 'UPSTREAM_ERROR');

    expectError(await api(`/api/v1/tools/${tool.id}`, { method: 'PUT', token: bob.token, json: { name: 'stolen' } }), 404, 'NOT_FOUND');
    expectError(await api(`/api/v1/tools/${crypto.randomUUID()}`, { method: 'PUT', token: alice.token, json: { name: 'x' } }), 404);
    expectError(await api('/api/v1/tools/calculator', { method: 'PUT', token: alice.token, json: { name: 'x' } }), 422);
    expectError(await api(`/api/v1/tools/${tool.id}`, { method: 'PUT', token: alice.token, json: { config: { ...shown, url: 'http://10.0.0.1/' } } }), 400, 'SSRF_BLOCKED');
    expect(expectError(await api(`/api/v1/tools/${tool.id}`, { method: 'PUT', token: alice.token, json: { config: { ...shown, method: 'TRACE' } } }), 422).message).toContain('body.config.method');
  });

  it('deletes, owner-scoped', async () => {
    const tool = await create(alice, { name: 'doomed', type: 'code', config: { source: '1' } });
    expectError(await api(`/api/v1/tools/${tool.id}`, { method: 'DELETE', token: bob.token }), 404);
    expect((await api(`/api/v1/tools/${tool.id}`, { method: 'DELETE', token: alice.token })).status).toBe(204);
    expectError(await api(`/api/v1/tools/${tool.id}`, { token: alice.token }), 404);
    expectError(await api(`/api/v1/tools/${tool.id}`, { method: 'DELETE', token: alice.token }), 404);
    expectError(await api('/api/v1/tools/calculator', { method: 'DELETE', token: alice.token }), 422);
  });

  it("another user's tool is 404 everywhere", async () => {
    const tool = await create(alice, { name: 'private_one', type: 'code', config: { source: '42' } });
    expectError(await api(`/api/v1/tools/${tool.id}`, { token: bob.token }), 404);
    expectError(await api(`/api/v1/tools/${tool.id}/use`, { token: bob.token, json: { arguments: {} } }), 404);
  });
});

describe('POST /tools/{id}/use', () => {
  it('runs a builtin tool and records usage', async () => {
    const res = await api('/api/v1/tools/calculator/use', { token: alice.token, json: { arguments: { expression: '6 * 7' } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ tool_id: 'calculator', tool_name: 'calculator', output: { result: 42 } });
    expect(res.body.duration_ms).toBeGreaterThanOrEqual(0);
    const row = await env.DB.prepare("SELECT * FROM tool_usage WHERE user_id = ? AND tool_id = 'calculator' ORDER BY created_at DESC LIMIT 1").bind(alice.id).first<any>();
    expect(row).toMatchObject({ tool_name: 'calculator', tool_type: 'builtin', caller: 'api', ok: 1, error: null });
  });

  it('422 names the field; failures are recorded too', async () => {
    const res = expectError(await api('/api/v1/tools/calculator/use', { token: alice.token, json: { arguments: { expression: 12 } } }), 422, 'VALIDATION_ERROR');
    expect(res.message).toContain('arguments.expression');
    const row = await env.DB.prepare("SELECT ok, error FROM tool_usage WHERE user_id = ? AND tool_id = 'calculator' AND ok = 0 LIMIT 1").bind(alice.id).first<any>();
    expect(row.error).toContain('VALIDATION_ERROR');
    expectError(await api('/api/v1/tools/calculator/use', { token: alice.token, json: { arguments: [1] } }), 422);
    expectError(await api('/api/v1/tools/nope/use', { token: alice.token, json: {} }), 404);
  });

  it('503 TOOL_NOT_CONFIGURED, 504 on timeouts, 502 upstream', async () => {
    expectError(await api('/api/v1/tools/web_search/use', { token: alice.token, json: { arguments: { query: 'x' } } }), 503, 'TOOL_NOT_CONFIGURED');
    expectError(await api('/api/v1/tools/run_javascript/use', { token: alice.token, json: { arguments: { code: 'for(;;){}', timeout_ms: 100 } } }), 504, 'SANDBOX_TIMEOUT');
    expectError(await api('/api/v1/tools/web_fetch/use', { token: alice.token, json: { arguments: { url: `${env.FAKE_BASE_URL}/tools/fail` } } }), 502);
  });

  it('runs a custom HTTP tool: placeholders encoded, secrets decrypted, JSON types kept', async () => {
    const tool = await create(alice, { ...weatherTool(), name: 'lookup_run' });
    const res = await api(`/api/v1/tools/${tool.id}/use`, { token: alice.token, json: { arguments: { id: 'a&b=c/d', q: 'x "y"', n: 3 } } });
    expect(res.status, res.text).toBe(200);
    const seen = res.body.output.body;
    expect(res.body.output.status).toBe(200);
    expect(seen.method).toBe('POST');
    expect(seen.query).toEqual({ id: 'a&b=c/d', q: 'x "y"' });
    expect(seen.headers['x-trace']).toBe('trace-a&b=c/d');
    expect(JSON.parse(seen.body)).toEqual({ id: 'a&b=c/d', n: 3, text: 'item x "y"' });
    expect(seen.headers['content-type']).toBe('application/json');
    const usage = await env.DB.prepare('SELECT tool_type, ok FROM tool_usage WHERE tool_id = ?').bind(tool.id).first<any>();
    expect(usage).toEqual({ tool_type: 'http', ok: 1 });
    expect(expectError(await api(`/api/v1/tools/${tool.id}/use`, { token: alice.token, json: { arguments: { id: 'x', n: 'three' } } }), 422).message).toContain('arguments.n');
  });

  it('a placeholder cannot change the host of a URL', async () => {
    const tool = await create(alice, {
      name: 'path_tool',
      type: 'http',
      parameters: { type: 'object', properties: { id: { type: 'string' } } },
      config: { url: `${env.FAKE_BASE_URL}/tools/api/items/{{id}}` },
    });
    const res = await api(`/api/v1/tools/${tool.id}/use`, { token: alice.token, json: { arguments: { id: '@169.254.169.254/../x?y=1#' } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.output.body.id).toBe('@169.254.169.254/../x?y=1#');
  });

  it('runs a custom code tool in the sandbox with logs', async () => {
    const tool = await create(alice, {
      name: 'sum_tool',
      type: 'code',
      parameters: { type: 'object', properties: { xs: { type: 'array', items: { type: 'number' } } }, required: ['xs'] },
      config: { source: 'function main({ xs }) { console.log("summing", xs.length); return { total: xs.reduce((a, b) => a + b, 0) } }' },
    });
    const res = await api(`/api/v1/tools/${tool.id}/use`, { token: alice.token, json: { arguments: { xs: [1, 2, 3.5] } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ tool_name: 'sum_tool', output: { total: 6.5 }, logs: ['log: summing 3'] });
    expect(expectError(await api(`/api/v1/tools/${tool.id}/use`, { token: alice.token, json: { arguments: { xs: ['a'] } } }), 422).message).toContain('arguments.xs[0]');
  });

  it('the engine entry point records agent and session', async () => {
    await invokeTool({ env, userId: alice.id, agentId: 'agent-1', sessionId: 'sess-1', caller: 'agent' }, 'uuid_generate', {});
    const row = await env.DB.prepare("SELECT * FROM tool_usage WHERE agent_id = 'agent-1'").first<any>();
    expect(row).toMatchObject({ tool_id: 'uuid_generate', session_id: 'sess-1', caller: 'agent', ok: 1 });
  });
});

describe('POST /tools/test/http and /tools/test/code', () => {
  it('runs an unsaved HTTP definition without storing it', async () => {
    const before = await env.DB.prepare('SELECT count(*) AS n FROM custom_tools').first<{ n: number }>();
    const res = await api('/api/v1/tools/test/http', {
      token: alice.token,
      json: { method: 'GET', url: `${env.FAKE_BASE_URL}/tools/api?city={{city}}`, headers: { 'X-Api-Key': 'secret-key-123456' }, arguments: { city: '北京 市' } },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.output.body.query).toEqual({ city: '北京 市' });
    const after = await env.DB.prepare('SELECT count(*) AS n FROM custom_tools').first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
    expectError(await api('/api/v1/tools/test/http', { token: alice.token, json: { url: 'http://169.254.169.254/latest/meta-data/' } }), 400, 'SSRF_BLOCKED');
    expectError(await api('/api/v1/tools/test/http', { token: alice.token, json: { url: `${env.FAKE_BASE_URL}/tools/fail` } }), 502, 'UPSTREAM_ERROR');
    expectError(await api('/api/v1/tools/test/http', { token: alice.token, json: { url: `${env.FAKE_BASE_URL}/basic/slow?ms=1500`, timeout_ms: 200 } }), 504, 'UPSTREAM_TIMEOUT');
    expect(expectError(await api('/api/v1/tools/test/http', { token: alice.token, json: { url: `${env.FAKE_BASE_URL}/tools/api?c={{c}}`, parameters: { type: 'object', properties: { c: { type: 'integer' } }, required: ['c'] } } }), 422).message).toContain('arguments.c: is required');
  });

  it('redirects are followed by hand and re-checked', async () => {
    const to = encodeURIComponent('http://127.0.0.1:1/secret');
    expectError(await api('/api/v1/tools/test/http', { token: alice.token, json: { url: `${env.FAKE_BASE_URL}/basic/redirect?to=${to}` } }), 400, 'SSRF_BLOCKED');
  });

  it('runs code in the sandbox, with errors in the API format', async () => {
    const ok = await api('/api/v1/tools/test/code', { token: alice.token, json: { source: 'function main({ a }) { console.log("hi"); return a * 2 }', arguments: { a: 21 } } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ output: 42, logs: ['log: hi'] });
    expectError(await api('/api/v1/tools/test/code', { token: alice.token, json: { source: 'throw new Error("boom")' } }), 422, 'CODE_ERROR');
    expectError(await api('/api/v1/tools/test/code', { token: alice.token, json: { source: 'while(true){}', timeout_ms: 150 } }), 504, 'SANDBOX_TIMEOUT');
    expectError(await api('/api/v1/tools/test/code', { token: alice.token, json: { source: 'const a = []; for (;;) a.push({ a })' } }), 422, 'SANDBOX_MEMORY_LIMIT');
    expectError(await api('/api/v1/tools/test/code', { token: alice.token, json: { source: '"x".repeat(1e6)' } }), 422, 'OUTPUT_TOO_LARGE');
    const escape = await api('/api/v1/tools/test/code', { token: alice.token, json: { source: "const g = constructor.constructor('return this')(); [typeof g.process, typeof g.env, typeof g.DB, typeof fetch]" } });
    expect(escape.body.output).toEqual(['undefined', 'undefined', 'undefined', 'undefined']);
  });

  it('network only when allowed, and then only through the SSRF guard', async () => {
    const code = 'async function main({ url }) { const r = await fetch(url); return (await r.json()).method }';
    expectError(await api('/api/v1/tools/test/code', { token: alice.token, json: { source: code, arguments: { url: `${env.FAKE_BASE_URL}/basic/echo` } } }), 422, 'CODE_ERROR');
    const ok = await api('/api/v1/tools/test/code', { token: alice.token, json: { source: code, allow_network: true, arguments: { url: `${env.FAKE_BASE_URL}/basic/echo` } } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.output).toBe('GET');
    const blocked = expectError(await api('/api/v1/tools/test/code', { token: alice.token, json: { source: code, allow_network: true, arguments: { url: 'http://169.254.169.254/' } } }), 422, 'CODE_ERROR');
    expect(blocked.message).toContain('SSRF_BLOCKED');
  });
});

describe('OpenAPI', () => {
  it('documents the 10 endpoints', async () => {
    const doc = (await api('/openapi.json')).body;
    const paths = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .filter(([p]) => p.startsWith('/api/v1/tools'))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(paths).toEqual(
      [
        'GET /api/v1/tools',
        'POST /api/v1/tools',
        'GET /api/v1/tools/categories',
        'GET /api/v1/tools/builtin',
        'GET /api/v1/tools/{tool_id}',
        'PUT /api/v1/tools/{tool_id}',
        'DELETE /api/v1/tools/{tool_id}',
        'POST /api/v1/tools/test/http',
        'POST /api/v1/tools/test/code',
        'POST /api/v1/tools/{tool_id}/use',
      ].sort(),
    );
  });
});
