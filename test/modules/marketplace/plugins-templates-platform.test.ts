import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createUser, expectError } from '../../support/helpers';

type User = Awaited<ReturnType<typeof createUser>>;
let owner: User;
let alice: User;
let bob: User;

beforeAll(async () => {
  owner = await createUser('owner');
  alice = await createUser('alice');
  bob = await createUser('bob');
});

const P = '/api/v1/plugins';

function weatherDoc(server = `${env.FAKE_BASE_URL}/plugin-api`) {
  return {
    openapi: '3.0.3',
    info: { title: 'Weather Pro', version: '2.1.0', description: 'Weather and notes' },
    servers: [{ url: server }],
    security: [{ key: [] }],
    components: {
      securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Plugin-Key' } },
      schemas: { Note: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } },
    },
    paths: {
      '/weather/{city}': {
        get: {
          operationId: 'getWeather',
          summary: 'Current weather of a city',
          parameters: [
            { name: 'city', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'units', in: 'query', schema: { type: 'string', enum: ['metric', 'imperial'] } },
          ],
        },
      },
      '/notes': { post: { operationId: 'createNote', summary: 'Save a note', requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Note' } } } } } },
    },
  };
}

async function createPlugin(token = owner.token, extra: Record<string, unknown> = {}) {
  const res = await api(P, { token, json: { openapi: weatherDoc(), category: 'data', settings: { api_key: 'owner-key-111' }, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const use = (token: string, ref: string, args: Record<string, unknown>) => api(`/api/v1/tools/${encodeURIComponent(ref)}/use`, { token, json: { arguments: args } });

describe('plugins', () => {
  it('imports each OpenAPI operation as a tool; settings are encrypted and never returned', async () => {
    const p = await createPlugin();
    expect(p).toMatchObject({ name: 'Weather Pro', slug: 'weather_pro', version: '2.1.0', auth: { type: 'api_key', in: 'header', name: 'X-Plugin-Key' }, required_settings: ['api_key'], is_published: false });
    expect(p.operations.map((o: any) => [o.name, o.method, o.path])).toEqual([
      ['getWeather', 'GET', '/weather/{city}'],
      ['createNote', 'POST', '/notes'],
    ]);
    expect(p.operations[1].parameters.properties.body).toMatchObject({ type: 'object', required: ['text'] });
    expect(p.installation).toMatchObject({ enabled: true, settings_fields: ['api_key'] });
    expect(JSON.stringify(p)).not.toContain('owner-key-111');
    const row = await env.DB.prepare('SELECT settings_encrypted FROM plugin_installations WHERE plugin_id = ?').bind(p.id).first<{ settings_encrypted: string }>();
    expect(row!.settings_encrypted).toMatch(/^v1:/);
    expect(row!.settings_encrypted).not.toContain('owner-key-111');
  });

  it('validates the document and the settings (422), refuses private servers, needs auth (401)', async () => {
    expect(expectError(await api(P, { token: owner.token, json: { openapi: { swagger: '2.0' } } }), 422).message).toContain('OpenAPI 3');
    expect(expectError(await api(P, { token: owner.token, json: { openapi: { ...weatherDoc(), paths: {} } } }), 422).message).toContain('no operations');
    expect(expectError(await api(P, { token: owner.token, json: { openapi: weatherDoc(), settings: { password: 'x' } } }), 422).message).toContain('unknown setting');
    expectError(await api(P, { token: owner.token, json: { openapi: weatherDoc(), category: 'nope' } }), 422);
    expectError(await api(P, { token: owner.token, json: { openapi: weatherDoc('http://10.1.2.3/api') } }), 400, 'SSRF_BLOCKED');
    const oauth = weatherDoc();
    (oauth.components.securitySchemes as any).key = { type: 'oauth2', flows: {} };
    expect(expectError(await api(P, { token: owner.token, json: { openapi: oauth } }), 422).message).toContain('not supported');
    expectError(await api(P, { json: { openapi: weatherDoc() } }), 401);
  });

  it('its tools join the registry: listed by /tools, usable by /tools/{id}/use with the installer’s own key', async () => {
    const p = await createPlugin();
    const ref = p.operations[0].tool_ref;
    expect(ref).toBe(`plugin:${p.id}:getWeather`);
    const tools = await api('/api/v1/tools?type=plugin', { token: owner.token });
    expect(tools.status, tools.text).toBe(200);
    expect(tools.body.items.map((t: any) => t.id)).toEqual(expect.arrayContaining([ref, `plugin:${p.id}:createNote`]));
    expect(tools.body.items.find((t: any) => t.id === ref)).toMatchObject({ type: 'plugin', name: 'weather_pro__getWeather' });
    expect((await api(`/api/v1/tools/${encodeURIComponent(ref)}`, { token: owner.token })).body.type).toBe('plugin');

    const out = await use(owner.token, ref, { city: 'São Paulo', units: 'imperial' });
    expect(out.status, out.text).toBe(200);
    expect(out.body.output).toMatchObject({ status: 200, body: { city: 'São Paulo', units: 'imperial', key: 'owner-key-111' } });
    const note = await use(owner.token, `plugin:${p.id}:createNote`, { body: { text: 'hi' } });
    expect(note.body.output).toMatchObject({ status: 201, body: { saved: { text: 'hi' } } });
    expectError(await use(owner.token, `plugin:${p.id}:createNote`, { body: {} }), 422);
    const usage = await env.DB.prepare("SELECT count(*) AS n FROM tool_usage WHERE tool_type = 'plugin' AND user_id = ?").bind(owner.id).first<{ n: number }>();
    expect(usage!.n).toBeGreaterThanOrEqual(2);

    // Someone who has not installed it cannot use it.
    expectError(await use(alice.token, ref, { city: 'Paris' }), 404);
    expect((await api('/api/v1/tools?type=plugin', { token: alice.token })).body.items.map((t: any) => t.id)).not.toContain(ref);
  });

  it('market, install with your own credentials, once per user; uninstall; enable and disable', async () => {
    const p = await createPlugin(owner.token, { is_published: true, name: 'Market Weather' });
    const market = await api(`${P}/market?search=Market%20Weather`, { token: alice.token });
    expect(market.status).toBe(200);
    expect(market.body.items.map((x: any) => x.id)).toEqual([p.id]);
    expect(market.body.items[0].installation).toBeNull();
    // Listed (one D1 batch, joined with the viewer's installation) with the plugin's own timestamps.
    expect(market.body.items[0].created_at).toBe(p.created_at);

    const inst = await api(`${P}/${p.id}/install`, { token: alice.token, json: { settings: { api_key: 'alice-key-222' } } });
    expect(inst.status, inst.text).toBe(201);
    expect(inst.body).toMatchObject({ install_count: 2, installation: { enabled: true, settings_fields: ['api_key'] } });
    expectError(await api(`${P}/${p.id}/install`, { token: alice.token, json: { settings: { api_key: 'again' } } }), 409);
    expectError(await api(`${P}/${p.id}/install`, { token: bob.token, json: { settings: { token: 'x' } } }), 422);
    const ref = `plugin:${p.id}:getWeather`;
    // Alice's call carries Alice's key, never the publisher's.
    expect((await use(alice.token, ref, { city: 'Paris' })).body.output.body.key).toBe('alice-key-222');
    const listed = (await api(P, { token: alice.token })).body.items.find((x: any) => x.id === p.id);
    expect(listed.created_at).toBe(p.created_at);
    expect(listed.installation.installed_at).toBe(inst.body.installation.installed_at);

    const off = await api(`${P}/${p.id}/disable`, { token: alice.token, method: 'POST' });
    expect(off.body.installation.enabled).toBe(false);
    expectError(await use(alice.token, ref, { city: 'Paris' }), 404);
    expect((await api('/api/v1/tools?type=plugin', { token: alice.token })).body.items.map((t: any) => t.id)).not.toContain(ref);
    const on = await api(`${P}/${p.id}/enable`, { token: alice.token, json: { settings: { api_key: 'alice-key-333' } } });
    expect(on.status, on.text).toBe(200);
    expect(on.body.installation.enabled).toBe(true);
    expect((await use(alice.token, ref, { city: 'Paris' })).body.output.body.key).toBe('alice-key-333');
    expect((await api(`${P}/${p.id}/enable`, { token: alice.token, method: 'POST' })).status).toBe(200);

    expect((await api(`${P}/${p.id}/install`, { token: alice.token, method: 'DELETE' })).status).toBe(204);
    expect((await api(`${P}/${p.id}`, { token: alice.token })).body).toMatchObject({ install_count: 1, installation: null });
    expectError(await api(`${P}/${p.id}/install`, { token: alice.token, method: 'DELETE' }), 404);
    expectError(await api(`${P}/${p.id}/enable`, { token: alice.token, method: 'POST' }), 404);
    expectError(await api(`${P}/${p.id}/disable`, { token: alice.token, method: 'POST' }), 404);
    expectError(await api(`${P}/${p.id}/disable`, { method: 'POST' }), 401);
    expectError(await api(`${P}/market`), 401);
  });

  it('agents can include plugin tools; exports leave them out', async () => {
    const p = await createPlugin();
    const ref = `plugin:${p.id}:getWeather`;
    const agent = await api('/api/v1/agents', { token: owner.token, json: { name: 'Weatherman', include_tools: [ref, 'calculator'] } });
    expect(agent.status, agent.text).toBe(201);
    expectError(await api('/api/v1/agents', { token: alice.token, json: { name: 'Thief', include_tools: [ref] } }), 422);
    const exported = await api(`/api/v1/agents/${agent.body.id}/export`, { token: owner.token });
    expect(exported.body.agent.include_tools).toEqual(['calculator']);
  });

  it('an agent calls a plugin tool in chat, with its owner’s installation', async () => {
    const p = await createPlugin();
    const agent = await api('/api/v1/agents', { token: owner.token, json: { name: 'Forecaster', include_tools: [`plugin:${p.id}:getWeather`] } });
    const res = await api(`/api/v1/agent-chat/${agent.body.id}`, { token: owner.token, json: { message: '/tool weather_pro__getWeather {"city":"Oslo"}' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.tool_calls[0]).toMatchObject({ name: 'weather_pro__getWeather', output: { status: 200, body: { city: 'Oslo', key: 'owner-key-111' } } });
    // Disabled: the tool is no longer offered to the model.
    await api(`${P}/${p.id}/disable`, { token: owner.token, method: 'POST' });
    const off = await api(`/api/v1/agent-chat/${agent.body.id}`, { token: owner.token, json: { message: '/tool weather_pro__getWeather {"city":"Oslo"}' } });
    expect(off.body.tool_calls[0].error).toMatch(/not available/);
  });

  it('only the owner updates or deletes; others get 404 for unpublished plugins', async () => {
    const p = await createPlugin();
    expectError(await api(`${P}/${p.id}`, { token: alice.token }), 404);
    expectError(await api(`${P}/${p.id}/install`, { token: alice.token, json: {} }), 404);
    const upd = await api(`${P}/${p.id}`, { token: owner.token, method: 'PUT', json: { name: 'Renamed', is_published: true } });
    expect(upd.status, upd.text).toBe(200);
    expect(upd.body).toMatchObject({ name: 'Renamed', slug: 'renamed', is_published: true });
    expect((await api(`${P}/${p.id}`, { token: alice.token })).status).toBe(200);
    expectError(await api(`${P}/${p.id}`, { token: alice.token, method: 'PUT', json: { name: 'Mine' } }), 403);
    expectError(await api(`${P}/${p.id}`, { token: alice.token, method: 'DELETE' }), 403);
    expectError(await api(`${P}/${p.id}`, { token: owner.token, method: 'PUT', json: { category: 'nope' } }), 422);
    const bearer = weatherDoc();
    (bearer.components.securitySchemes as any).key = { type: 'http', scheme: 'bearer' };
    expectError(await api(`${P}/${p.id}`, { token: owner.token, method: 'PUT', json: { openapi: bearer } }), 422);
    await api(`${P}/${p.id}/install`, { token: bob.token, json: { settings: { api_key: 'bob' } } });
    expect((await api(`${P}/${p.id}`, { token: owner.token, method: 'DELETE' })).status).toBe(204);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM plugin_installations WHERE plugin_id = ?').bind(p.id).first('n')).toBe(0);
    expectError(await api(`${P}/${p.id}`, { token: owner.token }), 404);
    expectError(await api(`${P}/${crypto.randomUUID()}`, { token: owner.token, method: 'PUT', json: { name: 'x' } }), 404);
    expectError(await api(`${P}/${crypto.randomUUID()}`, { token: owner.token, method: 'DELETE' }), 404);
    expectError(await api(`${P}/${p.id}`), 401);
    expectError(await api(`${P}?page=0`, { token: owner.token }), 422);
  });
});

describe('orchestration templates', () => {
  const T = '/api/v1/orchestration-templates';

  it('lists the five builtins first, then yours; filters by mode and scope', async () => {
    const res = await api(`${T}?scope=builtin`, { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.body.items.map((t: any) => t.name)).toEqual(['Sequential pipeline', 'Debate', 'Router triage', 'Fan-out and merge', 'Reviewer loop']);
    expect(res.body.items.every((t: any) => t.builtin && t.owner_id === null)).toBe(true);
    const mine = await api(T, { token: alice.token, json: { name: 'Two step', mode: 'sequential', roles: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B' }] } });
    expect(mine.status, mine.text).toBe(201);
    expect(mine.body).toMatchObject({ builtin: false, owner_id: alice.id, steps: ['a', 'b'], rounds: null, edges: null });
    const all = await api(`${T}?page_size=6`, { token: alice.token });
    expect(all.body.total).toBe(6);
    expect(all.body.items[5].id).toBe(mine.body.id);
    const page2 = await api(`${T}?page_size=4&page=2`, { token: alice.token });
    expect(page2.body.items.map((t: any) => t.id)).toEqual([res.body.items[4].id, mine.body.id]);
    expect((await api(`${T}?mode=graph`, { token: alice.token })).body.items.map((t: any) => t.name)).toEqual(['Fan-out and merge']);
    expect((await api(`${T}?scope=mine`, { token: bob.token })).body.items).toEqual([]);
    expectError(await api(`${T}?mode=swarm`, { token: alice.token }), 422);
    expectError(await api(T), 401);
  });

  it('validates what each mode needs (422)', async () => {
    const bad = async (body: Record<string, unknown>, pattern: RegExp) => expect(expectError(await api(T, { token: alice.token, json: { name: 'x', ...body } }), 422).message).toMatch(pattern);
    await bad({ mode: 'sequential', roles: [{ key: 'a', name: 'A' }], steps: ['a', 'z'] }, /body\.steps: unknown role z/);
    await bad({ mode: 'route', roles: [{ key: 'a', name: 'A' }] }, /at least two roles/);
    await bad({ mode: 'graph', roles: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B' }], edges: [{ source: 'a', target: 'b' }, { source: 'b', target: 'a' }] }, /cycle/);
    await bad({ mode: 'graph', roles: [{ key: 'a', name: 'A' }], edges: [{ source: 'a', target: 'q' }] }, /unknown node/);
    await bad({ mode: 'debate', roles: [{ key: 'a', name: 'A' }, { key: 'a', name: 'B' }] }, /unique/);
    await bad({ mode: 'debate', roles: [{ key: 'Bad Key', name: 'A' }] }, /body\.roles\.0\.key/);
    await bad({ mode: 'swarm', roles: [{ key: 'a', name: 'A' }] }, /body\.mode/);
  });

  it('reads, updates and deletes your own; builtins are read-only; others’ are 404', async () => {
    const t = (await api(T, { token: alice.token, json: { name: 'Panel', mode: 'debate', roles: [{ key: 'pro', name: 'Pro' }, { key: 'con', name: 'Con' }], rounds: 3 } })).body;
    expect(t.rounds).toBe(3);
    const upd = await api(`${T}/${t.id}`, { token: alice.token, method: 'PUT', json: { mode: 'graph', edges: [{ source: 'pro', target: 'con' }] } });
    expect(upd.status, upd.text).toBe(200);
    expect(upd.body).toMatchObject({ mode: 'graph', edges: [{ source: 'pro', target: 'con' }], rounds: null });
    expectError(await api(`${T}/${t.id}`, { token: alice.token, method: 'PUT', json: { edges: [{ source: 'pro', target: 'nobody' }] } }), 422);
    expectError(await api(`${T}/${t.id}`, { token: bob.token }), 404);
    expectError(await api(`${T}/${t.id}`, { token: bob.token, method: 'PUT', json: { name: 'x' } }), 404);
    expectError(await api(`${T}/${t.id}`, { token: bob.token, method: 'DELETE' }), 404);
    const builtinId = '0b6f1d3e-5a1c-4c1e-9f00-000000000004';
    expect((await api(`${T}/${builtinId}`, { token: bob.token })).body.name).toBe('Fan-out and merge');
    expectError(await api(`${T}/${builtinId}`, { token: alice.token, method: 'PUT', json: { name: 'mine' } }), 403);
    expectError(await api(`${T}/${builtinId}`, { token: alice.token, method: 'DELETE' }), 403);
    expect((await api(`${T}/${t.id}`, { token: alice.token, method: 'DELETE' })).status).toBe(204);
    expect(await env.DB.prepare('SELECT id FROM orchestration_templates WHERE id = ?').bind(t.id).first()).toBeNull();
    expectError(await api(`${T}/${t.id}`, { token: alice.token }), 404);
    expectError(await api(`${T}/${t.id}`), 401);
  });

  it('runs through POST /agent-chat/orchestrate with template_id and an agent per role', async () => {
    const mk = async (name: string) => (await api('/api/v1/agents', { token: alice.token, json: { name } })).body.id as string;
    const [author, reviewer] = [await mk('Author'), await mk('Reviewer')];
    const res = await api('/api/v1/agent-chat/orchestrate', {
      token: alice.token,
      json: { template_id: '0b6f1d3e-5a1c-4c1e-9f00-000000000005', roles: { author, reviewer }, message: 'draft' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.steps.map((s: any) => s.agent_name)).toEqual(['Author', 'Reviewer', 'Author', 'Reviewer', 'Author']);
    expect(res.body.output).toBe('echo: echo: echo: echo: echo: draft');
    const [p, a, b, m] = [await mk('Planner'), await mk('A'), await mk('B'), await mk('Merger')];
    const fan = await api('/api/v1/agent-chat/orchestrate', {
      token: alice.token,
      json: { template_id: '0b6f1d3e-5a1c-4c1e-9f00-000000000004', roles: { planner: p, analyst_a: a, analyst_b: b, merger: m }, message: 'q' },
    });
    expect(fan.status, fan.text).toBe(200);
    expect(fan.body.mode).toBe('graph');
    expect(fan.body.steps).toHaveLength(4);
    expect(expectError(await api('/api/v1/agent-chat/orchestrate', { token: alice.token, json: { template_id: '0b6f1d3e-5a1c-4c1e-9f00-000000000005', roles: { author }, message: 'x' } }), 422).message).toContain('reviewer');
    expectError(await api('/api/v1/agent-chat/orchestrate', { token: alice.token, json: { template_id: '0b6f1d3e-5a1c-4c1e-9f00-000000000005', message: 'x' } }), 422);
    expectError(await api('/api/v1/agent-chat/orchestrate', { token: alice.token, json: { template_id: crypto.randomUUID(), roles: {}, message: 'x' } }), 404);
    // Someone else's template is not found; someone else's agents cannot be cast.
    const mine = (await api(T, { token: bob.token, json: { name: 'Duo', mode: 'sequential', roles: [{ key: 'x', name: 'X' }] } })).body;
    expectError(await api('/api/v1/agent-chat/orchestrate', { token: alice.token, json: { template_id: mine.id, roles: { x: author }, message: 'x' } }), 404);
    expect((await api('/api/v1/agent-chat/orchestrate', { token: bob.token, json: { template_id: mine.id, roles: { x: author }, message: 'x' } })).status).toBe(404);
  });

  it('expands into what the orchestration engine runs', async () => {
    const { expandTemplate, getTemplate } = await import('../../../src/modules/marketplace/orchestration-templates/service');
    const { runGraph, runSequential } = await import('../../../src/engine/orchestration');
    const user = { id: alice.id, email: alice.email, nickname: 'alice', role: 'user' as const };
    const loop = await getTemplate(env, user, '0b6f1d3e-5a1c-4c1e-9f00-000000000005');
    const seq = expandTemplate(loop, { author: 'A', reviewer: 'R' });
    expect(seq).toMatchObject({ mode: 'sequential', agent_ids: ['A', 'R', 'A', 'R', 'A'] });
    const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    const run = async (agent: { id: string }, input: string) => ({ output: `${agent.id}(${input})`, token_usage: usage });
    const out = await runSequential((seq as { agent_ids: string[] }).agent_ids.map((id) => ({ id, name: id })), 'x', run as never);
    expect(out.output).toBe('A(R(A(R(A(x)))))');
    const fan = expandTemplate(await getTemplate(env, user, '0b6f1d3e-5a1c-4c1e-9f00-000000000004'), { planner: 'P', analyst_a: 'X', analyst_b: 'Y', merger: 'M' }) as {
      nodes: Array<{ id: string; agent_id: string }>;
      edges: Array<{ source: string; target: string }>;
    };
    const graph = await runGraph(fan.nodes.map((n) => ({ id: n.id, agent: { id: n.agent_id, name: n.agent_id } })), fan.edges, 'q', run as never);
    expect(graph.output).toBe('M([analyst_a] X(P(q))\n\n[analyst_b] Y(P(q)))');
    expect(() => expandTemplate(loop, { author: 'A' })).toThrow(/assign an agent to reviewer/);
  });
});

describe('platform scenarios and quick-create', () => {
  const S = '/api/v1/platform/scenarios';

  it('lists scenarios (category, search), categories and detail; every scenario’s workflow is valid', async () => {
    const all = await api(S, { token: alice.token });
    expect(all.status).toBe(200);
    expect(all.body.items.map((s: any) => s.id)).toEqual(['customer-service-bot', 'knowledge-qa', 'data-analyst', 'feishu-assistant', 'content-writer']);
    expect((await api(`${S}?category=data`, { token: alice.token })).body.items.map((s: any) => s.id)).toEqual(['data-analyst']);
    expect((await api(`${S}?search=feishu`, { token: alice.token })).body.items.map((s: any) => s.id)).toEqual(['feishu-assistant']);
    const cats = await api(`${S}/categories`, { token: alice.token });
    expect(cats.body.items.find((c: any) => c.id === 'customer-service')).toMatchObject({ count: 1 });
    const one = await api(`${S}/knowledge-qa`, { token: alice.token });
    expect(one.body).toMatchObject({ id: 'knowledge-qa', knowledge_base: { name: 'Team documents' } });
    expectError(await api(`${S}/nope`, { token: alice.token }), 404);
    expectError(await api(S), 401);
    expectError(await api(`${S}/categories`), 401);
    expectError(await api(`${S}/knowledge-qa`), 401);
    const { validateGraph } = await import('../../../src/engine/workflow/validate');
    const { findBuiltinTool } = await import('../../../src/engine/tools/registry');
    for (const s of all.body.items) {
      expect(validateGraph(s.workflow.graph, s.workflow.inputs_schema), s.id).toMatchObject({ valid: true });
      for (const t of s.agent.include_tools) expect(findBuiltinTool(t), `${s.id}: ${t}`).toBeDefined();
    }
  });

  it('creates the agent, knowledge base and workflow together; they work', async () => {
    const res = await api(`${S}/customer-service-bot/quick-create`, { token: alice.token, json: { name: 'Acme' } });
    expect(res.status, res.text).toBe(201);
    const { agent, knowledge_base, workflow } = res.body;
    expect(agent).toMatchObject({ owner_id: alice.id, name: 'Acme · Customer service', version: 1 });
    expect(agent.system_prompt).toContain(knowledge_base.id);
    expect((await api(`/api/v1/knowledge-bases/${knowledge_base.id}`, { token: alice.token })).body).toMatchObject({ name: 'Acme · Customer-service FAQ' });
    const wf = await api(`/api/v1/workflows/${workflow.id}`, { token: alice.token });
    expect(wf.body).toMatchObject({ name: 'Acme · Ticket reply draft', version: 1, owner_id: alice.id });
    const run = await api(`/api/v1/workflows/${workflow.id}/execute`, { token: alice.token, json: { inputs: { ticket: 'my parcel is late' } } });
    expect(run.status, run.text).toBeLessThan(300);
    expect(run.body.status).toBe('succeeded');
    expect(run.body.outputs.reply).toContain('my parcel is late');
    expect(await env.DB.prepare('SELECT count(*) AS n FROM agent_versions WHERE agent_id = ?').bind(agent.id).first('n')).toBe(1);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM workflow_versions WHERE workflow_id = ?').bind(workflow.id).first('n')).toBe(1);
    // Others cannot see what Alice created.
    expectError(await api(`/api/v1/knowledge-bases/${knowledge_base.id}`, { token: bob.token }), 404);
    expect((await api(`${S}/data-analyst/quick-create`, { token: bob.token, method: 'POST' })).status).toBe(201);
    expectError(await api(`${S}/nope/quick-create`, { token: alice.token, method: 'POST' }), 404);
    expectError(await api(`${S}/data-analyst/quick-create`, { token: alice.token, json: { name: '' } }), 422);
    expectError(await api(`${S}/data-analyst/quick-create`, { method: 'POST' }), 401);
  });

  it('is atomic: when one write fails, nothing is created', async () => {
    const count = async () =>
      Promise.all(['agents', 'knowledge_bases', 'workflows'].map((t) => env.DB.prepare(`SELECT count(*) AS n FROM ${t} WHERE owner_id = ?`).bind(bob.id).first<number>('n')));
    const before = await count();
    const ddl = (await env.DB.prepare("SELECT sql FROM sqlite_master WHERE name = 'workflow_versions'").first<string>('sql'))!;
    await env.DB.prepare('ALTER TABLE workflow_versions RENAME TO workflow_versions_away').run();
    try {
      expectError(await api(`${S}/knowledge-qa/quick-create`, { token: bob.token, method: 'POST' }), 500);
    } finally {
      await env.DB.prepare('ALTER TABLE workflow_versions_away RENAME TO workflow_versions').run();
    }
    expect(ddl).toContain('workflow_versions');
    expect(await count()).toEqual(before);
  });
});

describe('template market', () => {
  const M = '/api/v1/template-market';

  async function workflow(token: string) {
    const graph = {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'call', type: 'http_request', config: { url: `${env.FAKE_BASE_URL}/basic/echo`, headers: { Authorization: 'Bearer publisher-secret-42', Accept: 'application/json' } } },
        { id: 'end', type: 'end', config: { outputs: { status: '{{call.status}}' } } },
      ],
      edges: [
        { source: 'start', target: 'call' },
        { source: 'call', target: 'end' },
      ],
    };
    const res = await api('/api/v1/workflows', { token, json: { name: 'Echo check', description: 'calls the echo service', graph } });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  it('publishes a scrubbed snapshot; installing creates the installer’s workflow; counts are per user', async () => {
    const wf = await workflow(owner.token);
    const pub = await api(M, { token: owner.token, json: { workflow_id: wf.id, category: 'automation', tags: ['http'] } });
    expect(pub.status, pub.text).toBe(201);
    expect(JSON.stringify(pub.body)).not.toContain('publisher-secret-42');
    expect(pub.body.content.workflow.graph.nodes[1].config.headers).toEqual({ Accept: 'application/json' });
    expectError(await api(M, { token: alice.token, json: { workflow_id: wf.id, category: 'automation' } }), 404);
    expectError(await api(M, { token: owner.token, json: { workflow_id: wf.id, category: 'bogus' } }), 422);
    expectError(await api(M, { json: { workflow_id: wf.id, category: 'automation' } }), 401);

    const inst = await api(`${M}/${pub.body.id}/install`, { token: alice.token, method: 'POST' });
    expect(inst.status, inst.text).toBe(201);
    const copy = await api(`/api/v1/workflows/${inst.body.resource_id}`, { token: alice.token });
    expect(copy.body).toMatchObject({ owner_id: alice.id, name: 'Echo check' });
    expect(JSON.stringify(copy.body)).not.toContain('publisher-secret-42');
    expectError(await api(`${M}/${pub.body.id}/install`, { token: alice.token, method: 'POST' }), 409);
    await api(`${M}/${pub.body.id}/rate`, { token: alice.token, json: { rating: 4 } });
    await api(`${M}/${pub.body.id}/rate`, { token: alice.token, json: { rating: 2 } });
    await api(`${M}/${pub.body.id}/favorite`, { token: alice.token, method: 'POST' });
    const detail = await api(`${M}/${pub.body.id}`, { token: bob.token });
    expect(detail.body).toMatchObject({ install_count: 1, rating_count: 1, rating_avg: 2, favorite_count: 1 });
    expect((await api(`${M}?category=automation&sort=installs`, { token: bob.token })).body.items.map((l: any) => l.id)).toContain(pub.body.id);
    expect((await api(`${M}/favorites`, { token: alice.token })).body.items.map((l: any) => l.id)).toEqual([pub.body.id]);
    expect((await api(`${M}/${pub.body.id}/reviews`, { token: bob.token })).body.total).toBe(1);
    expect((await api(`${M}/categories`, { token: bob.token })).body.items.find((c: any) => c.id === 'automation').count).toBe(1);
    expect((await api(`${M}/${pub.body.id}/favorite`, { token: alice.token, method: 'DELETE' })).status).toBe(204);
    const upd = await api(`${M}/${pub.body.id}`, { token: owner.token, method: 'PUT', json: { republish: true } });
    expect(upd.body.version).toBe(2);
    expectError(await api(`${M}/${pub.body.id}`, { token: alice.token, method: 'PUT', json: { name: 'x' } }), 403);
    expect((await api(`${M}/${pub.body.id}`, { token: owner.token, method: 'DELETE' })).status).toBe(204);
    expectError(await api(`${M}/${pub.body.id}`, { token: bob.token }), 404);
    // The template market has no upgrade, installs list or uninstall.
    expectError(await api(`${M}/${pub.body.id}/upgrade`, { token: alice.token, method: 'POST' }), 404);
  });

  it('scrubs secrets and the publisher’s resource ids from any node config', async () => {
    const { scrubWorkflowConfig } = await import('../../../src/modules/marketplace/template-market/service');
    const id = crypto.randomUUID();
    expect(
      scrubWorkflowConfig({
        nodes: [
          { id: 'n1', type: 'knowledge_retrieval', config: { knowledge_base_id: id, query: '{{inputs.q}}', api_key: 'sk-1', top_k: 3 } },
          { id: 'n2', type: 'tool', config: { tool: id, tool_ids: [id, 'calculator'], headers: { 'X-Api-Key': 'k', Accept: 'a' }, password: 'p' } },
        ],
      }),
    ).toEqual({
      nodes: [
        { id: 'n1', type: 'knowledge_retrieval', config: { knowledge_base_id: null, query: '{{inputs.q}}', top_k: 3 } },
        { id: 'n2', type: 'tool', config: { tool: null, tool_ids: ['calculator'], headers: { Accept: 'a' } } },
      ],
    });
  });
});
