import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, createUser, expectError } from './helpers';

type User = Awaited<ReturnType<typeof createUser>>;

async function makeAgent(u: User, body: Record<string, unknown> = {}) {
  const res = await api('/api/v1/agents', { token: u.token, json: { name: `Agent ${crypto.randomUUID().slice(0, 6)}`, ...body } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; name: string };
}

async function withSubAgents(u: User, names: string[]) {
  const subs = [];
  for (const name of names) subs.push(await makeAgent(u, { name }));
  const main = await makeAgent(u, { name: 'Lead' });
  const res = await api(`/api/v1/agents/${main.id}/create-main-agent`, { token: u.token, json: { sub_agent_ids: subs.map((s) => s.id) } });
  expect(res.status, res.text).toBe(200);
  return { main, subs };
}

const execute = (u: User, agentId: string, json: unknown) => api(`/api/v1/agents/${agentId}/execute`, { token: u.token, json });
const row = (id: string) => env.DB.prepare('SELECT * FROM agent_executions WHERE id = ?').bind(id).first<Record<string, any>>();

describe('POST /agents/{agent_id}/execute', () => {
  it('agent mode runs the agent once and records the execution', async () => {
    const u = await createUser();
    const a = await makeAgent(u, { name: 'Solo' });
    const res = await execute(u, a.id, { input: 'do it' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ agent_id: a.id, mode: 'agent', status: 'succeeded', input: 'do it', output: 'echo: do it', error: null });
    expect(res.body.steps).toEqual([expect.objectContaining({ agent_id: a.id, agent_name: 'Solo', input: 'do it', output: 'echo: do it' })]);
    expect(res.body.token_usage.total_tokens).toBeGreaterThan(0);
    expect(res.body.duration_ms).toBeGreaterThanOrEqual(0);
    expect(Date.parse(res.body.finished_at)).toBeGreaterThanOrEqual(Date.parse(res.body.started_at));

    const stored = await row(res.body.id);
    expect(stored).toMatchObject({ owner_id: u.id, agent_id: a.id, mode: 'agent', status: 'succeeded', output: 'echo: do it', total_tokens: res.body.token_usage.total_tokens });
    expect(JSON.parse(stored!.steps)).toHaveLength(1);
    const call = await env.DB.prepare("SELECT source FROM llm_calls WHERE agent_id = ? AND source = 'execute'").bind(a.id).first('source');
    expect(call).toBe('execute');
  });

  it('sequential and pipeline chain the sub-agents; pipeline keeps every stage’s output', async () => {
    const u = await createUser();
    const { main } = await withSubAgents(u, ['Draft', 'Edit']);
    const seq = await execute(u, main.id, { input: 'text', mode: 'sequential' });
    expect(seq.body).toMatchObject({ mode: 'sequential', status: 'succeeded', output: 'echo: echo: text' });
    expect(seq.body.steps.map((s: any) => s.agent_name)).toEqual(['Draft', 'Edit']);
    expect(seq.body.intermediate_outputs).toBeUndefined();

    const pipe = await execute(u, main.id, { input: 'text', mode: 'pipeline' });
    expect(pipe.body).toMatchObject({ mode: 'pipeline', output: 'echo: echo: text', intermediate_outputs: ['echo: text', 'echo: echo: text'] });
    expect((await row(pipe.body.id))!.mode).toBe('pipeline');
  });

  it('debate runs the sub-agents for the rounds asked, then a summary', async () => {
    const u = await createUser();
    const { main } = await withSubAgents(u, ['Yes', 'No']);
    const res = await execute(u, main.id, { input: 'should we?', mode: 'debate', rounds: 1 });
    expect(res.body.steps.map((s: any) => [s.agent_name, s.role])).toEqual([
      ['Yes', 'answer'],
      ['No', 'answer'],
      ['Yes', 'summary'],
    ]);
    expect(res.body.output).toBe(res.body.steps[2].output);
  });

  it('graph follows workflow_config: agent nodes run their agent (or this one), other nodes pass data on', async () => {
    const u = await createUser();
    const helper = await makeAgent(u, { name: 'Helper' });
    const self = await makeAgent(u, {
      name: 'Flow',
      workflow_config: {
        nodes: [
          { id: 'start', type: 'start' },
          { id: 'first', type: 'agent' },
          { id: 'router', type: 'condition' },
          { id: 'second', type: 'agent', config: { agent_id: helper.id } },
          { id: 'end', type: 'end' },
        ],
        edges: [
          { source: 'start', target: 'first' },
          { source: 'first', target: 'router' },
          { source: 'router', target: 'second' },
          { source: 'second', target: 'end' },
        ],
      },
    });
    const res = await execute(u, self.id, { input: 'x', mode: 'graph' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.steps.map((s: any) => [s.node_id, s.agent_name, s.input])).toEqual([
      ['first', 'Flow', 'x'],
      ['second', 'Helper', 'echo: x'],
    ]);
    expect(res.body.output).toBe('echo: echo: x');
    // Without sub-agents, the chain modes use the workflow's agent nodes in order.
    expect((await execute(u, self.id, { input: 'y', mode: 'sequential' })).body.output).toBe('echo: echo: y');
  });

  it('records a failed run when the model fails', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const res = await execute(u, a.id, { input: '/error' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: 'failed', output: null, steps: [], error: { code: 'LLM_ERROR', message: expect.any(String) } });
    expect(await row(res.body.id)).toMatchObject({ status: 'failed', error: expect.stringContaining('LLM_ERROR') });
  });

  it('validates the mode against what the agent has, scopes and refuses stopped agents', async () => {
    const u = await createUser();
    const other = await createUser('other');
    const a = await makeAgent(u);
    expect(expectError(await execute(u, a.id, { input: 'x', mode: 'sequential' }), 422).message).toMatch(/sub-agents/);
    expect(expectError(await execute(u, a.id, { input: 'x', mode: 'graph' }), 422).message).toMatch(/workflow_config/);
    expectError(await execute(u, a.id, { input: 'x', mode: 'swarm' }), 422);
    expectError(await execute(u, a.id, {}), 422);
    expectError(await execute(other, a.id, { input: 'x' }), 404);
    expectError(await execute(u, crypto.randomUUID(), { input: 'x' }), 404);
    expectError(await api(`/api/v1/agents/${a.id}/execute`, { json: { input: 'x' } }), 401);

    const { main, subs } = await withSubAgents(u, ['S']);
    await api(`/api/v1/agents/${subs[0].id}/deploy`, { method: 'POST', token: u.token });
    await api(`/api/v1/agents/${subs[0].id}/stop`, { method: 'POST', token: u.token });
    expectError(await execute(u, main.id, { input: 'x', mode: 'sequential' }), 409);
    const count = await env.DB.prepare('SELECT count(*) AS n FROM agent_executions WHERE agent_id = ?').bind(main.id).first('n');
    expect(count).toBe(0);
  });
});
