import { findCycle, truncate } from '../../../engine/goals/plan';
import { now, runBatch, type Statement } from '../../../db/client';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { authorizeResource, decide, readableWhere, type Action } from '../../identity/permissions/authorize';
import { conflict, forbidden, notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { isOwnedAgent } from '../../agents/agents/store';
import { advanceGoal, runTask } from './execution';
import { findGoalRow, goalIdsInStatus, reactivateFailedGoal, type GoalRow } from '../goals/store';
import { insertNotificationIfChanged } from '../notifications/store';
import { goalTasks, loadTaskRow, withDependencies, type TaskRow } from './rows';
import * as store from './store';
import type { CreateTask, Task, TaskStatus, UpdateTask } from './schemas';

/**
 * A task the user may `action`: tasks are part of their goal, so this is authorize() on the goal
 * (a task's owner is its goal's owner). 404 when they may not read the goal, 403 when only that.
 */
export async function getTaskRow(env: Env, user: AuthUser, id: string, action: Action = 'read'): Promise<TaskRow> {
  const row = await loadTaskRow(env, id);
  const decision = await decide(env, user, 'goal', row ? { id: row.goalId, owner_id: row.ownerId } : null, action);
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
  const readable = await readableWhere(env, user, 'goal', store.taskAccess);
  const { limit, offset } = pageBounds(query);
  const { rows, total } = await store.listTasks(
    env.DB,
    { readable, goalId: query.goal_id, status: query.status, assignedAgentId: query.assigned_agent_id, search: query.search },
    limit,
    offset,
  );
  return paginated(await withDependencies(env, rows), total, query);
}

/** The goal a new task goes into: the user needs write access to it (422 when they may not read it). */
async function goalOf(env: Env, user: AuthUser, goalId: string, field: string): Promise<GoalRow> {
  const goal = await findGoalRow(env.DB, goalId);
  const decision = await decide(env, user, 'goal', goal && { id: goal.id, owner_id: goal.ownerId }, 'write');
  if (decision.reason === 'not_found') throw validationError(`${field}: goal ${goalId} not found`);
  if (!decision.allowed) throw forbidden(`Your access to goal ${goalId} is ${decision.level}; adding tasks needs write`);
  return goal!;
}

/** The agent must be one of the goal owner's agents, and one of the goal's agents when it names any. */
export async function checkAgent(env: Env, goal: GoalRow, agentId: string, field: string) {
  const allowed: string[] = JSON.parse(goal.agentIds);
  if (allowed.length && !allowed.includes(agentId)) throw validationError(`${field}: agent ${agentId} is not one of the goal's agents`);
  if (!(await isOwnedAgent(env.DB, goal.ownerId, agentId))) throw validationError(`${field}: agent ${agentId} not found`);
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

export async function createTask(env: Env, user: AuthUser, input: CreateTask): Promise<Task> {
  const goal = await goalOf(env, user, input.goal_id, 'body.goal_id');
  if (!['draft', 'active', 'paused'].includes(goal.status)) throw conflict(`Cannot add tasks to a goal that is ${goal.status}`);
  if (input.assigned_agent_id) await checkAgent(env, goal, input.assigned_agent_id, 'body.assigned_agent_id');
  const id = crypto.randomUUID();
  await checkLinks(env, goal.id, id, input.parent_id, input.depends_on);
  await runBatch(env.DB, [
    store.insertTask(env.DB, {
      id,
      goalId: goal.id,
      ownerId: goal.ownerId,
      parentId: input.parent_id ?? null,
      position: 'next',
      title: input.title,
      description: input.description,
      assignedAgentId: input.assigned_agent_id ?? null,
      requiresApproval: input.requires_approval ? 1 : 0,
      maxRetries: input.max_retries,
    }),
    ...store.insertDependencies(env.DB, id, input.depends_on),
  ]);
  await advanceGoal(env, goal.id, { only: id });
  return reload(env, id);
}

export async function updateTask(env: Env, user: AuthUser, id: string, input: UpdateTask): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  if (['claimed', 'running', 'completed'].includes(task.status)) throw conflict(`Cannot change a task that is ${task.status}`);
  const goal = (await findGoalRow(env.DB, task.goalId))!;
  if (input.assigned_agent_id) await checkAgent(env, goal, input.assigned_agent_id, 'body.assigned_agent_id');
  await checkLinks(env, goal.id, id, input.parent_id, input.depends_on);
  const changes: store.TaskChanges = {};
  if (input.title !== undefined) changes.title = input.title;
  if (input.description !== undefined) changes.description = input.description;
  if (input.parent_id !== undefined) changes.parentId = input.parent_id;
  if (input.assigned_agent_id !== undefined) changes.assignedAgentId = input.assigned_agent_id;
  if (input.max_retries !== undefined) changes.maxRetries = input.max_retries;
  if (input.requires_approval !== undefined) {
    changes.requiresApproval = input.requires_approval ? 1 : 0;
    // Without approval a task waiting for one is simply pending again.
    if (!input.requires_approval && task.status === 'awaiting_approval') changes.status = 'pending';
  }
  await runBatch(env.DB, [
    store.updateTask(env.DB, id, changes),
    ...(input.depends_on ? [store.deleteDependenciesOf(env.DB, id), ...store.insertDependencies(env.DB, id, input.depends_on)] : []),
  ]);
  await advanceGoal(env, goal.id, { only: id });
  return reload(env, id);
}

/** Deletes a task; its children move up to its parent and tasks waiting for it no longer do. */
export async function deleteTask(env: Env, user: AuthUser, id: string): Promise<void> {
  const task = await getTaskRow(env, user, id, 'write');
  if (task.status === 'claimed' || task.status === 'running') throw conflict(`Cannot delete a task that is ${task.status}; release it or wait`);
  await runBatch(env.DB, store.deleteTaskStatements(env.DB, id, task.parentId));
  await advanceGoal(env, task.goalId);
}

async function unfinishedDependencies(env: Env, taskId: string): Promise<TaskRow[]> {
  return store.unfinishedDependencies(env.DB, taskId);
}

export async function blockers(env: Env, user: AuthUser, id: string) {
  const task = await getTaskRow(env, user, id);
  const rows = await unfinishedDependencies(env, task.id);
  return { task_id: task.id, blocked: rows.length > 0, blockers: await withDependencies(env, rows) };
}

/** Why a task cannot be claimed or executed now: a 409 naming its status or what it waits for. */
async function whyNot(env: Env, task: TaskRow, action: string) {
  const goal = await findGoalRow(env.DB, task.goalId);
  if (task.status === 'claimed' && task.leaseExpiresAt && task.leaseExpiresAt > new Date().toISOString()) {
    return conflict(`Cannot ${action} the task: it is claimed (status: claimed) until ${task.leaseExpiresAt}`);
  }
  if (!['pending', 'claimed'].includes(task.status)) return conflict(`Cannot ${action} the task: its status is ${task.status}`);
  if (task.requiresApproval && task.approvalStatus !== 'approved') return conflict(`Cannot ${action} the task: it awaits approval (status: ${task.status})`);
  const deps = await unfinishedDependencies(env, task.id);
  if (deps.length) return conflict(`Cannot ${action} the task: it is blocked by ${deps.length} unfinished task(s) (status: ${task.status})`);
  if (goal && !['draft', 'active'].includes(goal.status)) return conflict(`Cannot ${action} the task: its goal is ${goal.status} (status: ${task.status})`);
  return conflict(`Cannot ${action} the task now (status: ${task.status})`);
}

/** Takes a lease on a ready task: among concurrent claims exactly one succeeds, the others get 409. */
export async function claim(env: Env, user: AuthUser, id: string, body: { agent_id?: string; lease_seconds: number }): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  if (body.agent_id) {
    if (!(await isOwnedAgent(env.DB, task.ownerId, body.agent_id))) throw validationError(`body.agent_id: agent ${body.agent_id} not found`);
  }
  const won = await store.claimTask(env.DB, id, {
    holder: user.id,
    agentId: body.agent_id ?? null,
    leaseSeconds: body.lease_seconds,
    status: 'claimed',
    countAttempt: false,
    goalIds: goalIdsInStatus(['draft', 'active']),
  });
  if (!won) throw await whyNot(env, (await loadTaskRow(env, id)) ?? task, 'claim');
  return reload(env, id);
}

/** A single conditional transition; 409 with the current status when the task is not in `from`. */
async function transition(env: Env, task: TaskRow, action: string, from: TaskStatus[], changes: Parameters<typeof store.transitionTask>[3], extra: Statement[] = []) {
  const [res] = await runBatch(env.DB, [store.transitionTask(env.DB, task.id, from, changes), ...extra]);
  if ((res as D1Result).meta.changes === 0) {
    const now = (await loadTaskRow(env, task.id)) ?? task;
    throw conflict(`Cannot ${action} a task whose status is ${now.status} (allowed from: ${from.join(', ')})`);
  }
}

/** The notification is written only when the preceding UPDATE changed the task. */
const notifyIfChanged = (env: Env, userId: string, type: string, title: string, body: string, taskId: string) =>
  insertNotificationIfChanged(env.DB, userId, { type, title, body, resourceType: 'task', resourceId: taskId });

export async function release(env: Env, user: AuthUser, id: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  await transition(env, task, 'release', ['claimed'], { status: 'pending', claimedBy: null, claimedByAgentId: null, leaseExpiresAt: null });
  await advanceGoal(env, task.goalId, { only: id });
  return reload(env, id);
}

export async function complete(env: Env, user: AuthUser, id: string, result: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  await transition(
    env,
    task,
    'complete',
    ['claimed', 'running'],
    { status: 'completed', result, error: null, claimedBy: null, leaseExpiresAt: null, completedAt: now() },
  );
  await advanceGoal(env, task.goalId, { dependentsOf: id });
  return reload(env, id);
}

export async function fail(env: Env, user: AuthUser, id: string, error: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  await transition(env, task, 'fail', ['claimed', 'running'], { status: 'failed', error, claimedBy: null, leaseExpiresAt: null }, [
    notifyIfChanged(env, task.ownerId, 'task_failed', `Task failed: ${truncate(task.title, 200)}`, truncate(error, 2000), task.id),
  ]);
  await advanceGoal(env, task.goalId);
  return reload(env, id);
}

function assertNeedsApproval(task: TaskRow, action: string) {
  if (!task.requiresApproval) throw conflict(`Cannot ${action} a task that does not require approval (status: ${task.status})`);
  if (task.approvalStatus) throw conflict(`Cannot ${action} the task: it was already ${task.approvalStatus} (status: ${task.status})`);
}

export async function approve(env: Env, user: AuthUser, id: string, comment?: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  assertNeedsApproval(task, 'approve');
  await transition(env, task, 'approve', ['pending', 'awaiting_approval'], { status: 'pending', approvalStatus: 'approved', approvalComment: comment ?? null });
  await advanceGoal(env, task.goalId, { only: id });
  return reload(env, id);
}

export async function reject(env: Env, user: AuthUser, id: string, comment: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  assertNeedsApproval(task, 'reject');
  await transition(env, task, 'reject', ['pending', 'awaiting_approval'], { status: 'rejected', approvalStatus: 'rejected', approvalComment: comment }, [
    notifyIfChanged(env, task.ownerId, 'task_rejected', `Task rejected: ${truncate(task.title, 200)}`, comment, task.id),
  ]);
  return reload(env, id);
}

/** failed → pending with a fresh retry budget; a goal that failed because of it becomes active again. */
export async function retry(env: Env, user: AuthUser, id: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'write');
  await transition(env, task, 'retry', ['failed'], { status: 'pending', error: null, attempts: 0, claimedBy: null, claimedByAgentId: null, leaseExpiresAt: null }, [
    reactivateFailedGoal(env.DB, task.goalId, true),
  ]);
  await advanceGoal(env, task.goalId, { only: id });
  return reload(env, id);
}

/** Runs the task now with its agent and answers when it is done (completed, failed, or pending with retries left). */
export async function execute(env: Env, user: AuthUser, id: string): Promise<Task> {
  const task = await getTaskRow(env, user, id, 'execute');
  const outcome = await runTask(env, id, 'execute', { fromClaimed: true });
  if (!outcome.ran) throw await whyNot(env, (await loadTaskRow(env, id)) ?? task, 'execute');
  // Pending again with retries left: an asynchronously executing goal picks it up from the queue.
  if (outcome.status === 'retrying') await advanceGoal(env, task.goalId, { only: id });
  return present(env, outcome.task);
}

/** Tasks of a goal that can be claimed now: pending, dependencies completed, approved if needed, no live lease. */
export async function available(env: Env, user: AuthUser, goalId: string, query: Pagination) {
  const goal = await findGoalRow(env.DB, goalId);
  await authorizeResource(env, user, 'goal', goal && { id: goal.id, owner_id: goal.ownerId }, 'read');
  const { limit, offset } = pageBounds(query);
  const { rows, total } = await store.listClaimable(env.DB, goalId, limit, offset);
  return paginated(await withDependencies(env, rows), total, query);
}
