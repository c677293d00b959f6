import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAgent } from '../../../src/modules/agents/agents/service';
import { delegationTools } from '../../../src/runs/agents';
import { api, createUser, expectError } from '../../support/helpers';

type User = Awaited<ReturnType<typeof createUser>>;
let admin: User;

beforeAll(async () => {
  admin = await createUser('admin'); // the first user of this file's database is the admin
  expect(admin.role).toBe('admin');
});

const workflow = {
  nodes: [
    { id: 'start', type: 'start', label: '开始', position: { x: 0, y: 0 } },
    { id: 'agent', type: 'agent', label: '智能体' },
    { id: 'end', type: 'end', label: '结束' },
  ],
  edges: [
    { source: 'start', target: 'agent' },
    { source: 'agent', target: 'end' },
  ],
};

const spec = (extra: Record<string, unknown> = {}) => ({
  name: '智能体名称',
  description: '描述',
  system_prompt: '系统提示词...',
  model_config: { provider: 'mock', model_name: 'mock-1', temperature: 0.8 },
  iteration_limit: 15,
  include_tools: [],
  workflow_config: workflow,
  ...extra,
});

async function createAgent(u: User, extra: Record<string, unknown> = {}) {
  const res = await api('/api/v1/agents', { token: u.token, json: spec(extra) });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const count = async (sql: string, ...binds: unknown[]) => (await env.DB.prepare(sql).bind(...binds).first<{ n: number }>())!.n;

describe('POST /agents', () => {
  it('creates a draft at version 1 with the spec’s fields, and keeps version 1', async () => {
    const u = await createUser();
    const res = await api('/api/v1/agents', { token: u.token, json: { ...spec(), id: 'mine', owner_id: admin.id, version: 7, status: 'deployed', is_main_agent: true } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      owner_id: u.id,
      name: '智能体名称',
      description: '描述',
      system_prompt: '系统提示词...',
      model_config: { provider: 'mock', model_name: 'mock-1', temperature: 0.8 },
      iteration_limit: 15,
      include_tools: [],
      workflow_config: workflow,
      status: 'draft',
      version: 1,
      is_main_agent: false,
      sub_agent_ids: [],
    });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const v = await env.DB.prepare('SELECT * FROM agent_versions WHERE agent_id = ?').bind(res.body.id).all<{ version: number; snapshot: string }>();
    expect(v.results).toHaveLength(1);
    expect(v.results[0].version).toBe(1);
    expect(JSON.parse(v.results[0].snapshot)).toMatchObject({ name: '智能体名称', include_tools: [], workflow_config: workflow, is_main_agent: false });
  });

  it('applies defaults: iteration_limit 15, no tools, no workflow, no model config', async () => {
    const u = await createUser();
    const res = await api('/api/v1/agents', { token: u.token, json: { name: 'minimal' } });
    expect(res.body).toMatchObject({ iteration_limit: 15, include_tools: [], workflow_config: null, model_config: null, description: '', system_prompt: '' });
  });

  it('422 naming the field for invalid input', async () => {
    const u = await createUser();
    const bad = async (body: Record<string, unknown>, field: string | RegExp) => {
      const e = expectError(await api('/api/v1/agents', { token: u.token, json: body }), 422, 'VALIDATION_ERROR');
      expect(e.message).toMatch(field);
    };
    await bad({ description: 'no name' }, 'body.name');
    await bad(spec({ name: '   ' }), 'body.name');
    await bad(spec({ iteration_limit: 0 }), 'body.iteration_limit');
    await bad(spec({ iteration_limit: 101 }), 'body.iteration_limit');
    await bad(spec({ model_config: { provider: 'skynet' } }), 'body.model_config.provider');
    await bad(spec({ model_config: { model_config_id: crypto.randomUUID() } }), /body\.model_config\.model_config_id: .*not found/);
    await bad(spec({ include_tools: ['no_such_tool'] }), /body\.include_tools: unknown tool "no_such_tool"/);
    const ghost = crypto.randomUUID();
    await bad(spec({ include_tools: [ghost, 'nope'] }), new RegExp(`unknown tools .*"nope".*"${ghost}"|unknown tools .*"${ghost}".*"nope"`));
    await bad(spec({ include_tools: ['a', 'a'] }), 'body.include_tools');
    await bad(spec({ workflow_config: { nodes: [{ id: 's', type: 'start' }, { id: 's', type: 'end' }], edges: [] } }), /body\.workflow_config\.nodes\.1\.id: duplicate node id "s"/);
    await bad(spec({ workflow_config: { nodes: [{ id: 's', type: 'start' }], edges: [{ source: 's', target: 'ghost' }] } }), /body\.workflow_config\.edges\.0\.target: no node with id "ghost"/);
    await bad(spec({ workflow_config: { nodes: [{ id: 'a', type: 'agent' }], edges: [] } }), /exactly one start node, found 0/);
    await bad(spec({ workflow_config: { nodes: [{ id: 'a', type: 'start' }, { id: 'b', type: 'start' }], edges: [] } }), /exactly one start node, found 2/);
    expect(await count('SELECT count(*) AS n FROM agents WHERE owner_id = ?', u.id)).toBe(0);
  });

  it('401 without a token', async () => {
    expectError(await api('/api/v1/agents', { json: spec() }), 401, 'UNAUTHORIZED');
  });
});

describe('GET /agents', () => {
  it('paginates the caller’s agents newest first; admins see everyone’s', async () => {
    const u = await createUser();
    const other = await createUser();
    for (let i = 0; i < 5; i++) await createAgent(u, { name: `page agent ${i}` });
    const theirs = await createAgent(other, { name: 'not yours' });
    const p1 = await api('/api/v1/agents?page=1&page_size=2', { token: u.token });
    expect(p1.status).toBe(200);
    expect(p1.body).toMatchObject({ total: 5, page: 1, page_size: 2 });
    expect(p1.body.items.map((a: { name: string }) => a.name)).toEqual(['page agent 4', 'page agent 3']);
    const p3 = await api('/api/v1/agents?page=3&page_size=2', { token: u.token });
    expect(p3.body.items.map((a: { name: string }) => a.name)).toEqual(['page agent 0']);
    const everyone = await api('/api/v1/agents?page_size=100', { token: admin.token });
    expect(everyone.body.items.map((a: { id: string }) => a.id)).toContain(theirs.id);
    expect(everyone.body.total).toBe(await count('SELECT count(*) AS n FROM agents'));
  });

  it('searches name and description literally and filters by status', async () => {
    const u = await createUser();
    const a = await createAgent(u, { name: 'Weather bot', description: 'forecasts' });
    const b = await createAgent(u, { name: 'Helper', description: 'knows the WEATHER' });
    await createAgent(u, { name: '100% sure', description: '' });
    await createAgent(u, { name: 'Other', description: 'nothing' });
    const found = await api('/api/v1/agents?search=weather', { token: u.token });
    expect(found.body.items.map((x: { id: string }) => x.id).sort()).toEqual([a.id, b.id].sort());
    const pct = await api(`/api/v1/agents?search=${encodeURIComponent('0%')}`, { token: u.token });
    expect(pct.body.items.map((x: { name: string }) => x.name)).toEqual(['100% sure']);
    await api(`/api/v1/agents/${a.id}/deploy`, { token: u.token, method: 'POST' });
    const deployed = await api('/api/v1/agents?status=deployed', { token: u.token });
    expect(deployed.body.items.map((x: { id: string }) => x.id)).toEqual([a.id]);
    expect((await api('/api/v1/agents?status=draft', { token: u.token })).body.total).toBe(3);
    expectError(await api('/api/v1/agents?status=running', { token: u.token }), 422);
    expectError(await api('/api/v1/agents?page=0', { token: u.token }), 422);
    expectError(await api('/api/v1/agents'), 401);
  });
});

describe('GET /agents/{id}', () => {
  it('answers the owner and admins; 404 for others and unknown ids', async () => {
    const u = await createUser();
    const other = await createUser();
    const a = await createAgent(u);
    expect((await api(`/api/v1/agents/${a.id}`, { token: u.token })).body).toEqual(a);
    expect((await api(`/api/v1/agents/${a.id}`, { token: admin.token })).status).toBe(200);
    expectError(await api(`/api/v1/agents/${a.id}`, { token: other.token }), 404, 'NOT_FOUND');
    expectError(await api(`/api/v1/agents/${crypto.randomUUID()}`, { token: u.token }), 404, 'NOT_FOUND');
    expectError(await api(`/api/v1/agents/${a.id}`), 401);
  });
});

describe('PUT /agents/{id}', () => {
  it('replaces the fields sent, keeps the rest, bumps the version and keeps every version', async () => {
    const u = await createUser();
    const a = await createAgent(u);
    const r1 = await api(`/api/v1/agents/${a.id}`, { token: u.token, method: 'PUT', json: { system_prompt: 'v2 prompt', version: 99, owner_id: admin.id, status: 'deployed' } });
    expect(r1.status, r1.text).toBe(200);
    expect(r1.body).toMatchObject({ version: 2, system_prompt: 'v2 prompt', name: a.name, model_config: a.model_config, owner_id: u.id, status: 'draft' });
    const r2 = await api(`/api/v1/agents/${a.id}`, { token: u.token, method: 'PUT', json: { iteration_limit: 3, workflow_config: null, model_config: null } });
    expect(r2.body).toMatchObject({ version: 3, iteration_limit: 3, workflow_config: null, model_config: null, system_prompt: 'v2 prompt' });
    const versions = await env.DB.prepare('SELECT version, snapshot FROM agent_versions WHERE agent_id = ? ORDER BY version').bind(a.id).all<{ version: number; snapshot: string }>();
    expect(versions.results.map((v) => v.version)).toEqual([1, 2, 3]);
    const snaps = versions.results.map((v) => JSON.parse(v.snapshot));
    expect(snaps[0].system_prompt).toBe('系统提示词...');
    expect(snaps[1]).toMatchObject({ system_prompt: 'v2 prompt', iteration_limit: 15, workflow_config: workflow });
    expect(snaps[2]).toMatchObject({ iteration_limit: 3, workflow_config: null, model_config: null });
  });

  it('concurrent updates never lose a version number', async () => {
    const u = await createUser();
    const a = await createAgent(u);
    const n = 8;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => api(`/api/v1/agents/${a.id}`, { token: u.token, method: 'PUT', json: { description: `writer ${i}` } })),
    );
    for (const r of results) expect(r.status, r.text).toBe(200);
    expect((await loadAgent(env, a.id))!.version).toBe(n + 1);
    const versions = await env.DB.prepare('SELECT version, snapshot FROM agent_versions WHERE agent_id = ? ORDER BY version').bind(a.id).all<{ version: number; snapshot: string }>();
    expect(versions.results.map((v) => v.version)).toEqual(Array.from({ length: n + 1 }, (_, i) => i + 1));
    // Every writer's description landed in exactly one version.
    const descriptions = versions.results.slice(1).map((v) => JSON.parse(v.snapshot).description).sort();
    expect(descriptions).toEqual(Array.from({ length: n }, (_, i) => `writer ${i}`).sort());
  });

  it('422 for invalid fields, 404 for others’ and unknown agents', async () => {
    const u = await createUser();
    const other = await createUser();
    const a = await createAgent(u);
    expect(expectError(await api(`/api/v1/agents/${a.id}`, { token: u.token, method: 'PUT', json: { iteration_limit: 500 } }), 422).message).toContain('body.iteration_limit');
    expect(expectError(await api(`/api/v1/agents/${a.id}`, { token: u.token, method: 'PUT', json: { include_tools: ['ghost_tool'] } }), 422).message).toContain('ghost_tool');
    expectError(await api(`/api/v1/agents/${a.id}`, { token: other.token, method: 'PUT', json: { name: 'hijack' } }), 404, 'NOT_FOUND');
    expectError(await api(`/api/v1/agents/${crypto.randomUUID()}`, { token: u.token, method: 'PUT', json: { name: 'x' } }), 404);
    expectError(await api(`/api/v1/agents/${a.id}`, { method: 'PUT', json: { name: 'x' } }), 401);
    expect((await loadAgent(env, a.id))!.version).toBe(1);
    // Admins may edit anyone's agent.
    expect((await api(`/api/v1/agents/${a.id}`, { token: admin.token, method: 'PUT', json: { name: 'by admin' } })).body).toMatchObject({ name: 'by admin', owner_id: u.id, version: 2 });
  });
});

describe('DELETE /agents/{id}', () => {
  it('removes the agent with its versions, sessions and messages, atomically', async () => {
    const u = await createUser();
    const a = await createAgent(u);
    const keep = await createAgent(u, { name: 'keep' });
    await api(`/api/v1/agents/${a.id}`, { token: u.token, method: 'PUT', json: { name: 'v2' } });
    const sessions = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    await env.DB.batch([
      env.DB.prepare("INSERT INTO chat_sessions (id, user_id, agent_id, kind) VALUES (?, ?, ?, 'chat')").bind(sessions[0], u.id, a.id),
      env.DB.prepare("INSERT INTO chat_sessions (id, user_id, agent_id, kind) VALUES (?, ?, ?, 'preview')").bind(sessions[1], u.id, a.id),
      env.DB.prepare("INSERT INTO chat_sessions (id, user_id, agent_id, kind) VALUES (?, ?, ?, 'chat')").bind(sessions[2], u.id, keep.id),
      ...sessions.map((s) => env.DB.prepare("INSERT INTO chat_messages (id, session_id, seq, role, content) VALUES (?, ?, 1, 'user', 'hi')").bind(crypto.randomUUID(), s)),
    ]);
    const res = await api(`/api/v1/agents/${a.id}`, { token: u.token, method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await count('SELECT count(*) AS n FROM agents WHERE id = ?', a.id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM agent_versions WHERE agent_id = ?', a.id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM chat_sessions WHERE agent_id = ?', a.id)).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM chat_messages WHERE session_id IN (?, ?)`, sessions[0], sessions[1])).toBe(0);
    // Another agent's data is untouched.
    expect(await count('SELECT count(*) AS n FROM chat_messages WHERE session_id = ?', sessions[2])).toBe(1);
    expect(await count('SELECT count(*) AS n FROM agent_versions WHERE agent_id = ?', keep.id)).toBe(1);
    expectError(await api(`/api/v1/agents/${a.id}`, { token: u.token }), 404);
    expectError(await api(`/api/v1/agents/${a.id}`, { token: u.token, method: 'DELETE' }), 404);
  });

  it('others get 404 and nothing is deleted; admins may delete; main agents stop delegating to it', async () => {
    const u = await createUser();
    const other = await createUser();
    const sub = await createAgent(u, { name: 'sub' });
    const sub2 = await createAgent(u, { name: 'sub2' });
    const main = await createAgent(u, { name: 'main' });
    await api(`/api/v1/agents/${main.id}/create-main-agent`, { token: u.token, json: { sub_agent_ids: [sub.id, sub2.id] } });
    expectError(await api(`/api/v1/agents/${sub.id}`, { token: other.token, method: 'DELETE' }), 404, 'NOT_FOUND');
    expectError(await api(`/api/v1/agents/${sub.id}`, { method: 'DELETE' }), 401);
    expect(await loadAgent(env, sub.id)).not.toBeNull();
    expect((await api(`/api/v1/agents/${sub.id}`, { token: admin.token, method: 'DELETE' })).status).toBe(204);
    expect((await loadAgent(env, main.id))!.sub_agent_ids).toEqual([sub2.id]);
  });
});

describe('deploy and stop', () => {
  it('draft → deployed → stopped → deployed; wrong transitions are 409', async () => {
    const u = await createUser();
    const a = await createAgent(u);
    const post = (path: string, token = u.token) => api(`/api/v1/agents/${a.id}/${path}`, { token, method: 'POST' });
    expectError(await post('stop'), 409, 'CONFLICT');
    expect((await post('deploy')).body).toMatchObject({ status: 'deployed', version: 1 });
    expectError(await post('deploy'), 409, 'CONFLICT');
    expect((await post('stop')).body.status).toBe('stopped');
    expect((await loadAgent(env, a.id))!.status).toBe('stopped');
    expectError(await post('stop'), 409);
    expect((await post('deploy')).body.status).toBe('deployed');
  });

  it('422 listing why an agent cannot run', async () => {
    const u = await createUser();
    const noCreds = await createAgent(u, { model_config: { provider: 'openai', model_name: 'deepseek-v4-pro' } });
    const e1 = expectError(await api(`/api/v1/agents/${noCreds.id}/deploy`, { token: u.token, method: 'POST' }), 422, 'VALIDATION_ERROR');
    expect(e1.message).toMatch(/cannot be deployed: model_config: the openai provider needs a stored model config/);
    const wai = await createAgent(u, { model_config: { provider: 'workers-ai' } });
    expect(expectError(await api(`/api/v1/agents/${wai.id}/deploy`, { token: u.token, method: 'POST' }), 422).message).toContain('AI binding');
    // A config deleted after the agent was saved.
    const cfg = await api('/api/v1/model-configs', { token: u.token, json: { name: 'tmp', provider: 'mock', model_name: 'mock-1' } });
    const gone = await createAgent(u, { model_config: { model_config_id: cfg.body.id } });
    await api(`/api/v1/model-configs/${cfg.body.id}`, { token: u.token, method: 'DELETE' });
    expect(expectError(await api(`/api/v1/agents/${gone.id}/deploy`, { token: u.token, method: 'POST' }), 422).message).toContain(cfg.body.id);
    expect((await loadAgent(env, noCreds.id))!.status).toBe('draft');
  });

  it('deploys an openai agent whose stored config has credentials', async () => {
    const u = await createUser();
    const cfg = await api('/api/v1/model-configs', { token: u.token, json: { name: 'fake', provider: 'openai', model_name: 'gpt-fake', base_url: `${env.FAKE_BASE_URL}/openai/v1`, api_key: 'sk-fake-0123456789' } });
    const a = await createAgent(u, { model_config: { model_config_id: cfg.body.id, temperature: 0.1 } });
    expect((await api(`/api/v1/agents/${a.id}/deploy`, { token: u.token, method: 'POST' })).body.status).toBe('deployed');
  });

  it('404 for others and unknown agents, 401 without a token', async () => {
    const u = await createUser();
    const other = await createUser();
    const a = await createAgent(u);
    for (const path of ['deploy', 'stop']) {
      expectError(await api(`/api/v1/agents/${a.id}/${path}`, { token: other.token, method: 'POST' }), 404);
      expectError(await api(`/api/v1/agents/${crypto.randomUUID()}/${path}`, { token: u.token, method: 'POST' }), 404);
      expectError(await api(`/api/v1/agents/${a.id}/${path}`, { method: 'POST' }), 401);
    }
    expect((await loadAgent(env, a.id))!.status).toBe('draft');
  });
});

describe('POST /agents/{id}/duplicate', () => {
  it('deep-copies into a new draft at version 1, named as a copy', async () => {
    const u = await createUser();
    const a = await createAgent(u, { name: 'Original' });
    await api(`/api/v1/agents/${a.id}`, { token: u.token, method: 'PUT', json: { system_prompt: 'edited' } });
    await api(`/api/v1/agents/${a.id}/deploy`, { token: u.token, method: 'POST' });
    const res = await api(`/api/v1/agents/${a.id}/duplicate`, { token: u.token, method: 'POST' });
    expect(res.status, res.text).toBe(201);
    expect(res.body.id).not.toBe(a.id);
    expect(res.body).toMatchObject({ name: 'Original (copy)', status: 'draft', version: 1, owner_id: u.id, system_prompt: 'edited', model_config: a.model_config, include_tools: a.include_tools, workflow_config: workflow });
    expect(await count('SELECT count(*) AS n FROM agent_versions WHERE agent_id = ?', res.body.id)).toBe(1);
    // The copy is independent of the original.
    await api(`/api/v1/agents/${res.body.id}`, { token: u.token, method: 'PUT', json: { name: 'changed copy' } });
    expect((await loadAgent(env, a.id))!.name).toBe('Original');
  });

  it('404 for others and unknown agents', async () => {
    const u = await createUser();
    const other = await createUser();
    const a = await createAgent(u);
    expectError(await api(`/api/v1/agents/${a.id}/duplicate`, { token: other.token, method: 'POST' }), 404);
    expectError(await api(`/api/v1/agents/${crypto.randomUUID()}/duplicate`, { token: u.token, method: 'POST' }), 404);
    expectError(await api(`/api/v1/agents/${a.id}/duplicate`, { method: 'POST' }), 401);
    expect(await count('SELECT count(*) AS n FROM agents WHERE owner_id = ?', other.id)).toBe(0);
  });
});

describe('export and import', () => {
  it('exports a self-contained document without ids or secrets; export → import → export round-trips', async () => {
    const u = await createUser();
    const importer = await createUser();
    const cfg = await api('/api/v1/model-configs', { token: u.token, json: { name: 'fake', provider: 'openai', model_name: 'gpt-fake', base_url: `${env.FAKE_BASE_URL}/openai/v1`, api_key: 'sk-fake-0123456789', max_tokens: 300 } });
    const a = await createAgent(u, { model_config: { model_config_id: cfg.body.id, temperature: 0.5 } });
    const exported = await api(`/api/v1/agents/${a.id}/export`, { token: u.token });
    expect(exported.status).toBe(200);
    const doc = exported.body;
    expect(doc).toMatchObject({
      format: 'tiangong.agent',
      format_version: 1,
      agent: {
        name: a.name,
        description: a.description,
        system_prompt: a.system_prompt,
        model_config: { provider: 'openai', model_name: 'gpt-fake', temperature: 0.5, max_tokens: 300 },
        iteration_limit: 15,
        include_tools: [],
        workflow_config: workflow,
      },
    });
    expect(exported.text).not.toContain(a.id);
    expect(exported.text).not.toContain(u.id);
    expect(exported.text).not.toContain(cfg.body.id);
    expect(exported.text).not.toContain('sk-fake');
    expect(exported.text).not.toContain('base_url');

    const imported = await api('/api/v1/agents/import', { token: importer.token, json: doc });
    expect(imported.status, imported.text).toBe(201);
    expect(imported.body).toMatchObject({ owner_id: importer.id, status: 'draft', version: 1, name: a.name });
    expect(imported.body.id).not.toBe(a.id);
    const again = await api(`/api/v1/agents/${imported.body.id}/export`, { token: importer.token });
    const strip = (d: Record<string, unknown>) => ({ ...d, exported_at: undefined });
    expect(strip(again.body)).toEqual(strip(doc));
  });

  it('import validates the document: format, version, fields and tools', async () => {
    const u = await createUser();
    const doc = { format: 'tiangong.agent', format_version: 1, agent: { name: 'Imported' } };
    const ok = await api('/api/v1/agents/import', { token: u.token, json: doc });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ iteration_limit: 15, include_tools: [], model_config: null, workflow_config: null });
    expect(expectError(await api('/api/v1/agents/import', { token: u.token, json: { ...doc, format_version: 2 } }), 422).message).toContain('body.format_version');
    expect(expectError(await api('/api/v1/agents/import', { token: u.token, json: { ...doc, format: 'dify' } }), 422).message).toContain('body.format');
    expect(expectError(await api('/api/v1/agents/import', { token: u.token, json: { ...doc, agent: { name: 'x', iteration_limit: 0 } } }), 422).message).toContain('body.agent.iteration_limit');
    expect(expectError(await api('/api/v1/agents/import', { token: u.token, json: { ...doc, agent: { name: 'x', include_tools: ['made_up'] } } }), 422).message).toMatch(/body\.agent\.include_tools: unknown tool "made_up"/);
    expectError(await api('/api/v1/agents/import', { json: doc }), 401);
  });

  it('export: 404 for others and unknown agents', async () => {
    const u = await createUser();
    const other = await createUser();
    const a = await createAgent(u);
    expectError(await api(`/api/v1/agents/${a.id}/export`, { token: other.token }), 404);
    expectError(await api(`/api/v1/agents/${crypto.randomUUID()}/export`, { token: u.token }), 404);
    expectError(await api(`/api/v1/agents/${a.id}/export`), 401);
  });
});

describe('POST /agents/{id}/create-main-agent', () => {
  it('promotes the agent, records a version and offers one delegation tool per sub-agent', async () => {
    const u = await createUser();
    const main = await createAgent(u, { name: 'boss' });
    const s1 = await createAgent(u, { name: 'researcher', description: 'finds facts' });
    const s2 = await createAgent(u, { name: 'writer' });
    const res = await api(`/api/v1/agents/${main.id}/create-main-agent`, { token: u.token, json: { sub_agent_ids: [s1.id, s2.id] } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ is_main_agent: true, sub_agent_ids: [s1.id, s2.id], version: 2 });
    const snap = await env.DB.prepare('SELECT snapshot FROM agent_versions WHERE agent_id = ? AND version = 2').bind(main.id).first<{ snapshot: string }>();
    expect(JSON.parse(snap!.snapshot)).toMatchObject({ is_main_agent: true, sub_agent_ids: [s1.id, s2.id] });
    const tools = await delegationTools(env.DB, res.body);
    expect(tools.map((t) => t.agent_id)).toEqual([s1.id, s2.id]);
    expect(tools[0].name).toMatch(/^delegate_[0-9a-f]{32}$/);
    expect(tools[0].description).toContain('researcher');
    expect(tools[0].parameters).toMatchObject({ required: ['task'] });
  });

  it('422 for itself, others’ agents, unknown ids and main agents as sub-agents', async () => {
    const u = await createUser();
    const other = await createUser();
    const main = await createAgent(u);
    const sub = await createAgent(u);
    const foreign = await createAgent(other);
    const post = (ids: unknown) => api(`/api/v1/agents/${main.id}/create-main-agent`, { token: u.token, json: { sub_agent_ids: ids } });
    expect(expectError(await post([main.id]), 422).message).toContain('itself');
    expect(expectError(await post([sub.id, foreign.id]), 422).message).toContain(foreign.id);
    expect(expectError(await post([crypto.randomUUID()]), 422).message).toContain('not agents of yours');
    expect(expectError(await post([]), 422).message).toContain('body.sub_agent_ids');
    expect(expectError(await post(['not-a-uuid']), 422).message).toContain('body.sub_agent_ids');
    const other2 = await createAgent(u);
    await api(`/api/v1/agents/${other2.id}/create-main-agent`, { token: u.token, json: { sub_agent_ids: [sub.id] } });
    expect(expectError(await post([other2.id]), 422).message).toContain('main agents cannot be sub-agents');
    expect((await loadAgent(env, main.id))).toMatchObject({ is_main_agent: false, version: 1 });
    expectError(await api(`/api/v1/agents/${main.id}/create-main-agent`, { token: other.token, json: { sub_agent_ids: [foreign.id] } }), 404);
    expectError(await api(`/api/v1/agents/${main.id}/create-main-agent`, { json: { sub_agent_ids: [sub.id] } }), 401);
  });
});

describe('GET /agents/{id}/preview-chat-history', () => {
  it('pages the owner’s preview conversation oldest first, without other sessions', async () => {
    const u = await createUser();
    const other = await createUser();
    const a = await createAgent(u);
    const preview = crypto.randomUUID();
    const chat = crypto.randomUUID();
    const calls = JSON.stringify([{ id: 'c1', name: 'calculator', arguments: '{"expression":"1+1"}' }]);
    await env.DB.batch([
      env.DB.prepare("INSERT INTO chat_sessions (id, user_id, agent_id, kind) VALUES (?, ?, ?, 'preview')").bind(preview, u.id, a.id),
      env.DB.prepare("INSERT INTO chat_sessions (id, user_id, agent_id, kind) VALUES (?, ?, ?, 'chat')").bind(chat, u.id, a.id),
      // Inserted out of order: seq decides.
      env.DB.prepare("INSERT INTO chat_messages (id, session_id, seq, role, content) VALUES (?, ?, 3, 'tool', '2')").bind(crypto.randomUUID(), preview),
      env.DB.prepare("INSERT INTO chat_messages (id, session_id, seq, role, content) VALUES (?, ?, 1, 'user', 'what is 1+1')").bind(crypto.randomUUID(), preview),
      env.DB.prepare("INSERT INTO chat_messages (id, session_id, seq, role, content, tool_calls) VALUES (?, ?, 2, 'assistant', NULL, ?)").bind(crypto.randomUUID(), preview, calls),
      env.DB.prepare("INSERT INTO chat_messages (id, session_id, seq, role, content) VALUES (?, ?, 1, 'user', 'not a preview')").bind(crypto.randomUUID(), chat),
    ]);
    const all = await api(`/api/v1/agents/${a.id}/preview-chat-history`, { token: u.token });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(all.body.items.map((m: { seq: number; role: string }) => `${m.seq}:${m.role}`)).toEqual(['1:user', '2:assistant', '3:tool']);
    expect(all.body.items[1].tool_calls).toEqual(JSON.parse(calls));
    expect(all.body.items[0]).toMatchObject({ session_id: preview, content: 'what is 1+1', tool_calls: null });
    const p2 = await api(`/api/v1/agents/${a.id}/preview-chat-history?page=2&page_size=2`, { token: u.token });
    expect(p2.body).toMatchObject({ total: 3, page: 2, page_size: 2 });
    expect(p2.body.items.map((m: { seq: number }) => m.seq)).toEqual([3]);
    expectError(await api(`/api/v1/agents/${a.id}/preview-chat-history`, { token: other.token }), 404);
    expectError(await api(`/api/v1/agents/${crypto.randomUUID()}/preview-chat-history`, { token: u.token }), 404);
    expectError(await api(`/api/v1/agents/${a.id}/preview-chat-history`), 401);
    const empty = await createAgent(u);
    expect((await api(`/api/v1/agents/${empty.id}/preview-chat-history`, { token: u.token })).body).toEqual({ items: [], total: 0, page: 1, page_size: 20 });
  });
});
