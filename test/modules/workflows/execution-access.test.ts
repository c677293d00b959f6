import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_ROLE_IDS } from '../../../src/modules/identity/permissions/authorize';
import { api, BASE, createUser, expectError } from '../../support/helpers';
import { count, createAgent, post, type User } from '../../support/goal-helpers';
import { chain, createWorkflow, waitFor } from '../../support/wf-helpers';

/**
 * Executions and what hangs off them (logs, the WebSocket, approvals, single-node runs) on
 * authorize(): a run is its starter's, readable with `read` on its workflow (or agent),
 * controllable with `execute`; others get 404. Shared workflows run with their owner's rights.
 */

const E = '/api/v1/executions';
const L = '/api/v1/execution-logs';
let admin: User;

beforeAll(async () => {
  admin = await createUser('admin'); // the first user of this file's database is the admin
  expect(admin.role).toBe('admin');
});

const get = (u: User, path: string) => api(path, { token: u.token });
const grant = (owner: User, type: string, id: string, to: User, level: string) =>
  post(owner, '/api/v1/permissions/grants', { resource_type: type, resource_id: id, user_id: to.id, level });
async function revoke(owner: User, type: string, id: string, from: User) {
  const g = await env.DB.prepare('SELECT id FROM resource_grants WHERE resource_type = ? AND resource_id = ? AND user_id = ?').bind(type, id, from.id).first<{ id: string }>();
  expect((await api(`/api/v1/permissions/grants/${g!.id}`, { token: owner.token, method: 'DELETE' })).status).toBe(204);
}
const ids = (res: { body: any }) => (res.body.items as any[]).map((i) => i.id);

const APPROVAL_GRAPH = {
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'ask', type: 'human_approval', config: { title: 'Ship it?' } },
    { id: 'end', type: 'end', config: { outputs: { decision: '{{ask.decision}}' } } },
  ],
  edges: [
    { source: 'start', target: 'ask' },
    { source: 'ask', target: 'end', source_handle: 'approved' },
  ],
};

async function startWaiting(owner: User, workflowId: string) {
  const res = await post(owner, `/api/v1/workflows/${workflowId}/execute`, { async: true });
  expect(res.status, res.text).toBe(202);
  await waitFor(owner.token, res.body.id, (e) => e.status === 'waiting_approval');
  return res.body.id as string;
}

async function watch(id: string, u: User) {
  return exports.default.fetch(new Request(`${BASE}/api/v1/ws/executions/${id}?token=${u.token}`, { headers: { Upgrade: 'websocket' } }));
}

describe('executions on authorize()', () => {
  it('owner ok, stranger 404 everywhere; read grant reads but cannot control; execute controls; revoking closes it; admin ok', async () => {
    const owner = await createUser();
    const friend = await createUser();
    const stranger = await createUser();
    const wf = await createWorkflow(owner.token, APPROVAL_GRAPH);
    const id = await startWaiting(owner, wf.id);
    const logId = (await env.DB.prepare('SELECT id FROM execution_logs WHERE execution_id = ? ORDER BY seq LIMIT 1').bind(id).first<{ id: string }>())!.id;
    const reads = [`${E}/${id}`, `${L}/executions/${id}`, `${L}/executions/${id}/performance`, `${L}/executions/${id}/call-chain`, `${L}/${logId}`];

    // The owner and an admin: everything.
    for (const u of [owner, admin]) {
      for (const path of reads) expect((await get(u, path)).status, `${path} for ${u.role}`).toBe(200);
      expect(ids(await get(u, `${E}?page_size=100`))).toContain(id);
    }
    expect(ids(await get(owner, '/api/v1/approval'))).toHaveLength(1);

    // A stranger: 404 for each read and each control, nothing listed, the socket refused.
    const strangerSees = async (who: User) => {
      for (const path of reads) expectError(await get(who, path), 404);
      for (const action of ['pause', 'resume', 'cancel']) expectError(await post(who, `${E}/${id}/${action}`), 404);
      expect((await get(who, E)).body.total).toBe(0);
      expect((await get(who, `${L}?execution_id=${id}`)).body.total).toBe(0);
      expect((await get(who, `${L}/stats`)).body.executions.total).toBe(0);
      expect((await get(who, '/api/v1/approval')).body.total).toBe(0);
        const refused = await watch(id, who);
      expect(refused.status).toBe(404);
      expect(await refused.json()).toMatchObject({ error: 'NOT_FOUND' });
    };
    await strangerSees(stranger);
    await strangerSees(friend);
    const approvalId = (await env.DB.prepare('SELECT id FROM approvals WHERE execution_id = ?').bind(id).first<{ id: string }>())!.id;
    expectError(await post(stranger, `/api/v1/approval/${approvalId}/decide`, { decision: 'approve' }), 404);

    // read on the workflow: the run, its logs and its socket — no control.
    expect((await grant(owner, 'workflow', wf.id, friend, 'read')).status).toBe(201);
    for (const path of reads) expect((await get(friend, path)).status, path).toBe(200);
    expect((await get(friend, `${E}/${id}`)).body).toMatchObject({ id, owner_id: owner.id, status: 'waiting_approval' });
    expect(ids(await get(friend, E))).toEqual([id]);
    expect((await get(friend, `${L}?execution_id=${id}`)).body.total).toBeGreaterThan(0);
    expect((await get(friend, `${L}/stats`)).body.executions.total).toBe(1);
    const socket = await watch(id, friend);
    expect(socket.status).toBe(101);
    socket.webSocket!.accept();
    socket.webSocket!.close();
    for (const action of ['pause', 'resume', 'cancel']) expectError(await post(friend, `${E}/${id}/${action}`), 403, 'FORBIDDEN');
    expect((await get(friend, '/api/v1/approval')).body.total).toBe(0);
    expectError(await post(friend, `/api/v1/approval/${approvalId}/decide`, { decision: 'approve' }), 403);
    expect((await get(stranger, `${E}/${id}`)).status).toBe(404);

    // execute: control it — pause, resume, decide its approval.
    await grant(owner, 'workflow', wf.id, friend, 'execute');
    expect((await post(friend, `${E}/${id}/pause`)).body.status).toBe('paused');
    expect((await post(friend, `${E}/${id}/resume`)).status).toBe(200);
    expect(ids(await get(friend, '/api/v1/approval'))).toEqual([approvalId]);
    const decided = await post(friend, `/api/v1/approval/${approvalId}/decide`, { decision: 'approve', wait_ms: 5000 });
    expect(decided.status, decided.text).toBe(200);
    expect(decided.body).toMatchObject({ status: 'approved', decided_by: friend.id });
    const done = await waitFor(owner.token, id, (e) => e.status === 'succeeded');
    expect(done.outputs).toEqual({ decision: 'approved' });

    // A second run, cancelled by the grantee.
    const second = await startWaiting(owner, wf.id);
    const cancelled = await post(friend, `${E}/${second}/cancel`);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');

    // Revoking closes it again; the admin still sees it all.
    await revoke(owner, 'workflow', wf.id, friend);
    await strangerSees(friend);
    expectError(await post(friend, `${E}/${second}/cancel`), 404);
    expect((await get(admin, `${E}/${second}`)).body.status).toBe('cancelled');
    expect((await post(admin, `${E}/${second}/pause`)).status).toBe(409);
  });

  it('runs of an agent follow the agent’s grants', async () => {
    const owner = await createUser();
    const friend = await createUser();
    const agent = await createAgent(owner);
    const run = await post(owner, E, { agent_id: agent.id, inputs: { message: 'hi' }, wait_ms: 5000 });
    expect(run.status, run.text).toBe(200);
    const id = run.body.id;
    expectError(await get(friend, `${E}/${id}`), 404);
    expectError(await post(friend, E, { agent_id: agent.id, inputs: { message: 'x' } }), 404);
    await grant(owner, 'agent', agent.id, friend, 'read');
    expect((await get(friend, `${E}/${id}`)).status).toBe(200);
    expect(ids(await get(friend, `${E}?agent_id=${agent.id}`))).toEqual([id]);
    expectError(await post(friend, `${E}/${id}/cancel`), 403);
    expectError(await post(friend, E, { agent_id: agent.id, inputs: { message: 'x' } }), 403);
    await grant(owner, 'agent', agent.id, friend, 'execute');
    expectError(await post(friend, `${E}/${id}/cancel`), 409); // allowed, but it already ended
    const mine = await post(friend, E, { agent_id: agent.id, inputs: { message: 'mine' }, wait_ms: 5000 });
    expect(mine.status, mine.text).toBe(200);
    expect(mine.body).toMatchObject({ owner_id: friend.id, agent_id: agent.id, status: 'succeeded' });
    await revoke(owner, 'agent', agent.id, friend);
    expectError(await get(friend, `${E}/${id}`), 404);
    // The grantee's own run stays theirs.
    expect((await get(friend, `${E}/${mine.body.id}`)).status).toBe(200);
  });
});

describe('shared workflow runs', () => {
  it('B runs A’s shared workflow with A’s agent and can fetch its own run; C cannot', async () => {
    const a = await createUser();
    const b = await createUser();
    const c = await createUser();
    const agent = await createAgent(a, { name: 'A’s private agent' });
    const wf = await createWorkflow(a.token, {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'ask', type: 'agent', config: { agent_id: agent.id, prompt: 'hello' } },
        { id: 'end', type: 'end', config: { outputs: { reply: '{{ask.text}}', who: '{{sys.user_id}}' } } },
      ],
      edges: [
        { source: 'start', target: 'ask' },
        { source: 'ask', target: 'end' },
      ],
    });
    expectError(await post(b, `/api/v1/workflows/${wf.id}/execute`, {}), 404);
    await grant(a, 'workflow', wf.id, b, 'read');
    expectError(await post(b, `/api/v1/workflows/${wf.id}/execute`, {}), 403, 'FORBIDDEN');
    await grant(a, 'workflow', wf.id, b, 'execute');

    const res = await post(b, `/api/v1/workflows/${wf.id}/execute`, { wait_ms: 5000 });
    expect(res.status, res.text).toBe(200);
    // The run is B's; the graph used A's agent (B has no grant on it); sys.user_id is the starter.
    expect(res.body).toMatchObject({ owner_id: b.id, workflow_id: wf.id, status: 'succeeded', outputs: { reply: 'echo: hello', who: b.id } });
    const id = res.body.execution_id;
    expect((await env.DB.prepare('SELECT owner_id FROM executions WHERE id = ?').bind(id).first<{ owner_id: string }>())!.owner_id).toBe(b.id);
    expect(await count("SELECT count(*) AS n FROM llm_calls WHERE user_id = ? AND agent_id = ?", a.id, agent.id)).toBe(1);
    expect((await get(b, `${E}/${id}`)).body).toMatchObject({ id, owner_id: b.id, status: 'succeeded' });
    expect(ids(await get(b, E))).toEqual([id]);
    expect((await get(b, `${L}/executions/${id}`)).status).toBe(200);
    expectError(await get(b, `/api/v1/agents/${agent.id}`), 404);

    // The workflow's owner sees the run of their workflow; C sees nothing and cannot run it.
    expect((await get(a, `${E}/${id}`)).status).toBe(200);
    expectError(await get(c, `${E}/${id}`), 404);
    expectError(await get(c, `${L}/executions/${id}`), 404);
    expectError(await post(c, `/api/v1/workflows/${wf.id}/execute`, {}), 404);
    expectError(await post(c, E, { workflow_id: wf.id }), 404);
    expect((await get(c, E)).body.total).toBe(0);

    // POST /executions starts it the same way.
    const again = await post(b, E, { workflow_id: wf.id, wait_ms: 5000 });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ owner_id: b.id, outputs: { reply: 'echo: hello' } });

    // A batch run of the shared workflow is B's too.
    const batch = await post(b, '/api/v1/batch/execute', { items: [{ type: 'workflow', id: wf.id, inputs: {} }] });
    expect(batch.status, batch.text).toBe(202);
    const batchRun = await waitFor(b.token, batch.body.items[0].execution_id, (e) => e.status === 'succeeded');
    expect(batchRun).toMatchObject({ owner_id: b.id, trigger: 'batch', outputs: { reply: 'echo: hello', who: b.id } });
    expectError(await get(c, `${E}/${batchRun.id}`), 404);

    // After revoking, B keeps its runs (they are B's) but cannot start another.
    await revoke(a, 'workflow', wf.id, b);
    expect((await get(b, `${E}/${id}`)).status).toBe(200);
    expectError(await post(b, `/api/v1/workflows/${wf.id}/execute`, {}), 404);
  });

  it('single-node runs use agents the caller may execute', async () => {
    const a = await createUser();
    const b = await createUser();
    const agent = await createAgent(a);
    const node = { node: { id: 'ask', type: 'agent', config: { agent_id: agent.id, prompt: 'ping' } } };
    const before = await post(b, '/api/v1/nodes/run', node);
    expect(before.status, before.text).toBe(200);
    expect(before.body).toMatchObject({ status: 'failed', error: { code: 'NOT_FOUND' } });
    await grant(a, 'agent', agent.id, b, 'read');
    expect((await post(b, '/api/v1/nodes/run', node)).body.status).toBe('failed');
    await grant(a, 'agent', agent.id, b, 'execute');
    const ok = await post(b, '/api/v1/nodes/run', node);
    expect(ok.body).toMatchObject({ status: 'succeeded', outputs: { text: 'echo: ping', agent_id: agent.id } });
    await revoke(a, 'agent', agent.id, b);
    expect((await post(b, '/api/v1/nodes/run', node)).body.status).toBe('failed');
    expect((await post(a, '/api/v1/nodes/run', node)).body.status).toBe('succeeded');
  });
});

describe('create permissions', () => {
  it('a viewer cannot quick-create a scenario (403, nothing created); a user can', async () => {
    const viewer = await createUser();
    await post(admin, `/api/v1/permissions/users/${viewer.id}/roles`, { role_id: BUILTIN_ROLE_IDS.viewer });
    expect((await api(`/api/v1/permissions/users/${viewer.id}/roles/${BUILTIN_ROLE_IDS.user}`, { token: admin.token, method: 'DELETE' })).status).toBe(204);
    const path = '/api/v1/platform/scenarios/customer-service-bot/quick-create';
    expectError(await post(viewer, path, { name: 'Acme' }), 403, 'FORBIDDEN');
    for (const table of ['agents', 'workflows', 'knowledge_bases']) expect(await count(`SELECT count(*) AS n FROM ${table} WHERE owner_id = ?`, viewer.id)).toBe(0);
    const user = await createUser();
    expect((await post(user, path, { name: 'Acme' })).status).toBe(201);
  });
});

describe('OpenAI-compatible models and MCP tools on authorize()', () => {
  it('a deployed agent shared at execute is a model and a tool; at read it is neither; revoking closes it', async () => {
    const a = await createUser();
    const b = await createUser();
    const agent = await createDeployedAgent(a);
    const apiKey = (await post(b, '/api/v1/api-keys', { name: 'client' })).body.key as string;
    const models = async () => ((await get(b, '/api/v1/openai/models')).body.data as any[]).map((m) => m.id);
    const complete = () => post(b, '/api/v1/openai/chat/completions', { model: agent.id, messages: [{ role: 'user', content: 'hi' }] });
    const tool = `agent_${agent.id.replace(/-/g, '')}`;
    const mcp = async (method: string, params: Record<string, unknown> = {}) =>
      (await api('/api/v1/mcp', { token: apiKey, json: { jsonrpc: '2.0', id: 1, method, params }, headers: { Accept: 'application/json, text/event-stream' } })).body;
    const tools = async () => ((await mcp('tools/list')).result.tools as any[]).map((t) => t.name);

    expect(await models()).not.toContain(agent.id);
    expectError(await complete(), 404);
    expect(await tools()).not.toContain(tool);
    expect((await mcp('tools/call', { name: tool, arguments: { message: 'hi' } })).error.message).toMatch(/Unknown tool/);

    await grant(a, 'agent', agent.id, b, 'read');
    expect(await models()).not.toContain(agent.id);
    expectError(await complete(), 403, 'FORBIDDEN');
    expect(await tools()).not.toContain(tool);

    await grant(a, 'agent', agent.id, b, 'execute');
    expect((await get(b, '/api/v1/openai/models')).body.data).toContainEqual(expect.objectContaining({ id: agent.id, owned_by: a.id }));
    const done = await complete();
    expect(done.status, done.text).toBe(200);
    expect(done.body.choices[0].message.content).toBe('echo: hi');
    expect(await tools()).toContain(tool);
    expect((await mcp('tools/call', { name: tool, arguments: { message: 'yo' } })).result.structuredContent.reply).toBe('echo: yo');

    await revoke(a, 'agent', agent.id, b);
    expect(await models()).not.toContain(agent.id);
    expectError(await complete(), 404);
    expect(await tools()).not.toContain(tool);
  });

  it('an active workflow shared at execute is an MCP tool; at read it is not; the run is the caller’s', async () => {
    const a = await createUser();
    const b = await createUser();
    const graph = chain([{ id: 't', type: 'template', config: { template: 'hello {{inputs.who}}' } }], { text: '{{t.text}}' });
    const wf = await createWorkflow(a.token, graph, { name: 'Greeter', inputs_schema: [{ name: 'who', type: 'string', required: true }], status: 'active' });
    const apiKey = (await post(b, '/api/v1/api-keys', { name: 'client' })).body.key as string;
    const tool = `workflow_${wf.id.replace(/-/g, '')}`;
    const mcp = async (method: string, params: Record<string, unknown> = {}) =>
      (await api('/api/v1/mcp', { token: apiKey, json: { jsonrpc: '2.0', id: 1, method, params }, headers: { Accept: 'application/json, text/event-stream' } })).body;
    const tools = async () => ((await mcp('tools/list')).result.tools as any[]).map((t) => t.name);
    const call = () => mcp('tools/call', { name: tool, arguments: { who: 'b' } });

    expect(await tools()).not.toContain(tool);
    expect((await call()).error.message).toMatch(/Unknown tool/);
    await grant(a, 'workflow', wf.id, b, 'read');
    expect(await tools()).not.toContain(tool);
    expect((await call()).error.message).toMatch(/Unknown tool/);

    await grant(a, 'workflow', wf.id, b, 'execute');
    expect(await tools()).toContain(tool);
    const result = (await call()).result;
    expect(result).toMatchObject({ isError: false, structuredContent: { text: 'hello b' } });
    expect(await count("SELECT count(*) AS n FROM executions WHERE workflow_id = ? AND owner_id = ? AND trigger = 'mcp'", wf.id, b.id)).toBe(1);

    await revoke(a, 'workflow', wf.id, b);
    expect(await tools()).not.toContain(tool);
  });
});

async function createDeployedAgent(u: User) {
  const agent = await createAgent(u, { name: 'Shared bot' });
  const d = await post(u, `/api/v1/agents/${agent.id}/deploy`);
  expect(d.status, d.text).toBe(200);
  return agent;
}
