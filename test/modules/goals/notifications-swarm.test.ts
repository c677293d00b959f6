import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { parseSse } from '../../../src/lib/sse';
import { createNotification } from '../../../src/modules/goals/notifications/service';
import { api, createUser, expectError } from '../../support/helpers';
import { createAgent, post } from '../../support/goal-helpers';

describe('notifications', () => {
  it('createNotification, list with the unread filter, unread count, mark read, read all, delete', async () => {
    const u = await createUser();
    const other = await createUser();
    const n1 = await createNotification(env, u.id, { type: 'task_failed', title: 'one', body: 'b1', resource_type: 'task', resource_id: 't1' });
    expect(n1).toMatchObject({ user_id: u.id, type: 'task_failed', title: 'one', body: 'b1', resource_type: 'task', resource_id: 't1', is_read: false, read_at: null });
    const n2 = await createNotification(env, u.id, { type: 'goal_completed', title: 'two', body: '' });
    await createNotification(env, other.id, { type: 'goal_completed', title: 'theirs', body: '' });
    expect((await api('/api/v1/notifications', { token: u.token })).body).toMatchObject({ total: 2, page: 1, page_size: 20 });
    expect((await api('/api/v1/notifications/unread-count', { token: u.token })).body).toEqual({ count: 2 });
    const read = await api(`/api/v1/notifications/${n1.id}/read`, { token: u.token, method: 'PUT' });
    expect(read.body).toMatchObject({ id: n1.id, is_read: true });
    expect(read.body.read_at).toBeTruthy();
    expect((await api('/api/v1/notifications?unread=true', { token: u.token })).body.items.map((n: any) => n.id)).toEqual([n2.id]);
    expect((await api('/api/v1/notifications?unread=false', { token: u.token })).body.items.map((n: any) => n.id)).toEqual([n1.id]);
    expect((await api('/api/v1/notifications?type=goal_completed', { token: u.token })).body.total).toBe(1);
    expect((await api('/api/v1/notifications/read-all', { token: u.token, method: 'PUT' })).body).toEqual({ updated: 1 });
    expect((await api('/api/v1/notifications/unread-count', { token: u.token })).body).toEqual({ count: 0 });
    expect((await api('/api/v1/notifications/unread-count', { token: other.token })).body).toEqual({ count: 1 });
    expect((await api(`/api/v1/notifications/${n2.id}`, { token: u.token, method: 'DELETE' })).status).toBe(204);
    expect((await api('/api/v1/notifications', { token: u.token })).body.total).toBe(1);
  });

  it("another user's notification is 404; 401 without a token; 422 for a bad filter", async () => {
    const u = await createUser();
    const other = await createUser();
    const n = await createNotification(env, u.id, { type: 'x', title: 't', body: '' });
    expectError(await api(`/api/v1/notifications/${n.id}/read`, { token: other.token, method: 'PUT' }), 404);
    expectError(await api(`/api/v1/notifications/${n.id}`, { token: other.token, method: 'DELETE' }), 404);
    expectError(await api(`/api/v1/notifications/${crypto.randomUUID()}/read`, { token: u.token, method: 'PUT' }), 404);
    expect((await api('/api/v1/notifications/unread-count', { token: u.token })).body.count).toBe(1);
    for (const path of ['', '/unread-count']) expectError(await api(`/api/v1/notifications${path}`), 401);
    expectError(await api('/api/v1/notifications/read-all', { method: 'PUT' }), 401);
    expect(expectError(await api('/api/v1/notifications?unread=maybe', { token: u.token }), 422).message).toContain('query.unread');
  });
});

describe('swarm', () => {
  it('the coordinator splits the task by lines among the workers, they run, it merges (mock: deterministic)', async () => {
    const u = await createUser();
    const lead = await createAgent(u, { name: 'lead' });
    const w1 = await createAgent(u, { name: 'w1' });
    const w2 = await createAgent(u, { name: 'w2' });
    const res = await post(u, '/api/v1/swarm/run', { task: 'compare A\ncompare B\ncompare C', agent_ids: [lead.id, w1.id, w2.id] });
    expect(res.status, res.text).toBe(200);
    expect(res.body.assignments).toEqual([
      { agent_id: w1.id, subtask: 'compare A\ncompare C' },
      { agent_id: w2.id, subtask: 'compare B' },
    ]);
    expect(res.body).toMatchObject({ coordinator_id: lead.id, rounds: 1 });
    const roles = res.body.steps.map((s: any) => [s.agent_name, s.role, s.round]);
    expect(roles[0]).toEqual(['lead', 'coordinator', 0]);
    expect(roles.at(-1)).toEqual(['lead', 'reviewer', 1]);
    expect(roles.slice(1, 3).sort()).toEqual([
      ['w1', 'worker', 1],
      ['w2', 'worker', 1],
    ]);
    const w1Steps = res.body.transcripts.find((t: any) => t.agent_id === w1.id).steps;
    expect(w1Steps.map((s: any) => s.output)).toEqual(['echo: compare A\ncompare C']);
    expect(res.body.transcripts.find((t: any) => t.agent_id === lead.id).steps).toHaveLength(2);
    expect(res.body.result).toMatch(/^echo: Task: compare A\ncompare B\ncompare C\n\nThe workers' results:\n\[w1\] echo: compare A\ncompare C\n\n\[w2\] echo: compare B/);
    expect(res.body.token_usage.total_tokens).toBeGreaterThan(0);
    // The same request gives the same answer.
    const again = await post(u, '/api/v1/swarm/run', { task: 'compare A\ncompare B\ncompare C', agent_ids: [lead.id, w1.id, w2.id] });
    expect(again.body.result).toBe(res.body.result);
  });

  it('a single agent does everything; one-line tasks go to every worker whole', async () => {
    const u = await createUser();
    const solo = await createAgent(u, { name: 'solo' });
    const res = await post(u, '/api/v1/swarm/run', { task: 'just this', agent_ids: [solo.id], max_rounds: 3 });
    expect(res.body.assignments).toEqual([{ agent_id: solo.id, subtask: 'just this' }]);
    expect(res.body.steps.map((s: any) => s.role)).toEqual(['coordinator', 'worker', 'reviewer']);
    expect(res.body.rounds).toBe(1);
  });

  it('404 for agents that are not yours, 422 for bad input, 401 without a token', async () => {
    const u = await createUser();
    const other = await createUser();
    const mine = await createAgent(u);
    const theirs = await createAgent(other);
    expectError(await post(u, '/api/v1/swarm/run', { task: 't', agent_ids: [mine.id, theirs.id] }), 404);
    expectError(await post(u, '/api/v1/swarm/run/stream', { task: 't', agent_ids: [theirs.id] }), 404);
    expect(expectError(await post(u, '/api/v1/swarm/run', { task: 't', agent_ids: [] }), 422).message).toContain('body.agent_ids');
    expect(expectError(await post(u, '/api/v1/swarm/run', { task: '', agent_ids: [mine.id] }), 422).message).toContain('body.task');
    expect(expectError(await post(u, '/api/v1/swarm/run', { task: 't', agent_ids: [mine.id], max_rounds: 9 }), 422).message).toContain('body.max_rounds');
    expectError(await api('/api/v1/swarm/run', { json: { task: 't', agent_ids: [mine.id] } }), 401);
    expectError(await api('/api/v1/swarm/run/stream', { json: { task: 't', agent_ids: [mine.id] } }), 401);
  });

  it('streams agent_started, token, agent_finished and done', async () => {
    const u = await createUser();
    const lead = await createAgent(u, { name: 'lead' });
    const w = await createAgent(u, { name: 'w' });
    const res = await post(u, '/api/v1/swarm/run/stream', { task: 'write a haiku about rain', agent_ids: [lead.id, w.id] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = parseSse(res.text);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('agent_started');
    expect(names.at(-1)).toBe('done');
    expect(names.filter((n) => n === 'agent_started')).toHaveLength(3);
    expect(names.filter((n) => n === 'agent_finished')).toHaveLength(3);
    expect(names.every((n) => ['agent_started', 'token', 'agent_finished', 'done'].includes(n))).toBe(true);
    const workerTokens = events.filter((e) => e.event === 'token').map((e) => JSON.parse(e.data)).filter((d) => d.agent_id === w.id);
    expect(workerTokens.length).toBeGreaterThan(1);
    expect(workerTokens.map((t) => t.text).join('')).toBe('echo: write a haiku about rain');
    const done = JSON.parse(events.at(-1)!.data);
    const plain = await post(u, '/api/v1/swarm/run', { task: 'write a haiku about rain', agent_ids: [lead.id, w.id] });
    expect(done.result).toBe(plain.body.result);
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
  });

  it('a failing agent ends the stream with an error event', async () => {
    const u = await createUser();
    const lead = await createAgent(u, { name: 'lead' });
    const w = await createAgent(u, { name: 'w' });
    const res = await post(u, '/api/v1/swarm/run/stream', { task: '/error', agent_ids: [lead.id, w.id] });
    const events = parseSse(res.text);
    expect(events.at(-1)!.event).toBe('error');
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ error: 'LLM_ERROR' });
    expect(events.map((e) => e.event)).not.toContain('done');
    expectError(await post(u, '/api/v1/swarm/run', { task: '/error', agent_ids: [lead.id, w.id] }), 502, 'LLM_ERROR');
  });
});

describe('OpenAPI', () => {
  it('documents 13 goal, 15 task, 2 swarm and 5 notification endpoints, the task tree recursive', async () => {
    const doc = (await api('/openapi.json')).body;
    const perTag: Record<string, number> = {};
    for (const ops of Object.values<Record<string, { tags?: string[] }>>(doc.paths)) {
      for (const op of Object.values(ops)) for (const tag of op.tags ?? []) perTag[tag] = (perTag[tag] ?? 0) + 1;
    }
    expect(perTag).toMatchObject({ goals: 13, tasks: 15, swarm: 2, notifications: 5 });
    expect(JSON.stringify(doc.components.schemas.TaskNode)).toContain('#/components/schemas/TaskNode');
  });
});
