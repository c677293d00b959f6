import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../src/app';
import { builtinTools } from '../src/engine/tools/registry';
import { api, createUser, expectError } from './support/helpers';

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
