import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveModelTarget } from '../../../src/runs/model-target';
import { api, createUser, expectError } from '../../support/helpers';

const KEY = 'sk-fake-0123456789';
const base = () => `${env.FAKE_BASE_URL}/openai/v1`;
type User = Awaited<ReturnType<typeof createUser>>;
let admin: User;

beforeAll(async () => {
  admin = await createUser('admin'); // the first user of this file's database is the admin
  expect(admin.role).toBe('admin');
});

const create = (u: User, body: Record<string, unknown>) => api('/api/v1/model-configs', { token: u.token, json: body });
const openaiBody = (extra: Record<string, unknown> = {}) => ({ name: 'Fake', provider: 'openai', model_name: 'gpt-fake', base_url: base(), api_key: KEY, ...extra });

describe('POST /model-configs', () => {
  it('creates a config, encrypts the key at rest and only ever returns it masked', async () => {
    const u = await createUser();
    const res = await create(u, openaiBody({ temperature: 0.4, max_tokens: 256, owner_id: admin.id, id: 'x' }));
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ name: 'Fake', provider: 'openai', model_name: 'gpt-fake', base_url: base(), api_key: 'sk-…6789', temperature: 0.4, max_tokens: 256, is_default: false, is_system: false, owner_id: u.id });
    expect(res.body.id).not.toBe('x');
    expect(res.text).not.toContain(KEY);
    const row = await env.DB.prepare('SELECT * FROM model_configs WHERE id = ?').bind(res.body.id).first<Record<string, string>>();
    expect(row!.api_key_encrypted).toMatch(/^v1:/);
    expect(JSON.stringify(row)).not.toContain(KEY);
    const again = await api(`/api/v1/model-configs/${res.body.id}`, { token: u.token });
    expect(again.body.api_key).toBe('sk-…6789');
    expect(again.text).not.toContain(KEY);
  });

  it('422 for invalid fields, an unknown provider, and private or misplaced base URLs', async () => {
    const u = await createUser();
    expect(expectError(await create(u, { ...openaiBody(), provider: 'skynet' }), 422, 'VALIDATION_ERROR').message).toContain('body.provider');
    expect(expectError(await create(u, { name: 'x', provider: 'mock' }), 422).message).toContain('body.model_name');
    expect(expectError(await create(u, openaiBody({ temperature: 3 })), 422).message).toContain('body.temperature');
    expect(expectError(await create(u, openaiBody({ base_url: 'http://169.254.169.254/v1' })), 422).message).toMatch(/body\.base_url: .*blocked/);
    expect(expectError(await create(u, openaiBody({ base_url: 'http://localhost:11434/v1' })), 422).message).toContain('body.base_url');
    expect(expectError(await create(u, { name: 'm', provider: 'mock', model_name: 'mock-1', base_url: 'https://example.com' }), 422).message).toContain('body.base_url');
  });

  it('401 without a token', async () => {
    expectError(await api('/api/v1/model-configs', { json: openaiBody() }), 401, 'UNAUTHORIZED');
    expectError(await api('/api/v1/model-configs'), 401, 'UNAUTHORIZED');
  });

  it('keeps one default per user: a new default replaces the old one', async () => {
    const u = await createUser();
    const a = await create(u, { name: 'a', provider: 'mock', model_name: 'mock-1', is_default: true });
    const b = await create(u, { name: 'b', provider: 'mock', model_name: 'mock-2', is_default: true });
    expect(b.body.is_default).toBe(true);
    expect((await api(`/api/v1/model-configs/${a.body.id}`, { token: u.token })).body.is_default).toBe(false);
    const { n } = (await env.DB.prepare('SELECT count(*) AS n FROM model_configs WHERE owner_id = ? AND is_default = 1').bind(u.id).first<{ n: number }>())!;
    expect(n).toBe(1);
    // Another user's default is untouched.
    const other = await createUser();
    await create(other, { name: 'c', provider: 'mock', model_name: 'mock-1', is_default: true });
    expect((await api(`/api/v1/model-configs/${b.body.id}`, { token: u.token })).body.is_default).toBe(true);
  });

  it('only admins create system-wide configs, which everyone sees but only admins change', async () => {
    const u = await createUser();
    expectError(await create(u, { name: 's', provider: 'mock', model_name: 'mock-1', is_system: true }), 403, 'FORBIDDEN');
    const sys = await create(admin, { name: 'Shared', provider: 'mock', model_name: 'mock-1', is_system: true });
    expect(sys.status).toBe(201);
    expect(sys.body.is_system).toBe(true);
    const list = await api('/api/v1/model-configs?page_size=100', { token: u.token });
    expect(list.body.items.map((c: { id: string }) => c.id)).toContain(sys.body.id);
    expect((await api(`/api/v1/model-configs/${sys.body.id}`, { token: u.token })).status).toBe(200);
    expectError(await api(`/api/v1/model-configs/${sys.body.id}`, { token: u.token, method: 'PUT', json: { name: 'mine' } }), 403, 'FORBIDDEN');
    expectError(await api(`/api/v1/model-configs/${sys.body.id}`, { token: u.token, method: 'DELETE' }), 403, 'FORBIDDEN');
    const renamed = await api(`/api/v1/model-configs/${sys.body.id}`, { token: admin.token, method: 'PUT', json: { name: 'Shared 2' } });
    expect(renamed.body.name).toBe('Shared 2');
  });
});

describe('GET /model-configs', () => {
  it('lists own and system configs, never other users’, paginated', async () => {
    const u = await createUser();
    const other = await createUser();
    for (let i = 0; i < 3; i++) await create(u, { name: `mine ${i}`, provider: 'mock', model_name: 'mock-1' });
    const theirs = await create(other, { name: 'theirs', provider: 'mock', model_name: 'mock-1' });
    const { n: systemCount } = (await env.DB.prepare('SELECT count(*) AS n FROM model_configs WHERE is_system = 1').first<{ n: number }>())!;
    const page = await api('/api/v1/model-configs?page=1&page_size=2', { token: u.token });
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ total: 3 + systemCount, page: 1, page_size: 2 });
    expect(page.body.items).toHaveLength(2);
    const all = await api('/api/v1/model-configs?page_size=100', { token: u.token });
    expect(all.body.items.map((c: { id: string }) => c.id)).not.toContain(theirs.body.id);
    expect(all.body.items.every((c: { owner_id: string; is_system: boolean }) => c.owner_id === u.id || c.is_system)).toBe(true);
    expectError(await api('/api/v1/model-configs?page_size=500', { token: u.token }), 422);
  });
});

describe('GET/PUT/DELETE /model-configs/{id}', () => {
  it('404 for another user’s config and for unknown ids', async () => {
    const u = await createUser();
    const other = await createUser();
    const c = await create(u, openaiBody());
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const init = { token: other.token, method, ...(method === 'PUT' ? { json: { name: 'x' } } : {}) };
      expectError(await api(`/api/v1/model-configs/${c.body.id}`, init), 404, 'NOT_FOUND');
    }
    expectError(await api(`/api/v1/model-configs/${c.body.id}/test`, { token: other.token, method: 'POST' }), 404);
    expectError(await api(`/api/v1/model-configs/${crypto.randomUUID()}`, { token: u.token }), 404, 'NOT_FOUND');
    expectError(await api(`/api/v1/model-configs/${c.body.id}`, { method: 'PUT', json: { name: 'x' } }), 401);
  });

  it('updates fields; the key is kept when absent, replaced when given, removed with null', async () => {
    const u = await createUser();
    const c = await create(u, openaiBody());
    const renamed = await api(`/api/v1/model-configs/${c.body.id}`, { token: u.token, method: 'PUT', json: { name: 'Renamed', temperature: 1.1, owner_id: admin.id } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Renamed', temperature: 1.1, api_key: 'sk-…6789', owner_id: u.id, model_name: 'gpt-fake' });
    const rekeyed = await api(`/api/v1/model-configs/${c.body.id}`, { token: u.token, method: 'PUT', json: { api_key: 'sk-new-key-99998888' } });
    expect(rekeyed.body.api_key).toBe('sk-…8888');
    const resolved = await resolveModelTarget(env, u.id, { model_config_id: c.body.id });
    expect(resolved.api_key).toBe('sk-new-key-99998888');
    const cleared = await api(`/api/v1/model-configs/${c.body.id}`, { token: u.token, method: 'PUT', json: { api_key: null } });
    expect(cleared.body.api_key).toBeNull();
    const row = await env.DB.prepare('SELECT api_key_encrypted FROM model_configs WHERE id = ?').bind(c.body.id).first<{ api_key_encrypted: string | null }>();
    expect(row!.api_key_encrypted).toBeNull();
    expectError(await api(`/api/v1/model-configs/${c.body.id}`, { token: u.token, method: 'PUT', json: { base_url: 'http://10.0.0.1/v1' } }), 422);
    expectError(await api(`/api/v1/model-configs/${c.body.id}`, { token: u.token, method: 'PUT', json: { max_tokens: 0 } }), 422);
  });

  it('deletes', async () => {
    const u = await createUser();
    const c = await create(u, openaiBody());
    const res = await api(`/api/v1/model-configs/${c.body.id}`, { token: u.token, method: 'DELETE' });
    expect(res.status).toBe(204);
    expectError(await api(`/api/v1/model-configs/${c.body.id}`, { token: u.token }), 404);
    expect(await env.DB.prepare('SELECT id FROM model_configs WHERE id = ?').bind(c.body.id).first()).toBeNull();
  });
});

describe('POST /model-configs/{id}/test', () => {
  it('makes a real call: ok with latency, recorded in llm_calls', async () => {
    const u = await createUser();
    const c = await create(u, openaiBody());
    const res = await api(`/api/v1/model-configs/${c.body.id}/test`, { token: u.token, method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, error: null });
    expect(res.body.latency_ms).toBeGreaterThanOrEqual(0);
    const call = await env.DB.prepare("SELECT * FROM llm_calls WHERE user_id = ? AND source = 'model-config-test'").bind(u.id).first<Record<string, unknown>>();
    expect(call).toMatchObject({ provider: 'openai', model: 'gpt-fake', status: 'ok', prompt_tokens: 11, completion_tokens: 7 });
  });

  it('reports the upstream error for a wrong key, and 503-style errors for workers-ai without its binding', async () => {
    const u = await createUser();
    const bad = await create(u, openaiBody({ api_key: 'sk-wrong-key-0000' }));
    const res = await api(`/api/v1/model-configs/${bad.body.id}/test`, { token: u.token, method: 'POST' });
    expect(res.body.ok).toBe(false);
    expect(res.body.error).toContain('Incorrect API key provided');
    const wai = await create(u, { name: 'w', provider: 'workers-ai', model_name: '@cf/meta/llama-3.1-8b-instruct' });
    const w = await api(`/api/v1/model-configs/${wai.body.id}/test`, { token: u.token, method: 'POST' });
    expect(w.body).toMatchObject({ ok: false });
    expect(w.body.error).toContain('AI binding');
  });
});

describe('model resolution for agents', () => {
  it('falls back from the agent’s config to the user default, the system default, then the environment', async () => {
    const u = await createUser();
    expect(await resolveModelTarget(env, u.id, null)).toMatchObject({ provider: 'mock', model_name: 'mock-1' });
    expect(await resolveModelTarget(env, u.id, { provider: 'mock', model_name: 'mock-x', temperature: 0.2 })).toEqual({ provider: 'mock', model_name: 'mock-x', temperature: 0.2 });
    await expect(resolveModelTarget(env, u.id, { provider: 'openai', model_name: 'gpt-fake' })).rejects.toMatchObject({ status: 422 });
    const own = await create(u, openaiBody({ is_default: true, max_tokens: 100 }));
    expect(await resolveModelTarget(env, u.id, {})).toEqual({ provider: 'openai', model_name: 'gpt-fake', base_url: base(), api_key: KEY, max_tokens: 100 });
    // provider openai without an id borrows the stored openai config's URL and key.
    expect(await resolveModelTarget(env, u.id, { provider: 'openai', model_name: 'other-model', max_tokens: 5 })).toMatchObject({ model_name: 'other-model', api_key: KEY, max_tokens: 5 });
    const other = await createUser();
    await expect(resolveModelTarget(env, other.id, { model_config_id: own.body.id })).rejects.toMatchObject({ status: 422 });
  });
});
