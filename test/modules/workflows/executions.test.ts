import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, BASE, createUser, expectError } from '../../support/helpers';
import { chain, createWorkflow, run, waitFor } from '../../support/wf-helpers';
import { enforceExecutionRetention } from '../../../src/modules/workflows/executions/retention';

const FAKE = env.FAKE_BASE_URL;
const key = () => crypto.randomUUID().slice(0, 8);
const E = '/api/v1/executions';
const stubOf = (id: string) => env.EXECUTION.get(env.EXECUTION.idFromName(id));
const hits = async (k: string) => (await (await fetch(`${FAKE}/wf/count?key=${k}`)).json<{ count: number }>()).count;
const nodeOf = (body: any, id: string) => body.nodes.find((n: any) => n.node_id === id);

async function start(token: string, graph: any, inputs: Record<string, unknown> = {}) {
  const wf = await createWorkflow(token, graph);
  const res = await api(`/api/v1/workflows/${wf.id}/execute`, { token, json: { inputs, async: true } });
  expect(res.status, res.text).toBe(202);
  return { wf, id: res.body.id as string };
}

function approvalGraph(approverId?: string, timeout?: number) {
  return {
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'ask', type: 'human_approval', config: { title: 'Ship {{inputs.what}}?', description: 'please', ...(approverId ? { approver_id: approverId } : {}), ...(timeout ? { timeout_seconds: timeout } : {}) } },
      { id: 'yes', type: 'template', config: { template: 'shipped' } },
      { id: 'no', type: 'template', config: { template: 'held: {{ask.comment}}' } },
      ...(timeout ? [{ id: 'late', type: 'template', config: { template: 'expired' } }] : []),
      { id: 'pick', type: 'variable_aggregator', config: { variables: ['yes.text', 'no.text', ...(timeout ? ['late.text'] : [])] } },
      { id: 'end', type: 'end', config: { outputs: { result: '{{pick.output}}', decision: '{{ask.decision}}' } } },
    ],
    edges: [
      { source: 'start', target: 'ask' },
      { source: 'ask', target: 'yes', source_handle: 'approved' },
      { source: 'ask', target: 'no', source_handle: 'rejected' },
      ...(timeout ? [{ source: 'ask', target: 'late', source_handle: 'timeout' }, { source: 'late', target: 'pick' }] : []),
      { source: 'yes', target: 'pick' },
      { source: 'no', target: 'pick' },
      { source: 'pick', target: 'end' },
    ],
  };
}

describe('/executions', () => {
  it('creates a run of a workflow; lists with filters; gets one; owner-scoped', async () => {
    const u = await createUser();
    const other = await createUser();
    const wf = await createWorkflow(u.token, chain([{ id: 't', type: 'template', config: { template: '{{inputs.x}}' } }], { x: '{{t.text}}' }));
    const made = await api(E, { token: u.token, json: { workflow_id: wf.id, inputs: { x: 'hi' } } });
    expect(made.status, made.text).toBe(200);
    expect(made.body).toMatchObject({ status: 'succeeded', outputs: { x: 'hi' }, workflow_id: wf.id, agent_id: null });
    expect(made.body.duration_ms).toBeGreaterThanOrEqual(0);
    const failing = await createWorkflow(u.token, chain([{ id: 'l', type: 'llm', config: { prompt: '/error' } }]));
    const failed = await api(E, { token: u.token, json: { workflow_id: failing.id } });
    expect(failed.body).toMatchObject({ status: 'failed', error: { code: 'LLM_ERROR', node_id: 'l' } });

    const all = await api(E, { token: u.token });
    expect(all.body.total).toBe(2);
    expect(all.body.items[0].nodes).toBeUndefined();
    expect((await api(`${E}?workflow_id=${wf.id}`, { token: u.token })).body.items.map((e: any) => e.id)).toEqual([made.body.id]);
    expect((await api(`${E}?status=failed`, { token: u.token })).body.items.map((e: any) => e.id)).toEqual([failed.body.id]);
    expect((await api(`${E}?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { token: u.token })).body.total).toBe(0);
    expect((await api(`${E}?until=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { token: u.token })).body.total).toBe(2);
    expect((await api(E, { token: other.token })).body.total).toBe(0);

    const got = await api(`${E}/${made.body.id}`, { token: u.token });
    expect(got.body).toMatchObject({ id: made.body.id, status: 'succeeded' });
    expect(got.body.nodes.map((n: any) => n.node_id)).toEqual(['start', 't', 'end']);
    expect(nodeOf(got.body, 't')).toMatchObject({ status: 'succeeded', inputs: { template: '{{inputs.x}}' }, outputs: { text: 'hi' }, attempts: 1 });

    expectError(await api(`${E}/${made.body.id}`, { token: other.token }), 404);
    expectError(await api(`${E}/${crypto.randomUUID()}`, { token: u.token }), 404);
    expectError(await api(E, { token: other.token, json: { workflow_id: wf.id } }), 404);
    expectError(await api(E, { token: u.token, json: { agent_id: crypto.randomUUID() } }), 404, 'NOT_FOUND');
    expectError(await api(E, { token: u.token, json: {} }), 422);
    expectError(await api(E, { token: u.token, json: { workflow_id: wf.id, agent_id: 'a' } }), 422);
    expectError(await api(`${E}?status=bogus`, { token: u.token }), 422);
    expectError(await api(E), 401);
    expectError(await api(`${E}/${made.body.id}`), 401);
    for (const action of ['pause', 'resume', 'cancel']) {
      expectError(await api(`${E}/${made.body.id}/${action}`, { method: 'POST', token: u.token }), 409, 'CONFLICT');
      expectError(await api(`${E}/${made.body.id}/${action}`, { method: 'POST', token: other.token }), 404);
      expectError(await api(`${E}/${made.body.id}/${action}`, { method: 'POST' }), 401);
    }
  });

  it('runs an agent (its workflow_config or start → agent → end); agent nodes in workflows', async () => {
    const u = await createUser();
    const other = await createUser();
    const made = await api('/api/v1/agents', { token: u.token, json: { name: 'helper', system_prompt: 'be kind', model_config: { provider: 'mock', model_name: 'mock-1' } } });
    expect(made.status, made.text).toBe(201);
    const agentId = made.body.id;
    const res = await api(E, { token: u.token, json: { agent_id: agentId, inputs: { message: 'hello' } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: 'succeeded', agent_id: agentId, workflow_id: null });
    expect(res.body.outputs).toMatchObject({ text: 'echo: hello', agent_id: agentId });
    expect(res.body.token_usage.total_tokens).toBeGreaterThan(0);
    expect((await api(`${E}?agent_id=${agentId}`, { token: u.token })).body.items.map((e: any) => e.id)).toEqual([res.body.id]);
    expectError(await api(E, { token: other.token, json: { agent_id: agentId, inputs: { message: 'x' } } }), 404);

    const inFlow = (await run(u.token, chain([{ id: 'a', type: 'agent', config: { agent_id: agentId, prompt: 'say {{inputs.w}}' } }], { said: '{{a.text}}' }), { w: 'hi' })).body;
    expect(inFlow.outputs).toEqual({ said: 'echo: say hi' });
    const stolen = (await run(other.token, chain([{ id: 'a', type: 'agent', config: { agent_id: agentId } }]), { message: 'x' })).body;
    expect(stolen.error).toMatchObject({ code: 'NOT_FOUND', node_id: 'a' });
  });

  it('pause lets running nodes finish and starts no new ones; resume continues', async () => {
    const u = await createUser();
    const k = key();
    const graph = chain(
      [
        { id: 'first', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}-1&ms=300` } },
        { id: 'second', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}-2` } },
      ],
      { n: '{{second.json.count}}' },
    );
    const { id } = await start(u.token, graph);
    await waitFor(u.token, id, (e) => nodeOf(e, 'first')?.status === 'running');
    const paused = await api(`${E}/${id}/pause`, { method: 'POST', token: u.token });
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body.status).toBe('paused');
    expect(nodeOf(paused.body, 'first').status).toBe('succeeded');
    expect(nodeOf(paused.body, 'second')).toBeUndefined();
    expect(await hits(`${k}-2`)).toBe(0);
    expect((await env.DB.prepare('SELECT status FROM executions WHERE id = ?').bind(id).first())!.status).toBe('paused');
    expectError(await api(`${E}/${id}/pause`, { method: 'POST', token: u.token }), 409);

    const resumed = await api(`${E}/${id}/resume`, { method: 'POST', token: u.token, json: { wait_ms: 5000 } });
    expect(resumed.body).toMatchObject({ status: 'succeeded', outputs: { n: 1 } });
    expect(await hits(`${k}-1`)).toBe(1);
  });

  it('cancel aborts a running node, and cancels a waiting run', async () => {
    const u = await createUser();
    const { id } = await start(u.token, chain([{ id: 'slow', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${key()}&ms=3000` } }]));
    await waitFor(u.token, id, (e) => nodeOf(e, 'slow')?.status === 'running');
    const t0 = Date.now();
    const res = await api(`${E}/${id}/cancel`, { method: 'POST', token: u.token });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(res.body).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expect(nodeOf(res.body, 'slow').status).toBe('cancelled');

    const waiting = await start(u.token, approvalGraph());
    await waitFor(u.token, waiting.id, (e) => e.status === 'waiting_approval');
    const c = await api(`${E}/${waiting.id}/cancel`, { method: 'POST', token: u.token });
    expect(c.body.status).toBe('cancelled');
    const row = await env.DB.prepare('SELECT status FROM approvals WHERE execution_id = ?').bind(waiting.id).first();
    expect(row!.status).toBe('cancelled');
  });
});

describe('approvals', () => {
  it('the designated approver or the owner decides; the run resumes on the matching branch', async () => {
    const owner = await createUser();
    const approver = await createUser();
    const stranger = await createUser();
    const { id } = await start(owner.token, approvalGraph(approver.id), { what: 'v2' });
    await waitFor(owner.token, id, (e) => e.status === 'waiting_approval');

    const mine = await api('/api/v1/approval', { token: approver.token });
    expect(mine.body.total).toBe(1);
    expect(mine.body.items[0]).toMatchObject({ execution_id: id, node_id: 'ask', title: 'Ship v2?', status: 'pending', approver_id: approver.id, owner_id: owner.id });
    expect((await api('/api/v1/approval', { token: owner.token })).body.total).toBe(1);
    expect((await api('/api/v1/approval', { token: stranger.token })).body.total).toBe(0);
    const approvalId = mine.body.items[0].id;
    expect(mine.body.items[0]).toMatchObject({ kind: 'approval', fields: null, values: null });
    // The approver is told; the owner (who did not have to be) is not.
    expect((await api('/api/v1/notifications', { token: approver.token })).body.items).toEqual([
      expect.objectContaining({ type: 'approval_requested', title: 'Approval needed: Ship v2?', resource_type: 'approval', resource_id: approvalId }),
    ]);
    expect((await api('/api/v1/notifications', { token: owner.token })).body.total).toBe(0);

    expectError(await api(`/api/v1/approval/${approvalId}/decide`, { token: stranger.token, json: { decision: 'approve' } }), 404);
    expectError(await api(`/api/v1/approval/${approvalId}/decide`, { token: approver.token, json: { decision: 'maybe' } }), 422);
    expectError(await api(`/api/v1/approval/${approvalId}/decide`, { json: { decision: 'approve' } }), 401);
    expectError(await api(`/api/v1/approval/${crypto.randomUUID()}/decide`, { token: approver.token, json: { decision: 'approve' } }), 404);

    const decided = await api(`/api/v1/approval/${approvalId}/decide`, { token: approver.token, json: { decision: 'approve', comment: 'go' } });
    expect(decided.status, decided.text).toBe(200);
    expect(decided.body).toMatchObject({ status: 'approved', comment: 'go', decided_by: approver.id, execution_status: 'succeeded' });
    const done = await api(`${E}/${id}`, { token: owner.token });
    expect(done.body.outputs).toEqual({ result: 'shipped', decision: 'approved' });
    expect(nodeOf(done.body, 'no').status).toBe('skipped');
    expectError(await api(`/api/v1/approval/${approvalId}/decide`, { token: owner.token, json: { decision: 'reject' } }), 409);
    expect((await api('/api/v1/approval?status=approved', { token: approver.token })).body.total).toBe(1);

    const second = await start(owner.token, approvalGraph(), { what: 'v3' });
    await waitFor(owner.token, second.id, (e) => e.status === 'waiting_approval');
    const pending = (await api('/api/v1/approval', { token: owner.token })).body.items[0];
    const rej = await api(`/api/v1/approval/${pending.id}/decide`, { token: owner.token, json: { decision: 'reject', comment: 'not yet' } });
    expect(rej.body.execution_status).toBe('succeeded');
    expect((await api(`${E}/${second.id}`, { token: owner.token })).body.outputs).toEqual({ result: 'held: not yet', decision: 'rejected' });
  });

  it("expires a finished run's record from D1 after EXECUTION_RECORD_RETENTION_DAYS: the run, its nodes, logs and approvals together", async () => {
    const u = await createUser();
    const old = await start(u.token, approvalGraph(undefined, 1));
    await waitFor(u.token, old.id, (e) => e.status === 'succeeded', 8000);
    const recent = await run(u.token, chain([{ id: 't', type: 'template', config: { template: 'hi' } }]));
    const waiting = await start(u.token, approvalGraph());
    await waitFor(u.token, waiting.id, (e) => e.status === 'waiting_approval');
    const rows = async (id: string) =>
      Promise.all(['executions WHERE id', 'execution_nodes WHERE execution_id', 'execution_logs WHERE execution_id', 'approvals WHERE execution_id'].map(async (t) => (await env.DB.prepare(`SELECT count(*) AS n FROM ${t} = ?`).bind(id).first<{ n: number }>())!.n));
    expect((await rows(old.id)).every((n) => n > 0)).toBe(true);
    // 91 days ago: past the default 90. The waiting run started as long ago but has not finished: kept.
    const longAgo = new Date(Date.now() - 91 * 86_400_000).toISOString();
    await env.DB.prepare('UPDATE executions SET finished_at = ? WHERE id = ?').bind(longAgo, old.id).run();
    await env.DB.prepare('UPDATE executions SET started_at = ?, created_at = ? WHERE id = ?').bind(longAgo, longAgo, waiting.id).run();

    expect(await enforceExecutionRetention({ ...env, EXECUTION_RECORD_RETENTION_DAYS: '100' })).toEqual({ executions: 0 });
    expect(await enforceExecutionRetention(env)).toEqual({ executions: 1 });
    expect(await rows(old.id)).toEqual([0, 0, 0, 0]);
    expectError(await api(`${E}/${old.id}`, { token: u.token }), 404);
    expect((await api(`${E}/${recent.body.id}`, { token: u.token })).body.status).toBe('succeeded');
    expect((await rows(waiting.id))[0]).toBe(1);
    expect(await enforceExecutionRetention(env)).toEqual({ executions: 0 });
  });

  it('times out onto the timeout branch (the alarm wakes the run)', async () => {
    const u = await createUser();
    const { id } = await start(u.token, approvalGraph(undefined, 1));
    const done = await waitFor(u.token, id, (e) => e.status === 'succeeded', 8000);
    expect(done.outputs).toEqual({ result: 'expired', decision: 'timeout' });
    expect((await env.DB.prepare('SELECT status FROM approvals WHERE execution_id = ?').bind(id).first())!.status).toBe('timed_out');
  });
});

describe('human input (extension)', () => {
  const A = '/api/v1/approval';
  const FIELDS = [
    { name: 'reason', type: 'text', required: true },
    { name: 'amount', type: 'number', required: true },
    { name: 'tier', type: 'select', options: ['gold', 'silver'], default: 'silver' },
    { name: 'urgent', type: 'boolean' },
    { name: 'extra', type: 'json' },
  ];
  /** start → form → (out) done / (timeout) late → end. */
  function formGraph(config: Record<string, unknown>) {
    const branch = config.on_timeout === 'branch';
    return {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'form', type: 'human_input', config: { title: 'Refund for {{inputs.who}}', description: 'Fill in the refund', fields: FIELDS, ...config } },
        { id: 'done', type: 'template', config: { template: '{{form.reason}}/{{form.amount}}/{{form.tier}}' } },
        ...(branch ? [{ id: 'late', type: 'template', config: { template: 'late {{form.tier}}' } }] : []),
        { id: 'pick', type: 'variable_aggregator', config: { variables: ['done.text', ...(branch ? ['late.text'] : [])] } },
        { id: 'end', type: 'end', config: { outputs: { result: '{{pick.output}}', form: '{{form}}' } } },
      ],
      edges: [
        { source: 'start', target: 'form' },
        { source: 'form', target: 'done' },
        ...(branch ? [{ source: 'form', target: 'late', source_handle: 'timeout' }, { source: 'late', target: 'pick' }] : []),
        { source: 'done', target: 'pick' },
        { source: 'pick', target: 'end' },
      ],
    };
  }
  const pendingOf = async (token: string, id: string) => {
    const list = await api(`${A}?kind=input`, { token });
    return list.body.items.find((i: any) => i.execution_id === id);
  };
  /** Pretends the form's timeout has passed and fires the object's alarm. */
  async function expire(id: string) {
    const stub = stubOf(id);
    await runInDurableObject(stub, (_i, state) => {
      const s = JSON.parse(state.storage.sql.exec<{ state: string }>("SELECT state FROM nodes WHERE node_id = 'form'").one().state);
      s.wait.until = Date.now() - 1;
      state.storage.sql.exec("UPDATE nodes SET state = ? WHERE node_id = 'form'", JSON.stringify(s));
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
  }

  it('a bad form fails workflow validation, naming the field; such a workflow does not start (422)', async () => {
    const u = await createUser();
    const bad = async (config: Record<string, unknown>) => {
      const res = await api('/api/v1/workflows/validate', { token: u.token, json: { graph: formGraph(config) } });
      expect(res.status, res.text).toBe(200);
      expect(res.body.valid).toBe(false);
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors[0]).toMatchObject({ node_id: 'form', code: 'INVALID_CONFIG' });
      return res.body.errors[0].message as string;
    };
    expect((await api('/api/v1/workflows/validate', { token: u.token, json: { graph: formGraph({ timeout_seconds: 60, on_timeout: 'branch' }) } })).body).toMatchObject({ valid: true });
    expect(await bad({ fields: [{ name: 'x', type: 'date' }] })).toMatch(/^config\.fields\.0\.type: /);
    const wf = await createWorkflow(u.token, formGraph({ fields: [{ name: 'x', type: 'date' }] }));
    const refused = expectError(await api(`/api/v1/workflows/${wf.id}/execute`, { token: u.token, json: { inputs: {} } }), 422, 'VALIDATION_ERROR');
    expect(refused.message).toMatch(/form: INVALID_CONFIG: config\.fields\.0\.type/);
    // A timeout port only exists with on_timeout branch.
    const edgeToTimeout = formGraph({});
    edgeToTimeout.edges.push({ source: 'form', target: 'pick', source_handle: 'timeout' } as any);
    expect((await api('/api/v1/workflows/validate', { token: u.token, json: { graph: edgeToTimeout } })).body.valid).toBe(false);
    expect(await bad({ fields: [{ name: 'x', type: 'select' }] })).toMatch(/config\.fields\.0\.options: a select field needs options/);
    expect(await bad({ fields: [{ name: 'n', type: 'number', default: 'many' }] })).toMatch(/config\.fields\.0\.default: must be a number/);
    expect(await bad({ fields: [{ name: 'x', type: 'text' }, { name: 'x', type: 'text' }] })).toMatch(/field x is defined twice/);
    expect(await bad({ on_timeout: 'default' })).toMatch(/config\.on_timeout: default needs timeout_seconds/);
    expect(await bad({ on_timeout: 'default', timeout_seconds: 60 })).toMatch(/default needs a default for the required field reason/);
    expect(await bad({ fields: [] })).toMatch(/config\.fields/);
  });

  it('the assignee is notified (and messaged on Feishu), reads the form, submits it; values are checked; a second submission is 409', async () => {
    const owner = await createUser();
    const assignee = await createUser();
    const stranger = await createUser();
    const openId = `ou_form_${key()}`;
    await env.DB.prepare('INSERT INTO feishu_bindings (open_id, user_id) VALUES (?, ?)').bind(openId, assignee.id).run();
    const { id } = await start(owner.token, formGraph({ assignee_id: assignee.id }), { who: 'Ann' });
    await waitFor(owner.token, id, (e) => e.status === 'waiting_approval' && nodeOf(e, 'form')?.status === 'waiting');

    const item = await pendingOf(assignee.token, id);
    expect(item).toMatchObject({ kind: 'input', node_id: 'form', title: 'Refund for Ann', description: 'Fill in the refund', status: 'pending', approver_id: assignee.id, owner_id: owner.id, values: null });
    expect(item.fields.map((f: any) => [f.name, f.type, f.required])).toEqual([['reason', 'text', true], ['amount', 'number', true], ['tier', 'select', false], ['urgent', 'boolean', false], ['extra', 'json', false]]);
    expect(item.fields[2]).toMatchObject({ options: ['gold', 'silver'], default: 'silver' });
    expect((await api(`${A}?kind=approval`, { token: assignee.token })).body.total).toBe(0);
    expect(await pendingOf(stranger.token, id)).toBeUndefined();

    const notes = await api('/api/v1/notifications', { token: assignee.token });
    expect(notes.body.items).toEqual([expect.objectContaining({ type: 'input_requested', title: 'Input needed: Refund for Ann', resource_type: 'approval', resource_id: item.id })]);
    expect(notes.body.items[0].body).toContain(`/approval/${item.id}/submit`);
    const sent = async () => ((await (await fetch(`${FAKE}/feishu/_calls`)).json()) as any[]).filter((c) => c.body?.receive_id === openId);
    for (let i = 0; i < 100 && (await sent()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const messages = await sent();
    expect(messages).toHaveLength(1);
    expect(messages[0].path).toBe('/open-apis/im/v1/messages?receive_id_type=open_id');
    expect(JSON.parse(messages[0].body.content).text).toContain('Input needed: Refund for Ann');

    const submit = (token: string, values: unknown, extra: Record<string, unknown> = {}) => api(`${A}/${item.id}/submit`, { token, json: { values, ...extra } });
    expectError(await submit(stranger.token, { reason: 'x', amount: 1 }), 404);
    expectError(await api(`${A}/${item.id}/submit`, { json: { values: {} } }), 401);
    expect(expectError(await submit(assignee.token, { reason: 'x', amount: 1, colour: 'red' }), 422).message).toBe('body.values.colour: the form has no such field');
    expect(expectError(await submit(assignee.token, { reason: 'x' }), 422).message).toBe('body.values.amount: required');
    expect(expectError(await submit(assignee.token, { reason: 'x', amount: 'lots' }), 422).message).toBe('body.values.amount: must be a number');
    expect(expectError(await submit(assignee.token, { reason: 'x', amount: 1, tier: 'bronze' }), 422).message).toBe('body.values.tier: must be one of "gold", "silver"');
    expect(expectError(await submit(assignee.token, { reason: 'x', amount: 1, urgent: 1 }), 422).message).toBe('body.values.urgent: must be a boolean');
    expectError(await submit(assignee.token, { reason: 'x', amount: 1 }, { comment: 'no' }), 422);
    expectError(await api(`${A}/${item.id}/decide`, { token: assignee.token, json: { decision: 'approve' } }), 409, 'CONFLICT');
    expect((await api(`${E}/${id}`, { token: owner.token })).body.status).toBe('waiting_approval');

    // Lossless coercion only: "12.5" → 12.5, "true" → true; the default fills tier; json takes anything.
    const done = await submit(assignee.token, { reason: 'broken', amount: '12.5', urgent: 'true', extra: { order: [1, 2] } });
    expect(done.status, done.text).toBe(200);
    const values = { reason: 'broken', amount: 12.5, tier: 'silver', urgent: true, extra: { order: [1, 2] } };
    expect(done.body).toMatchObject({ kind: 'input', status: 'submitted', decided_by: assignee.id, values, execution_status: 'succeeded' });
    const run = (await api(`${E}/${id}`, { token: owner.token })).body;
    expect(run.outputs).toEqual({ result: 'broken/12.5/silver', form: values });
    expect(nodeOf(run, 'form')).toMatchObject({ status: 'succeeded', outputs: values, branch: 'out' });

    expect(expectError(await submit(owner.token, { reason: 'again', amount: 2 }), 409, 'CONFLICT').message).toMatch(/already submitted/);
    expect((await api(`${A}?status=submitted`, { token: assignee.token })).body.items.map((i: any) => i.id)).toEqual([item.id]);
    const log = await api(`/api/v1/execution-logs/executions/${id}`, { token: owner.token });
    expect(log.body.items.filter((l: any) => l.message === `Input submitted by ${assignee.id}`)).toHaveLength(1);
  });

  it('survives the object being torn down while waiting; of two concurrent submissions one wins, the other is 409, the run continues once', async () => {
    const u = await createUser();
    const { id } = await start(u.token, formGraph({}), { who: 'Bo' });
    await waitFor(u.token, id, (e) => e.status === 'waiting_approval');
    const item = await pendingOf(u.token, id);
    // Nothing of the waiting run is in memory: kill the instance (as a redeploy would).
    await abortAllDurableObjects();
    const [a, b] = await Promise.all([
      api(`${A}/${item.id}/submit`, { token: u.token, json: { values: { reason: 'first', amount: 1 } } }),
      api(`${A}/${item.id}/submit`, { token: u.token, json: { values: { reason: 'second', amount: 2 } } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? a : b;
    const run = await waitFor(u.token, id, (e) => e.status === 'succeeded');
    expect(run.outputs.form).toEqual(winner.body.values);
    expect(nodeOf(run, 'done')).toMatchObject({ attempts: 1, outputs: { text: `${winner.body.values.reason}/${winner.body.values.amount}/silver` } });
    const row = await env.DB.prepare('SELECT status, "values" FROM approvals WHERE id = ?').bind(item.id).first<{ status: string; values: string }>();
    expect(row!.status).toBe('submitted');
    expect(JSON.parse(row!.values)).toEqual(winner.body.values);
    const log = await api(`/api/v1/execution-logs/executions/${id}`, { token: u.token });
    expect(log.body.items.filter((l: any) => l.message.startsWith('Input submitted by'))).toHaveLength(1);
    expect(log.body.items.filter((l: any) => l.message === 'Node done succeeded')).toHaveLength(1);
  });

  it('timeouts: fail fails the node, default continues with the defaults, branch takes the timeout port', async () => {
    const u = await createUser();
    const fields = [
      { name: 'reason', type: 'text', required: true, default: 'none given' },
      { name: 'amount', type: 'number', default: 0 },
      { name: 'tier', type: 'select', options: ['gold', 'silver'], default: 'silver' },
    ];
    const outcomes: Record<string, any> = {};
    for (const on_timeout of ['fail', 'default', 'branch']) {
      const { id } = await start(u.token, formGraph({ fields, timeout_seconds: 3600, on_timeout }), { who: on_timeout });
      await waitFor(u.token, id, (e) => e.status === 'waiting_approval');
      const item = await pendingOf(u.token, id);
      expect(Date.parse(item.timeout_at) - Date.now()).toBeGreaterThan(3000 * 1000);
      await expire(id);
      outcomes[on_timeout] = await waitFor(u.token, id, (e) => ['succeeded', 'failed'].includes(e.status));
      expect((await env.DB.prepare('SELECT status FROM approvals WHERE id = ?').bind(item.id).first())!.status).toBe('timed_out');
      expectError(await api(`${A}/${item.id}/submit`, { token: u.token, json: { values: { reason: 'late' } } }), 409);
    }
    expect(outcomes.fail).toMatchObject({ status: 'failed', error: { code: 'INPUT_TIMEOUT', node_id: 'form' } });
    expect(nodeOf(outcomes.fail, 'done')?.status ?? 'never ran').not.toBe('succeeded');
    const defaults = { reason: 'none given', amount: 0, tier: 'silver' };
    expect(outcomes.default).toMatchObject({ status: 'succeeded', outputs: { result: 'none given/0/silver', form: defaults } });
    expect(outcomes.branch).toMatchObject({ status: 'succeeded', outputs: { result: 'late silver', form: defaults } });
    expect(nodeOf(outcomes.branch, 'form').branch).toBe('timeout');
    expect(nodeOf(outcomes.branch, 'done').status).toBe('skipped');
  });
});

describe('durability', () => {
  it('resumes from storage after eviction; recorded nodes do not run again', async () => {
    const u = await createUser();
    const k = key();
    const graph = chain(
      [
        { id: 'a', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}-a` } },
        { id: 'b', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}-b&ms=2000` } },
      ],
      { a: '{{a.json.count}}', b: '{{b.json.count}}' },
    );
    const { id } = await start(u.token, graph);
    await waitFor(u.token, id, (e) => nodeOf(e, 'b')?.status === 'running');
    // Kill the instance mid-node (a graceful eviction would wait for the node to finish):
    // its in-memory run is gone, its storage stays and says b was running.
    await abortAllDurableObjects();
    const stub = stubOf(id);
    const stored = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec<{ state: string }>("SELECT state FROM nodes WHERE node_id = 'b'").one().state,
    );
    expect(JSON.parse(stored).status).toBe('running');
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const done = await waitFor(u.token, id, (e) => e.status === 'succeeded');
    expect(await hits(`${k}-a`)).toBe(1);
    expect(await hits(`${k}-b`)).toBe(2);
    expect(done.outputs).toEqual({ a: 1, b: 2 });
    const log = await api(`/api/v1/execution-logs/executions/${id}`, { token: u.token });
    expect(log.body.items.map((l: any) => l.message)).toContain('Node b was interrupted by a restart; running it again');
  });

  it('a long delay sleeps with no work in memory and an alarm resumes it, even after eviction', async () => {
    const u = await createUser();
    const { id } = await start(u.token, chain([{ id: 'nap', type: 'delay', config: { duration_ms: 60_000 } }], { ok: true }));
    await waitFor(u.token, id, (e) => nodeOf(e, 'nap')?.status === 'waiting');
    const stub = stubOf(id);
    await evictDurableObject(stub);
    // Pretend the minute has passed.
    await runInDurableObject(stub, (_i, state) => {
      const s = JSON.parse(state.storage.sql.exec<{ state: string }>("SELECT state FROM nodes WHERE node_id = 'nap'").one().state);
      s.wait.until = Date.now() - 1;
      state.storage.sql.exec("UPDATE nodes SET state = ? WHERE node_id = 'nap'", JSON.stringify(s));
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const done = await api(`${E}/${id}`, { token: u.token });
    expect(done.body).toMatchObject({ status: 'succeeded', outputs: { ok: true } });
    expect(nodeOf(done.body, 'nap').outputs).toEqual({ waited_ms: 60_000 });
  });
});

describe('WebSocket /ws/executions/{id}', () => {
  async function connect(id: string, token: string) {
    const res = await exports.default.fetch(new Request(`${BASE}/api/v1/ws/executions/${id}?token=${token}`, { headers: { Upgrade: 'websocket' } }));
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const messages: any[] = [];
    ws.addEventListener('message', (e) => messages.push(JSON.parse(e.data as string)));
    ws.accept();
    return { ws, messages };
  }
  const until = async (pred: () => boolean) => {
    for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
    expect(pred()).toBe(true);
  };

  it('sends the snapshot, then live events to several watchers', async () => {
    const u = await createUser();
    const { id } = await start(u.token, approvalGraph());
    await waitFor(u.token, id, (e) => e.status === 'waiting_approval');
    const one = await connect(id, u.token);
    const two = await connect(id, u.token);
    await until(() => one.messages.length > 0 && two.messages.length > 0);
    expect(one.messages[0]).toMatchObject({ type: 'snapshot', execution_id: id, status: 'waiting_approval' });
    expect(one.messages[0].nodes.find((n: any) => n.node_id === 'ask').status).toBe('waiting');

    const approval = (await api('/api/v1/approval', { token: u.token })).body.items[0];
    await api(`/api/v1/approval/${approval.id}/decide`, { token: u.token, json: { decision: 'approve' } });
    for (const w of [one, two]) {
      await until(() => w.messages.some((m) => m.type === 'execution_finished'));
      const types = w.messages.map((m) => m.type);
      expect(types).toContain('node_started');
      expect(types).toContain('node_finished');
      expect(w.messages.find((m) => m.type === 'execution_finished')).toMatchObject({ status: 'succeeded', outputs: { result: 'shipped', decision: 'approved' } });
      expect(w.messages.filter((m) => m.type === 'node_finished').map((m) => m.node_id)).toEqual(expect.arrayContaining(['ask', 'yes', 'no', 'pick', 'end']));
      w.ws.close();
    }
  });

  it('streams node events and approval_required to a watcher that joined mid-run', async () => {
    const u = await createUser();
    const graph = {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'h', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${key()}&ms=300` } },
        { id: 'ask', type: 'human_approval', config: { title: 'ok?' } },
        { id: 'end', type: 'end' },
      ],
      edges: [
        { source: 'start', target: 'h' },
        { source: 'h', target: 'ask' },
        { source: 'ask', target: 'end', source_handle: 'approved' },
        { source: 'ask', target: 'end', source_handle: 'rejected' },
      ],
    };
    const { id } = await start(u.token, graph);
    const w = await connect(id, u.token);
    await until(() => w.messages.some((m) => m.type === 'approval_required'));
    expect(w.messages[0]).toMatchObject({ type: 'snapshot', status: 'running' });
    expect(w.messages.find((m) => m.type === 'approval_required')).toMatchObject({ node_id: 'ask', approval_id: expect.any(String), title: 'ok?' });
    expect(w.messages.some((m) => m.type === 'node_finished' && m.node_id === 'h' && m.status === 'succeeded')).toBe(true);
    expect(w.messages.some((m) => m.type === 'node_started' && m.node_id === 'ask')).toBe(true);
    w.ws.close();
  });

  it('401 without a valid token, 404 for another user, 426 without an upgrade', async () => {
    const u = await createUser();
    const other = await createUser();
    const { id } = await start(u.token, approvalGraph());
    expectError(await api(`/api/v1/ws/executions/${id}`, { headers: { Upgrade: 'websocket' } }), 401);
    expectError(await api(`/api/v1/ws/executions/${id}?token=nope`, { headers: { Upgrade: 'websocket' } }), 401);
    expectError(await api(`/api/v1/ws/executions/${id}?token=${other.token}`, { headers: { Upgrade: 'websocket' } }), 404);
    expectError(await api(`/api/v1/ws/executions/${crypto.randomUUID()}?token=${u.token}`, { headers: { Upgrade: 'websocket' } }), 404);
    expectError(await api(`/api/v1/ws/executions/${id}?token=${u.token}`), 426, 'UPGRADE_REQUIRED');
  });
});

describe('retry and fork (extensions)', () => {
  const llmCalls = async (userId: string) => (await env.DB.prepare('SELECT count(*) AS n FROM llm_calls WHERE user_id = ?').bind(userId).first<{ n: number }>())!.n;
  const post = (token: string, path: string, json?: unknown) => api(`${E}${path}`, { method: 'POST', token, ...(json === undefined ? {} : { json }) });
  /** start → l1 (model) → a (HTTP) → b (HTTP, 500 for its first `failures` calls) → l2 (model) → end. */
  const flaky = (k: string, failures: number, ms = 0) =>
    chain(
      [
        { id: 'l1', type: 'llm', config: { prompt: 'first {{inputs.topic}}' } },
        { id: 'a', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}-a` } },
        { id: 'b', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}-b&fail=${failures}&ms=${ms}` } },
        { id: 'l2', type: 'llm', config: { prompt: 'then {{inputs.topic}} {{b.json.count}}' } },
      ],
      { first: '{{l1.text}}', a: '{{a.json.count}}', b: '{{b.json.count}}', last: '{{l2.text}}' },
    );

  it('retry resumes from the failed node: no model or HTTP call of a finished node again, even after the run object is gone; attempts chain', async () => {
    const u = await createUser();
    const other = await createUser();
    const k = key();
    const { wf, id } = await start(u.token, flaky(k, 2), { topic: 'tea' });
    const failed = await waitFor(u.token, id, (e) => e.status === 'failed');
    expect(failed.error).toMatchObject({ code: 'HTTP_ERROR', node_id: 'b' });
    expect([await llmCalls(u.id), await hits(`${k}-a`), await hits(`${k}-b`)]).toEqual([1, 1, 1]);
    // The recorded run in D1 is enough: its Execution object's storage is gone.
    await runInDurableObject(stubOf(id), (_i, state) => state.storage.deleteAll());

    expectError(await post(other.token, `/${id}/retry`), 404);
    const second = await post(u.token, `/${id}/retry`, { wait_ms: 10_000 });
    expect(second.status, second.text).toBe(200);
    expect(second.body).toMatchObject({ status: 'failed', retry_of: id, forked_from: null, attempt: 2, trigger: 'retry', workflow_id: wf.id, inputs: { topic: 'tea' } });
    expect([await llmCalls(u.id), await hits(`${k}-a`), await hits(`${k}-b`)]).toEqual([1, 1, 2]);

    const third = await post(u.token, `/${second.body.id}/retry`);
    expect(third.status, third.text).toBe(200);
    expect(third.body).toMatchObject({ status: 'succeeded', retry_of: second.body.id, attempt: 3 });
    expect(third.body.outputs).toEqual({ first: 'echo: first tea', a: 1, b: 3, last: 'echo: then tea 3' });
    // Only b (the failed node) and what follows ran: one more model call (l2), one more HTTP call (b).
    expect([await llmCalls(u.id), await hits(`${k}-a`), await hits(`${k}-b`)]).toEqual([2, 1, 3]);

    // Which attempt produced which output: reused nodes name the run that produced them.
    const got = (await api(`${E}/${third.body.id}`, { token: u.token })).body;
    for (const n of ['start', 'l1', 'a']) expect(nodeOf(got, n), n).toMatchObject({ status: 'succeeded', reused_from: id, attempts: 0 });
    expect(nodeOf(got, 'l1').outputs.text).toBe('echo: first tea');
    for (const n of ['b', 'l2', 'end']) expect(nodeOf(got, n), n).toMatchObject({ status: 'succeeded', reused_from: null, attempts: 1 });
    expect(nodeOf(got, 'b').outputs.json.count).toBe(3);
    const row = await env.DB.prepare('SELECT reused_from, seq FROM execution_nodes WHERE execution_id = ? AND node_id = ?').bind(third.body.id, 'l1').first();
    expect(row).toMatchObject({ reused_from: id, seq: 2 });
    expect((await api(`${E}/${id}`, { token: u.token })).body).toMatchObject({ status: 'failed', retry_of: null, attempt: 1 });
    const log = await api(`/api/v1/execution-logs/executions/${third.body.id}`, { token: u.token });
    expect(log.body.items.map((l: any) => l.message)).toContain(`Execution started: a retry of ${second.body.id}`);

    // A succeeded run is not retried (forked instead). A run's token usage is its own nodes' (l2 only).
    const again = expectError(await post(u.token, `/${third.body.id}/retry`), 409, 'CONFLICT');
    expect(again.message).toMatch(/failed or cancelled.*succeeded/);
    expect(got.token_usage.total_tokens).toBe(nodeOf(got, 'l2').total_tokens);
    expectError(await post(u.token, `/${crypto.randomUUID()}/retry`), 404);
    expectError(await api(`${E}/${id}/retry`, { method: 'POST' }), 401);
  });

  it('a finished run\'s object storage is deleted by its retention alarm; GET, the WebSocket, retry and fork answer from D1', async () => {
    const u = await createUser();
    const k = key();
    const { id } = await start(u.token, flaky(k, 1), { topic: 'jam' });
    const failed = await waitFor(u.token, id, (e) => e.status === 'failed');
    const stub = stubOf(id);
    // The alarm is armed for the end of the retention window (7 days by default), not before.
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm! - Date.parse(failed.finished_at)).toBe(7 * 86_400_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.sql.exec('SELECT count(*) AS n FROM nodes').one().n)).toBe(4);
    // Eight days later: the alarm deletes its storage.
    await runInDurableObject(stub, (instance, state) => {
      const run = JSON.parse(state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'run'").one().value);
      run.finished_at = new Date(Date.now() - 8 * 86_400_000).toISOString();
      state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'run'", JSON.stringify(run));
      (instance as any).meta = null; // read the run again from storage
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = await runInDurableObject(stub, async (_i, state) => ({
      tables: state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").one().n,
      alarm: await state.storage.getAlarm(),
    }));
    expect(left).toEqual({ tables: 0, alarm: null });

    const got = await api(`${E}/${id}`, { token: u.token });
    expect(got.body).toMatchObject({ id, status: 'failed', error: { code: 'HTTP_ERROR', node_id: 'b' } });
    expect(got.body.nodes.map((n: any) => [n.node_id, n.status])).toEqual(failed.nodes.map((n: any) => [n.node_id, n.status]));
    const res = await exports.default.fetch(new Request(`${BASE}/api/v1/ws/executions/${id}?token=${u.token}`, { headers: { Upgrade: 'websocket' } }));
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const first = new Promise<any>((resolve) => ws.addEventListener('message', (m) => resolve(JSON.parse(m.data as string))));
    ws.accept();
    expect(await first).toMatchObject({ type: 'snapshot', execution_id: id, status: 'failed' });

    const retried = await post(u.token, `/${id}/retry`, { wait_ms: 10_000 });
    expect(retried.body).toMatchObject({ status: 'succeeded', retry_of: id });
    expect(nodeOf(retried.body, 'a')).toMatchObject({ reused_from: id, attempts: 0 });
    const forked = await post(u.token, `/${id}/fork`, { from_node_id: 'b', wait_ms: 10_000 });
    expect(forked.body).toMatchObject({ status: 'succeeded', forked_from: id, forked_at_node: 'b' });
    expect(nodeOf(forked.body, 'a')).toMatchObject({ reused_from: id, attempts: 0 });
    // Only b ran again (in the retry and in the fork); a's call was never repeated.
    expect([await hits(`${k}-a`), await hits(`${k}-b`)]).toEqual([1, 3]);
  });

  it('retry with node_overrides and inputs; a running run is 409; a cancelled run resumes', async () => {
    const u = await createUser();
    const k = key();
    const graph = chain(
      [
        { id: 'a', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}-a` } },
        { id: 'broken', type: 'http_request', config: { url: `${FAKE}/wf/nowhere` } },
        { id: 't', type: 'template', config: { template: '{{inputs.who}} got {{broken.json.count}}' } },
      ],
      { said: '{{t.text}}' },
    );
    const { id } = await start(u.token, graph, { who: 'ann' });
    await waitFor(u.token, id, (e) => e.status === 'failed');
    expectError(await post(u.token, `/${id}/retry`, { node_overrides: { a: { config: { url: `${FAKE}/wf/hit?key=${k}-x` } } } }), 422);
    expectError(await post(u.token, `/${id}/retry`, { node_overrides: { ghost: { config: {} } } }), 422);
    expectError(await post(u.token, `/${id}/retry`, { node_overrides: { broken: { config: { method: 'BREW' } } } }), 422);
    expectError(await post(u.token, `/${id}/retry`, { extra: true }), 422);
    const fixed = await post(u.token, `/${id}/retry`, { inputs: { who: 'bob' }, node_overrides: { broken: { config: { url: `${FAKE}/wf/hit?key=${k}-b` } } } });
    expect(fixed.status, fixed.text).toBe(200);
    expect(fixed.body).toMatchObject({ status: 'succeeded', inputs: { who: 'bob' }, outputs: { said: 'bob got 1' } });
    expect(nodeOf(fixed.body, 'start')).toMatchObject({ reused_from: id, outputs: { who: 'bob' } });
    expect(nodeOf(fixed.body, 'broken').inputs.url).toContain(`${k}-b`);
    expect(await hits(`${k}-a`)).toBe(1);

    const slow = await start(u.token, chain([
      { id: 'a', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}-c` } },
      { id: 'slow', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}-s&ms=3000` } },
    ]));
    await waitFor(u.token, slow.id, (e) => nodeOf(e, 'slow')?.status === 'running');
    expect(expectError(await post(u.token, `/${slow.id}/retry`), 409, 'CONFLICT').message).toMatch(/running/);
    expectError(await post(u.token, `/${slow.id}/fork`, { from_node_id: 'a' }), 409, 'CONFLICT');
    await post(u.token, `/${slow.id}/cancel`);
    const resumed = await post(u.token, `/${slow.id}/retry`, { node_overrides: { slow: { config: { url: `${FAKE}/wf/hit?key=${k}-s` } } } });
    expect(resumed.body).toMatchObject({ status: 'succeeded', retry_of: slow.id });
    expect(nodeOf(resumed.body, 'a').reused_from).toBe(slow.id);
    expect([await hits(`${k}-c`), await hits(`${k}-s`)]).toEqual([1, 2]);
  });

  it('fork re-runs from a node with overrides; upstream and other branches are reused; lineage; 404 for others', async () => {
    const u = await createUser();
    const other = await createUser();
    const k = key();
    const graph = {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'fetch', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}-f` } },
        { id: 'side', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}-side` } },
        { id: 'check', type: 'condition', config: { cases: [{ id: 'big', logical_operator: 'and', conditions: [{ variable: 'fetch.json.count', operator: 'gt', value: 5 }] }] } },
        { id: 'big', type: 'template', config: { template: 'big' } },
        { id: 'small', type: 'llm', config: { prompt: 'small {{fetch.json.count}}' } },
        { id: 'pick', type: 'variable_aggregator', config: { variables: ['big.text', 'small.text'] } },
        { id: 'write', type: 'llm', config: { prompt: 'write {{pick.output}}' } },
        { id: 'end', type: 'end', config: { outputs: { text: '{{write.text}}', side: '{{side.json.count}}' } } },
      ],
      edges: [
        { source: 'start', target: 'fetch' },
        { source: 'start', target: 'side' },
        { source: 'fetch', target: 'check' },
        { source: 'check', target: 'big', source_handle: 'big' },
        { source: 'check', target: 'small', source_handle: 'else' },
        { source: 'big', target: 'pick' },
        { source: 'small', target: 'pick' },
        { source: 'pick', target: 'write' },
        { source: 'write', target: 'end' },
        { source: 'side', target: 'end' },
      ],
    };
    const wf = await createWorkflow(u.token, graph);
    const first = (await api(`/api/v1/workflows/${wf.id}/execute`, { token: u.token, json: {} })).body;
    expect(first.outputs).toEqual({ text: 'echo: write echo: small 1', side: 1 });
    expect(await llmCalls(u.id)).toBe(2);

    expectError(await post(other.token, `/${first.id}/fork`, { from_node_id: 'write' }), 404);
    expectError(await post(u.token, `/${first.id}/fork`, { from_node_id: 'nope' }), 422);
    expectError(await post(u.token, `/${first.id}/fork`, {}), 422);
    expectError(await post(u.token, `/${first.id}/fork`, { from_node_id: 'write', node_overrides: { small: { config: { prompt: 'x' } } } }), 422);
    const fork = await post(u.token, `/${first.id}/fork`, { from_node_id: 'write', node_overrides: { write: { config: { prompt: 'rewrite {{pick.output}}' } } } });
    expect(fork.status, fork.text).toBe(200);
    expect(fork.body).toMatchObject({ status: 'succeeded', forked_from: first.id, forked_at_node: 'write', retry_of: null, attempt: 1, trigger: 'fork' });
    expect(fork.body.outputs).toEqual({ text: 'echo: rewrite echo: small 1', side: 1 });
    expect([await llmCalls(u.id), await hits(`${k}-f`), await hits(`${k}-side`)]).toEqual([3, 1, 1]);
    for (const n of ['start', 'fetch', 'side', 'check', 'small', 'pick']) expect(nodeOf(fork.body, n).reused_from, n).toBe(first.id);
    expect(nodeOf(fork.body, 'big')).toMatchObject({ status: 'skipped', reused_from: null });
    expect(nodeOf(fork.body, 'write')).toMatchObject({ reused_from: null, attempts: 1 });

    // From an earlier node (of the fork: its graph is the one it ran, overrides included).
    const fork2 = await post(u.token, `/${fork.body.id}/fork`, { from_node_id: 'fetch' });
    expect(fork2.body.outputs).toEqual({ text: 'echo: rewrite echo: small 2', side: 1 });
    expect([await llmCalls(u.id), await hits(`${k}-f`), await hits(`${k}-side`)]).toEqual([5, 2, 1]);
    // The reused side branch names the run that actually produced it.
    expect(nodeOf(fork2.body, 'side').reused_from).toBe(first.id);
    expect((await api(`${E}/${fork2.body.id}`, { token: u.token })).body).toMatchObject({ forked_from: fork.body.id, forked_at_node: 'fetch' });

    // A failed run forks too.
    const failing = await createWorkflow(u.token, chain([{ id: 'ok', type: 'template', config: { template: 'fine' } }, { id: 'bad', type: 'llm', config: { prompt: '/error' } }], { t: '{{bad.text}}' }));
    const bad = (await api(`/api/v1/workflows/${failing.id}/execute`, { token: u.token, json: {} })).body;
    expect(bad.status).toBe('failed');
    const healed = await post(u.token, `/${bad.id}/fork`, { from_node_id: 'bad', node_overrides: { bad: { config: { prompt: 'better' } } } });
    expect(healed.body).toMatchObject({ status: 'succeeded', outputs: { t: 'echo: better' } });
  });

  it('fork at an iteration body replays that item; the other items keep their recorded results', async () => {
    const u = await createUser();
    const k = key();
    const body = {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'h', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}-{{inputs.item}}` } },
        { id: 'l', type: 'llm', config: { prompt: 'say {{inputs.item}} {{h.json.count}}' } },
        { id: 'end', type: 'end', config: { outputs: { said: '{{l.text}}' } } },
      ],
      edges: [{ source: 'start', target: 'h' }, { source: 'h', target: 'l' }, { source: 'l', target: 'end' }],
    };
    const graph = chain([{ id: 'iter', type: 'iteration', config: { items: ['x', 'y', 'z'], body, concurrency: 3 } }], { results: '{{iter.results}}' });
    const first = (await run(u.token, graph)).body;
    expect(first.outputs.results).toEqual([{ said: 'echo: say x 1' }, { said: 'echo: say y 1' }, { said: 'echo: say z 1' }]);
    expect(await llmCalls(u.id)).toBe(3);

    expectError(await post(u.token, `/${first.id}/fork`, { from_node_id: 'iter/h' }), 422);
    expectError(await post(u.token, `/${first.id}/fork`, { from_node_id: 'iter/nope', item_index: 0 }), 422);
    expectError(await post(u.token, `/${first.id}/fork`, { from_node_id: 'iter/h', item_index: 3 }), 422);
    expectError(await post(u.token, `/${first.id}/fork`, { from_node_id: 'end', item_index: 0 }), 422);
    const fork = await post(u.token, `/${first.id}/fork`, { from_node_id: 'iter/h', item_index: 1 });
    expect(fork.status, fork.text).toBe(200);
    expect(fork.body).toMatchObject({ status: 'succeeded', forked_from: first.id, forked_at_node: 'iter/h' });
    expect(fork.body.outputs.results).toEqual([{ said: 'echo: say x 1' }, { said: 'echo: say y 2' }, { said: 'echo: say z 1' }]);
    expect([await llmCalls(u.id), await hits(`${k}-x`), await hits(`${k}-y`), await hits(`${k}-z`)]).toEqual([4, 1, 2, 1]);
    expect(nodeOf(fork.body, 'iter')).toMatchObject({ reused_from: null, attempts: 1 });
    const log = await api(`/api/v1/execution-logs/executions/${fork.body.id}`, { token: u.token });
    expect(log.body.items.map((l: any) => l.message)).toEqual(expect.arrayContaining([`Execution started: a fork of ${first.id} from iter/h (item 1)`]));

    // The whole iteration again: every item runs.
    await post(u.token, `/${first.id}/fork`, { from_node_id: 'iter' });
    expect([await llmCalls(u.id), await hits(`${k}-x`), await hits(`${k}-y`), await hits(`${k}-z`)]).toEqual([7, 2, 3, 2]);
  });

  it('the WebSocket of a retry shows the reused nodes in its snapshot, then the re-run live', async () => {
    const u = await createUser();
    const k = key();
    const { id } = await start(u.token, flaky(k, 1, 400), { topic: 'ws' });
    await waitFor(u.token, id, (e) => e.status === 'failed');
    const retry = await post(u.token, `/${id}/retry`, { async: true });
    expect(retry.status, retry.text).toBe(202);
    const res = await exports.default.fetch(new Request(`${BASE}/api/v1/ws/executions/${retry.body.id}?token=${u.token}`, { headers: { Upgrade: 'websocket' } }));
    expect(res.status).toBe(101);
    const messages: any[] = [];
    res.webSocket!.addEventListener('message', (e) => messages.push(JSON.parse(e.data as string)));
    res.webSocket!.accept();
    for (let i = 0; i < 200 && !messages.some((m) => m.type === 'execution_finished'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(messages[0]).toMatchObject({ type: 'snapshot', execution_id: retry.body.id });
    expect(messages[0].nodes.find((n: any) => n.node_id === 'l1')).toMatchObject({ status: 'succeeded', reused_from: id });
    const finished = messages.filter((m) => m.type === 'node_finished').map((m) => m.node_id);
    expect(finished).toEqual(expect.arrayContaining(['l2', 'end']));
    expect(finished).not.toContain('l1');
    expect(finished).not.toContain('a');
    expect(messages.find((m) => m.type === 'execution_finished')).toMatchObject({ status: 'succeeded', outputs: { b: 2, last: 'echo: then ws 2' } });
    res.webSocket!.close();
  });
});

describe('/execution-logs', () => {
  it('lists, filters, reads one, full log, performance, call chain, errors, stats, deletion by age', async () => {
    const u = await createUser();
    const other = await createUser();
    const L = '/api/v1/execution-logs';
    const k = key();
    // A diamond: the slow branch is the critical path.
    const graph = {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'fast', type: 'template', config: { template: 'f' } },
        { id: 'slow', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}&ms=200` } },
        { id: 'ask', type: 'llm', config: { prompt: 'hello' } },
        { id: 'end', type: 'end', config: { outputs: { a: '{{ask.text}}' } } },
      ],
      edges: [
        { source: 'start', target: 'fast' },
        { source: 'start', target: 'slow' },
        { source: 'fast', target: 'ask' },
        { source: 'slow', target: 'ask' },
        { source: 'ask', target: 'end' },
      ],
    };
    const ok = (await run(u.token, graph)).body;
    const bad = (await run(u.token, chain([{ id: 'boom', type: 'llm', config: { prompt: '/error' } }]))).body;
    expect(ok.status).toBe('succeeded');

    const all = await api(L, { token: u.token });
    expect(all.body.total).toBeGreaterThan(5);
    expect((await api(L, { token: other.token })).body.total).toBe(0);
    const errs = await api(`${L}?level=error`, { token: u.token });
    expect(errs.body.items.every((l: any) => l.level === 'error' && l.execution_id === bad.id)).toBe(true);
    const byNode = await api(`${L}?execution_id=${ok.id}&node_id=slow`, { token: u.token });
    expect(byNode.body.items.map((l: any) => l.message)).toEqual(['Node slow succeeded']);
    expect(byNode.body.items[0].data.duration_ms).toBeGreaterThanOrEqual(190);
    expect((await api(`${L}?search=${encodeURIComponent('Execution started')}`, { token: u.token })).body.total).toBe(2);

    const one = await api(`${L}/${byNode.body.items[0].id}`, { token: u.token });
    expect(one.body).toMatchObject({ node_id: 'slow', level: 'info' });
    expectError(await api(`${L}/${byNode.body.items[0].id}`, { token: other.token }), 404);

    const full = await api(`${L}/executions/${ok.id}`, { token: u.token });
    expect(full.body.items[0].message).toBe('Execution started');
    expect(full.body.items.at(-1).message).toBe('Execution succeeded');
    expect(full.body.items.map((l: any) => l.seq)).toEqual([...full.body.items.map((l: any) => l.seq)].sort((a: number, b: number) => a - b));
    expectError(await api(`${L}/executions/${ok.id}`, { token: other.token }), 404);

    const perf = await api(`${L}/executions/${ok.id}/performance`, { token: u.token });
    expect(perf.body.critical_path.node_ids).toEqual(['start', 'slow', 'ask', 'end']);
    expect(perf.body.slowest[0].node_id).toBe('slow');
    expect(perf.body.node_count).toBe(5);
    expect(perf.body.overhead_ms).toBeGreaterThanOrEqual(0);
    expectError(await api(`${L}/executions/${ok.id}/performance`, { token: other.token }), 404);

    const calls = await api(`${L}/executions/${ok.id}/call-chain`, { token: u.token });
    expect(calls.body.tree).toMatchObject({ type: 'execution', id: ok.id, status: 'succeeded' });
    const ask = calls.body.tree.children.find((c: any) => c.id === 'ask');
    expect(ask.children[0]).toMatchObject({ type: 'llm', name: 'mock/mock-1', status: 'succeeded' });
    expect(calls.body.tree.children.find((c: any) => c.id === 'slow').children[0]).toMatchObject({ type: 'http', status: 'succeeded' });
    expectError(await api(`${L}/executions/${crypto.randomUUID()}/call-chain`, { token: u.token }), 404);

    const summary = await api(`${L}/errors`, { token: u.token });
    expect(summary.body).toMatchObject({ failed_executions: 1, failed_nodes: 1 });
    expect(summary.body.by_code[0]).toMatchObject({ code: 'LLM_ERROR', count: 1 });
    expect(summary.body.by_node_type).toEqual([{ node_type: 'llm', count: 1 }]);
    expect(summary.body.recent[0]).toMatchObject({ execution_id: bad.id, node_id: 'boom' });
    expect((await api(`${L}/errors`, { token: other.token })).body.failed_executions).toBe(0);

    const stats = await api(`${L}/stats`, { token: u.token });
    expect(stats.body.executions).toEqual({ total: 2, by_status: { succeeded: 1, failed: 1 } });
    expect(stats.body.success_rate).toBe(0.5);
    expect(stats.body.total_tokens).toBeGreaterThan(0);
    expect(stats.body.logs.by_level.error).toBeGreaterThanOrEqual(1);
    expect(stats.body.node_types.find((t: any) => t.node_type === 'llm')).toMatchObject({ runs: 2, failures: 1 });
    expectError(await api(`${L}/stats?since=yesterday`, { token: u.token }), 422);

    await run(other.token, chain([]));
    expect((await api(`${L}?older_than_days=1`, { method: 'DELETE', token: u.token })).body).toEqual({ deleted: 0 });
    const del = await api(`${L}?older_than_days=0`, { method: 'DELETE', token: u.token });
    expect(del.body.deleted).toBe(all.body.total);
    expect((await api(L, { token: u.token })).body.total).toBe(0);
    expect((await api(L, { token: other.token })).body.total).toBeGreaterThan(0);
    expectError(await api(L, { method: 'DELETE', token: u.token }), 422);
    for (const path of [L, `${L}/errors`, `${L}/stats`, `${L}/executions/${ok.id}`]) expectError(await api(path), 401);
  });
});
