import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCron } from '../../../src/index';
import { api, createUser, expectError, seedConversation } from '../../support/helpers';
import { count, createAgent, notificationsOf, post, type User } from '../../support/goal-helpers';

let admin: User;

beforeAll(async () => {
  admin = await createUser('admin');
  expect(admin.role).toBe('admin');
});

const R = '/api/v1/alert-rules';
const get = (u: User, path: string) => api(path, { token: u.token });
const put = (u: User, path: string, json: unknown) => api(path, { token: u.token, method: 'PUT', json });
const del = (u: User, path: string) => api(path, { token: u.token, method: 'DELETE' });
const hooks = async (key: string) => (await fetch(`${env.FAKE_BASE_URL}/hooks/${key}`)).json() as Promise<any[]>;

async function tokens(userId: string, calls: number, status = 'ok', ageMs = 30_000) {
  const at = new Date(Date.now() - ageMs).toISOString();
  await env.DB.batch(
    Array.from({ length: calls }, () =>
      env.DB.prepare("INSERT INTO llm_calls (id, user_id, provider, model, prompt_tokens, completion_tokens, latency_ms, status, created_at) VALUES (?, ?, 'mock', 'mock-1', 10, 5, 20, ?, ?)").bind(
        crypto.randomUUID(),
        userId,
        status,
        at,
      ),
    ),
  );
}

describe('alert rules', () => {
  it('fires once (alert, notification, webhook), does not re-notify while firing, resolves on recovery', async () => {
    const u = await createUser();
    const hook = crypto.randomUUID();
    const created = await post(u, R, { name: 'token burn', metric: 'token_usage', comparator: 'gt', threshold: 100, window_minutes: 5, webhook_url: `${env.FAKE_BASE_URL}/hooks/${hook}` });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ owner_id: u.id, state: 'ok', enabled: true, webhook_format: 'json', last_value: null });
    const id = created.body.id;

    const quiet = await post(u, `${R}/${id}/evaluate`);
    expect(quiet.body).toMatchObject({ value: 0, breached: false, transition: 'none', alert: null });

    await tokens(u.id, 10); // 150 tokens
    const fired = await post(u, `${R}/${id}/evaluate`);
    expect(fired.body).toMatchObject({ value: 150, breached: true, transition: 'fired', rule: { state: 'firing', last_value: 150 } });
    expect(fired.body.alert).toMatchObject({ rule_id: id, rule_name: 'token burn', status: 'firing', value: 150, threshold: 100, webhook_status: 'fired: HTTP 200' });
    expect(await notificationsOf(u.id)).toEqual([expect.objectContaining({ type: 'alert_fired', title: 'Alert: token burn', resource_type: 'alert_rule', resource_id: id })]);
    expect(await hooks(hook)).toEqual([expect.objectContaining({ event: 'fired', rule: expect.objectContaining({ id, metric: 'token_usage' }), alert: expect.objectContaining({ value: 150 }) })]);

    // Still breached: nothing new.
    await tokens(u.id, 2);
    const again = await post(u, `${R}/${id}/evaluate`);
    expect(again.body).toMatchObject({ value: 180, breached: true, transition: 'none' });
    expect(again.body.alert.id).toBe(fired.body.alert.id);
    await runCron(env);
    expect((await notificationsOf(u.id)).length).toBe(1);
    expect(await count('SELECT count(*) AS n FROM alert_events WHERE rule_id = ?', id)).toBe(1);
    expect((await hooks(hook)).length).toBe(1);

    // Recovery: the calls leave the window.
    await env.DB.prepare('UPDATE llm_calls SET created_at = ? WHERE user_id = ?').bind(new Date(Date.now() - 3600_000).toISOString(), u.id).run();
    const resolved = await post(u, `${R}/${id}/evaluate`);
    expect(resolved.body).toMatchObject({ value: 0, breached: false, transition: 'resolved', rule: { state: 'ok' }, alert: { status: 'resolved', resolved_value: 0 } });
    expect((await notificationsOf(u.id)).map((n) => n.type)).toEqual(['alert_fired', 'alert_resolved']);
    expect((await hooks(hook)).map((h) => h.event)).toEqual(['fired', 'resolved']);

    const log = await get(u, `${R}/alerts?rule_id=${id}`);
    expect(log.body).toMatchObject({ total: 1, items: [{ status: 'resolved', acknowledged_at: null }] });
    expect((await get(u, `${R}/alerts?status=firing`)).body.total).toBe(0);
  });

  it('the cron evaluates every enabled rule each minute; model error rate; Feishu webhook format; acknowledge', async () => {
    const u = await createUser();
    const hook = crypto.randomUUID();
    const rule = (
      await post(u, R, { name: 'model errors', metric: 'model_error_rate', comparator: 'gte', threshold: 50, webhook_url: `${env.FAKE_BASE_URL}/hooks/${hook}`, webhook_format: 'feishu' })
    ).body;
    const off = (await post(u, R, { name: 'off', metric: 'token_usage', threshold: 0, enabled: false })).body;
    await tokens(u.id, 1, 'ok');
    await tokens(u.id, 3, 'error');
    await runCron(env);
    const after = (await get(u, `${R}/${rule.id}`)).body;
    expect(after).toMatchObject({ state: 'firing', last_value: 75 });
    expect(after.last_evaluated_at).toBeTruthy();
    expect((await get(u, `${R}/${off.id}`)).body).toMatchObject({ state: 'ok', last_evaluated_at: null });
    const [message] = await hooks(hook);
    expect(message).toEqual({ msg_type: 'text', content: { text: expect.stringMatching(/^\[FIRING\] model errors: model_error_rate over 5 min is 75/) } });

    const alert = (await get(u, `${R}/alerts?acknowledged=false`)).body.items[0];
    const stranger = await createUser();
    expectError(await post(stranger, `${R}/alerts/${alert.id}/acknowledge`), 404);
    const ack = await post(u, `${R}/alerts/${alert.id}/acknowledge`);
    expect(ack.body).toMatchObject({ id: alert.id, acknowledged_by: u.id });
    expect((await post(admin, `${R}/alerts/${alert.id}/acknowledge`)).body.acknowledged_by).toBe(u.id);
    expect((await get(u, `${R}/alerts?acknowledged=true`)).body.total).toBe(1);
    expectError(await post(u, `${R}/alerts/${crypto.randomUUID()}/acknowledge`), 404);

    // Disabling a firing rule resolves its alert; a disabled rule is not evaluated on demand.
    const disabled = await put(u, `${R}/${rule.id}`, { enabled: false });
    expect(disabled.body).toMatchObject({ enabled: false, state: 'ok' });
    expect((await get(u, `${R}/alerts?rule_id=${rule.id}`)).body.items[0].status).toBe('resolved');
    expectError(await post(u, `${R}/${rule.id}/evaluate`), 409);
    expectError(await post(u, `${R}/${crypto.randomUUID()}/evaluate`), 404);
  });

  it('CRUD, validation, scoping', async () => {
    const u = await createUser();
    const other = await createUser();
    const agent = await createAgent(u);
    const theirs = await createAgent(other);
    expect(expectError(await post(u, R, { name: 'x', metric: 'cpu', threshold: 1 }), 422).message).toContain('body.metric');
    expectError(await post(u, R, { name: 'x', metric: 'error_rate' }), 422);
    expect(expectError(await post(u, R, { name: 'x', metric: 'error_rate', threshold: 5, agent_id: agent.id }), 422).message).toContain('body.agent_id');
    expect(expectError(await post(u, R, { name: 'x', metric: 'token_usage', threshold: 5, agent_id: theirs.id }), 422).message).toContain('not found');
    expect(expectError(await post(u, R, { name: 'x', metric: 'error_rate', threshold: 5, webhook_url: 'http://169.254.169.254/latest' }), 422).message).toContain('body.webhook_url');
    expectError(await post(u, R, { name: 'x', metric: 'error_rate', threshold: 5, window_minutes: 0 }), 422);
    expectError(await api(R, { method: 'POST', json: { name: 'x', metric: 'error_rate', threshold: 5 } }), 401);

    const rule = (await post(u, R, { name: 'latency', metric: 'p95_latency', threshold: 2000, description: 'slow API' })).body;
    const scoped = (await post(u, R, { name: 'agent tokens', metric: 'token_usage', threshold: 1000, agent_id: agent.id })).body;
    expect(scoped.agent_id).toBe(agent.id);
    expect((await get(u, R)).body.total).toBe(2);
    expect((await get(u, `${R}?metric=p95_latency`)).body.items.map((r: any) => r.id)).toEqual([rule.id]);
    expect((await get(other, R)).body.total).toBe(0);
    expect((await get(admin, `${R}?page_size=100`)).body.items.map((r: any) => r.id)).toEqual(expect.arrayContaining([rule.id, scoped.id]));
    expectError(await get(u, `${R}?state=on`), 422);
    expectError(await get(other, `${R}/${rule.id}`), 404);
    expectError(await put(other, `${R}/${rule.id}`, { threshold: 1 }), 404);
    expectError(await del(other, `${R}/${rule.id}`), 404);
    expectError(await get(u, `${R}/${crypto.randomUUID()}`), 404);
    expectError(await api(`${R}/${rule.id}`), 401);

    const updated = await put(u, `${R}/${rule.id}`, { threshold: 500, comparator: 'gte', window_minutes: 15 });
    expect(updated.body).toMatchObject({ name: 'latency', description: 'slow API', threshold: 500, comparator: 'gte', window_minutes: 15 });
    expectError(await put(u, `${R}/${rule.id}`, { threshold: 'high' }), 422);
    expectError(await put(u, `${R}/${rule.id}`, { agent_id: agent.id }), 422);

    // p95 latency of the owner's own requests (request log lines).
    await env.DB.batch(
      [100, 200, 3000].map((ms) =>
        env.DB.prepare("INSERT INTO system_logs (id, category, level, source, message, user_id, status_code, duration_ms) VALUES (?, 'request', 'info', 'http', 'GET /x 200', ?, 200, ?)").bind(crypto.randomUUID(), u.id, ms),
      ),
    );
    const ev = await post(u, `${R}/${rule.id}/evaluate`);
    expect(ev.body).toMatchObject({ breached: true, transition: 'fired' });
    expect(ev.body.value).toBeGreaterThanOrEqual(3000);

    expect((await del(u, `${R}/${rule.id}`)).status).toBe(204);
    expect(await count('SELECT count(*) AS n FROM alert_events WHERE rule_id = ?', rule.id)).toBe(0);
    expectError(await get(u, `${R}/${rule.id}`), 404);
  });
});

/** A conversation with one of `owner`'s agents, held by `chatter`: a question and its answer. */
const conversation = (chatter: User, agentId: string | null, question = 'what is 2+2?', answer = 'five') => seedConversation(chatter, agentId, question, answer);

describe('feedback', () => {
  it('records feedback on an answer (again replaces it), analyses it per agent and exports negative samples', async () => {
    const owner = await createUser();
    const chatter = await createUser();
    const agent = await createAgent(owner, { name: 'helper' });
    await post(owner, '/api/v1/permissions/grants', { resource_type: 'agent', resource_id: agent.id, user_id: chatter.id, level: 'execute' });
    const c1 = await conversation(chatter, agent.id);
    const c2 = await conversation(owner, agent.id, 'hello', 'hi there');

    const bad = await post(chatter, '/api/v1/feedback', { target_type: 'message', target_id: c1.answer, thumb: 'down', comment: 'wrong maths', tags: ['Wrong', 'maths'] });
    expect(bad.status, bad.text).toBe(201);
    expect(bad.body).toMatchObject({ user_id: chatter.id, owner_id: owner.id, agent_id: agent.id, session_id: c1.session, sentiment: 'negative', tags: ['wrong', 'maths'] });
    const good = await post(owner, '/api/v1/feedback', { target_type: 'message', target_id: c2.answer, rating: 5, tags: ['friendly'] });
    expect(good.body.sentiment).toBe('positive');

    const samples = await get(owner, `/api/v1/feedback/negative-samples?agent_id=${agent.id}`);
    expect(samples.body).toMatchObject({ total: 1, items: [{ id: bad.body.id, input: 'what is 2+2?', output: 'five', comment: 'wrong maths', context: [{ role: 'user', content: 'what is 2+2?' }] }] });
    const analysis = await get(owner, '/api/v1/feedback/analysis');
    expect(analysis.body).toMatchObject({ scope: 'own', total: 2, positive: 1, negative: 1, satisfaction: 0.5, average_rating: 5 });
    expect(analysis.body.per_agent).toEqual([expect.objectContaining({ agent_id: agent.id, name: 'helper', total: 2, satisfaction: 0.5 })]);
    expect(analysis.body.top_tags).toEqual([
      { tag: 'friendly', count: 1, negative: 0 },
      { tag: 'maths', count: 1, negative: 1 },
      { tag: 'wrong', count: 1, negative: 1 },
    ]);
    expect(analysis.body.by_day).toEqual([expect.objectContaining({ date: new Date().toISOString().slice(0, 10), total: 2, top_tags: expect.arrayContaining([{ tag: 'wrong', count: 1, negative: 1 }]) })]);

    const exported = await api(`/api/v1/feedback/negative-samples?format=jsonl&tag=wrong`, { token: owner.token });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toContain('application/x-ndjson');
    expect(exported.headers.get('content-disposition')).toContain('attachment');
    const lines = exported.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ id: bad.body.id, output: 'five', tags: ['wrong', 'maths'] })]);
    expect((await api('/api/v1/feedback/negative-samples?format=jsonl&tag=none', { token: owner.token })).text).toBe('');

    // Changing one's mind replaces the feedback.
    const changed = await post(chatter, '/api/v1/feedback', { target_type: 'message', target_id: c1.answer, thumb: 'up' });
    expect(changed.body).toMatchObject({ id: bad.body.id, sentiment: 'positive', tags: [] });
    expect(await count('SELECT count(*) AS n FROM feedback WHERE target_id = ?', c1.answer)).toBe(1);
    expect((await get(owner, '/api/v1/feedback/negative-samples')).body.total).toBe(0);
    expect((await get(owner, `/api/v1/feedback/analysis?agent_id=${agent.id}`)).body.satisfaction).toBe(1);
  });

  it('validation, scoping and not found', async () => {
    const u = await createUser();
    const other = await createUser();
    const agent = await createAgent(u);
    const c = await conversation(u, agent.id);
    const fb = (body: Record<string, unknown>, who = u) => post(who, '/api/v1/feedback', body);
    expect(expectError(await fb({ target_type: 'message', target_id: c.answer }), 422).message).toContain('body.thumb');
    expectError(await fb({ target_type: 'message', target_id: c.answer, rating: 6 }), 422);
    expectError(await fb({ target_type: 'chat', target_id: c.answer, thumb: 'up' }), 422);
    expect(expectError(await fb({ target_type: 'message', target_id: c.question, thumb: 'up' }), 422).message).toContain('assistant');
    expectError(await fb({ target_type: 'message', target_id: c.answer, thumb: 'up' }, other), 404);
    expectError(await fb({ target_type: 'message', target_id: crypto.randomUUID(), thumb: 'up' }), 404);
    expectError(await fb({ target_type: 'execution', target_id: crypto.randomUUID(), thumb: 'up' }), 404);
    expectError(await api('/api/v1/feedback', { method: 'POST', json: { target_type: 'message', target_id: c.answer, thumb: 'up' } }), 401);

    await fb({ target_type: 'message', target_id: c.answer, thumb: 'down' });
    expect((await get(other, '/api/v1/feedback/analysis')).body.total).toBe(0);
    expect((await get(other, '/api/v1/feedback/negative-samples')).body.total).toBe(0);
    expectError(await get(other, `/api/v1/feedback/analysis?agent_id=${agent.id}`), 404);
    expectError(await get(other, `/api/v1/feedback/negative-samples?agent_id=${agent.id}`), 404);
    expect((await get(admin, '/api/v1/feedback/negative-samples')).body.total).toBeGreaterThanOrEqual(1);
    expectError(await get(u, '/api/v1/feedback/negative-samples?format=csv'), 422);
    expectError(await get(u, '/api/v1/feedback/analysis?days=-1'), 422);
    expectError(await api('/api/v1/feedback/analysis'), 401);
    expectError(await api('/api/v1/feedback/negative-samples'), 401);
  });
});
