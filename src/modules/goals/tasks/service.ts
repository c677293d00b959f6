import { findCycle, truncate } from '../../../engine/goals/plan';
import { CLAIMABLE_SQL, claimTask } from '../../../engine/goals/scheduler';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { authorizeResource, decide, readableFilter, type Action } from '../../identity/permissions/authorize';
import { assignments, likeContains, NOW_SQL, placeholders } from '../../../lib/d1';
import { conflict, forbidden, notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { advanceGoal, runTask } from '../goals/execution';
import { notificationStatement } from '../notifications/service';
import { goalTasks, loadTaskRow, withDependencies, type TaskRow } from './rows';
import type { CreateTask, Task, TaskStatus, UpdateTask } from './schemas';

interface GoalRef {
  id: string;
  owner_id: string;
  title: string;
  status: string;
  agent_ids: string;
}

/**
 * A task the user may `action`: tasks are part of their goal, so this is authorize() on the goal
 * (a task's owner is its goal's owner). 404 when they may not read the goal, 403 when only that.
 */
export async function getTaskRow(env: Env, user: AuthUser, id: string, action: Action = 'read'): Promise<TaskRow> {
  const row = await loadTaskRow(env, id);
  const decision = await decide(env, user, 'goal', row ? { id: row.goal_id, owner_id: row.owner_id } : null, action);
  if (!decision.allowed) {
    if (decision.reason === 'not_found') throw notFound('Task');
    throw forbidden(`Your access to this task's goal is ${decision.level}; this needs ${action}`);
  }
  return row!;
}


async function present(env: Env, row: TaskRow): Promise<Task> {
  return (await withDependencies(env, [row]))[0];
}

async function reload(env: Env, id: string): Promise<Task> {
  return present(env, (await loadTaskRow(env, id))!);
}

export async function getTask(env: Env, user: AuthUser, id: string): Promise<Task> {
  return present(env, await getTaskRow(env, user, id));
}

export async function listTasks(env: Env, user: AuthUser, query: Pagination & { goal_id?: string; status?: TaskStatus; assigned_agent_id?: string; search?: string }) {
  const where: string[] = [];
  const binds: unknown[] = [];
  const readable = await readableFilter(env, user, 'goal', { owner: 'owner_id', id: 'goal_id' });
  if (readable) {
    where.push(readable.sql);
    binds.push(...readable.binds);
  }
  for (const key of ['goal_id', 'status', 'assigned_agent_id'] as const) {
    if (query[key]) {
      where.push(`${key} = ?`);
      binds.push(query[key]);
    }
  }
  if (query.search) {
    where.push("(title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')");
    binds.push(likeContains(query.search), likeContains(query.search));
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const { limit, offset } = pageBounds(query);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT * FROM tasks ${clause} ORDER BY created_at DESC, position DESC, id LIMIT ? OFFSET ?`).bind(...binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM tasks ${clause}`).bind(...binds),
  ]);
  return paginated(await withDependencies(env, rows.results as unknown as TaskRow[]), (count.results[0] as { n: number }).n, query);
}

/** The goal a new task goes into: the user needs write access to it (422 when they may not read it). */
async function goalOf(env: Env, user: AuthUser, goalId: string, field: string): Promise<GoalRef> {
  const goal = await env.DB.prepare('SELECT id, owner_id, title, status, agent_ids FROM goals WHERE id = ?').bind(goalId).first<GoalRef>();
  const decision = await decide(env, user, 'goal', goal, 'write');
  if (decision.reason === 'not_found') throw validationError(`${field}: goal ${goalId} not found`);
  if (!decision.allowed) throw forbidden(`Your access to goal ${goalId} is ${decision.level}; adding tasks needs write`);
  return goal!;
}

/** The agent must be one of the goal owner's agents, and one of the goal's agents when it names any. */
export async function checkAgent(env: Env, goal: GoalRef, agentId: string, field: string) {
  const allowed: string[] = JSON.parse(goal.agent_ids);
  if (allowed.length && !allowed.includes(agentId)) throw validationError(`${field}: agent ${agentId} is not one of the goal's agents`);
  const agent = await env.DB.prepare('SELECT id FROM agents WHERE id = ? AND owner_id = ?').bind(agentId, goal.owner_id).first();
  if (!agent) throw validationError(`${field}: agent ${agentId} not found`);
}

/**
 * Checks parent and dependencies of a task against the rest of its goal: same goal, no cycles.
 * `taskId` is the task being created or changed.
 */
async function checkLinks(env: Env, goalId: string, taskId: string, parentId: string | null | undefined, dependsOn: string[] | undefined) {
  const tasks = await goalTasks(env, goalId);
  const ids = new Set(tasks.map((t) => t.id));
  if (parentId !== undefined && parentId !== null) {
    if (parentId === taskId) throw validationError('body.parent_id: a task cannot be its own parent');
    if (!ids.has(parentId)) throw validationError(`body.parent_id: task ${parentId} is not a task of this goal`);
    const parents = tasks.filter((t) => t.id !== taskId && t.parent_id).map((t) => [t.id, t.parent_id!] as [string, string]);
    if (findCycle([...ids, taskId], [...parents, [taskId, parentId]])) throw validationError('body.parent_id: the parent tree would have a cycle');
  }
  if (dependsOn) {
    const unknown = dependsOn.filter((d) => !ids.has(d) || d === taskId);
    if (unknown.length) throw validationError(`body.depends_on: not other tasks of this goal: ${unknown.join(', ')}`);
    const edges = tasks.filter((t) => t.id !== taskId).flatMap((t) => t.depends_on.map((d) => [t.id, d] as [string, string]));
    const cycle = findCycle([...ids, taskId], [...edges, ...dependsOn.map((d) => [taskId, d] as [string, string])]);
    if (cycle) throw validationError(`body.depends_on: the dependencies would have a cycle (${cycle.length - 1} tasks)`);
  }
}

const dependencyInserts = (env: Env, taskId: string, dependsOn: string[]) =>
  dependsOn.map((d) => env.DB.prepare('INSERT INTO task_dependencies (task_id, depends_on_id) VALUES (?, ?)').bind(taskId, d));

export async function createTask(env: Env, user: AuthUser, input: CreateTask): Promise<Task> {
  const goal = await goalOf(env, user, input.goal_id, 'body.goal_id');
  if (!['draft', 'active', 'paused'].includes(goal.status)) throw conflict(`Cannot add tasks to a goal that is ${goal.status}`);
  if (input.assigned_agent_id) await checkAgent(env, goal, input.assigned_agent_id, 'body.assigned_agent_id');
  const id = crypto.randomUUID();
  await checkLinks(env, goal.id, id, input.parent_id, input.depends_on);
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO tasks (id, goal_id, owner_id, parent_id, position, title, description, assigned_agent_id, requires_approval, max_retries)
       VALUES (?, ?, ?, ?, (SELECT coalesce(max(position), 0) + 1 FROM tasks WHERE goal_id = ?), ?, ?, ?, ?, ?)`,
    ).bind(id, goal.id, goal.owner_id, input.parent_id ?? null, goal.id, input.title, input.description, input.assigned_agent_id ?? null, input.requires_approval ? 1 : 0, input.max_retries),
    ...dependencyInserts(env, id, input.depends_on),
  ]);
  await advanceGoal(env, goal.id, { only: id });
  return reload(env, id);
}

export async function updateTask(env: Env, user: AuthUser, id: string, input: UpdateTask): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  if (['claimed', 'running', 'completed'].includes(task.status)) throw conflict(`Cannot change a task that is ${task.status}`);
  const goal = (await env.DB.prepare('SELECT id, owner_id, title, status, agent_ids FROM goals WHERE id = ?').bind(task.goal_id).first<GoalRef>())!;
  if (input.assigned_agent_id) await checkAgent(env, goal, input.assigned_agent_id, 'body.assigned_agent_id');
  await checkLinks(env, goal.id, id, input.parent_id, input.depends_on);
  const a = assignments();
  if (input.title !== undefined) a.set('title', input.title);
  if (input.description !== undefined) a.set('description', input.description);
  if (input.parent_id !== undefined) a.set('parent_id', input.parent_id);
  if (input.assigned_agent_id !== undefined) a.set('assigned_agent_id', input.assigned_agent_id);
  if (input.max_retries !== undefined) a.set('max_retries', input.max_retries);
  if (input.requires_approval !== undefined) {
    a.set('requires_approval', input.requires_approval ? 1 : 0);
    // Without approval a task waiting for one is simply pending again.
    if (!input.requires_approval && task.status === 'awaiting_approval') a.set('status', 'pending');
  }
  await env.DB.batch([
    env.DB.prepare(`UPDATE tasks SET ${a.sql(`updated_at = ${NOW_SQL}`)} WHERE id = ?`).bind(...a.binds, id),
    ...(input.depends_on ? [env.DB.prepare('DELETE FROM task_dependencies WHERE task_id = ?').bind(id), ...dependencyInserts(env, id, input.depends_on)] : []),
  ]);
  await advanceGoal(env, goal.id, { only: id });
  return reload(env, id);
}

/** Deletes a task; its children move up to its parent and tasks waiting for it no longer do. */
export async function deleteTask(env: Env, user: AuthUser, id: string): Promise<void> {
  const task = await getTaskRow(env, user, id, 'write');
  if (task.status === 'claimed' || task.status === 'running') throw conflict(`Cannot delete a task that is ${task.status}; release it or wait`);
  await env.DB.batch([
    env.DB.prepare('DELETE FROM task_dependencies WHERE task_id = ? OR depends_on_id = ?').bind(id, id),
    env.DB.prepare('UPDATE tasks SET parent_id = ? WHERE parent_id = ?').bind(task.parent_id, id),
    env.DB.prepare('DELETE FROM task_runs WHERE task_id = ?').bind(id),
    env.DB.prepare('DELETE FROM tasks WHERE id = ?').bind(id),
  ]);
  await advanceGoal(env, task.goal_id);
}

async function unfinishedDependencies(env: Env, taskId: string): Promise<TaskRow[]> {
  const { results } = await env.DB.prepare(
    `SELECT t.* FROM task_dependencies d JOIN tasks t ON t.id = d.depends_on_id WHERE d.task_id = ? AND t.status != 'completed' ORDER BY t.position`,
  )
    .bind(taskId)
    .all<TaskRow>();
  return results;
}

export async function blockers(env: Env, user: AuthUser, id: string) {
  const task = await getTaskRow(env, user, id);
  const rows = await unfinishedDependencies(env, task.id);
  return { task_id: task.id, blocked: rows.length > 0, blockers: await withDependencies(env, rows) };
}

/** Why a task cannot be claimed or executed now: a 409 naming its status or what it waits for. */
async function whyNot(env: Env, task: TaskRow, action: string) {
  const goal = await env.DB.prepare('SELECT status FROM goals WHERE id = ?').bind(task.goal_id).first<{ status: string }>();
  if (task.status === 'claimed' && task.lease_expires_at && task.lease_expires_at > new Date().toISOString()) {
    return conflict(`Cannot ${action} the task: it is claimed (status: claimed) until ${task.lease_expires_at}`);
  }
  if (!['pending', 'claimed'].includes(task.status)) return conflict(`Cannot ${action} the task: its status is ${task.status}`);
  if (task.requires_approval && task.approval_status !== 'approved') return conflict(`Cannot ${action} the task: it awaits approval (status: ${task.status})`);
  const deps = await unfinishedDependencies(env, task.id);
  if (deps.length) return conflict(`Cannot ${action} the task: it is blocked by ${deps.length} unfinished task(s) (status: ${task.status})`);
  if (goal && !['draft', 'active'].includes(goal.status)) return conflict(`Cannot ${action} the task: its goal is ${goal.status} (status: ${task.status})`);
  return conflict(`Cannot ${action} the task now (status: ${task.status})`);
}

/** Takes a lease on a ready task: among concurrent claims exactly one succeeds, the others get 409. */
export async function claim(env: Env, user: AuthUser, id: string, body: { agent_id?: string; lease_seconds: number }): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  if (body.agent_id) {
    const agent = await env.DB.prepare('SELECT id FROM agents WHERE id = ? AND owner_id = ?').bind(body.agent_id, task.owner_id).first();
    if (!agent) throw validationError(`body.agent_id: agent ${body.agent_id} not found`);
  }
  const won = await claimTask(env.DB, id, {
    holder: user.id,
    agentId: body.agent_id ?? null,
    leaseSeconds: body.lease_seconds,
    status: 'claimed',
    countAttempt: false,
    goalStatuses: ['draft', 'active'],
  });
  if (!won) throw await whyNot(env, (await loadTaskRow(env, id)) ?? task, 'claim');
  return reload(env, id);
}

/** A single conditional transition; 409 with the current status when the task is not in `from`. */
async function transition(env: Env, task: TaskRow, action: string, from: TaskStatus[], sql: string, binds: unknown[], extra: D1PreparedStatement[] = []) {
  const [res] = await env.DB.batch([
    env.DB.prepare(`UPDATE tasks SET ${sql}, updated_at = ${NOW_SQL} WHERE id = ? AND status IN (${placeholders(from.length)})`).bind(...binds, task.id, ...from),
    ...extra,
  ]);
  if (res.meta.changes === 0) {
    const now = (await loadTaskRow(env, task.id)) ?? task;
    throw conflict(`Cannot ${action} a task whose status is ${now.status} (allowed from: ${from.join(', ')})`);
  }
}

/** `changes() = 1`: the notification is written only when the preceding UPDATE changed the task. */
const notifyIfChanged = (env: Env, userId: string, type: string, title: string, body: string, taskId: string) =>
  env.DB.prepare(
    `INSERT INTO notifications (id, user_id, type, title, body, resource_type, resource_id) SELECT ?, ?, ?, ?, ?, 'task', ? WHERE changes() = 1`,
  ).bind(crypto.randomUUID(), userId, type, title, body, taskId);

export async function release(env: Env, user: AuthUser, id: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  await transition(env, task, 'release', ['claimed'], 'status = ?, claimed_by = NULL, claimed_by_agent_id = NULL, lease_expires_at = NULL', ['pending']);
  await advanceGoal(env, task.goal_id, { only: id });
  return reload(env, id);
}

export async function complete(env: Env, user: AuthUser, id: string, result: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  await transition(
    env,
    task,
    'complete',
    ['claimed', 'running'],
    `status = 'completed', result = ?, error = NULL, claimed_by = NULL, lease_expires_at = NULL, completed_at = ${NOW_SQL}`,
    [result],
  );
  await advanceGoal(env, task.goal_id, { dependentsOf: id });
  return reload(env, id);
}

export async function fail(env: Env, user: AuthUser, id: string, error: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  await transition(env, task, 'fail', ['claimed', 'running'], "status = 'failed', error = ?, claimed_by = NULL, lease_expires_at = NULL", [error], [
    notifyIfChanged(env, task.owner_id, 'task_failed', `Task failed: ${truncate(task.title, 200)}`, truncate(error, 2000), task.id),
  ]);
  await advanceGoal(env, task.goal_id);
  return reload(env, id);
}

function assertNeedsApproval(task: TaskRow, action: string) {
  if (!task.requires_approval) throw conflict(`Cannot ${action} a task that does not require approval (status: ${task.status})`);
  if (task.approval_status) throw conflict(`Cannot ${action} the task: it was already ${task.approval_status} (status: ${task.status})`);
}

export async function approve(env: Env, user: AuthUser, id: string, comment?: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  assertNeedsApproval(task, 'approve');
  await transition(env, task, 'approve', ['pending', 'awaiting_approval'], "status = 'pending', approval_status = 'approved', approval_comment = ?", [comment ?? null]);
  await advanceGoal(env, task.goal_id, { only: id });
  return reload(env, id);
}

export async function reject(env: Env, user: AuthUser, id: string, comment: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  assertNeedsApproval(task, 'reject');
  await transition(env, task, 'reject', ['pending', 'awaiting_approval'], "status = 'rejected', approval_status = 'rejected', approval_comment = ?", [comment], [
    notifyIfChanged(env, task.owner_id, 'task_rejected', `Task rejected: ${truncate(task.title, 200)}`, comment, task.id),
  ]);
  return reload(env, id);
}

/** failed → pending with a fresh retry budget; a goal that failed because of it becomes active again. */
export async function retry(env: Env, user: AuthUser, id: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  await transition(env, task, 'retry', ['failed'], "status = 'pending', error = NULL, attempts = 0, claimed_by = NULL, claimed_by_agent_id = NULL, lease_expires_at = NULL", [], [
    env.DB.prepare(
      `UPDATE goals SET status = 'active', error = NULL, updated_at = ${NOW_SQL}
       WHERE id = ? AND status = 'failed' AND NOT EXISTS (SELECT 1 FROM tasks WHERE goal_id = ? AND status = 'failed')`,
    ).bind(task.goal_id, task.goal_id),
  ]);
  await advanceGoal(env, task.goal_id, { only: id });
  return reload(env, id);
}

/** Runs the task now with its agent and answers when it is done (completed, failed, or pending with retries left). */
export async function execute(env: Env, user: AuthUser, id: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'execute');
  const outcome = await runTask(env, id, 'execute', { fromClaimed: true });
  if (!outcome.ran) throw await whyNot(env, (await loadTaskRow(env, id)) ?? task, 'execute');
  // Pending again with retries left: an asynchronously executing goal picks it up from the queue.
  if (outcome.status === 'retrying') await advanceGoal(env, task.goal_id, { only: id });
  return present(env, outcome.task);
}

/** Tasks of a goal that can be claimed now: pending, dependencies completed, approved if needed, no live lease. */
export async function available(env: Env, user: AuthUser, goalId: string, query: Pagination) {
  const goal = await env.DB.prepare('SELECT id, owner_id FROM goals WHERE id = ?').bind(goalId).first<{ id: string; owner_id: string }>();
  await authorizeResource(env, user, 'goal', goal, 'read');
  const { limit, offset } = pageBounds(query);
  const where = `FROM tasks t WHERE t.goal_id = ? AND ${CLAIMABLE_SQL}`;
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT t.* ${where} ORDER BY t.position, t.created_at LIMIT ? OFFSET ?`).bind(goalId, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n ${where}`).bind(goalId),
  ]);
  return paginated(await withDependencies(env, rows.results as unknown as TaskRow[]), (count.results[0] as { n: number }).n, query);
}

