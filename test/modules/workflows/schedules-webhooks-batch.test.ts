import { createExecutionContext, createMessageBatch, getQueueResult, listDurableObjectIds } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../../src/index';
import { nextOccurrence } from '../../../src/engine/schedule/cron';
import { enqueueDueSchedules } from '../../../src/modules/workflows/agent-schedules/queue';
import { startExecution } from '../../../src/runs/workflow-run';
import { receiveWebhook } from '../../../src/modules/workflows/webhooks/service';
import { api, createUser, expectError } from '../../support/helpers';
import { count, createAgent, eventually, post, type User } from '../../support/goal-helpers';
import { chain, createWorkflow, waitFor } from '../../support/wf-helpers';

const S = '/api/v1/agent-schedules';

const grant = (owner: User, type: string, id: string, to: User, level: string) =>
  post(owner, '/api/v1/permissions/grants', { resource_type: type, resource_id: id, user_id: to.id, level });

async function createSchedule(u: User, json: Record<string, unknown>) {
  const res = await api(S, { token: u.token, json });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const scheduleRow = (id: string) => env.DB.prepare('SELECT * FROM agent_schedules WHERE id = ?').bind(id).first<any>();
const runsOf = async (id: string) =>
  (await env.DB.prepare('SELECT * FROM schedule_runs WHERE schedule_id = ? ORDER BY scheduled_for').bind(id).all<any>()).results;

/** Runs the worker's queue handler on a hand-made batch, as the queue would. */
async function deliver(queue: string, bodies: unknown[]) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

describe('agent schedules: CRUD and validation', () => {
  it('creates, lists, filters, updates and deletes; another user sees nothing and gets 404', async () => {
    const u = await createUser();
    const other = await createUser();
    const agent = await createAgent(u);
    const agent2 = await createAgent(u);
    const s = await createSchedule(u, { agent_id: agent.id, cron: '*/15 9-17 * * 1,3,5', timezone: 'Europe/Berlin', input: 'daily report', owner_id: other.id, id: 'x' });
    expect(s).toMatchObject({
      owner_id: u.id,
      agent_id: agent.id,
      cron: '*/15 9-17 * * 1,3,5',
      timezone: 'Europe/Berlin',
      input: 'daily report',
      enabled: true,
      last_run_at: null,
      last_execution_id: null,
      last_status: null,
    });
    expect(s.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(s.next_run_at)).toBeGreaterThan(Date.now());
    const off = await createSchedule(u, { agent_id: agent2.id, cron: '0 0 1 1 *', input: 'new year', enabled: false });
    expect(off).toMatchObject({ timezone: 'UTC', enabled: false, next_run_at: null });

    const all = await api(S, { token: u.token });
    expect(all.body).toMatchObject({ total: 2, page: 1, page_size: 20 });
    expect((await api(`${S}?agent_id=${agent.id}`, { token: u.token })).body.items.map((i: any) => i.id)).toEqual([s.id]);
    expect((await api(`${S}?enabled=false`, { token: u.token })).body.items.map((i: any) => i.id)).toEqual([off.id]);
    expectError(await api(`${S}?enabled=maybe`, { token: u.token }), 422, 'VALIDATION_ERROR');
    expect((await api(S, { token: other.token })).body.total).toBe(0);

    // Enabling computes next_run_at; a new cron recomputes it; other fields keep it.
    const on = await api(`${S}/${off.id}`, { token: u.token, method: 'PATCH', json: { enabled: true } });
    expect(on.status, on.text).toBe(200);
    expect(on.body.next_run_at).toMatch(/^\d{4}-01-01T00:00:00\.000Z$/);
    const changed = await api(`${S}/${off.id}`, { token: u.token, method: 'PATCH', json: { cron: '30 6 * * *', timezone: 'Asia/Tokyo', input: 'morning' } });
    expect(changed.body).toMatchObject({ cron: '30 6 * * *', timezone: 'Asia/Tokyo', input: 'morning', enabled: true });
    expect(changed.body.next_run_at).toMatch(/T21:30:00\.000Z$/); // 06:30 in Tokyo (UTC+9)
    const same = await api(`${S}/${off.id}`, { token: u.token, method: 'PATCH', json: { input: 'still morning' } });
    expect(same.body.next_run_at).toBe(changed.body.next_run_at);
    const disabled = await api(`${S}/${off.id}`, { token: u.token, method: 'PATCH', json: { enabled: false } });
    expect(disabled.body).toMatchObject({ enabled: false, next_run_at: null });

    // Someone else's schedule does not exist for them.
    expectError(await api(`${S}/${s.id}`, { token: other.token, method: 'PATCH', json: { input: 'mine now' } }), 404, 'NOT_FOUND');
    expectError(await api(`${S}/${s.id}`, { token: other.token, method: 'DELETE' }), 404, 'NOT_FOUND');
    expectError(await post(other, `${S}/${s.id}/trigger`), 404, 'NOT_FOUND');
    expect((await scheduleRow(s.id)).input).toBe('daily report');

    const del = await api(`${S}/${s.id}`, { token: u.token, method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(await scheduleRow(s.id)).toBeNull();
    expectError(await api(`${S}/${s.id}`, { token: u.token, method: 'DELETE' }), 404);
  });

  it('refuses invalid cron expressions and unknown timezones with 422 naming the field', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    for (const cron of ['61 * * * *', '* * * *', '* * * * * *', '@daily', '*/0 * * * *', '0 25 * * *', 'a b c d e']) {
      const err = expectError(await api(S, { token: u.token, json: { agent_id: agent.id, cron, input: 'x' } }), 422, 'VALIDATION_ERROR');
      expect(err.message, cron).toContain('body.cron');
    }
    const tz = expectError(await api(S, { token: u.token, json: { agent_id: agent.id, cron: '0 9 * * *', timezone: 'Mars/Olympus', input: 'x' } }), 422);
    expect(tz.message).toContain('body.timezone');
    expectError(await api(S, { token: u.token, json: { agent_id: agent.id, cron: '0 9 * * *' } }), 422);
    const s = await createSchedule(u, { agent_id: agent.id, cron: '0 9 * * *', input: 'x' });
    expect(expectError(await api(`${S}/${s.id}`, { token: u.token, method: 'PATCH', json: { cron: '0 9 * *' } }), 422).message).toContain('body.cron');
    expect(expectError(await api(`${S}/${s.id}`, { token: u.token, method: 'PATCH', json: { timezone: 'Nowhere' } }), 422).message).toContain('body.timezone');
    expect(await count('SELECT count(*) AS n FROM agent_schedules WHERE owner_id = ?', u.id)).toBe(1);
  });

  it('schedules only agents the caller may execute', async () => {
    const owner = await createUser();
    const friend = await createUser();
    const agent = await createAgent(owner);
    const body = { agent_id: agent.id, cron: '0 9 * * *', input: 'x' };
    expectError(await api(S, { token: friend.token, json: body }), 404, 'NOT_FOUND');
    await grant(owner, 'agent', agent.id, friend, 'read');
    expectError(await api(S, { token: friend.token, json: body }), 403, 'FORBIDDEN');
    await grant(owner, 'agent', agent.id, friend, 'execute');
    const s = await createSchedule(friend, body);
    expect(s.owner_id).toBe(friend.id);
    expectError(await api(S, { token: friend.token, json: { ...body, agent_id: crypto.randomUUID() } }), 404);
  });
});

describe('agent schedules: cron semantics and the cron step', () => {
  it('reads cron expressions in the schedule timezone', async () => {
    // Friday 2026-01-02 10:00 in Shanghai → next weekday 09:00 is Monday 2026-01-05, 01:00 UTC.
    expect(nextOccurrence('0 9 * * 1-5', 'Asia/Shanghai', new Date('2026-01-02T02:00:00Z'))?.toISOString()).toBe('2026-01-05T01:00:00.000Z');
    // Thursday 08:00 in Shanghai → the same day.
    expect(nextOccurrence('0 9 * * 1-5', 'Asia/Shanghai', new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    // Steps, ranges and lists.
    expect(nextOccurrence('*/20 9-10 * * *', 'UTC', new Date('2026-03-03T09:41:00Z'))?.toISOString()).toBe('2026-03-03T10:00:00.000Z');
    expect(nextOccurrence('5,35 * * * *', 'UTC', new Date('2026-03-03T09:05:00Z'))?.toISOString()).toBe('2026-03-03T09:35:00.000Z');
    // New York in summer (EDT, UTC-4) and winter (EST, UTC-5).
    expect(nextOccurrence('0 9 * * *', 'America/New_York', new Date('2026-07-01T00:00:00Z'))?.toISOString()).toBe('2026-07-01T13:00:00.000Z');
    expect(nextOccurrence('0 9 * * *', 'America/New_York', new Date('2026-01-10T00:00:00Z'))?.toISOString()).toBe('2026-01-10T14:00:00.000Z');

    const u = await createUser();
    const agent = await createAgent(u);
    const s = await createSchedule(u, { agent_id: agent.id, cron: '0 9 * * 1-5', timezone: 'Asia/Shanghai', input: 'x' });
    const next = new Date(s.next_run_at);
    expect(s.next_run_at).toMatch(/T01:00:00\.000Z$/);
    expect([1, 2, 3, 4, 5]).toContain(next.getUTCDay()); // 01:00 UTC is the same calendar day in Shanghai
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(4 * 86_400_000);
  });

  it('a due schedule runs once even when the cron step fires twice for the same minute', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    const s = await createSchedule(u, { agent_id: agent.id, cron: '* * * * *', input: 'tick' });
    // The cron steps' time: 10 s into this minute, so that a second later is still the same minute
    // (Date.now() itself may be a second before the next one, whose slot would then be due too).
    const slot = Math.floor(Date.now() / 60_000) * 60_000;
    const now = slot + 10_000;
    await env.DB.prepare('UPDATE agent_schedules SET next_run_at = ? WHERE id = ?').bind(slot, s.id).run();

    await Promise.all([enqueueDueSchedules(env, now), enqueueDueSchedules(env, now)]);
    await enqueueDueSchedules(env, now + 1000);
    const runs = await runsOf(s.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ scheduled_for: slot, trigger: 'cron' });
    expect((await scheduleRow(s.id)).next_run_at).toBe(slot + 60_000);

    // The queue starts it: one execution with trigger `schedule`, recorded on the run and the schedule.
    const started = await eventually(() => runsOf(s.id), (r) => !!r[0]?.execution_id);
    expect(started[0].status).toBe('started');
    const exec = await waitFor(u.token, started[0].execution_id, (e) => e.status === 'succeeded');
    expect(exec).toMatchObject({ trigger: 'schedule', agent_id: agent.id, owner_id: u.id, inputs: { message: 'tick' } });
    const listed = (await api(`${S}?agent_id=${agent.id}`, { token: u.token })).body.items[0];
    expect(listed).toMatchObject({ last_execution_id: exec.id, last_status: 'succeeded' });
    expect(listed.last_run_at).toBeTruthy();
    expect(await count("SELECT count(*) AS n FROM executions WHERE agent_id = ? AND trigger = 'schedule'", agent.id)).toBe(1);
  });

  it('after downtime a missed schedule runs once and next_run_at moves into the future', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    const s = await createSchedule(u, { agent_id: agent.id, cron: '*/5 * * * *', input: 'catch up' });
    const now = Date.now();
    const missed = Math.floor((now - 5 * 3600_000) / 300_000) * 300_000;
    await env.DB.prepare('UPDATE agent_schedules SET next_run_at = ? WHERE id = ?').bind(missed, s.id).run();
    const first = await enqueueDueSchedules(env, now);
    expect(first.enqueued).toBeGreaterThanOrEqual(1);
    await enqueueDueSchedules(env, now);
    const runs = await runsOf(s.id);
    expect(runs.map((r: any) => r.scheduled_for)).toEqual([missed]);
    const next = (await scheduleRow(s.id)).next_run_at;
    expect(next).toBeGreaterThan(now);
    expect(next - now).toBeLessThanOrEqual(300_000);
    expect(next % 300_000).toBe(0);
    await eventually(() => runsOf(s.id), (r) => !!r[0]?.execution_id);
    expect(await count('SELECT count(*) AS n FROM executions WHERE agent_id = ?', agent.id)).toBe(1);
  });

  it('disabled schedules are not picked up', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    const s = await createSchedule(u, { agent_id: agent.id, cron: '* * * * *', input: 'x', enabled: false });
    await env.DB.prepare('UPDATE agent_schedules SET next_run_at = ? WHERE id = ?').bind(Date.now() - 60_000, s.id).run();
    await enqueueDueSchedules(env);
    expect(await runsOf(s.id)).toHaveLength(0);
  });

  it('the consumer is idempotent: a redelivered run is not started again; a run of a deleted agent fails', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    const s = await createSchedule(u, { agent_id: agent.id, cron: '0 0 * * *', input: 'once' });
    const runId = crypto.randomUUID();
    await env.DB.prepare("INSERT INTO schedule_runs (id, schedule_id, scheduled_for, trigger, status) VALUES (?, ?, ?, 'cron', 'queued')").bind(runId, s.id, 1_000).run();
    const r1 = await deliver('tiangong-schedules', [{ run_id: runId }, { run_id: runId }]);
    expect(r1.explicitAcks.length).toBe(2);
    await deliver('tiangong-schedules', [{ run_id: runId }]);
    const run = await env.DB.prepare('SELECT * FROM schedule_runs WHERE id = ?').bind(runId).first<any>();
    expect(run).toMatchObject({ status: 'started' });
    expect(await count('SELECT count(*) AS n FROM executions WHERE agent_id = ?', agent.id)).toBe(1);
    expect((await scheduleRow(s.id)).last_execution_id).toBe(run.execution_id);

    // The agent is gone (deleting it deletes its schedules): a queued run finds nothing.
    const agent2 = await createAgent(u);
    const s2 = await createSchedule(u, { agent_id: agent2.id, cron: '0 0 * * *', input: 'x' });
    const run2 = crypto.randomUUID();
    await env.DB.prepare("INSERT INTO schedule_runs (id, schedule_id, scheduled_for, trigger, status) VALUES (?, ?, ?, 'cron', 'queued')").bind(run2, s2.id, 1_000).run();
    await env.DB.prepare('DELETE FROM agents WHERE id = ?').bind(agent2.id).run();
    await deliver('tiangong-schedules', [{ run_id: run2 }]);
    const failed = await env.DB.prepare('SELECT * FROM schedule_runs WHERE id = ?').bind(run2).first<any>();
    expect(failed).toMatchObject({ status: 'failed', execution_id: null });
    expect(failed.error).toContain('NOT_FOUND');
    expect((await scheduleRow(s2.id)).last_status).toBe('failed');

  });

  it('trigger now starts an execution visible through the executions API', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    const s = await createSchedule(u, { agent_id: agent.id, cron: '0 0 1 1 *', input: 'right now', enabled: false });
    const res = await post(u, `${S}/${s.id}/trigger`);
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ schedule_id: s.id });
    const exec = await api(`/api/v1/executions/${res.body.execution_id}`, { token: u.token });
    expect(exec.status).toBe(200);
    expect(exec.body).toMatchObject({ id: res.body.execution_id, trigger: 'schedule', agent_id: agent.id, inputs: { message: 'right now' } });
    const done = await waitFor(u.token, res.body.execution_id, (e) => e.status === 'succeeded');
    expect(JSON.stringify(done.outputs)).toContain('echo: right now');
    const after = (await api(S, { token: u.token })).body.items.find((i: any) => i.id === s.id);
    expect(after).toMatchObject({ last_execution_id: res.body.execution_id, last_status: 'succeeded', enabled: false, next_run_at: null });
    expect((await runsOf(s.id)).map((r: any) => [r.trigger, r.status, r.execution_id])).toEqual([['manual', 'started', res.body.execution_id]]);
  });
});

// ---------------------------------------------------------------------------------------------
// Webhooks

const W = '/api/v1/webhooks/workflows';

/** HMAC-SHA256 with WebCrypto, computed here independently of the code under test. */
async function sign(secret: string, timestamp: number, body: string) {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(`${timestamp}.${body}`)));
  return 'sha256=' + [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function signedPost(path: string, secret: string, body: string, opts: { ts?: number; headers?: Record<string, string> } = {}) {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  return api(path, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json', 'X-Tiangong-Timestamp': String(ts), 'X-Tiangong-Signature': await sign(secret, ts, body), ...opts.headers },
  });
}

const greeter = chain([{ id: 'greet', type: 'template', config: { template: 'Hello {{inputs.name}}' } }], { greeting: '{{greet.text}}' });

async function webhookWorkflow(u: User, name = 'greeter') {
  const wf = await createWorkflow(u.token, greeter, { name, inputs_schema: [{ name: 'name', type: 'string', required: true }] });
  const res = await api(`/api/v1/workflows/${wf.id}`, { token: u.token, method: 'PUT', json: { webhook_enabled: true } });
  expect(res.status, res.text).toBe(200);
  return { id: wf.id, secret: res.body.webhook.secret as string, webhook: res.body.webhook };
}

const webhookRuns = (workflowId: string) => count("SELECT count(*) AS n FROM executions WHERE workflow_id = ? AND trigger = 'webhook'", workflowId);
/** The requests counted against a workflow's rate limit, over all windows. */
const rateCounted = (workflowId: string) => count('SELECT coalesce(sum(count), 0) AS n FROM webhook_rate_windows WHERE workflow_id = ?', workflowId);

/**
 * The worker's env with a D1 binding that records each round trip: `batch`, or the method
 * (`all`, `raw`, `first`, `run`) of a statement run on its own.
 */
function countingEnv() {
  const calls: string[] = [];
  const wrap = (real: D1PreparedStatement): D1PreparedStatement =>
    ({
      real,
      bind: (...params: unknown[]) => wrap(real.bind(...params)),
      first: (column?: string) => (calls.push('first'), column === undefined ? real.first() : real.first(column)),
      all: () => (calls.push('all'), real.all()),
      run: () => (calls.push('run'), real.run()),
      raw: (options?: { columnNames?: boolean }) => (calls.push('raw'), real.raw(options as never)),
    }) as unknown as D1PreparedStatement;
  const DB = {
    prepare: (query: string) => wrap(env.DB.prepare(query)),
    batch: (statements: Array<D1PreparedStatement & { real: D1PreparedStatement }>) => (calls.push('batch'), env.DB.batch(statements.map((s) => s.real))),
  } as unknown as D1Database;
  return { env: { ...env, DB }, calls };
}

/** Whether the run ever had an Execution object (inline runs have none). */
const hasExecutionObject = async (executionId: string) => {
  const id = env.EXECUTION.idFromName(executionId).toString();
  return (await listDurableObjectIds(env.EXECUTION)).some((x) => x.toString() === id);
};

describe('webhooks', () => {
  it('?wait=true runs a graph that cannot suspend inline: its outcome, then the row, nodes and log in D1, no Execution object', async () => {
    const u = await createUser();
    const { id, secret } = await webhookWorkflow(u);
    const res = await api(`${W}/${id}?wait=true`, { method: 'POST', json: { name: 'Ada' }, headers: { 'X-Webhook-Secret': secret } });
    expect(res.status, res.text).toBe(200);
    // By default the outcome, not every node's inputs and outputs.
    expect(Object.keys(res.body).sort()).toEqual(['duration_ms', 'error', 'execution_id', 'finished_at', 'outputs', 'started_at', 'status', 'token_usage', 'workflow_id']);
    expect(res.body).toMatchObject({ status: 'succeeded', workflow_id: id, outputs: { greeting: 'Hello Ada' }, error: null });
    const execId = res.body.execution_id as string;
    expect(await hasExecutionObject(execId)).toBe(false);

    const row = await env.DB.prepare('SELECT * FROM executions WHERE id = ?').bind(execId).first<any>();
    expect(row).toMatchObject({ owner_id: u.id, workflow_id: id, workflow_version: 1, trigger: 'webhook', status: 'succeeded', mode: null });
    expect(JSON.parse(row.outputs)).toEqual({ greeting: 'Hello Ada' });
    expect(JSON.parse(row.graph).nodes.map((n: any) => n.id)).toEqual(['start', 'greet', 'end']);
    expect(row.started_at).toBeTruthy();
    expect(row.finished_at).toBeTruthy();
    const nodes = (await env.DB.prepare('SELECT node_id, status, outputs, seq FROM execution_nodes WHERE execution_id = ? ORDER BY seq').bind(execId).all<any>()).results;
    expect(nodes.map((n) => [n.node_id, n.status, n.seq])).toEqual([
      ['start', 'succeeded', 1],
      ['greet', 'succeeded', 2],
      ['end', 'succeeded', 3],
    ]);
    expect(JSON.parse(nodes[1].outputs)).toEqual({ text: 'Hello Ada' });
    // The executions API serves it like any run, its log included.
    const got = await api(`/api/v1/executions/${execId}`, { token: u.token });
    expect(got.body).toMatchObject({ status: 'succeeded', trigger: 'webhook', outputs: { greeting: 'Hello Ada' } });
    expect(got.body.nodes.map((n: any) => n.node_id)).toEqual(['start', 'greet', 'end']);
    const log = await api(`/api/v1/execution-logs/executions/${execId}`, { token: u.token });
    expect(log.body.items.map((l: any) => l.message)).toEqual(expect.arrayContaining(['Execution started', 'Node greet succeeded', 'Execution succeeded']));

    // Node details only on request.
    const detailed = await api(`${W}/${id}?wait=true&details=true`, { method: 'POST', json: { name: 'Bo' }, headers: { 'X-Webhook-Secret': secret } });
    expect(detailed.status, detailed.text).toBe(200);
    expect(detailed.body).toMatchObject({ status: 'succeeded', trigger: 'webhook', outputs: { greeting: 'Hello Bo' } });
    expect(detailed.body.execution_id).toBe(detailed.body.id);
    expect(detailed.body.nodes.find((n: any) => n.node_id === 'greet')).toMatchObject({ status: 'succeeded', outputs: { text: 'Hello Bo' } });
  });

  it('a graph that can suspend runs in its Execution object; without ?wait=true every run does', async () => {
    const u = await createUser();
    const graph = {
      nodes: [{ id: 'start', type: 'start' }, { id: 'ok', type: 'human_approval', config: { title: 'Go?' } }, { id: 'end', type: 'end' }],
      edges: [
        { source: 'start', target: 'ok' },
        { source: 'ok', target: 'end', source_handle: 'approved' },
        { source: 'ok', target: 'end', source_handle: 'rejected' },
      ],
    };
    const wf = await createWorkflow(u.token, graph, { name: 'gated' });
    const on = await api(`/api/v1/workflows/${wf.id}`, { token: u.token, method: 'PUT', json: { webhook_enabled: true } });
    const secret = on.body.webhook.secret as string;
    const res = await api(`${W}/${wf.id}?wait=true`, { method: 'POST', json: {}, headers: { 'X-Webhook-Secret': secret } });
    expect(res.status, res.text).toBe(202);
    expect(res.body.status).toBe('waiting_approval');
    expect(await hasExecutionObject(res.body.execution_id)).toBe(true);
    expect((await api(`/api/v1/executions/${res.body.execution_id}`, { token: u.token })).body.status).toBe('waiting_approval');

    const plain = await webhookWorkflow(u, 'async');
    const started = await api(`${W}/${plain.id}`, { method: 'POST', json: { name: 'Cy' }, headers: { 'X-Webhook-Secret': plain.secret } });
    expect(started.status, started.text).toBe(202);
    expect(await hasExecutionObject(started.body.execution_id)).toBe(true);
  });

  it('an inline run that outlives its bound is handed to an Execution object: finished nodes go with it, the one in flight runs again', async () => {
    const u = await createUser();
    const k = crypto.randomUUID().slice(0, 8);
    const graph = chain(
      [
        { id: 'greet', type: 'template', config: { template: 'Hello {{inputs.name}}' } },
        { id: 'slow', type: 'http_request', config: { url: `${env.FAKE_BASE_URL}/wf/hit?key=${k}&ms=2000` } },
      ],
      { greeting: '{{greet.text}}', count: '{{slow.json.count}}' },
    );
    // A wait shorter than the node: the bound (min of INLINE_HANDOFF_MS and the wait) passes mid-node.
    const { execution, settled } = await startExecution(env, { ownerId: u.id, graph, inputs: { name: 'Ed' }, waitMs: 300, inline: true, trigger: 'webhook' });
    expect(settled).toBe(false);
    expect(await hasExecutionObject(execution.id)).toBe(true);
    const done = await waitFor(u.token, execution.id, (e) => e.status === 'succeeded', 15_000);
    expect(done.outputs).toEqual({ greeting: 'Hello Ed', count: 2 });
    const byId = Object.fromEntries(done.nodes.map((n: any) => [n.node_id, n]));
    expect(byId.greet).toMatchObject({ status: 'succeeded', attempts: 1, outputs: { text: 'Hello Ed' } });
    expect(byId.slow).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('an inline run that failed is retried from its recorded nodes', async () => {
    const u = await createUser();
    const k = crypto.randomUUID().slice(0, 8);
    const FAKE = env.FAKE_BASE_URL;
    const graph = chain(
      [
        { id: 'greet', type: 'template', config: { template: 'Hello {{inputs.name}}' } },
        { id: 'call', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}&fail=1` } },
      ],
      { greeting: '{{greet.text}}', count: '{{call.json.count}}' },
    );
    const wf = await createWorkflow(u.token, graph, { name: 'flaky' });
    const on = await api(`/api/v1/workflows/${wf.id}`, { token: u.token, method: 'PUT', json: { webhook_enabled: true } });
    const res = await api(`${W}/${wf.id}?wait=true`, { method: 'POST', json: { name: 'Di' }, headers: { 'X-Webhook-Secret': on.body.webhook.secret } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: 'failed', error: { code: 'HTTP_ERROR', node_id: 'call' } });
    const failedId = res.body.execution_id as string;
    expect(await hasExecutionObject(failedId)).toBe(false);
    expect(await count("SELECT count(*) AS n FROM execution_nodes WHERE execution_id = ? AND status = 'failed'", failedId)).toBe(1);

    const retried = await api(`/api/v1/executions/${failedId}/retry`, { method: 'POST', token: u.token, json: { wait_ms: 10_000 } });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body).toMatchObject({ status: 'succeeded', retry_of: failedId, attempt: 2, outputs: { greeting: 'Hello Di', count: 2 } });
    const byId = Object.fromEntries(retried.body.nodes.map((n: any) => [n.node_id, n]));
    expect(byId.greet.reused_from).toBe(failedId);
    expect(byId.call).toMatchObject({ status: 'succeeded', reused_from: null });
  });

  it('enabling answers the secret once; the workflow shows its webhook to its owner only', async () => {
    const u = await createUser();
    const friend = await createUser();
    const { id, secret, webhook } = await webhookWorkflow(u);
    expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    expect(webhook).toMatchObject({ enabled: true, url_by_id: `http://localhost${W}/${id}`, url_by_name: `http://localhost${W}/by-name/greeter` });
    expect(webhook.secret_hint).toBe(`whsec_…${secret.slice(-4)}`);
    const row = await env.DB.prepare('SELECT secret FROM webhook_secrets WHERE workflow_id = ?').bind(id).first<{ secret: string }>();
    expect(row!.secret).not.toContain(secret.slice(6));
    const got = await api(`/api/v1/workflows/${id}`, { token: u.token });
    expect(got.body.webhook).toMatchObject({ enabled: true, secret_hint: webhook.secret_hint });
    expect(got.body.webhook.secret).toBeUndefined();
    // A user with write access sees no webhook and may not switch it.
    await grant(u, 'workflow', id, friend, 'write');
    expect((await api(`/api/v1/workflows/${id}`, { token: friend.token })).body.webhook).toBeUndefined();
    expectError(await api(`/api/v1/workflows/${id}`, { token: friend.token, method: 'PUT', json: { rotate_webhook_secret: true, name: 'renamed' } }), 403);
    expect((await api(`/api/v1/workflows/${id}`, { token: u.token })).body).toMatchObject({ name: 'greeter', version: 1 });
  });

  it('a signed request runs the workflow (202, trigger webhook); ?wait=true answers the outputs', async () => {
    const u = await createUser();
    const { id, secret } = await webhookWorkflow(u);
    const res = await signedPost(`${W}/${id}`, secret, JSON.stringify({ name: 'Ada' }));
    expect(res.status, res.text).toBe(202);
    expect(Object.keys(res.body).sort()).toEqual(['execution_id', 'status']);
    const row = await env.DB.prepare('SELECT owner_id, workflow_id, trigger, inputs FROM executions WHERE id = ?').bind(res.body.execution_id).first<any>();
    expect(row).toMatchObject({ owner_id: u.id, workflow_id: id, trigger: 'webhook' });
    expect(JSON.parse(row.inputs)).toEqual({ name: 'Ada' });

    const waited = await signedPost(`${W}/${id}?wait=true`, secret, '{ "name" : "Grace" }');
    expect(waited.status, waited.text).toBe(200);
    expect(waited.body).toMatchObject({ status: 'succeeded', workflow_id: id, outputs: { greeting: 'Hello Grace' } });
    expect(await env.DB.prepare('SELECT trigger FROM executions WHERE id = ?').bind(waited.body.execution_id).first()).toEqual({ trigger: 'webhook' });

    // The secret itself in X-Webhook-Secret also authenticates.
    const plain = await api(`${W}/${id}`, { method: 'POST', json: { name: 'Linus' }, headers: { 'X-Webhook-Secret': secret } });
    expect(plain.status, plain.text).toBe(202);
    expect(await webhookRuns(id)).toBe(3);
  });

  it('wrong, missing, stale or replayed credentials are 401 and run nothing', async () => {
    const u = await createUser();
    const { id, secret } = await webhookWorkflow(u);
    const body = JSON.stringify({ name: 'Eve' });
    const ts = Math.floor(Date.now() / 1000);
    expectError(await signedPost(`${W}/${id}`, 'whsec_' + '0'.repeat(64), body), 401, 'UNAUTHORIZED');
    // A valid signature over a different body.
    expectError(
      await api(`${W}/${id}`, { method: 'POST', body: JSON.stringify({ name: 'Mallory' }), headers: { 'Content-Type': 'application/json', 'X-Tiangong-Timestamp': String(ts), 'X-Tiangong-Signature': await sign(secret, ts, body) } }),
      401,
    );
    expectError(await api(`${W}/${id}`, { method: 'POST', json: { name: 'Eve' } }), 401, 'UNAUTHORIZED');
    expectError(await api(`${W}/${id}`, { method: 'POST', json: { name: 'Eve' }, headers: { 'X-Webhook-Secret': secret + 'x' } }), 401);
    expectError(await api(`${W}/${id}`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Tiangong-Signature': await sign(secret, ts, body) } }), 401);
    expectError(await api(`${W}/${id}`, { method: 'POST', json: { name: 'Eve' }, headers: { Authorization: `Bearer ${u.token}` } }), 401);
    expect(expectError(await signedPost(`${W}/${id}`, secret, body, { ts: ts - 400 }), 401).message).toContain('window');
    expectError(await signedPost(`${W}/${id}`, secret, body, { ts: ts + 400 }), 401);
    expect(await webhookRuns(id)).toBe(0);

    // The same signed request twice: the second is a replay.
    const headers = { 'Content-Type': 'application/json', 'X-Tiangong-Timestamp': String(ts), 'X-Tiangong-Signature': await sign(secret, ts, body) };
    expect((await api(`${W}/${id}`, { method: 'POST', body, headers })).status).toBe(202);
    expect(expectError(await api(`${W}/${id}`, { method: 'POST', body, headers }), 401).message).toContain('replay');
    expect(await webhookRuns(id)).toBe(1);
  });

  it('unknown workflows and workflows without an enabled webhook are 404; rotating retires the old secret', async () => {
    const u = await createUser();
    const { id, secret } = await webhookWorkflow(u);
    const plain = await createWorkflow(u.token, greeter, { name: 'no-hook' });
    expectError(await signedPost(`${W}/${plain.id}`, secret, '{}'), 404, 'NOT_FOUND');
    expectError(await signedPost(`${W}/${crypto.randomUUID()}`, secret, '{}'), 404, 'NOT_FOUND');
    expectError(await signedPost(`${W}/by-name/no-hook`, secret, '{}'), 404);

    const rotated = await api(`/api/v1/workflows/${id}`, { token: u.token, method: 'PUT', json: { rotate_webhook_secret: true } });
    expect(rotated.status, rotated.text).toBe(200);
    const fresh = rotated.body.webhook.secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(secret);
    expect(rotated.body.version).toBe(1); // webhook changes store no new version
    expectError(await signedPost(`${W}/${id}`, secret, JSON.stringify({ name: 'a' })), 401);
    expect((await signedPost(`${W}/${id}`, fresh, JSON.stringify({ name: 'a' }))).status).toBe(202);

    const off = await api(`/api/v1/workflows/${id}`, { token: u.token, method: 'PUT', json: { webhook_enabled: false } });
    expect(off.body.webhook).toMatchObject({ enabled: false });
    expect(off.body.webhook.secret).toBeUndefined();
    expectError(await signedPost(`${W}/${id}`, fresh, JSON.stringify({ name: 'b' })), 404);
    // Deleting the workflow removes its webhook.
    expect((await api(`/api/v1/workflows/${id}`, { token: u.token, method: 'DELETE' })).status).toBe(204);
    expect(await count('SELECT count(*) AS n FROM webhook_secrets WHERE workflow_id = ?', id)).toBe(0);
  });

  it('bodies must be JSON objects matching the inputs schema (422)', async () => {
    const u = await createUser();
    const { id, secret } = await webhookWorkflow(u);
    expect(expectError(await signedPost(`${W}/${id}`, secret, '[1, 2]'), 422, 'VALIDATION_ERROR').message).toContain('object');
    expectError(await signedPost(`${W}/${id}`, secret, '{}'), 422, 'VALIDATION_ERROR'); // `name` is required
    expect(await webhookRuns(id)).toBe(0);
  });

  it('is rate limited per workflow: past 60 a minute, 429 with Retry-After', async () => {
    const u = await createUser();
    const { id, secret } = await webhookWorkflow(u);
    const windowStart = Math.floor(Date.now() / 60_000) * 60_000;
    // 59 requests of this minute already counted (inserted, not sent, to keep the test small).
    await env.DB.prepare('INSERT INTO webhook_rate_windows (workflow_id, window_start, count) VALUES (?, ?, 59)').bind(id, windowStart).run();
    const body = JSON.stringify({ name: 'n' });
    const ok = await signedPost(`${W}/${id}`, secret, body);
    if (Math.floor(Date.now() / 60_000) * 60_000 !== windowStart) return; // the minute turned over mid-test: nothing to assert
    expect(ok.status, ok.text).toBe(202);
    const limited = await api(`${W}/${id}`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Webhook-Secret': secret } });
    if (Math.floor(Date.now() / 60_000) * 60_000 !== windowStart) return;
    expectError(limited, 429, 'RATE_LIMITED');
    const retry = Number(limited.headers.get('Retry-After'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(await webhookRuns(id)).toBe(1);
    // Other workflows are not affected.
    const other = await webhookWorkflow(u, 'other');
    expect((await signedPost(`${W}/${other.id}`, other.secret, body)).status).toBe(202);
  });

  it('by name, the workflow is the one whose secret signed the request', async () => {
    const alice = await createUser();
    const bob = await createUser();
    const a = await webhookWorkflow(alice, 'daily digest');
    const b = await webhookWorkflow(bob, 'daily digest');
    const path = `${W}/by-name/${encodeURIComponent('daily digest')}`;
    const ra = await signedPost(path, a.secret, JSON.stringify({ name: 'A' }));
    const rb = await signedPost(path, b.secret, JSON.stringify({ name: 'B' }));
    expect([ra.status, rb.status]).toEqual([202, 202]);
    const owners = async (execId: string) => (await env.DB.prepare('SELECT owner_id, workflow_id FROM executions WHERE id = ?').bind(execId).first<any>());
    expect(await owners(ra.body.execution_id)).toEqual({ owner_id: alice.id, workflow_id: a.id });
    expect(await owners(rb.body.execution_id)).toEqual({ owner_id: bob.id, workflow_id: b.id });
    // Alice's secret does not reach a workflow of hers by another name, nor Bob's.
    expectError(await signedPost(`${W}/by-name/${encodeURIComponent('weekly digest')}`, a.secret, '{}'), 404);
    expectError(await signedPost(`${W}/${b.id}`, a.secret, JSON.stringify({ name: 'x' })), 401);
    expectError(await api(path, { method: 'POST', json: { name: 'x' }, headers: { 'X-Webhook-Secret': 'whsec_nope' } }), 401);
  });

  it('a known webhook costs one D1 round trip before the run; a rotated secret is refused on the very next request, and not counted', async () => {
    const u = await createUser();
    const { id, secret } = await webhookWorkflow(u);
    const { env: counting, calls } = countingEnv();
    const send = (key: string) => receiveWebhook(counting, { target: { id }, rawBody: JSON.stringify({ name: 'Ada' }), secretHeader: key, wait: true });
    // Cold: the candidates, the batch before the run, the run's record.
    expect((await send(secret)).execution).toMatchObject({ status: 'succeeded', outputs: { greeting: 'Hello Ada' } });
    expect(calls.splice(0)).toEqual(['raw', 'batch', 'batch']);
    // Warm: the batch before the run and the run's record, nothing else.
    expect((await send(secret)).execution.status).toBe('succeeded');
    expect(calls.splice(0)).toEqual(['batch', 'batch']);
    expect(await rateCounted(id)).toBe(2);

    const rotated = await api(`/api/v1/workflows/${id}`, { token: u.token, method: 'PUT', json: { rotate_webhook_secret: true } });
    const fresh = rotated.body.webhook.secret as string;
    // The old secret still matches the isolate's copy: the batch finds the webhook changed and writes nothing, the fresh read refuses it.
    await expect(send(secret)).rejects.toMatchObject({ status: 401 });
    expect(calls.splice(0)).toEqual(['batch', 'raw']);
    expectError(await api(`${W}/${id}?wait=true`, { method: 'POST', json: { name: 'Bo' }, headers: { 'X-Webhook-Secret': secret } }), 401);
    expect(await rateCounted(id)).toBe(2);
    expect(await webhookRuns(id)).toBe(2);
    // The new secret: read afresh once, then known.
    expect((await send(fresh)).execution.status).toBe('succeeded');
    expect((await send(fresh)).execution.status).toBe('succeeded');
    expect(calls.splice(0)).toEqual(['raw', 'batch', 'batch', 'batch', 'batch']);
    expect(await rateCounted(id)).toBe(4);
  });

  it('a known webhook disabled or deleted is 404 on the very next request; a signed request against a stale copy records and counts nothing', async () => {
    const u = await createUser();
    const { id, secret } = await webhookWorkflow(u);
    const body = JSON.stringify({ name: 'Ada' });
    expect((await signedPost(`${W}/${id}?wait=true`, secret, JSON.stringify({ name: 'first' }))).status).toBe(200);
    expect((await api(`${W}/${id}?wait=true`, { method: 'POST', json: { name: 'Bo' }, headers: { 'X-Webhook-Secret': secret } })).status).toBe(200);
    expect(await api(`/api/v1/workflows/${id}`, { token: u.token, method: 'PUT', json: { webhook_enabled: false } })).toMatchObject({ status: 200 });
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'Content-Type': 'application/json', 'X-Tiangong-Timestamp': String(ts), 'X-Tiangong-Signature': await sign(secret, ts, body) };
    expectError(await api(`${W}/${id}?wait=true`, { method: 'POST', body, headers }), 404);
    expect(await rateCounted(id)).toBe(2);
    expect(await count('SELECT count(*) AS n FROM webhook_nonces WHERE workflow_id = ?', id)).toBe(1);
    // Re-enabled (the same secret): the signature refused while it was off was not used up.
    await api(`/api/v1/workflows/${id}`, { token: u.token, method: 'PUT', json: { webhook_enabled: true } });
    expect((await api(`${W}/${id}?wait=true`, { method: 'POST', body, headers })).status).toBe(200);
    expect(await rateCounted(id)).toBe(3);
    expect((await api(`/api/v1/workflows/${id}`, { token: u.token, method: 'DELETE' })).status).toBe(204);
    expectError(await api(`${W}/${id}?wait=true`, { method: 'POST', json: { name: 'Cy' }, headers: { 'X-Webhook-Secret': secret } }), 404);
    expect(await webhookRuns(id)).toBe(3);
  });

  it('by name: a known workflow renamed is no longer reached by its old name; a new workflow of the name is found', async () => {
    const u = await createUser();
    const a = await webhookWorkflow(u, 'nightly');
    const old = `${W}/by-name/nightly?wait=true`;
    expect((await api(old, { method: 'POST', json: { name: 'A' }, headers: { 'X-Webhook-Secret': a.secret } })).body).toMatchObject({ workflow_id: a.id, status: 'succeeded' });
    // Another workflow of the name, enabled after the isolate read the name's candidates.
    const b = await webhookWorkflow(u, 'nightly');
    expect((await signedPost(old, b.secret, JSON.stringify({ name: 'B' }))).body).toMatchObject({ workflow_id: b.id, status: 'succeeded' });
    expect((await api(`/api/v1/workflows/${a.id}`, { token: u.token, method: 'PUT', json: { name: 'nightly-v2' } })).status).toBe(200);
    expectError(await api(old, { method: 'POST', json: { name: 'A' }, headers: { 'X-Webhook-Secret': a.secret } }), 401);
    expect(await rateCounted(a.id)).toBe(1);
    expect((await api(`${W}/by-name/nightly-v2?wait=true`, { method: 'POST', json: { name: 'A' }, headers: { 'X-Webhook-Secret': a.secret } })).body).toMatchObject({ workflow_id: a.id, status: 'succeeded' });
    expect(await rateCounted(a.id)).toBe(2);
    expect((await api(old, { method: 'POST', json: { name: 'B' }, headers: { 'X-Webhook-Secret': b.secret } })).body).toMatchObject({ workflow_id: b.id });
  });
});

// ---------------------------------------------------------------------------------------------
// Batch

const B = '/api/v1/batch';

describe('batch', () => {
  it('execute: authorizes and starts every item, reporting each; the executions API serves them', async () => {
    const u = await createUser();
    const other = await createUser();
    const agent = await createAgent(u);
    const wf = await createWorkflow(u.token, greeter, { inputs_schema: [{ name: 'name', type: 'string', required: true }] });
    const othersAgent = await createAgent(other);
    const readOnly = await createAgent(other);
    await grant(other, 'agent', readOnly.id, u, 'read');
    const res = await post(u, `${B}/execute`, {
      items: [
        { type: 'agent', id: agent.id, input: 'one' },
        { type: 'workflow', id: wf.id, inputs: { name: 'Ada' } },
        { type: 'agent', id: othersAgent.id, input: 'nope' },
        { type: 'workflow', id: crypto.randomUUID(), inputs: {} },
        { type: 'workflow', id: wf.id, inputs: {} },
        { type: 'agent', id: readOnly.id, input: 'read only' },
      ],
    });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ total: 6, started: 2, failed: 4 });
    expect(res.body.batch_id).toMatch(/^[0-9a-f-]{36}$/);
    const items = res.body.items;
    expect(items.map((i: any) => [i.index, i.type, i.id, i.execution_id === null ? null : 'id'])).toEqual([
      [0, 'agent', agent.id, 'id'],
      [1, 'workflow', wf.id, 'id'],
      [2, 'agent', othersAgent.id, null],
      [3, 'workflow', items[3].id, null],
      [4, 'workflow', wf.id, null],
      [5, 'agent', readOnly.id, null],
    ]);
    expect(items.slice(2).map((i: any) => i.status)).toEqual(['not_found', 'not_found', 'invalid', 'forbidden']);
    expect(items[4].error).toContain('name');
    const a = await waitFor(u.token, items[0].execution_id, (e) => e.status === 'succeeded');
    expect(a).toMatchObject({ trigger: 'batch', agent_id: agent.id });
    const w = await waitFor(u.token, items[1].execution_id, (e) => e.status === 'succeeded');
    expect(w).toMatchObject({ trigger: 'batch', workflow_id: wf.id, outputs: { greeting: 'Hello Ada' } });
    expect(await count('SELECT count(*) AS n FROM executions WHERE agent_id = ?', othersAgent.id)).toBe(0);
    const recorded = (await env.DB.prepare('SELECT idx, execution_id, status FROM batch_items WHERE batch_id = ? ORDER BY idx').bind(res.body.batch_id).all<any>()).results;
    expect(recorded.map((r: any) => r.execution_id)).toEqual(items.map((i: any) => i.execution_id));
    expect(await count('SELECT count(*) AS n FROM batches WHERE id = ? AND owner_id = ? AND item_count = 6', res.body.batch_id, u.id)).toBe(1);
  });

  it('execute: a malformed request is 422 as a whole', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    expectError(await post(u, `${B}/execute`, { items: [] }), 422, 'VALIDATION_ERROR');
    expect(expectError(await post(u, `${B}/execute`, { items: [{ type: 'agent', id: agent.id }] }), 422).message).toContain('body.items.0.input');
    expectError(await post(u, `${B}/execute`, { items: [{ type: 'goal', id: agent.id }] }), 422);
    expectError(await post(u, `${B}/execute`, { items: Array.from({ length: 101 }, () => ({ type: 'agent', id: agent.id, input: 'x' })) }), 422);
    expect(await count('SELECT count(*) AS n FROM executions WHERE agent_id = ?', agent.id)).toBe(0);
  });

  it('export: one bundle of the readable resources, without secrets; the rest listed as not_found', async () => {
    const u = await createUser();
    const other = await createUser();
    const agent = await createAgent(u, { name: 'exported agent', system_prompt: 'Be brief.' });
    const wf = await createWorkflow(u.token, greeter, { name: 'exported wf' });
    const tool = await post(u, '/api/v1/tools', {
      name: 'lookup',
      description: 'Look up',
      type: 'http',
      parameters: { type: 'object', properties: { id: { type: 'string' } } },
      config: { method: 'GET', url: 'https://example.com/items/{{id}}', headers: { 'X-Api-Key': 'super-secret-value-9876', 'X-Trace': 't' } },
    });
    expect(tool.status, tool.text).toBe(201);
    const kb = await post(u, '/api/v1/knowledge-bases', { name: 'exported kb' });
    expect(kb.status, kb.text).toBe(201);
    const othersWf = await createWorkflow(other.token, greeter);
    const res = await post(u, `${B}/export`, {
      resources: [
        { type: 'agent', id: agent.id },
        { type: 'workflow', id: wf.id },
        { type: 'tool', id: tool.body.id },
        { type: 'knowledge_base', id: kb.body.id },
        { type: 'workflow', id: othersWf.id },
      ],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ format: 'tiangong.bundle', format_version: 1 });
    expect(res.body.resources.map((r: any) => [r.type, r.id])).toEqual([
      ['agent', agent.id],
      ['workflow', wf.id],
      ['tool', tool.body.id],
      ['knowledge_base', kb.body.id],
    ]);
    expect(res.body.resources[0].document).toMatchObject({ format: 'tiangong.agent', agent: { name: 'exported agent', system_prompt: 'Be brief.' } });
    expect(res.body.resources[1].document).toMatchObject({ format: 'tiangong.workflow', workflow: { name: 'exported wf' } });
    expect(res.body.resources[2].document.tool).toMatchObject({ name: 'lookup', type: 'http', config: { headers: { 'X-Trace': 't' }, secret_headers: ['X-Api-Key'] } });
    expect(res.body.resources[3].document.knowledge_base).toMatchObject({ name: 'exported kb' });
    expect(res.body.errors).toEqual([{ index: 4, type: 'workflow', id: othersWf.id, error: 'not_found' }]);
    expect(res.text).not.toContain('super-secret');
    expect(res.text).not.toContain('9876');
  });

  it('delete: per-id results, only the caller’s own', async () => {
    const u = await createUser();
    const other = await createUser();
    const agent = await createAgent(u);
    const s = await createSchedule(u, { agent_id: agent.id, cron: '0 9 * * *', input: 'x' });
    const wf = await createWorkflow(u.token, greeter);
    const othersWf = await createWorkflow(other.token, greeter);
    const shared = await createAgent(other);
    await grant(other, 'agent', shared.id, u, 'execute');
    const res = await post(u, `${B}/delete`, {
      resources: [
        { type: 'agent', id: agent.id },
        { type: 'workflow', id: wf.id },
        { type: 'workflow', id: othersWf.id },
        { type: 'agent', id: shared.id },
        { type: 'knowledge_base', id: crypto.randomUUID() },
      ],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ atomic: false, deleted: 2 });
    expect(res.body.items.map((i: any) => i.result)).toEqual(['deleted', 'deleted', 'not_found', 'forbidden', 'not_found']);
    expect(await count('SELECT count(*) AS n FROM agents WHERE id = ?', agent.id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM agent_schedules WHERE id = ?', s.id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM workflows WHERE id = ?', wf.id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM workflows WHERE id = ?', othersWf.id)).toBe(1);
    expect(await count('SELECT count(*) AS n FROM agents WHERE id = ?', shared.id)).toBe(1);
  });

  it('delete atomic: all or nothing', async () => {
    const u = await createUser();
    const other = await createUser();
    const a1 = await createAgent(u);
    const wf = await createWorkflow(u.token, greeter);
    const kb = (await post(u, '/api/v1/knowledge-bases', { name: 'kb to delete' })).body;
    const othersAgent = await createAgent(other);
    const refused = await post(u, `${B}/delete`, {
      atomic: true,
      resources: [
        { type: 'agent', id: a1.id },
        { type: 'workflow', id: wf.id },
        { type: 'agent', id: othersAgent.id },
      ],
    });
    const err = expectError(refused, 409, 'CONFLICT');
    expect(err.message).toContain(othersAgent.id);
    expect(err.message).not.toContain(a1.id);
    expect(await count('SELECT count(*) AS n FROM agents WHERE id IN (?, ?)', a1.id, othersAgent.id)).toBe(2);
    expect(await count('SELECT count(*) AS n FROM workflows WHERE id = ?', wf.id)).toBe(1);

    const ok = await post(u, `${B}/delete`, {
      atomic: true,
      resources: [
        { type: 'agent', id: a1.id },
        { type: 'workflow', id: wf.id },
        { type: 'knowledge_base', id: kb.id },
      ],
    });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ atomic: true, deleted: 3 });
    expect(ok.body.items.map((i: any) => i.result)).toEqual(['deleted', 'deleted', 'deleted']);
    expect(await count('SELECT count(*) AS n FROM agents WHERE id = ?', a1.id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM workflows WHERE id = ?', wf.id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM knowledge_bases WHERE id = ?', kb.id)).toBe(0);
  });
});

describe('OpenAPI', () => {
  it('documents 5 schedule, 2 webhook and 3 batch endpoints; only webhooks are public', async () => {
    const doc = (await api('/openapi.json')).body;
    const perTag: Record<string, number> = {};
    const ops = Object.entries<Record<string, { tags?: string[]; security?: unknown[] }>>(doc.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, op]) => ({ path, method, op })),
    );
    for (const { op } of ops) for (const tag of op.tags ?? []) perTag[tag] = (perTag[tag] ?? 0) + 1;
    expect(perTag).toMatchObject({ 'agent-schedules': 5, webhooks: 2, batch: 3 });
    for (const { path, method, op } of ops.filter((o) => /^\/api\/v1\/(agent-schedules|batch)/.test(o.path))) {
      expect(op.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
    }
    for (const { path, method, op } of ops.filter((o) => o.path.startsWith('/api/v1/webhooks'))) expect(op.security, `${method} ${path}`).toBeUndefined();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1/webhooks')).sort()).toEqual([
      '/api/v1/webhooks/workflows/by-name/{name}',
      '/api/v1/webhooks/workflows/{workflow_id}',
    ]);
  });
});
