import { createMessageBatch, getQueueResult, createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker, { runCron } from '../../../src/index';
import { app } from '../../../src/app';
import { auditTarget, consumeAuditBatch } from '../../../src/modules/governance/audit-logs/recording';
import { AUDIT_DLQ_NAME, AUDIT_QUEUE_NAME, TASKS_DLQ_NAME, TASKS_QUEUE_NAME, type RecordMessage } from '../../../src/queues';
import { enforceLogRetention } from '../../../src/modules/governance/system-logs/retention';
import { api, createUser, expectError } from '../../support/helpers';
import { count, createAgent, createGoal, decomposedGoal, eventually, type User } from '../../support/goal-helpers';

let admin: User;

beforeAll(async () => {
  admin = await createUser('admin');
  expect(admin.role).toBe('admin');
});

const get = (u: User, path: string) => api(path, { token: u.token });
const auditRows = (userId: string) => env.DB.prepare('SELECT * FROM audit_logs WHERE user_id = ? ORDER BY created_at, rowid').bind(userId).all<any>().then((r) => r.results);

describe('auditTarget', () => {
  it('names actions and resources from method and path', () => {
    const id = crypto.randomUUID();
    expect(auditTarget('POST', '/api/v1/agents')).toEqual({ action: 'agents.create', resource_type: 'agents', resource_id: null });
    expect(auditTarget('PUT', `/api/v1/agents/${id}`)).toEqual({ action: 'agents.update', resource_type: 'agents', resource_id: id });
    expect(auditTarget('POST', `/api/v1/agents/${id}/deploy`)).toEqual({ action: 'agents.deploy', resource_type: 'agents', resource_id: id });
    expect(auditTarget('DELETE', `/api/v1/permissions/grants/${id}`)).toEqual({ action: 'permissions.grants.delete', resource_type: 'permissions', resource_id: id });
    expect(auditTarget('POST', '/api/v1/auth/login').action).toBe('auth.login');
  });
});

describe('audit logs', () => {
  it('records every state-changing request after the response, with who, what, status, IP, agent and request id', async () => {
    const u = await createUser();
    const headers = { 'CF-Connecting-IP': '203.0.113.7', 'User-Agent': 'audit-test/1.0', 'X-Request-Id': 'req-audit-1' };
    const created = await api('/api/v1/agents', { token: u.token, headers, json: { name: 'audited', model_config: { provider: 'mock', model_name: 'mock-1' } } });
    expect(created.status).toBe(201);
    await api(`/api/v1/agents/${created.body.id}`, { token: u.token, method: 'PUT', json: { name: 'renamed' } });
    await api('/api/v1/agents', { token: u.token, json: { name: '' } }); // 422, still audited
    await get(u, `/api/v1/agents/${created.body.id}`); // a read: not audited
    const rows = await eventually(() => auditRows(u.id), (r) => r.length >= 3);
    expect(rows.map((r) => [r.action, r.status_code])).toEqual([
      ['agents.create', 201],
      ['agents.update', 200],
      ['agents.create', 422],
    ]);
    expect(rows[0]).toMatchObject({ user_id: u.id, method: 'POST', path: '/api/v1/agents', resource_type: 'agents', resource_id: created.body.id, ip: '203.0.113.7', user_agent: 'audit-test/1.0', request_id: 'req-audit-1' });
    expect(rows[1].resource_id).toBe(created.body.id);
    expect(rows[0].created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('lists with filters (own entries; everyone’s for admins) and computes statistics', async () => {
    const u = await createUser();
    const other = await createUser();
    const agent = await createAgent(u);
    await api(`/api/v1/agents/${agent.id}/deploy`, { token: u.token, method: 'POST' });
    await api('/api/v1/goals', { token: u.token, json: { title: '' } });
    await createAgent(other);
    await eventually(() => auditRows(u.id), (r) => r.length >= 3);
    await eventually(() => auditRows(other.id), (r) => r.length >= 1);

    const mine = await get(u, '/api/v1/audit-logs');
    expect(mine.status).toBe(200);
    expect(mine.body.items.every((e: any) => e.user_id === u.id)).toBe(true);
    expect(mine.body.total).toBe(3);
    expect(mine.body.items[0]).toMatchObject({ action: 'goals.create', status_code: 422, user_email: u.email });
    expect((await get(u, `/api/v1/audit-logs?user_id=${other.id}`)).body.total).toBe(0);
    expect((await get(u, '/api/v1/audit-logs?action=agents')).body.items.map((e: any) => e.action).sort()).toEqual(['agents.create', 'agents.deploy']);
    expect((await get(u, '/api/v1/audit-logs?action=agents.deploy')).body.items[0].resource_id).toBe(agent.id);
    expect((await get(u, `/api/v1/audit-logs?resource_id=${agent.id}`)).body.total).toBe(2);
    expect((await get(u, '/api/v1/audit-logs?outcome=failure')).body.total).toBe(1);
    expect((await get(u, '/api/v1/audit-logs?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z')).body.total).toBe(0);
    expect((await get(admin, `/api/v1/audit-logs?user_id=${other.id}`)).body.total).toBe(1);

    const stats = await get(u, '/api/v1/audit-logs/stats?days=1');
    expect(stats.body).toMatchObject({ scope: 'own', total: 3, failures: 1, by_status_class: { '2xx': 2, '4xx': 1 } });
    expect(stats.body.failure_rate).toBeCloseTo(1 / 3);
    expect(stats.body.by_day).toEqual([{ date: new Date().toISOString().slice(0, 10), count: 3, failures: 1 }]);
    expect((await get(admin, '/api/v1/audit-logs/stats')).body.scope).toBe('all');

    expectError(await api('/api/v1/audit-logs'), 401);
    expectError(await api('/api/v1/audit-logs/stats'), 401);
    expectError(await get(u, '/api/v1/audit-logs?outcome=maybe'), 422);
    expectError(await get(u, '/api/v1/audit-logs/stats?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z'), 422);
  });
});

describe('audit queue', () => {
  const record = (userId: string, i: number): RecordMessage => {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    const common = { created_at: at, source: 'http', request_id: `req-q-${i}`, user_id: userId, method: 'PUT', path: `/api/v1/agents/x${i}`, status_code: 200 };
    return {
      audit: { id: crypto.randomUUID(), created_at: at, user_id: userId, action: 'agents.update', method: 'PUT', path: `/api/v1/agents/x${i}`, resource_type: 'agents', resource_id: null, status_code: 200, ip: null, user_agent: null, request_id: `req-q-${i}`, duration_ms: i },
      logs: [{ ...common, id: crypto.randomUUID(), category: 'request', level: 'info', message: `PUT /api/v1/agents/x${i} 200`, duration_ms: i, weight: 1 }],
    };
  };
  const batchOf = (queue: string, bodies: unknown[]) =>
    createMessageBatch(queue, bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })));
  const deliver = async (batch: MessageBatch<unknown>) => {
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    return getQueueResult(batch, ctx);
  };

  it('writes a batch of N requests in one D1 batch, in request order; a redelivered batch adds no rows', async () => {
    const u = await createUser();
    const bodies = Array.from({ length: 25 }, (_, i) => record(u.id, 24 - i)); // arrives out of order
    const batches: number[] = [];
    const db = env.DB;
    const spy = { ...env, DB: Object.assign(Object.create(db), { batch: (s: D1PreparedStatement[]) => (batches.push(s.length), db.batch(s)), prepare: db.prepare.bind(db) }) };
    const first = batchOf(AUDIT_QUEUE_NAME, bodies);
    await consumeAuditBatch(first, spy);
    expect(batches).toEqual([50]); // 25 audit rows + 25 request lines, one batch
    const rows = await auditRows(u.id);
    expect(rows).toHaveLength(25);
    expect(rows.map((r) => r.request_id)).toEqual(Array.from({ length: 25 }, (_, i) => `req-q-${i}`));
    expect(rows[3]).toMatchObject({ action: 'agents.update', duration_ms: 3, created_at: '2026-01-01T00:00:03.000Z' });

    // The same messages again (redelivery) and through the worker's queue handler: acked, nothing added.
    const result = await deliver(batchOf(AUDIT_QUEUE_NAME, bodies));
    expect(result.explicitAcks).toHaveLength(25);
    await consumeAuditBatch(batchOf(AUDIT_QUEUE_NAME, bodies.slice(0, 5)), env);
    expect(await auditRows(u.id)).toHaveLength(25);
    expect(await count("SELECT count(*) AS n FROM system_logs WHERE user_id = ? AND category = 'request'", u.id)).toBe(25);
  });

  it('without the queue binding, writes the rows directly', async () => {
    const u = await createUser();
    const res = await app.fetch(
      new Request('http://localhost/api/v1/agents', { method: 'POST', headers: { Authorization: `Bearer ${u.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'direct', model_config: { provider: 'mock', model_name: 'mock-1' } }) }),
      { ...env, AUDIT_QUEUE: undefined },
    );
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: string }).id;
    // No execution context here: the write finished before the answer.
    expect((await auditRows(u.id)).map((r) => [r.action, r.resource_id])).toEqual([['agents.create', id]]);
    expect(await count("SELECT count(*) AS n FROM system_logs WHERE user_id = ? AND category = 'request'", u.id)).toBe(1);
  });

  it('drops malformed messages; the dead-letter consumer writes what it gets (once) and acks', async () => {
    const u = await createUser();
    const good = record(u.id, 1);
    const result = await deliver(batchOf(AUDIT_QUEUE_NAME, [{ nope: true }, good]));
    expect(result.explicitAcks.sort()).toEqual(['m0', 'm1']);
    expect(await auditRows(u.id)).toHaveLength(1);
    const dead = await deliver(batchOf(AUDIT_DLQ_NAME, [good, record(u.id, 2)]));
    expect(dead.retryBatch.retry).toBe(false);
    expect(await auditRows(u.id)).toHaveLength(2);
  });
});

describe('system logs', () => {
  it('records background failures: a failed task delivery is a warning, its dead letter one error; a failing cron step a warning', async () => {
    const u = await createUser();
    const { goal, tasks } = await decomposedGoal(u, ['unlucky']);
    const body = { task_id: tasks[0].id, goal_id: goal.id };
    const db = env.DB;
    // D1 refuses the consumer's first batch (the claim), then works again (the log line is written).
    let outages = 1;
    const flaky = {
      ...env,
      DB: Object.assign(Object.create(db), {
        batch: (s: D1PreparedStatement[]) => (outages-- > 0 ? Promise.reject(new Error('D1_ERROR: storage unavailable (test)')) : db.batch(s)),
        prepare: db.prepare.bind(db),
      }),
    };
    const attempt = createMessageBatch(TASKS_QUEUE_NAME, [{ id: 't1', timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    await worker.queue(attempt, flaky, ctx);
    expect((await getQueueResult(attempt, ctx)).retryMessages.map((m) => m.msgId)).toEqual(['t1']);
    const dead = createMessageBatch(TASKS_DLQ_NAME, [{ id: 'td1', timestamp: new Date(), attempts: 1, body }]);
    await worker.queue(dead, env, createExecutionContext());

    const linesOf = async (level: string) =>
      ((await get(admin, `/api/v1/system-logs?level=${level}&source=queue:${TASKS_QUEUE_NAME}&page_size=100`)).body.items as any[]).filter((l) => l.data?.resource_id === tasks[0].id);
    const [warning] = await linesOf('warn');
    expect(warning).toMatchObject({ category: 'job', data: { job: `queue:${TASKS_QUEUE_NAME}`, message_id: 't1', attempt: 1, resource_type: 'task', gave_up: false } });
    expect(warning.data.cause).toContain('storage unavailable');
    const errors = await linesOf('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ user_id: u.id, data: { message_id: 'td1', resource_type: 'task', resource_id: tasks[0].id, gave_up: true } });
    // The dead-letter consumer is not told why: the last failed attempt says it.
    expect(errors[0].data.cause).toContain('storage unavailable');
    expect((await api(`/api/v1/tasks/${tasks[0].id}`, { token: u.token })).body.status).toBe('failed');

    // A cron step that fails: a warning of its own (the next trigger runs it again); the other steps run.
    const lockedLogins = {
      ...env,
      DB: Object.assign(Object.create(db), {
        prepare: (q: string) => {
          if (/^delete from "login_attempts"/i.test(q)) throw new Error('D1_ERROR: login_attempts is locked (test)');
          return db.prepare(q);
        },
        batch: db.batch.bind(db),
      }),
    };
    await runCron(lockedLogins);
    const step = await get(admin, '/api/v1/system-logs?level=warn&source=cron:login-attempts');
    expect(step.body.items[0]).toMatchObject({ category: 'job', data: { job: 'cron:login-attempts', gave_up: false } });
    expect(step.body.items[0].data.cause).toContain('locked');
    const run = (await get(admin, '/api/v1/system-logs/application?source=cron')).body.items[0];
    expect(run.data.steps.filter((s: any) => !s.ok).map((s: any) => s.name)).toEqual(['login-attempts']);
    const stats = (await get(admin, '/api/v1/system-logs/stats')).body;
    expect(stats.jobs.failures).toBeGreaterThanOrEqual(3);
  });

  it('keeps request lines, background job runs and app messages; filters, statistics, retention; admins only', async () => {
    const u = await createUser();
    await get(u, '/api/v1/agents');
    await get(u, `/api/v1/agents/${crypto.randomUUID()}`); // 404
    await runCron(env);
    await eventually(() => count("SELECT count(*) AS n FROM system_logs WHERE user_id = ? AND category = 'request'", u.id), (n) => n >= 2);

    expectError(await get(u, '/api/v1/system-logs'), 403);
    expectError(await get(u, '/api/v1/system-logs/stats'), 403);
    expectError(await get(u, '/api/v1/system-logs/application'), 403);
    expectError(await api('/api/v1/system-logs'), 401);

    const lines = await get(admin, `/api/v1/system-logs?category=request&user_id=${u.id}`);
    expect(lines.status).toBe(200);
    expect(lines.body.items.map((l: any) => [l.method, l.status_code, l.level])).toEqual(
      expect.arrayContaining([
        ['GET', 200, 'info'],
        ['GET', 404, 'warn'],
      ]),
    );
    expect((await get(admin, `/api/v1/system-logs?user_id=${u.id}&status_code=404`)).body.total).toBe(1);
    expect((await get(admin, `/api/v1/system-logs?user_id=${u.id}&path=/api/v1/agents/`)).body.total).toBe(1);
    expect((await get(admin, `/api/v1/system-logs?search=${encodeURIComponent('GET /api/v1/agents 200')}&user_id=${u.id}`)).body.total).toBe(1);
    expectError(await get(admin, '/api/v1/system-logs?category=audit'), 422);

    const app = await get(admin, '/api/v1/system-logs/application?source=cron');
    expect(app.body.items[0]).toMatchObject({ category: 'job', level: 'info', source: 'cron' });
    expect(app.body.items[0].data.steps.map((s: any) => s.name)).toEqual(expect.arrayContaining(['login-attempts', 'task-leases', 'alert-rules', 'log-retention']));
    expect(app.body.items[0].data.steps.every((s: any) => s.ok)).toBe(true);
    expect((await get(admin, '/api/v1/system-logs/application?category=app')).status).toBe(200);
    expect((await get(admin, '/api/v1/system-logs/application')).body.items.every((l: any) => l.category !== 'request')).toBe(true);

    const stats = await get(admin, '/api/v1/system-logs/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.requests.count).toBeGreaterThanOrEqual(2);
    expect(stats.body.requests.client_errors).toBeGreaterThanOrEqual(1);
    expect(stats.body.requests.p95_ms).not.toBeNull();
    expect(stats.body.jobs.runs).toBeGreaterThanOrEqual(1);
    expect(stats.body.by_category.request).toBeGreaterThanOrEqual(2);

    // Retention: old lines go (system logs after 14 days, audit after 365), recent ones stay.
    const old = new Date(Date.now() - 20 * 86_400_000).toISOString();
    await env.DB.prepare("INSERT INTO system_logs (id, category, level, source, message, created_at) VALUES (?, 'app', 'info', 'test', 'old line', ?)").bind('old-line', old).run();
    await env.DB.prepare("INSERT INTO audit_logs (id, action, method, path, status_code, request_id, duration_ms, created_at) VALUES ('old-audit', 'x', 'POST', '/', 200, 'r', 1, ?)")
      .bind(new Date(Date.now() - 400 * 86_400_000).toISOString())
      .run();
    const removed = await enforceLogRetention(env);
    expect(removed).toEqual({ system_logs: 1, audit_logs: 1 });
    // Counted by id: request lines of this test may still be arriving from the audit queue.
    expect(await count("SELECT count(*) AS n FROM system_logs WHERE id = 'old-line'")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM audit_logs WHERE id = 'old-audit'")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM system_logs WHERE user_id = ? AND category = 'request'", u.id)).toBeGreaterThanOrEqual(2);
  });
});

async function insertCalls(userId: string, agentId: string | null, latencies: number[], extra: { provider?: string; model?: string; status?: string; ageMs?: number } = {}) {
  const at = new Date(Date.now() - (extra.ageMs ?? 60_000)).toISOString();
  await env.DB.batch(
    latencies.map((ms) =>
      env.DB.prepare(
        'INSERT INTO llm_calls (id, user_id, agent_id, provider, model, prompt_tokens, completion_tokens, latency_ms, status, created_at) VALUES (?, ?, ?, ?, ?, 10, 5, ?, ?, ?)',
      ).bind(crypto.randomUUID(), userId, agentId, extra.provider ?? 'mock', extra.model ?? 'mock-1', ms, extra.status ?? 'ok', at),
    ),
  );
}

describe('agent monitoring', () => {
  it('aggregates llm_calls per provider and model with real p50/p95, per agent, daily; scoped to the caller', async () => {
    const u = await createUser();
    const other = await createUser();
    const agent = await createAgent(u, { name: 'measured' });
    const latencies = Array.from({ length: 20 }, (_, i) => (i + 1) * 10); // 10..200
    await insertCalls(u.id, agent.id, latencies);
    await insertCalls(u.id, agent.id, [1000, 3000], { provider: 'openai', model: 'gpt-x', status: 'error' });
    await insertCalls(u.id, null, [5], { ageMs: 3 * 86_400_000 });
    await insertCalls(other.id, null, [7, 7, 7]);

    const calls = await get(u, '/api/v1/agent-monitoring/llm-calls?days=1');
    expect(calls.status).toBe(200);
    expect(calls.body.scope).toBe('own');
    expect(calls.body.items).toEqual([
      { provider: 'mock', model: 'mock-1', calls: 20, errors: 0, error_rate: 0, prompt_tokens: 200, completion_tokens: 100, total_tokens: 300, avg_latency_ms: 105, p50_latency_ms: 100, p95_latency_ms: 190 },
      { provider: 'openai', model: 'gpt-x', calls: 2, errors: 2, error_rate: 1, prompt_tokens: 20, completion_tokens: 10, total_tokens: 30, avg_latency_ms: 2000, p50_latency_ms: 1000, p95_latency_ms: 3000 },
    ]);
    expect((await get(u, '/api/v1/agent-monitoring/llm-calls?days=1&provider=openai')).body.items).toHaveLength(1);
    expect((await get(u, '/api/v1/agent-monitoring/llm-calls?days=7')).body.items.find((i: any) => i.provider === 'mock').calls).toBe(21);
    const all = await get(admin, '/api/v1/agent-monitoring/llm-calls?days=1');
    expect(all.body.scope).toBe('all');
    expect(all.body.items.find((i: any) => i.provider === 'mock').calls).toBe(23);

    const overview = await get(u, '/api/v1/agent-monitoring/overview?days=1');
    expect(overview.body).toMatchObject({ llm_calls: 22, errors: 2, prompt_tokens: 220, completion_tokens: 110, total_tokens: 330, active_agents: 1, p50_latency_ms: 110 });
    expect(overview.body.error_rate).toBeCloseTo(2 / 22);
    expect(overview.body.tool_calls).toEqual({ total: 0, failed: 0 });
    expect((await get(u, `/api/v1/agent-monitoring/overview?days=1&agent_id=${agent.id}`)).body.llm_calls).toBe(22);

    const agents = await get(u, '/api/v1/agent-monitoring/agents-stats?days=1');
    expect(agents.body).toMatchObject({ total: 1, items: [{ agent_id: agent.id, name: 'measured', calls: 22, errors: 2, p95_latency_ms: 1000 }] });

    const trend = await get(u, '/api/v1/agent-monitoring/daily-trend?days=5');
    expect(trend.body.items).toHaveLength(5);
    expect(trend.body.items.at(-1)).toMatchObject({ date: new Date().toISOString().slice(0, 10), llm_calls: 22, errors: 2 });
    expect(trend.body.items.reduce((a: number, d: any) => a + d.llm_calls, 0)).toBe(23);
    expect(trend.body.items[0]).toMatchObject({ llm_calls: 0, avg_latency_ms: null });

    expectError(await get(other, `/api/v1/agent-monitoring/overview?agent_id=${agent.id}`), 404);
    expectError(await get(u, `/api/v1/agent-monitoring/llm-calls?agent_id=${crypto.randomUUID()}`), 404);
    expectError(await get(u, '/api/v1/agent-monitoring/daily-trend?days=0'), 422);
    expectError(await get(u, '/api/v1/agent-monitoring/overview?from=yesterday'), 422);
    for (const p of ['overview', 'llm-calls', 'agents-stats', 'tool-usage', 'daily-trend']) expectError(await api(`/api/v1/agent-monitoring/${p}`), 401);
  });

  it('tool usage from tool_usage with p50/p95 per tool', async () => {
    const u = await createUser();
    const at = new Date(Date.now() - 1000).toISOString();
    await env.DB.batch(
      [100, 200, 300, 400].map((ms, i) =>
        env.DB.prepare("INSERT INTO tool_usage (id, tool_id, tool_name, tool_type, user_id, duration_ms, ok, error, created_at) VALUES (?, 'calc', 'calculator', 'builtin', ?, ?, ?, ?, ?)").bind(
          crypto.randomUUID(),
          u.id,
          ms,
          i === 3 ? 0 : 1,
          i === 3 ? 'E: failed' : null,
          at,
        ),
      ),
    );
    const res = await get(u, '/api/v1/agent-monitoring/tool-usage?days=1');
    expect(res.body).toMatchObject({ available: true, items: [{ tool_name: 'calculator', tool_type: 'builtin', calls: 4, failed: 1, error_rate: 0.25, avg_ms: 250, p50_ms: 200, p95_ms: 400 }] });
    expect((await get(u, '/api/v1/agent-monitoring/overview?days=1')).body.tool_calls).toEqual({ total: 4, failed: 1 });
  });
});

describe('monitoring', () => {
  it('overview, executions (goal task runs as recorded) with duration percentiles, node types, activities', async () => {
    const u = await createUser();
    await createAgent(u);
    const goal = await createGoal(u);
    const now = Date.now();
    const run = (status: string, ms: number) =>
      env.DB.prepare("INSERT INTO task_runs (id, task_id, goal_id, attempt, trigger, status, created_at, finished_at) VALUES (?, 't', ?, 1, 'execute', ?, ?, ?)").bind(
        crypto.randomUUID(),
        goal.id,
        status,
        new Date(now - 5000).toISOString(),
        status === 'running' ? null : new Date(now - 5000 + ms).toISOString(),
      );
    await env.DB.batch([run('completed', 100), run('completed', 300), run('failed', 200), run('running', 0)]);
    await insertCalls(u.id, null, [50]);

    const ov = await get(u, '/api/v1/monitoring/overview');
    expect(ov.status).toBe(200);
    expect(ov.body).toMatchObject({ scope: 'own', users: { total: 1, active: 1 }, agents: { total: 1, deployed: 0 }, workflows: { total: 0 } });
    expect(ov.body.executions).toMatchObject({ total: 4, today: 4, succeeded: 2, failed: 1, running: 1, avg_duration_ms: 200 });
    expect(ov.body.executions.success_rate).toBeCloseTo(2 / 3);
    expect(ov.body.executions.sources).toEqual(['workflow', 'agent', 'task']);
    expect(ov.body.llm).toMatchObject({ calls: 1, total_tokens: 15 });
    const adminOv = await get(admin, '/api/v1/monitoring/overview');
    expect(adminOv.body.scope).toBe('all');
    expect(adminOv.body.users.total).toBe(await count("SELECT count(*) AS n FROM users WHERE status = 'active'"));

    const ex = await get(u, '/api/v1/monitoring/executions?days=2');
    expect(ex.body).toMatchObject({ total: 4, by_status: { succeeded: 2, failed: 1, running: 1 }, duration: { avg_ms: 200, p50_ms: 200, p95_ms: 300 } });
    expect(ex.body.by_kind).toEqual([{ kind: 'task', total: 4, succeeded: 2, failed: 1 }]);
    expect(ex.body.by_day).toHaveLength(3);
    expect(ex.body.by_day.at(-1)).toMatchObject({ total: 4, succeeded: 2, failed: 1 });
    expect((await get(u, '/api/v1/monitoring/executions?kind=workflow')).body.total).toBe(0);
    expectError(await get(u, '/api/v1/monitoring/executions?kind=nope'), 422);

    const nodes = await get(u, '/api/v1/monitoring/node-types');
    expect(nodes.status).toBe(200);
    expect(nodes.body).toMatchObject({ available: true, items: [] });

    await eventually(() => auditRows(u.id), (r) => r.length >= 2);
    const act = await get(u, '/api/v1/monitoring/activities');
    expect(act.body.items.map((a: any) => a.action)).toEqual(['goals.create', 'agents.create']);
    expect(act.body.items.every((a: any) => a.user_id === u.id)).toBe(true);
    for (const p of ['overview', 'executions', 'node-types', 'activities']) expectError(await api(`/api/v1/monitoring/${p}`), 401);
    expectError(await get(u, '/api/v1/monitoring/overview?days=1000'), 422);
  });
});
