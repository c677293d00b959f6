import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../src/app';
import { modules } from '../src/modules';
import { routeTable } from '../src/modules/route-table';
import { builtinTools } from '../src/engine/tools/registry';
import { api, createUser, expectError } from './support/helpers';
import { DocumentChecker } from './support/openapi-check';

describe('health', () => {
  it('answers the specification body with the registry size', async () => {
    const res = await api('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', version: '1.0.0', builtin_tools: { count: builtinTools.length, ready: true } });
  });

  it('sets X-Request-Id, echoing a sane incoming one', async () => {
    const generated = await api('/health');
    expect(generated.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await api('/health', { headers: { 'X-Request-Id': 'abc-123' } });
    expect(echoed.headers.get('X-Request-Id')).toBe('abc-123');
    const refused = await api('/health', { headers: { 'X-Request-Id': 'bad id\twith spaces' } });
    expect(refused.headers.get('X-Request-Id')).not.toBe('bad id\twith spaces');
  });
});

describe('error format', () => {
  it('404 for unknown routes', async () => {
    const res = await api('/api/v1/nope');
    expectError(res, 404, 'NOT_FOUND');
    expect(res.headers.get('X-Request-Id')).toBeTruthy();
  });

  it('405 for a wrong method on a known path', async () => {
    const res = await api('/api/v1/auth/me', { method: 'DELETE' });
    expectError(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.get('Allow')).toContain('GET');
  });

  it('400 for malformed JSON', async () => {
    const res = await api('/api/v1/auth/register', { body: '{"email": ', headers: { 'Content-Type': 'application/json' } });
    expectError(res, 400, 'BAD_REQUEST');
  });

  it('422 naming the field for schema violations', async () => {
    const res = await api('/api/v1/auth/register', { json: { email: 'not-an-email', password: 'longenough', nickname: 'n' } });
    const body = expectError(res, 422, 'VALIDATION_ERROR');
    expect(body.message).toContain('body.email');
  });

  it('413 for bodies over 1 MiB', async () => {
    const res = await api('/api/v1/auth/register', {
      json: { email: 'a@b.co', password: 'x'.repeat(1024 * 1024 + 10), nickname: 'n' },
    });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('500 without a stack for unexpected exceptions', async () => {
    const local = (await import('../src/app')).createApp();
    local.get('/boom', () => {
      throw new Error('secret internals');
    });
    const res = await local.request('/boom', {}, env);
    expect(res.status).toBe(500);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toEqual({ error: 'INTERNAL_ERROR', message: 'An unexpected error occurred' });
    expect(JSON.stringify(body)).not.toContain('secret internals');
  });
});

describe('production configuration', () => {
  it('refuses to serve without secrets', async () => {
    const res = await app.request('/health', {}, { ...env, ENVIRONMENT: 'production', JWT_SECRET: undefined, ENCRYPTION_KEY: undefined });
    expect(res.status).toBe(503);
    const body = (await res.json()) as Record<string, string>;
    expect(body.error).toBe('NOT_CONFIGURED');
    expect(body.message).toContain('JWT_SECRET');
    expect(body.message).toContain('wrangler secret put');
  });

  it('serves once the secrets are set', async () => {
    const res = await app.request('/health', {}, { ...env, ENVIRONMENT: 'production', JWT_SECRET: 's'.repeat(32), ENCRYPTION_KEY: 'k'.repeat(32) });
    expect(res.status).toBe(200);
  });

  it('generates and keeps the development JWT secret in D1', async () => {
    await createUser();
    const row = await env.DB.prepare("SELECT value FROM system_settings WHERE key = 'dev_secret:JWT_SECRET'").first<{ value: string }>();
    expect(row?.value.length).toBeGreaterThanOrEqual(32);
  });
});

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with the bearer scheme and lists every route the app serves', async () => {
    const res = await api('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries<Record<string, unknown>>(res.body.paths)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
    }
    const served = app.routes
      .filter((r) => r.method !== 'ALL' && r.path !== '/openapi.json')
      .map((r) => `${r.method} ${r.path}`);
    expect(served.length).toBeGreaterThan(3);
    for (const route of served) expect(documented, route).toContain(route);
    expect(res.body.paths['/api/v1/auth/me'].get.security).toEqual([{ bearerAuth: [] }]);
  });

  it('documents the statuses the stack answers: 400/413/415/422 with a validated JSON body, 422 where a parameter can fail', async () => {
    const { body: doc } = await api('/openapi.json');
    const ops = Object.entries<Record<string, any>>(doc.paths).flatMap(([path, item]) => Object.entries<any>(item).map(([method, op]) => ({ path, method, op })));
    const withJsonBody = ops.filter((o) => o.op.requestBody?.content?.['application/json'] && o.path !== '/api/v1/mcp');
    expect(withJsonBody.length).toBeGreaterThan(80);
    for (const { path, method, op } of withJsonBody) {
      expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['400', '413', '415', '422']));
    }
    for (const o of ops.filter((o) => o.op.security)) expect(o.op.responses, `${o.method} ${o.path}`).toHaveProperty('401');
    // Parameters a request can fail: a bounded path id, paging, an enum query.
    expect(doc.paths['/api/v1/tools/{tool_id}'].get.responses).toHaveProperty('422');
    expect(doc.paths['/api/v1/platform/scenarios/{scenario_id}'].get.responses).toHaveProperty('422');
    expect(doc.paths['/api/v1/workflows/{workflow_id}/versions'].get.responses).toHaveProperty('422');
    expect(doc.paths['/api/v1/agent-market/{listing_id}/install'].delete.responses).toHaveProperty('422');
    // A plain id cannot fail validation (a path segment is never empty): an unknown id is 404.
    expect(doc.paths['/api/v1/agents/{agent_id}'].get.responses).not.toHaveProperty('422');
    const unknownTool = await api(`/api/v1/tools/${'x'.repeat(101)}`, { token: (await createUser('doc')).token });
    expectError(unknownTool, 422, 'VALIDATION_ERROR');
  });

  it('documents each SSE stream as its event types and their payloads', async () => {
    const { body: doc } = await api('/openapi.json');
    const eventsOf = (path: string) => {
      const schema = doc.paths[path].post.responses['200'].content['text/event-stream'].schema;
      const union = doc.components.schemas[schema.$ref.split('/').pop()];
      expect(union.description).toMatch(/Server-sent events/);
      return Object.keys(union.discriminator.mapping);
    };
    const chat = ['token', 'tool_call', 'tool_result', 'done', 'resumed', 'error'];
    expect(eventsOf('/api/v1/agent-chat/{agent_id}/stream')).toEqual(chat);
    expect(eventsOf('/api/v1/agent-chat/bare/stream')).toEqual(chat);
    expect(eventsOf('/api/v1/swarm/run/stream')).toEqual(['agent_started', 'token', 'agent_finished', 'done', 'error']);
    expect(eventsOf('/api/v1/knowledge-bases/{kb_id}/rag')).toEqual(['citations', 'token', 'done', 'error']);
    expect(eventsOf('/api/v1/openai/chat/completions')).toEqual(['message']);
    expect(doc.components.schemas.ChatDoneEvent.properties.data.properties.token_usage).toEqual({ $ref: '#/components/schemas/TokenUsage' });
  });

  it('the suite-wide response check finds undocumented statuses, bodies and events', async () => {
    const { body: doc } = await api('/openapi.json');
    const checker = new DocumentChecker(doc);
    const seen = (method: string, path: string, status: number, contentType: string, text: string) => checker.check({ method, path, status, contentType, text });
    expect(seen('get', '/api/v1/auth/me', 418, 'application/json', '{"error":"TEAPOT","message":"no"}')).toEqual([expect.stringContaining('status not documented')]);
    expect(seen('get', '/api/v1/auth/me', 200, 'application/json', '{"id":1}')).toEqual([expect.stringContaining('does not match the schema')]);
    expect(seen('get', '/api/v1/auth/me', 200, 'text/plain', 'hi')).toEqual([expect.stringContaining('content type text/plain not documented')]);
    expect(seen('get', '/api/v1/auth/me', 401, 'application/json', '{"error":"UNAUTHORIZED","message":"no"}')).toEqual([]);
    // Literal segments win over parameters, as in the router: /agent-chat/bare/stream, not /{agent_id}/stream.
    const stream = (events: string) => seen('post', '/api/v1/agent-chat/bare/stream', 200, 'text/event-stream; charset=utf-8', events);
    expect(stream('id: 1\nevent: token\ndata: {"text":"hi"}\n\n: ping\n\nid: 2\nevent: error\ndata: {"error":"LLM_ERROR","message":"down"}\n\n')).toEqual([]);
    expect(stream('id: 1\nevent: token\ndata: {"content":"hi"}\n\n')).toEqual([expect.stringContaining('event 1 (token)')]);
    expect(stream('id: 1\nevent: thinking\ndata: {}\n\n')).toEqual([expect.stringContaining('event 1 (thinking)')]);
    expect(seen('get', '/api/v1/no-such-route', 404, 'application/json', '{}')).toEqual([]);
  });

  it('serves Swagger UI from static assets', async () => {
    // Static assets are answered before the worker runs; the ASSETS binding is that same store.
    const res = await env.ASSETS!.fetch('http://localhost/docs/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger-initializer.js');
    const bundle = await env.ASSETS!.fetch('http://localhost/docs/vendor/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
  });
});

describe('module routers', () => {
  it('are mounted as route-table.ts lists them (regenerate it with `node scripts/route-table.mjs`)', async () => {
    expect(Object.keys(routeTable)).toEqual(modules.map(([prefix]) => prefix));
    for (const [prefix, load] of modules) {
      const rows: Array<[string, string, number]> = [];
      for (const { method, path } of (await load()).routes) {
        const last = rows.at(-1);
        if (last && last[0] === method && last[1] === path) last[2]++;
        else rows.push([method, path, 1]);
      }
      expect(rows, prefix).toEqual(routeTable[prefix]);
    }
  });

  it('are built on the first request under their prefix, on its own context', async () => {
    // Wrong method on a lazily mounted path: 405 with Allow, before and after the router is built.
    const wrong = await api('/api/v1/agent-market/x/install', { method: 'PATCH' });
    expectError(wrong, 405, 'METHOD_NOT_ALLOWED');
    expect(wrong.headers.get('Allow')).toBe('POST, DELETE');
    const { token } = await createUser('lazy');
    const list = await api('/api/v1/agents?page=1&page_size=5', { token });
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ items: [], total: 0, page: 1, page_size: 5 });
    // Path parameters and validators of the built router: a bad page size is the router's 422.
    expectError(await api('/api/v1/agents?page_size=1000', { token }), 422, 'VALIDATION_ERROR');
    expectError(await api('/api/v1/agents/no-such-agent', { token }), 404, 'NOT_FOUND');
    expectError(await api('/api/v1/agents/x', { method: 'PATCH', token }), 405, 'METHOD_NOT_ALLOWED');
  });
});

describe('pagination helper', () => {
  it('parses defaults and bounds', async () => {
    const { PaginationQuery, paginateArray } = await import('../src/lib/pagination');
    expect(PaginationQuery.parse({})).toEqual({ page: 1, page_size: 20 });
    expect(PaginationQuery.safeParse({ page_size: '101' }).success).toBe(false);
    expect(PaginationQuery.safeParse({ page: '0' }).success).toBe(false);
    const list = Array.from({ length: 45 }, (_, i) => i);
    expect(paginateArray(list, { page: 3, page_size: 20 })).toEqual({ items: [40, 41, 42, 43, 44], total: 45, page: 3, page_size: 20 });
  });
});
