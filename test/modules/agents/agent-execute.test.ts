import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { beginInlineExecution, failAbandonedInlineRuns, INLINE_RUN_MAX_MS } from '../../../src/runs/workflow-run';
import { api, BASE, createUser, expectError } from '../../support/helpers';

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
const row = (id: string) => env.DB.prepare('SELECT * FROM executions WHERE id = ?').bind(id).first<Record<string, any>>();
const nodes = (id: string) =>
  env.DB.prepare('SELECT node_id, node_type, label, status, total_tokens, duration_ms FROM execution_nodes WHERE execution_id = ? ORDER BY node_id').bind(id).all<Record<string, any>>();

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

    // The run is an `executions` row (trigger execute, its mode) with a node per step.
    const stored = await row(res.body.id);
    expect(stored).toMatchObject({ owner_id: u.id, agent_id: a.id, trigger: 'execute', mode: 'agent', status: 'succeeded', total_tokens: res.body.token_usage.total_tokens, graph: null });
    expect(JSON.parse(stored!.inputs)).toEqual({ input: 'do it' });
    expect(JSON.parse(stored!.outputs)).toMatchObject({ output: 'echo: do it', steps: [expect.objectContaining({ agent_id: a.id, output: 'echo: do it' })] });
    expect((await nodes(res.body.id)).results).toEqual([
      expect.objectContaining({ node_id: 'step-1', node_type: 'agent', label: 'Solo', status: 'succeeded', total_tokens: res.body.token_usage.total_tokens }),
    ]);
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
    expect(await row(res.body.id)).toMatchObject({ status: 'failed', outputs: null, error: expect.stringContaining('LLM_ERROR') });
    expect((await nodes(res.body.id)).results).toEqual([]);
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
    const count = await env.DB.prepare('SELECT count(*) AS n FROM executions WHERE agent_id = ?').bind(main.id).first('n');
    expect(count).toBe(0);
  });
});

describe('agent execute runs in the executions module', () => {
  it('an inline run left running past any request’s life is failed by the cron, a recent one is not', async () => {
    const u = await createUser();
    const agent = await makeAgent(u);
    const old = await beginInlineExecution(env, { ownerId: u.id, agentId: agent.id, mode: 'agent', inputs: { input: 'x' } });
    const recent = await beginInlineExecution(env, { ownerId: u.id, agentId: agent.id, mode: 'agent', inputs: { input: 'y' } });
    const stale = new Date(Date.now() - INLINE_RUN_MAX_MS - 60_000).toISOString();
    await env.DB.prepare('UPDATE executions SET started_at = ? WHERE id = ?').bind(stale, old.id).run();

    await failAbandonedInlineRuns(env);
    expect(await row(old.id)).toMatchObject({ status: 'failed' });
    expect(JSON.parse((await row(old.id))!.error).code).toBe('ABANDONED');
    expect(await row(recent.id)).toMatchObject({ status: 'running', error: null });
    const detail = await api(`/api/v1/executions/${old.id}`, { token: u.token });
    expect(detail.body).toMatchObject({ status: 'failed', error: { code: 'ABANDONED' } });
  });

  it('lists them with workflow runs and answers their detail from D1, steps as nodes in order', async () => {
    const u = await createUser();
    const { main } = await withSubAgents(u, ['First', 'Second']);
    const pipe = await execute(u, main.id, { input: 'text', mode: 'pipeline' });
    expect(pipe.status, pipe.text).toBe(200);

    const list = await api(`/api/v1/executions?agent_id=${main.id}`, { token: u.token });
    expect(list.status, list.text).toBe(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({
        id: pipe.body.id,
        agent_id: main.id,
        workflow_id: null,
        trigger: 'execute',
        mode: 'pipeline',
        status: 'succeeded',
        inputs: { input: 'text' },
        token_usage: pipe.body.token_usage,
      }),
    ]);
    expect(list.body.items[0].outputs).toMatchObject({ output: 'echo: echo: text', steps: pipe.body.steps });

    const detail = await api(`/api/v1/executions/${pipe.body.id}`, { token: u.token });
    expect(detail.status, detail.text).toBe(200);
    expect(detail.body).toMatchObject({ id: pipe.body.id, mode: 'pipeline', status: 'succeeded', duration_ms: pipe.body.duration_ms, finished_at: pipe.body.finished_at });
    expect(detail.body.nodes.map((n: any) => [n.node_id, n.label, n.status, n.inputs.input, n.outputs.reply])).toEqual([
      ['step-1', 'First', 'succeeded', 'text', 'echo: text'],
      ['step-2', 'Second', 'succeeded', 'echo: text', 'echo: echo: text'],
    ]);
    for (const n of detail.body.nodes) expect(Date.parse(n.finished_at)).toBeGreaterThanOrEqual(Date.parse(n.started_at));

    // Debate steps outnumber nine: they stay in run order.
    const debate = await execute(u, main.id, { input: 'q', mode: 'debate', rounds: 5 });
    const debateDetail = await api(`/api/v1/executions/${debate.body.id}`, { token: u.token });
    expect(debateDetail.body.nodes.map((n: any) => n.node_id)).toEqual(debate.body.steps.map((_: unknown, i: number) => `step-${i + 1}`));
    expect(debateDetail.body.nodes).toHaveLength(11);

    // Another user sees none of it.
    const other = await createUser('other');
    expectError(await api(`/api/v1/executions/${pipe.body.id}`, { token: other.token }), 404);
    expect((await api(`/api/v1/executions?agent_id=${main.id}`, { token: other.token })).body.total).toBe(0);
  });

  it('pause, resume and cancel answer 409 as for an ended workflow run; logs and performance read D1', async () => {
    const u = await createUser();
    const a = await makeAgent(u, { name: 'Once' });
    const ok = await execute(u, a.id, { input: 'x' });
    const failed = await execute(u, a.id, { input: '/error' });
    for (const [id, status] of [[ok.body.id, 'succeeded'], [failed.body.id, 'failed']] as const) {
      expect(expectError(await api(`/api/v1/executions/${id}/pause`, { method: 'POST', token: u.token }), 409).message).toBe(`Only a running or waiting execution can be paused (it is ${status})`);
      expect(expectError(await api(`/api/v1/executions/${id}/resume`, { method: 'POST', token: u.token }), 409).message).toBe(`Only a paused execution can be resumed (it is ${status})`);
      expect(expectError(await api(`/api/v1/executions/${id}/cancel`, { method: 'POST', token: u.token }), 409).message).toBe(`The execution already ended (${status})`);
    }
    const failedDetail = await api(`/api/v1/executions/${failed.body.id}`, { token: u.token });
    expect(failedDetail.body).toMatchObject({ status: 'failed', outputs: null, error: { code: 'LLM_ERROR' }, nodes: [] });

    // A run still in progress (as another request would see it) is not an Execution DO either.
    const running = crypto.randomUUID();
    await env.DB.prepare(`INSERT INTO executions (id, owner_id, agent_id, trigger, mode, status, inputs, started_at) VALUES (?, ?, ?, 'execute', 'agent', 'running', '{"input":"x"}', ?)`)
      .bind(running, u.id, a.id, new Date().toISOString())
      .run();
    expect((await api(`/api/v1/executions/${running}`, { token: u.token })).body).toMatchObject({ status: 'running', nodes: [] });
    expect(expectError(await api(`/api/v1/executions/${running}/cancel`, { method: 'POST', token: u.token }), 409).message).toMatch(/inline/);
    expect(expectError(await api(`/api/v1/executions/${running}/pause`, { method: 'POST', token: u.token }), 409).message).toMatch(/inline/);

    // Its watch socket sends the final state and closes (there is no Execution DO behind it).
    const res = await exports.default.fetch(new Request(`${BASE}/api/v1/ws/executions/${ok.body.id}?token=${encodeURIComponent(u.token)}`, { headers: { Upgrade: 'websocket' } }));
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const first = new Promise<any>((resolve) => ws.addEventListener('message', (e) => resolve(JSON.parse(e.data as string))));
    ws.accept();
    expect(await first).toMatchObject({ type: 'snapshot', execution_id: ok.body.id, status: 'succeeded', nodes: [expect.objectContaining({ node_id: 'step-1' })] });

    const perf = await api(`/api/v1/execution-logs/executions/${ok.body.id}/performance`, { token: u.token });
    expect(perf.status, perf.text).toBe(200);
    expect(perf.body).toMatchObject({ execution_id: ok.body.id, status: 'succeeded', node_count: 1, nodes: [expect.objectContaining({ node_id: 'step-1', node_type: 'agent' })] });
  });

  it('counts agent runs as agent executions in monitoring and takes feedback on them', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const run = await execute(u, a.id, { input: 'rate me' });
    const stats = await api('/api/v1/monitoring/executions?kind=agent', { token: u.token });
    expect(stats.status, stats.text).toBe(200);
    expect(stats.body.total).toBe(1);
    expect((await api('/api/v1/monitoring/executions?kind=workflow', { token: u.token })).body.total).toBe(0);

    const fb = await api('/api/v1/feedback', { token: u.token, json: { target_type: 'execution', target_id: run.body.id, thumb: 'up' } });
    expect(fb.status, fb.text).toBe(201);
    expect(fb.body).toMatchObject({ target_type: 'execution', target_id: run.body.id, agent_id: a.id });
  });
});
