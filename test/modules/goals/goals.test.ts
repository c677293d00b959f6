import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../../src/index';
import { api, createUser, expectError } from '../../support/helpers';
import { count, createAgent, createGoal, createTask, decomposedGoal, eventually, notificationsOf, post, type User } from '../../support/goal-helpers';

/** Runs the worker's queue handler on a hand-made batch, as the queue would. */
async function deliver(batch: MessageBatch<unknown>) {
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

const goalOf = (u: User, id: string) => api(`/api/v1/goals/${id}`, { token: u.token });

describe('goals CRUD', () => {
  it('creates a draft goal with defaults; id, owner and status in the body never take effect', async () => {
    const u = await createUser();
    const other = await createUser();
    const a = await createAgent(u);
    const res = await api('/api/v1/goals', {
      token: u.token,
      json: { title: '写报告', description: '收集\n撰写', deadline: '2026-12-31T08:00:00+08:00', agent_ids: [a.id], id: 'x', owner_id: other.id, status: 'completed' },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      owner_id: u.id,
      title: '写报告',
      priority: 'medium',
      deadline: '2026-12-31T00:00:00.000Z',
      agent_ids: [a.id],
      status: 'draft',
      auto_execute: false,
      progress: 0,
      task_count: 0,
      result: null,
    });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('422 naming the field; 401 without a token', async () => {
    const u = await createUser();
    const other = await createUser();
    const foreign = await createAgent(other);
    expect(expectError(await api('/api/v1/goals', { token: u.token, json: { title: '' } }), 422, 'VALIDATION_ERROR').message).toContain('body.title');
    expect(expectError(await api('/api/v1/goals', { token: u.token, json: { title: 't', priority: 'asap' } }), 422).message).toContain('body.priority');
    expect(expectError(await api('/api/v1/goals', { token: u.token, json: { title: 't', agent_ids: [foreign.id] } }), 422).message).toContain(foreign.id);
    expect(expectError(await api('/api/v1/goals?status=nope', { token: u.token }), 422).message).toContain('query.status');
    expectError(await api('/api/v1/goals'), 401, 'UNAUTHORIZED');
    expectError(await api('/api/v1/goals', { json: { title: 't' } }), 401);
  });

  it('lists own goals with search, status and priority filters', async () => {
    const u = await createUser();
    const other = await createUser();
    await createGoal(u, { title: 'alpha report', priority: 'high' });
    const b = await createGoal(u, { title: 'beta' });
    await createGoal(other, { title: 'alpha elsewhere' });
    await post(u, `/api/v1/goals/${b.id}/start`);
    const all = await api('/api/v1/goals', { token: u.token });
    expect(all.body).toMatchObject({ total: 2, page: 1, page_size: 20 });
    expect((await api('/api/v1/goals?search=alpha', { token: u.token })).body.items.map((g: any) => g.title)).toEqual(['alpha report']);
    expect((await api('/api/v1/goals?status=active', { token: u.token })).body.items.map((g: any) => g.id)).toEqual([b.id]);
    expect((await api('/api/v1/goals?priority=high&page_size=1', { token: u.token })).body).toMatchObject({ total: 1, page_size: 1 });
  });

  it('updates fields, cancels, and deletes with the tasks', async () => {
    const u = await createUser();
    const { goal, tasks } = await decomposedGoal(u, ['one', 'two']);
    const up = await api(`/api/v1/goals/${goal.id}`, { token: u.token, method: 'PUT', json: { title: 'renamed', priority: 'urgent', deadline: null } });
    expect(up.body).toMatchObject({ title: 'renamed', priority: 'urgent', deadline: null, task_count: 2 });
    const cancelled = await api(`/api/v1/goals/${goal.id}`, { token: u.token, method: 'PUT', json: { status: 'cancelled' } });
    expect(cancelled.body.status).toBe('cancelled');
    expect(expectError(await api(`/api/v1/goals/${goal.id}`, { token: u.token, method: 'PUT', json: { status: 'cancelled' } }), 409).message).toContain('cancelled');
    expectError(await api(`/api/v1/goals/${goal.id}`, { token: u.token, method: 'PUT', json: { status: 'completed' } }), 422);
    expect((await api(`/api/v1/goals/${goal.id}`, { token: u.token, method: 'DELETE' })).status).toBe(204);
    expectError(await goalOf(u, goal.id), 404);
    expect(await count('SELECT count(*) AS n FROM tasks WHERE goal_id = ?', goal.id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM task_dependencies WHERE task_id = ?', tasks[1].id)).toBe(0);
  });

  it("another user's goal is 404 on every endpoint", async () => {
    const u = await createUser();
    const other = await createUser();
    const { goal } = await decomposedGoal(u, ['x']);
    const paths: Array<[string, string, unknown?]> = [
      ['GET', ''],
      ['PUT', '', { title: 'mine' }],
      ['DELETE', ''],
      ['POST', '/start'],
      ['POST', '/pause'],
      ['POST', '/resume'],
      ['POST', '/decompose'],
      ['POST', '/replan', {}],
      ['POST', '/execute-async'],
      ['POST', '/interact', { message: 'hi' }],
      ['GET', '/tasks'],
    ];
    for (const [method, suffix, json] of paths) {
      expectError(await api(`/api/v1/goals/${goal.id}${suffix}`, { token: other.token, method, json }), 404, 'NOT_FOUND');
    }
    expect((await goalOf(u, goal.id)).body).toMatchObject({ title: 'a goal', status: 'draft' });
    expect((await api('/api/v1/goals', { token: other.token })).body.total).toBe(0);
  });
});

describe('decompose and replan', () => {
  it('mock: each non-empty line becomes a task depending on the previous one, agents round-robin', async () => {
    const u = await createUser();
    const a1 = await createAgent(u, { name: 'one' });
    const a2 = await createAgent(u, { name: 'two' });
    const { goal, tasks } = await decomposedGoal(u, ['  research  ', '', 'write', 'review'], { agent_ids: [a1.id, a2.id] });
    expect(goal.task_count).toBe(3);
    expect(tasks.map((t) => [t.title, t.status, t.position, t.assigned_agent_id])).toEqual([
      ['research', 'pending', 1, a1.id],
      ['write', 'pending', 2, a2.id],
      ['review', 'pending', 3, a1.id],
    ]);
    expect(tasks.map((t) => t.depends_on)).toEqual([[], [tasks[0].id], [tasks[1].id]]);
  });

  it('decomposing again replaces tasks that have not started; 409 once one has; 422 without lines', async () => {
    const u = await createUser();
    const { goal, tasks } = await decomposedGoal(u, ['a', 'b']);
    await api(`/api/v1/goals/${goal.id}`, { token: u.token, method: 'PUT', json: { description: 'c\nd\ne' } });
    const again = await post(u, `/api/v1/goals/${goal.id}/decompose`);
    expect(again.body.replaced).toBe(2);
    expect(again.body.tasks.map((t: any) => t.title)).toEqual(['c', 'd', 'e']);
    expect(await count('SELECT count(*) AS n FROM tasks WHERE id IN (?, ?)', tasks[0].id, tasks[1].id)).toBe(0);
    expect((await post(u, `/api/v1/tasks/${again.body.tasks[0].id}/claim`)).status).toBe(200);
    expect(expectError(await post(u, `/api/v1/goals/${goal.id}/decompose`), 409, 'CONFLICT').message).toMatch(/started.*replan/);
    const empty = await createGoal(u, { description: '\n  \n' });
    expect(expectError(await post(u, `/api/v1/goals/${empty.id}/decompose`), 422).message).toContain('description');
  });

  async function scriptedAgent(u: User) {
    const cfg = await api('/api/v1/model-configs', {
      token: u.token,
      json: { name: 'planner', provider: 'openai', model_name: 'planner-1', base_url: `${env.FAKE_BASE_URL}/scripted/v1`, api_key: 'sk-scripted-000' },
    });
    expect(cfg.status, cfg.text).toBe(201);
    return createAgent(u, { name: 'planner', model_config: { model_config_id: cfg.body.id } });
  }

  it('real model: the JSON plan is validated and stored with parents, dependencies and approval', async () => {
    const u = await createUser();
    const agent = await scriptedAgent(u);
    const plan = {
      tasks: [
        { key: 'root', title: 'Report', description: 'the whole report' },
        { key: 'collect', title: 'Collect', parent: 'root', agent_id: agent.id },
        { key: 'write', title: 'Write', parent: 'root', depends_on: ['collect'], requires_approval: true, agent_id: 'not-an-agent' },
      ],
    };
    const goal = await createGoal(u, { agent_ids: [agent.id], description: `Plan this. <<<\`\`\`json\n${JSON.stringify(plan)}\n\`\`\`>>>` });
    const res = await post(u, `/api/v1/goals/${goal.id}/decompose`);
    expect(res.status, res.text).toBe(200);
    const [root, collect, write] = res.body.tasks;
    expect([root.title, collect.title, write.title]).toEqual(['Report', 'Collect', 'Write']);
    expect(collect).toMatchObject({ parent_id: root.id, assigned_agent_id: agent.id, depends_on: [] });
    expect(write).toMatchObject({ parent_id: root.id, assigned_agent_id: null, depends_on: [collect.id], requires_approval: true });
    const tree = await api(`/api/v1/goals/${goal.id}/tasks`, { token: u.token });
    expect(tree.body.tasks).toHaveLength(1);
    expect(tree.body.tasks[0].children.map((c: any) => c.title)).toEqual(['Collect', 'Write']);
    expect(tree.body).toMatchObject({ goal_id: goal.id, status: 'draft', progress: 0, counts: { pending: 3 } });
  });

  it('real model: a cyclic or malformed plan is a 502 and stores nothing', async () => {
    const u = await createUser();
    const agent = await scriptedAgent(u);
    const cyclic = { tasks: [{ key: 'a', title: 'A', depends_on: ['b'] }, { key: 'b', title: 'B', depends_on: ['a'] }] };
    const goal = await createGoal(u, { agent_ids: [agent.id], description: `<<<${JSON.stringify(cyclic)}>>>` });
    const existing = await createTask(u, goal.id, { title: 'kept' });
    expect(expectError(await post(u, `/api/v1/goals/${goal.id}/decompose`), 502, 'LLM_ERROR').message).toContain('cycle');
    await api(`/api/v1/goals/${goal.id}`, { token: u.token, method: 'PUT', json: { description: '<<<not json at all>>>' } });
    expect(expectError(await post(u, `/api/v1/goals/${goal.id}/decompose`), 502).message).toContain('JSON');
    const tree = await api(`/api/v1/goals/${goal.id}/tasks`, { token: u.token });
    expect(tree.body.tasks.map((t: any) => t.id)).toEqual([existing.id]);
  });

  it('replan keeps completed tasks and their results, replaces the rest, and reactivates a failed goal', async () => {
    const u = await createUser();
    const { goal, tasks } = await decomposedGoal(u, ['draft', 'polish', 'publish']);
    await post(u, `/api/v1/goals/${goal.id}/start`);
    await post(u, `/api/v1/tasks/${tasks[0].id}/claim`);
    await post(u, `/api/v1/tasks/${tasks[0].id}/complete`, { result: 'the draft' });
    await post(u, `/api/v1/tasks/${tasks[1].id}/claim`);
    await post(u, `/api/v1/tasks/${tasks[1].id}/fail`, { error: 'too rough' });
    expect((await goalOf(u, goal.id)).body).toMatchObject({ status: 'failed', error: 'Task "polish" failed: too rough', progress: 33.3 });
    await api(`/api/v1/goals/${goal.id}`, { token: u.token, method: 'PUT', json: { description: 'draft\nedit\npolish\npublish' } });
    const res = await post(u, `/api/v1/goals/${goal.id}/replan`, {});
    expect(res.status, res.text).toBe(200);
    expect(res.body.replaced).toBe(2);
    const [kept, ...fresh] = res.body.tasks;
    expect(kept).toMatchObject({ id: tasks[0].id, status: 'completed', result: 'the draft', position: 1 });
    expect(fresh.map((t: any) => [t.title, t.status, t.attempts])).toEqual([
      ['edit', 'pending', 0],
      ['polish', 'pending', 0],
      ['publish', 'pending', 0],
    ]);
    expect(fresh[0].depends_on).toEqual([tasks[0].id]);
    expect(res.body.goal).toMatchObject({ status: 'active', error: null, task_count: 4, completed_task_count: 1 });
    // A replan without a body works too; with a task running it is refused.
    await post(u, `/api/v1/tasks/${fresh[0].id}/claim`);
    expect(expectError(await post(u, `/api/v1/goals/${goal.id}/replan`), 409).message).toContain('claimed or running');
  });
});

describe('goal lifecycle', () => {
  it('start, pause, resume with 409 naming the status for illegal transitions', async () => {
    const u = await createUser();
    const goal = await createGoal(u);
    expect(expectError(await post(u, `/api/v1/goals/${goal.id}/pause`), 409).message).toContain('draft');
    expect(expectError(await post(u, `/api/v1/goals/${goal.id}/resume`), 409).message).toContain('draft');
    const started = await post(u, `/api/v1/goals/${goal.id}/start`);
    expect(started.body).toMatchObject({ status: 'active' });
    expect(started.body.started_at).toBeTruthy();
    expect(expectError(await post(u, `/api/v1/goals/${goal.id}/start`), 409).message).toContain('active');
    expect((await post(u, `/api/v1/goals/${goal.id}/pause`)).body.status).toBe('paused');
    expect(expectError(await post(u, `/api/v1/goals/${goal.id}/execute-async`), 409).message).toContain('no tasks');
    expect((await post(u, `/api/v1/goals/${goal.id}/resume`)).body.status).toBe('active');
  });

  it('execute-async runs the chain through the queue; the goal completes on its own and notifies', async () => {
    const u = await createUser();
    const agent = await createAgent(u, { system_prompt: 'You write.' });
    const { goal } = await decomposedGoal(u, ['outline', 'write', 'edit'], { agent_ids: [agent.id] });
    const res = await post(u, `/api/v1/goals/${goal.id}/execute-async`);
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ enqueued: 1, goal: { status: 'active', auto_execute: true } });
    const done = await eventually(() => goalOf(u, goal.id), (r) => r.body.status === 'completed');
    expect(done.body).toMatchObject({ status: 'completed', progress: 100, completed_task_count: 3, result: 'echo: edit' });
    expect(done.body.completed_at).toBeTruthy();
    const tree = await api(`/api/v1/goals/${goal.id}/tasks`, { token: u.token });
    expect(tree.body.tasks.map((t: any) => [t.status, t.result, t.attempts])).toEqual([
      ['completed', 'echo: outline', 1],
      ['completed', 'echo: write', 1],
      ['completed', 'echo: edit', 1],
    ]);
    // Each task ran exactly once, in dependency order.
    const runs = (await env.DB.prepare('SELECT r.task_id, r.status, r.trigger, r.agent_id FROM task_runs r JOIN tasks t ON t.id = r.task_id WHERE r.goal_id = ? ORDER BY t.position').bind(goal.id).all()).results;
    expect(runs.map((r: any) => [r.status, r.trigger, r.agent_id])).toEqual(Array(3).fill(['completed', 'queue', agent.id]));
    expect((await notificationsOf(u.id)).filter((n) => n.type === 'goal_completed')).toEqual([
      { type: 'goal_completed', title: 'Goal completed: a goal', body: 'echo: edit', resource_type: 'goal', resource_id: goal.id },
    ]);
  });

  it('independent tasks run concurrently and the result joins the final tasks', async () => {
    const u = await createUser();
    const goal = await createGoal(u);
    for (const title of ['x', 'y', 'z']) await createTask(u, goal.id, { title });
    expect((await post(u, `/api/v1/goals/${goal.id}/execute-async`)).body.enqueued).toBe(3);
    const done = await eventually(() => goalOf(u, goal.id), (r) => r.body.status === 'completed');
    expect(done.body.result).toBe('## x\necho: x\n\n## y\necho: y\n\n## z\necho: z');
  });

  it('a failing task is retried up to its limit, then fails, and the goal fails; both notify', async () => {
    const u = await createUser();
    const { goal, tasks } = await decomposedGoal(u, ['/error boom', 'after']);
    await api(`/api/v1/tasks/${tasks[0].id}`, { token: u.token, method: 'PUT', json: { max_retries: 1 } });
    await post(u, `/api/v1/goals/${goal.id}/execute-async`);
    const failed = await eventually(() => goalOf(u, goal.id), (r) => r.body.status === 'failed');
    expect(failed.body.status).toBe('failed');
    const task = (await api(`/api/v1/tasks/${tasks[0].id}`, { token: u.token })).body;
    expect(task).toMatchObject({ status: 'failed', attempts: 2 });
    expect(task.error).toContain('simulated upstream error');
    expect(await count("SELECT count(*) AS n FROM task_runs WHERE task_id = ? AND status = 'failed'", tasks[0].id)).toBe(2);
    expect(await count('SELECT count(*) AS n FROM task_runs WHERE task_id = ?', tasks[1].id)).toBe(0);
    const types = (await notificationsOf(u.id)).map((n) => [n.type, n.resource_id]);
    expect(types).toEqual([
      ['task_failed', tasks[0].id],
      ['goal_failed', goal.id],
    ]);
    // Retrying the task makes the goal active again and it finishes... failing again for good.
    const retried = await post(u, `/api/v1/tasks/${tasks[0].id}/retry`);
    expect(retried.body).toMatchObject({ status: 'pending', attempts: 0, error: null });
    expect((await goalOf(u, goal.id)).body.status).toBe('active');
  });

  it('a message delivered twice runs the task once', async () => {
    const u = await createUser();
    const { goal, tasks } = await decomposedGoal(u, ['only once']);
    // Active but not auto-executing: nothing is enqueued behind the test's back.
    await post(u, `/api/v1/goals/${goal.id}/start`);
    const body = { task_id: tasks[0].id, goal_id: goal.id };
    const batch = createMessageBatch('tiangong-tasks', [
      { id: 'm1', timestamp: new Date(), attempts: 1, body },
      { id: 'm2', timestamp: new Date(), attempts: 1, body },
    ]);
    const result = await deliver(batch);
    expect(result.explicitAcks.sort()).toEqual(['m1', 'm2']);
    expect(result.retryMessages).toEqual([]);
    const again = createMessageBatch('tiangong-tasks', [{ id: 'm3', timestamp: new Date(), attempts: 2, body }]);
    expect((await deliver(again)).explicitAcks).toEqual(['m3']);
    expect(await count('SELECT count(*) AS n FROM task_runs WHERE task_id = ?', tasks[0].id)).toBe(1);
    expect((await goalOf(u, goal.id)).body).toMatchObject({ status: 'completed', result: 'echo: only once' });
  });

  it('a paused goal starts no work; resuming continues where it was', async () => {
    const u = await createUser();
    const { goal, tasks } = await decomposedGoal(u, ['first', 'second']);
    await post(u, `/api/v1/goals/${goal.id}/start`);
    await post(u, `/api/v1/goals/${goal.id}/pause`);
    const batch = createMessageBatch('tiangong-tasks', [{ id: 'p1', timestamp: new Date(), attempts: 1, body: { task_id: tasks[0].id, goal_id: goal.id } }]);
    expect((await deliver(batch)).explicitAcks).toEqual(['p1']);
    expect(await count('SELECT count(*) AS n FROM task_runs WHERE goal_id = ?', goal.id)).toBe(0);
    expect((await api(`/api/v1/tasks/${tasks[0].id}`, { token: u.token })).body.status).toBe('pending');
    expectError(await post(u, `/api/v1/goals/${goal.id}/execute-async`), 409);
    await post(u, `/api/v1/goals/${goal.id}/resume`);
    expect((await post(u, `/api/v1/goals/${goal.id}/execute-async`)).body.enqueued).toBe(1);
    const done = await eventually(() => goalOf(u, goal.id), (r) => r.body.status === 'completed');
    expect(done.body.result).toBe('echo: second');
  });

  it('malformed messages are dropped; the dead-letter consumer fails the task and notifies', async () => {
    const u = await createUser();
    const { goal, tasks } = await decomposedGoal(u, ['lost']);
    const bad = createMessageBatch('tiangong-tasks', [{ id: 'b1', timestamp: new Date(), attempts: 1, body: { nope: true } }]);
    expect((await deliver(bad)).explicitAcks).toEqual(['b1']);
    const dead = createMessageBatch('tiangong-tasks-dlq', [{ id: 'd1', timestamp: new Date(), attempts: 1, body: { task_id: tasks[0].id, goal_id: goal.id } }]);
    expect((await deliver(dead)).explicitAcks).toEqual(['d1']);
    expect((await api(`/api/v1/tasks/${tasks[0].id}`, { token: u.token })).body).toMatchObject({ status: 'failed' });
    expect((await notificationsOf(u.id)).map((n) => n.type)).toEqual(['task_failed', 'goal_failed']);
    const unknown = createMessageBatch('some-other-queue', [{ id: 'o1', timestamp: new Date(), attempts: 1, body: {} }]);
    expect((await deliver(unknown)).retryBatch.retry).toBe(true);
  });
});

describe('interact', () => {
  it('answers about the goal and keeps the conversation', async () => {
    const u = await createUser();
    const { goal } = await decomposedGoal(u, ['step']);
    const first = await post(u, `/api/v1/goals/${goal.id}/interact`, { message: 'how is it going?' });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ goal_id: goal.id, reply: 'echo: how is it going?' });
    expect(first.body.token_usage.total_tokens).toBeGreaterThan(0);
    const second = await post(u, `/api/v1/goals/${goal.id}/interact`, { message: '/history' });
    expect(second.body.reply).toBe('history: how is it going?');
    expectError(await post(u, `/api/v1/goals/${goal.id}/interact`, { message: '' }), 422);
    expectError(await post(u, `/api/v1/goals/${goal.id}/interact`, { message: '/error' }), 502, 'LLM_ERROR');
  });
});
