import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../../src/index';
import { api, createUser, expectError } from '../../support/helpers';
import { count, createAgent, createGoal, createTask, decomposedGoal, notificationsOf, post } from '../../support/goal-helpers';

describe('tasks CRUD', () => {
  it('creates a pending task with defaults; owner and status in the body never take effect', async () => {
    const u = await createUser();
    const other = await createUser();
    const agent = await createAgent(u);
    const goal = await createGoal(u, { agent_ids: [agent.id] });
    const parent = await createTask(u, goal.id, { title: 'parent' });
    const res = await api('/api/v1/tasks', {
      token: u.token,
      json: { goal_id: goal.id, title: '子任务', parent_id: parent.id, depends_on: [parent.id], assigned_agent_id: agent.id, owner_id: other.id, status: 'completed' },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      goal_id: goal.id,
      owner_id: u.id,
      title: '子任务',
      description: '',
      status: 'pending',
      parent_id: parent.id,
      depends_on: [parent.id],
      assigned_agent_id: agent.id,
      requires_approval: false,
      max_retries: 2,
      attempts: 0,
      position: 2,
    });
  });

  it('422 for bad input, unknown or foreign references and dependency cycles', async () => {
    const u = await createUser();
    const other = await createUser();
    const goal = await createGoal(u);
    const foreignGoal = await createGoal(other);
    const foreignAgent = await createAgent(other);
    const a = await createTask(u, goal.id, { title: 'a' });
    const b = await createTask(u, goal.id, { title: 'b', depends_on: [a.id] });
    const bad = async (json: Record<string, unknown>, field: string) => expect(expectError(await api('/api/v1/tasks', { token: u.token, json }), 422).message).toContain(field);
    await bad({ goal_id: goal.id, title: '' }, 'body.title');
    await bad({ title: 'x' }, 'body.goal_id');
    await bad({ goal_id: foreignGoal.id, title: 'x' }, 'body.goal_id');
    await bad({ goal_id: goal.id, title: 'x', assigned_agent_id: foreignAgent.id }, 'body.assigned_agent_id');
    await bad({ goal_id: goal.id, title: 'x', depends_on: [crypto.randomUUID()] }, 'body.depends_on');
    await bad({ goal_id: goal.id, title: 'x', max_retries: 11 }, 'body.max_retries');
    const cycle = await api(`/api/v1/tasks/${a.id}`, { token: u.token, method: 'PUT', json: { depends_on: [b.id] } });
    expect(expectError(cycle, 422).message).toContain('cycle');
    expect(expectError(await api(`/api/v1/tasks/${a.id}`, { token: u.token, method: 'PUT', json: { parent_id: a.id } }), 422).message).toContain('parent');
    await api(`/api/v1/tasks/${b.id}`, { token: u.token, method: 'PUT', json: { parent_id: a.id } });
    expect(expectError(await api(`/api/v1/tasks/${a.id}`, { token: u.token, method: 'PUT', json: { parent_id: b.id } }), 422).message).toContain('cycle');
    expectError(await api('/api/v1/tasks?status=lost', { token: u.token }), 422);
    expectError(await api('/api/v1/tasks'), 401);
  });

  it('lists with goal, status and search filters; updates; deletes and unblocks dependents', async () => {
    const u = await createUser();
    const other = await createUser();
    const { goal, tasks } = await decomposedGoal(u, ['alpha', 'beta', 'gamma']);
    await decomposedGoal(other, ['alpha']);
    expect((await api('/api/v1/tasks', { token: u.token })).body.total).toBe(3);
    expect((await api(`/api/v1/tasks?goal_id=${goal.id}&search=alp`, { token: u.token })).body.items.map((t: any) => t.id)).toEqual([tasks[0].id]);
    expect((await api('/api/v1/tasks?status=completed', { token: u.token })).body.total).toBe(0);
    const up = await api(`/api/v1/tasks/${tasks[1].id}`, { token: u.token, method: 'PUT', json: { title: 'BETA', description: 'more', depends_on: [] } });
    expect(up.body).toMatchObject({ title: 'BETA', description: 'more', depends_on: [] });
    expect((await api(`/api/v1/tasks/${tasks[0].id}`, { token: u.token, method: 'DELETE' })).status).toBe(204);
    expectError(await api(`/api/v1/tasks/${tasks[0].id}`, { token: u.token }), 404);
    expect((await api(`/api/v1/tasks/${tasks[2].id}/blockers`, { token: u.token })).body).toMatchObject({ blocked: true, blockers: [{ id: tasks[1].id }] });
  });

  it("another user's task is 404 on every endpoint", async () => {
    const u = await createUser();
    const other = await createUser();
    const { goal, tasks } = await decomposedGoal(u, ['x']);
    const id = tasks[0].id;
    const calls: Array<[string, string, unknown?]> = [
      ['GET', `/${id}`],
      ['PUT', `/${id}`, { title: 'mine' }],
      ['DELETE', `/${id}`],
      ['POST', `/${id}/execute`],
      ['POST', `/${id}/retry`],
      ['POST', `/${id}/claim`, {}],
      ['POST', `/${id}/release`],
      ['POST', `/${id}/complete`, { result: 'r' }],
      ['POST', `/${id}/fail`, { error: 'e' }],
      ['POST', `/${id}/approve`, {}],
      ['POST', `/${id}/reject`, { comment: 'no' }],
      ['GET', `/${id}/blockers`],
      ['GET', `/available/${goal.id}`],
    ];
    for (const [method, suffix, json] of calls) expectError(await api(`/api/v1/tasks${suffix}`, { token: other.token, method, json }), 404, 'NOT_FOUND');
    expect((await api(`/api/v1/tasks/${id}`, { token: u.token })).body).toMatchObject({ title: 'x', status: 'pending' });
    expect((await api('/api/v1/tasks', { token: other.token })).body.total).toBe(0);
  });
});

describe('claims and transitions', () => {
  it('of 50 concurrent claims exactly one wins; the others get 409', async () => {
    const u = await createUser();
    const { tasks } = await decomposedGoal(u, ['contended']);
    const results = await Promise.all(Array.from({ length: 50 }, () => post(u, `/api/v1/tasks/${tasks[0].id}/claim`, { lease_seconds: 60 })));
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(49);
    for (const r of results.filter((r) => r.status === 409)) expect(r.body.message).toContain('claimed');
    expect(won[0].body).toMatchObject({ status: 'claimed', claimed_by: u.id, attempts: 0 });
    const lease = Date.parse(won[0].body.lease_expires_at) - Date.now();
    expect(lease).toBeGreaterThan(50_000);
    expect(lease).toBeLessThanOrEqual(60_000);
  });

  it('claim, release, complete, fail: legal transitions work, illegal ones are 409 with the current status', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    const { goal, tasks } = await decomposedGoal(u, ['one', 'two']);
    const [one, two] = tasks;
    expect(expectError(await post(u, `/api/v1/tasks/${one.id}/complete`, { result: 'r' }), 409).message).toContain('pending');
    expect(expectError(await post(u, `/api/v1/tasks/${one.id}/release`), 409).message).toContain('pending');
    expect(expectError(await post(u, `/api/v1/tasks/${two.id}/claim`), 409).message).toContain('blocked by 1');
    expect((await post(u, `/api/v1/tasks/${one.id}/claim`, { agent_id: agent.id })).body).toMatchObject({ status: 'claimed', claimed_by_agent_id: agent.id });
    expect((await post(u, `/api/v1/tasks/${one.id}/release`)).body).toMatchObject({ status: 'pending', claimed_by: null, lease_expires_at: null });
    await post(u, `/api/v1/tasks/${one.id}/claim`);
    expect(expectError(await api(`/api/v1/tasks/${one.id}`, { token: u.token, method: 'PUT', json: { title: 'x' } }), 409).message).toContain('claimed');
    expect(expectError(await api(`/api/v1/tasks/${one.id}`, { token: u.token, method: 'DELETE' }), 409).message).toContain('claimed');
    const done = await post(u, `/api/v1/tasks/${one.id}/complete`, { result: 'done one' });
    expect(done.body).toMatchObject({ status: 'completed', result: 'done one' });
    expect(expectError(await post(u, `/api/v1/tasks/${one.id}/complete`, { result: 'again' }), 409).message).toContain('completed');
    expect(expectError(await post(u, `/api/v1/tasks/${one.id}/fail`, { error: 'late' }), 409).message).toContain('completed');
    expect(expectError(await post(u, `/api/v1/tasks/${one.id}/retry`), 409).message).toContain('completed');
    expect((await api(`/api/v1/tasks/available/${goal.id}`, { token: u.token })).body.items.map((t: any) => t.id)).toEqual([two.id]);
    await post(u, `/api/v1/tasks/${two.id}/claim`);
    const failed = await post(u, `/api/v1/tasks/${two.id}/fail`, { error: 'no luck' });
    expect(failed.body).toMatchObject({ status: 'failed', error: 'no luck' });
    expect((await notificationsOf(u.id)).map((n) => [n.type, n.resource_id])).toEqual([
      ['task_failed', two.id],
      ['goal_failed', goal.id],
    ]);
    expectError(await post(u, `/api/v1/tasks/${two.id}/complete`, {}), 422);
  });

  it('approval: required before it can run, notified when due; approve or reject (with why)', async () => {
    const u = await createUser();
    const goal = await createGoal(u);
    const plain = await createTask(u, goal.id, { title: 'plain' });
    const gated = await createTask(u, goal.id, { title: 'gated', requires_approval: true });
    const other = await createTask(u, goal.id, { title: 'other gated', requires_approval: true });
    expect(expectError(await post(u, `/api/v1/tasks/${plain.id}/approve`, {}), 409).message).toContain('does not require approval (status: pending)');
    expect(expectError(await post(u, `/api/v1/tasks/${gated.id}/claim`), 409).message).toContain('awaits approval');
    expect((await api(`/api/v1/tasks/available/${goal.id}`, { token: u.token })).body.items.map((t: any) => t.title)).toEqual(['plain']);
    // Starting the goal asks for the approvals that are due.
    await post(u, `/api/v1/goals/${goal.id}/start`);
    expect((await api(`/api/v1/tasks/${gated.id}`, { token: u.token })).body.status).toBe('awaiting_approval');
    expect((await notificationsOf(u.id)).filter((n) => n.type === 'task_awaiting_approval').map((n) => n.resource_id).sort()).toEqual([gated.id, other.id].sort());
    const approved = await post(u, `/api/v1/tasks/${gated.id}/approve`, { comment: 'go' });
    expect(approved.body).toMatchObject({ status: 'pending', approval_status: 'approved', approval_comment: 'go' });
    expect(expectError(await post(u, `/api/v1/tasks/${gated.id}/approve`), 409).message).toContain('already approved');
    expect((await post(u, `/api/v1/tasks/${gated.id}/claim`)).status).toBe(200);
    expectError(await post(u, `/api/v1/tasks/${other.id}/reject`, {}), 422);
    const rejected = await post(u, `/api/v1/tasks/${other.id}/reject`, { comment: 'too risky' });
    expect(rejected.body).toMatchObject({ status: 'rejected', approval_status: 'rejected', approval_comment: 'too risky' });
    expect((await notificationsOf(u.id)).filter((n) => n.type === 'task_rejected')).toEqual([
      { type: 'task_rejected', title: 'Task rejected: other gated', body: 'too risky', resource_type: 'task', resource_id: other.id },
    ]);
    expect(expectError(await post(u, `/api/v1/tasks/${other.id}/reject`, { comment: 'again' }), 409).message).toContain('rejected');
  });

  it('execute runs the task now with its agent; blocked tasks are 409', async () => {
    const u = await createUser();
    const agent = await createAgent(u, { system_prompt: 'be brief' });
    const { tasks } = await decomposedGoal(u, ['first step', '/error', 'third'], { agent_ids: [agent.id] });
    expect(expectError(await post(u, `/api/v1/tasks/${tasks[1].id}/execute`), 409).message).toContain('blocked');
    const res = await post(u, `/api/v1/tasks/${tasks[0].id}/execute`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: 'completed', result: 'echo: first step', attempts: 1, lease_expires_at: null });
    expect(await count("SELECT count(*) AS n FROM task_runs WHERE task_id = ? AND trigger = 'execute' AND agent_id = ?", tasks[0].id, agent.id)).toBe(1);
    expect(expectError(await post(u, `/api/v1/tasks/${tasks[0].id}/execute`), 409).message).toContain('completed');
    // A failure with retries left leaves it pending with the error; the last one fails it.
    const first = await post(u, `/api/v1/tasks/${tasks[1].id}/execute`);
    expect(first.body).toMatchObject({ status: 'pending', attempts: 1 });
    expect(first.body.error).toContain('simulated upstream error');
    await post(u, `/api/v1/tasks/${tasks[1].id}/execute`);
    expect((await post(u, `/api/v1/tasks/${tasks[1].id}/execute`)).body).toMatchObject({ status: 'failed', attempts: 3 });
    const retried = await post(u, `/api/v1/tasks/${tasks[1].id}/retry`);
    expect(retried.body).toMatchObject({ status: 'pending', attempts: 0, error: null });
  });

  it('the cron releases expired leases; an expired claim can be taken over', async () => {
    const u = await createUser();
    const { goal, tasks } = await decomposedGoal(u, ['a', 'b']);
    await post(u, `/api/v1/tasks/${tasks[0].id}/claim`, { lease_seconds: 30 });
    await post(u, `/api/v1/goals/${goal.id}/start`);
    expect((await api(`/api/v1/tasks/available/${goal.id}`, { token: u.token })).body.total).toBe(0);
    await env.DB.prepare("UPDATE tasks SET lease_expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?").bind(tasks[0].id).run();
    // Expired but not yet swept: claimable by someone else already.
    expect((await api(`/api/v1/tasks/available/${goal.id}`, { token: u.token })).body.items.map((t: any) => t.id)).toEqual([tasks[0].id]);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '* * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await api(`/api/v1/tasks/${tasks[0].id}`, { token: u.token })).body).toMatchObject({ status: 'pending', claimed_by: null, lease_expires_at: null });
    await post(u, `/api/v1/tasks/${tasks[0].id}/claim`);
    await env.DB.prepare("UPDATE tasks SET lease_expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?").bind(tasks[0].id).run();
    expect((await post(u, `/api/v1/tasks/${tasks[0].id}/claim`)).body.status).toBe('claimed');
    expect(await count('SELECT count(*) AS n FROM tasks WHERE goal_id = ? AND status = ?', goal.id, 'claimed')).toBe(1);
  });

  it('completing the last task completes the goal', async () => {
    const u = await createUser();
    const { goal, tasks } = await decomposedGoal(u, ['only']);
    await post(u, `/api/v1/goals/${goal.id}/start`);
    await post(u, `/api/v1/tasks/${tasks[0].id}/claim`);
    await post(u, `/api/v1/tasks/${tasks[0].id}/complete`, { result: 'all done' });
    expect((await api(`/api/v1/goals/${goal.id}`, { token: u.token })).body).toMatchObject({ status: 'completed', result: 'all done', progress: 100 });
    expectError(await api('/api/v1/tasks', { token: u.token, json: { goal_id: goal.id, title: 'late' } }), 409);
  });
});
