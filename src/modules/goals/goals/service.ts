import { complete as completeChat } from '../../../engine/llm/gateway';
import { LlmError } from '../../../engine/llm/errors';
import { decomposePrompt, linePlan, parsePlan, PlanError, replanPrompt, truncate, type PlannedTask } from '../../../engine/goals/plan';
import { progressOf } from '../../../engine/goals/scheduler';
import { runBatch, type Statement } from '../../../db/client';
import type { ChatMessage } from '../../../engine/llm/types';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { authorizeResource, grantsCleanup, readableWhere, requirePermission, type Action } from '../../identity/permissions/authorize';
import { conflict, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import type { Agent } from '../../agents/agents/schemas';
import { loadAgent } from '../../agents/agents/service';
import { goalTasks } from '../tasks/rows';
import { ownedAgentIds } from '../../agents/agents/store';
import * as tasksStore from '../tasks/store';
import * as store from './store';
import type { GoalWithCounts } from './store';
import type { Task } from '../tasks/schemas';
import { advanceGoal } from '../tasks/execution';
import { modelTargetFor, runAgent } from '../../../runs/agent-turn';
import type { CreateGoal, Goal, GoalStatus, TaskNode, UpdateGoal } from './schemas';

type GoalRow = GoalWithCounts;

function toGoal(row: GoalRow): Goal {
  return {
    id: row.id,
    owner_id: row.ownerId,
    title: row.title,
    description: row.description,
    priority: row.priority,
    deadline: row.deadline,
    agent_ids: JSON.parse(row.agentIds),
    status: row.status,
    auto_execute: row.autoExecute === 1,
    result: row.result,
    error: row.error,
    started_at: row.startedAt,
    completed_at: row.completedAt,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    task_count: row.taskCount,
    completed_task_count: row.completedTaskCount,
    progress: progressOf(row.completedTaskCount, row.taskCount),
  };
}

async function loadGoalRow(env: Env, id: string): Promise<GoalRow | null> {
  return store.findGoal(env.DB, id);
}

/** A goal the user may `action` (authorize(): 404 when they may not read it, 403 when they may only read it). */
async function getGoalRow(env: Env, user: AuthUser, id: string, action: Action = 'read'): Promise<GoalRow> {
  const row = await loadGoalRow(env, id);
  await authorizeResource(env, user, 'goal', row && { id: row.id, owner_id: row.ownerId }, action);
  return row!;
}

async function reload(env: Env, id: string): Promise<Goal> {
  return toGoal((await loadGoalRow(env, id))!);
}

export async function getGoal(env: Env, user: AuthUser, id: string): Promise<Goal> {
  return toGoal(await getGoalRow(env, user, id));
}

export async function listGoals(env: Env, user: AuthUser, query: Pagination & { search?: string; status?: GoalStatus; priority?: Goal['priority'] }) {
  const readable = await readableWhere(env, user, 'goal', store.goalAccess);
  const { limit, offset } = pageBounds(query);
  const { rows, total } = await store.listGoals(
    env.DB,
    { readable, search: query.search, status: query.status, priority: query.priority },
    limit,
    offset,
  );
  return paginated(rows.map(toGoal), total, query);
}

/** The agents must be the owner's own; 422 naming the ones that are not. */
async function checkAgents(env: Env, ownerId: string, ids: string[]) {
  if (!ids.length) return;
  const found = new Set(await ownedAgentIds(env.DB, ownerId, ids));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) throw validationError(`body.agent_ids: not agents of yours: ${missing.join(', ')}`);
}

export async function createGoal(env: Env, user: AuthUser, input: CreateGoal): Promise<Goal> {
  await requirePermission(env, user, 'goal:create');
  await checkAgents(env, user.id, input.agent_ids);
  const id = crypto.randomUUID();
  await store.insertGoal(env.DB, {
    id,
    ownerId: user.id,
    title: input.title,
    description: input.description,
    priority: input.priority,
    deadline: input.deadline ? new Date(input.deadline).toISOString() : null,
    agentIds: JSON.stringify(input.agent_ids),
  });
  return reload(env, id);
}

const TERMINAL: GoalStatus[] = ['completed', 'failed', 'cancelled'];

export async function updateGoal(env: Env, user: AuthUser, id: string, input: UpdateGoal): Promise<Goal> {
  const goal = await getGoalRow(env, user, id, 'write');
  if (input.agent_ids) await checkAgents(env, goal.ownerId, input.agent_ids);
  const changes: store.GoalChanges = {};
  if (input.title !== undefined) changes.title = input.title;
  if (input.description !== undefined) changes.description = input.description;
  if (input.priority !== undefined) changes.priority = input.priority;
  if (input.deadline !== undefined) changes.deadline = input.deadline ? new Date(input.deadline).toISOString() : null;
  if (input.agent_ids !== undefined) changes.agentIds = JSON.stringify(input.agent_ids);
  let guard: { notIn?: GoalStatus[] } = {};
  if (input.status === 'cancelled') {
    changes.status = 'cancelled';
    guard = { notIn: ['completed', 'cancelled'] };
  }
  if (!(await store.updateGoal(env.DB, id, changes, guard))) throw conflict(`Cannot cancel a goal that is ${(await loadGoalRow(env, id))?.status ?? goal.status}`);
  return reload(env, id);
}

/** Deletes the goal with its tasks, dependencies, runs and conversation (queued messages then find nothing). */
export async function deleteGoal(env: Env, user: AuthUser, id: string): Promise<void> {
  const goal = await getGoalRow(env, user, id, 'admin');
  await runBatch(env.DB, [...store.deleteGoalStatements(env.DB, goal.id), grantsCleanup(env.DB, 'goal', goal.id)]);
}

/** One conditional status change; 409 naming the current status when the goal is not in `from`. */
async function changeStatus(env: Env, user: AuthUser, id: string, action: string, from: GoalStatus[], changes: store.GoalChanges): Promise<void> {
  const goal = await getGoalRow(env, user, id, 'write');
  if (!(await store.updateGoal(env.DB, goal.id, changes, { in: from }))) {
    const now = (await loadGoalRow(env, id)) ?? goal;
    throw conflict(`Cannot ${action} a goal whose status is ${now.status} (allowed from: ${from.join(', ')})`);
  }
}

export async function startGoal(env: Env, user: AuthUser, id: string): Promise<Goal> {
  await changeStatus(env, user, id, 'start', ['draft'], { status: 'active', startedAt: store.startedNow() });
  await advanceGoal(env, id);
  return reload(env, id);
}

/** Stops new work: queued tasks of a paused goal are not started (running ones finish). */
export async function pauseGoal(env: Env, user: AuthUser, id: string): Promise<Goal> {
  await changeStatus(env, user, id, 'pause', ['active'], { status: 'paused' });
  return reload(env, id);
}

/** Continues where it was: ready tasks are enqueued again when the goal executes asynchronously. */
export async function resumeGoal(env: Env, user: AuthUser, id: string): Promise<Goal> {
  await changeStatus(env, user, id, 'resume', ['paused'], { status: 'active' });
  await advanceGoal(env, id);
  return reload(env, id);
}

/** Activates asynchronous execution and enqueues every ready task. */
export async function executeAsync(env: Env, user: AuthUser, id: string): Promise<{ goal: Goal; enqueued: number }> {
  const goal = await getGoalRow(env, user, id, 'execute');
  if (goal.taskCount === 0) throw conflict('The goal has no tasks: decompose it or add tasks first');
  await changeStatus(env, user, id, 'execute', ['draft', 'active'], { status: 'active', autoExecute: 1, startedAt: store.startedNow() });
  const enqueued = await advanceGoal(env, id);
  return { goal: await reload(env, id), enqueued };
}

async function goalAgents(env: Env, goal: GoalRow): Promise<Agent[]> {
  const ids: string[] = JSON.parse(goal.agentIds);
  const agents = await Promise.all(ids.map((id) => loadAgent(env, id)));
  return agents.filter((a): a is Agent => a !== null && a.owner_id === goal.ownerId);
}

/** Asks the planning model (the goal's first agent's, else the owner's default) for a plan. */
async function modelPlan(env: Env, goal: GoalRow, agents: Agent[], prompt: { system: string; user: string }, completedIds: string[], allowEmpty: boolean): Promise<PlannedTask[]> {
  const target = await modelTargetFor(env, goal.ownerId, agents[0] ?? null);
  const messages: ChatMessage[] = [
    { role: 'system', content: prompt.system },
    { role: 'user', content: prompt.user },
  ];
  const result = await completeChat(env, target, { messages, response_format: 'json' }, { user_id: goal.ownerId, agent_id: agents[0]?.id ?? null, source: 'goal' });
  try {
    return parsePlan(result.content, agents.map((a) => a.id), completedIds, allowEmpty);
  } catch (e) {
    if (e instanceof PlanError) throw new LlmError(`The model returned an unusable plan: ${e.message}`);
    throw e;
  }
}

const isMock = async (env: Env, goal: GoalRow, agents: Agent[]) => (await modelTargetFor(env, goal.ownerId, agents[0] ?? null)).provider === 'mock';

/** INSERTs for a plan: keys become UUIDs; references to completed tasks stay as they are. */
function planStatements(env: Env, goal: GoalRow, plan: PlannedTask[], firstPosition: number): Statement[] {
  const ids = new Map(plan.map((t) => [t.key, crypto.randomUUID()]));
  const ref = (key: string) => ids.get(key) ?? key;
  const statements: Statement[] = [];
  plan.forEach((t, i) => {
    statements.push(
      tasksStore.insertTask(env.DB, {
        id: ids.get(t.key)!,
        goalId: goal.id,
        ownerId: goal.ownerId,
        parentId: t.parent ? ref(t.parent) : null,
        position: firstPosition + i,
        title: t.title,
        description: t.description,
        assignedAgentId: t.agent_id,
        requiresApproval: t.requires_approval ? 1 : 0,
      }),
    );
  });
  for (const t of plan) statements.push(...tasksStore.insertDependencies(env.DB, ids.get(t.key)!, t.depends_on.map(ref)));
  return statements;
}

/**
 * Breaks the goal into tasks, replacing any tasks it has (none of which may have started).
 * With the mock model: each non-empty line of the description is a task depending on the previous one.
 */
export async function decomposeGoal(env: Env, user: AuthUser, id: string): Promise<{ goal: Goal; tasks: Task[]; replaced: number }> {
  const goal = await getGoalRow(env, user, id, 'write');
  if (TERMINAL.includes(goal.status)) throw conflict(`Cannot decompose a goal that is ${goal.status}`);
  const started = await tasksStore.countStarted(env.DB, goal.id);
  if (started > 0) throw conflict(`${started} task(s) of this goal have started: use replan to revise the remaining work`);
  const agents = await goalAgents(env, goal);
  let plan: PlannedTask[];
  if (await isMock(env, goal, agents)) {
    try {
      plan = linePlan(goal.description, agents.map((a) => a.id));
    } catch (e) {
      throw validationError(`description: ${(e as Error).message}`);
    }
    if (!plan.length) throw validationError('description: the goal has no description to decompose (the mock model makes one task per line)');
  } else {
    plan = await modelPlan(env, goal, agents, decomposePrompt(goal, agents), [], false);
  }
  // One batch: the old tasks go and the new ones arrive together, or nothing changes.
  await runBatch(env.DB, [...tasksStore.deleteGoalTasks(env.DB, goal.id, false), ...planStatements(env, goal, plan, 1)]);
  await advanceGoal(env, goal.id);
  return { goal: await reload(env, goal.id), tasks: await goalTasks(env, goal.id), replaced: goal.taskCount };
}

/**
 * Revises the work that is not completed in the light of the results so far. Completed tasks and
 * their results are never touched. With the mock model: each non-empty line of the description
 * that is not the title of a completed task becomes a pending task, chained after the last
 * completed one. A failed goal becomes active again.
 */
export async function replanGoal(env: Env, user: AuthUser, id: string, instructions?: string): Promise<{ goal: Goal; tasks: Task[]; replaced: number }> {
  const goal = await getGoalRow(env, user, id, 'write');
  if (goal.status === 'completed' || goal.status === 'cancelled') throw conflict(`Cannot replan a goal that is ${goal.status}`);
  const tasks = await goalTasks(env, goal.id);
  const busy = tasks.filter((t) => t.status === 'claimed' || t.status === 'running');
  if (busy.length) throw conflict(`${busy.length} task(s) are claimed or running: wait for them or release them, then replan`);
  const completed = tasks.filter((t) => t.status === 'completed');
  const remaining = tasks.filter((t) => t.status !== 'completed');
  const agents = await goalAgents(env, goal);
  let plan: PlannedTask[];
  if (await isMock(env, goal, agents)) {
    const done = new Set(completed.map((t) => t.title));
    const lines = goal.description.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !done.has(l));
    const last = completed.at(-1)?.id ?? null;
    plan = linePlan(lines.join('\n'), agents.map((a) => a.id), last);
  } else {
    const ctx = {
      completed: completed.map((t) => ({ id: t.id, title: t.title, result: t.result })),
      remaining: remaining.map((t) => ({ title: t.title, description: t.description, status: t.status, error: t.error })),
    };
    plan = await modelPlan(env, goal, agents, replanPrompt(goal, agents, ctx, instructions), completed.map((t) => t.id), true);
  }
  const removed = remaining.map((t) => t.id);
  const firstPosition = Math.max(0, ...completed.map((t) => t.position)) + 1;
  const statements: Statement[] = [];
  for (let i = 0; i < removed.length; i += 45) statements.push(...tasksStore.deleteUnfinishedTasks(env.DB, removed.slice(i, i + 45)));
  statements.push(...planStatements(env, goal, plan, firstPosition));
  statements.push(store.reactivateFailedGoal(env.DB, goal.id, false));
  await runBatch(env.DB, statements);
  await advanceGoal(env, goal.id);
  return { goal: await reload(env, goal.id), tasks: await goalTasks(env, goal.id), replaced: removed.length };
}

const HISTORY_LIMIT = 20;

/** A conversation about the goal: the goal's first agent (or the default model) answers with the goal, its tasks and results as context. */
export async function interact(env: Env, user: AuthUser, id: string, message: string) {
  const goal = await getGoalRow(env, user, id, 'execute');
  const tasks = await goalTasks(env, goal.id);
  const agents = await goalAgents(env, goal);
  const results = await store.recentMessages(env.DB, goal.id, HISTORY_LIMIT);
  const history: ChatMessage[] = results.reverse().map((m) => ({ role: m.role, content: m.content }));
  const taskLines = tasks.map((t) => `- [${t.status}] ${t.title}${t.result ? `: ${truncate(t.result, 500)}` : ''}${t.error ? ` (error: ${truncate(t.error, 200)})` : ''}`);
  const context = `You are discussing the goal "${goal.title}" (status ${goal.status}, ${toGoal(goal).progress}% done) with its owner.${
    goal.description ? `\nThe goal: ${truncate(goal.description, 4000)}` : ''
  }\nIts tasks:\n${taskLines.join('\n') || '(none yet)'}${goal.result ? `\nResult: ${truncate(goal.result, 4000)}` : ''}`;
  const turn = await runAgent({ env, userId: goal.ownerId, agent: agents[0] ?? null, message, context, history, source: 'goal' });
  const seq = (results[0]?.seq ?? 0) + 1;
  await store.appendMessages(env.DB, goal.id, seq, [
    { role: 'user', content: message },
    { role: 'assistant', content: turn.reply },
  ]);
  return { goal_id: goal.id, reply: turn.reply, token_usage: turn.token_usage };
}

/** The task tree: tasks nested by parent (roots in plan order), with dependencies and statuses. */
export async function taskTree(env: Env, user: AuthUser, id: string) {
  const goal = await getGoalRow(env, user, id);
  const tasks = await goalTasks(env, goal.id);
  const nodes = new Map<string, TaskNode>(tasks.map((t) => [t.id, { ...t, children: [] }]));
  const roots: TaskNode[] = [];
  for (const t of tasks) {
    const parent = t.parent_id ? nodes.get(t.parent_id) : undefined;
    (parent ? parent.children : roots).push(nodes.get(t.id)!);
  }
  const counts: Record<string, number> = {};
  for (const t of tasks) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return { goal_id: goal.id, status: goal.status, progress: toGoal(goal).progress, counts, tasks: roots };
}
