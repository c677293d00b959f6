import { complete as completeChat } from '../../../engine/llm/gateway';
import { LlmError } from '../../../engine/llm/errors';
import { decomposePrompt, linePlan, parsePlan, PlanError, replanPrompt, truncate, type PlannedTask } from '../../../engine/goals/plan';
import { progressOf } from '../../../engine/goals/scheduler';
import type { ChatMessage } from '../../../engine/llm/types';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { authorizeResource, grantsCleanupStatement, readableFilter, requirePermission, type Action } from '../../identity/permissions/authorize';
import { assignments, likeContains, NOW_SQL, placeholders } from '../../../lib/d1';
import { conflict, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import type { Agent } from '../../agents/agents/schemas';
import { loadAgent } from '../../agents/agents/service';
import { goalTasks } from '../tasks/rows';
import type { Task } from '../tasks/schemas';
import { advanceGoal } from './execution';
import { modelTargetFor, runAgent } from '../../../runs/agent-turn';
import type { CreateGoal, Goal, GoalStatus, TaskNode, UpdateGoal } from './schemas';

interface GoalRow {
  id: string;
  owner_id: string;
  title: string;
  description: string;
  priority: Goal['priority'];
  deadline: string | null;
  agent_ids: string;
  status: GoalStatus;
  auto_execute: number;
  result: string | null;
  error: string | null;
  started_at: string | null;
  completed_at: string | null;
  created_at: string;
  updated_at: string;
  task_count: number;
  completed_task_count: number;
}

// Progress is computed from the tasks on every read, so it never disagrees with them.
const SELECT_GOAL = `SELECT g.*,
  (SELECT count(*) FROM tasks WHERE goal_id = g.id) AS task_count,
  (SELECT count(*) FROM tasks WHERE goal_id = g.id AND status = 'completed') AS completed_task_count
  FROM goals g`;

function toGoal(row: GoalRow): Goal {
  return {
    ...row,
    agent_ids: JSON.parse(row.agent_ids),
    auto_execute: row.auto_execute === 1,
    progress: progressOf(row.completed_task_count, row.task_count),
  };
}

async function loadGoalRow(env: Env, id: string): Promise<GoalRow | null> {
  return env.DB.prepare(`${SELECT_GOAL} WHERE g.id = ?`).bind(id).first<GoalRow>();
}

/** A goal the user may `action` (authorize(): 404 when they may not read it, 403 when they may only read it). */
async function getGoalRow(env: Env, user: AuthUser, id: string, action: Action = 'read'): Promise<GoalRow> {
  const row = await loadGoalRow(env, id);
  await authorizeResource(env, user, 'goal', row, action);
  return row!;
}

async function reload(env: Env, id: string): Promise<Goal> {
  return toGoal((await loadGoalRow(env, id))!);
}

export async function getGoal(env: Env, user: AuthUser, id: string): Promise<Goal> {
  return toGoal(await getGoalRow(env, user, id));
}

export async function listGoals(env: Env, user: AuthUser, query: Pagination & { search?: string; status?: GoalStatus; priority?: Goal['priority'] }) {
  const where: string[] = [];
  const binds: unknown[] = [];
  const readable = await readableFilter(env, user, 'goal', { owner: 'g.owner_id', id: 'g.id' });
  if (readable) {
    where.push(readable.sql);
    binds.push(...readable.binds);
  }
  if (query.search) {
    where.push("(g.title LIKE ? ESCAPE '\\' OR g.description LIKE ? ESCAPE '\\')");
    binds.push(likeContains(query.search), likeContains(query.search));
  }
  if (query.status) {
    where.push('g.status = ?');
    binds.push(query.status);
  }
  if (query.priority) {
    where.push('g.priority = ?');
    binds.push(query.priority);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const { limit, offset } = pageBounds(query);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`${SELECT_GOAL} ${clause} ORDER BY g.created_at DESC, g.id DESC LIMIT ? OFFSET ?`).bind(...binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM goals g ${clause}`).bind(...binds),
  ]);
  return paginated((rows.results as unknown as GoalRow[]).map(toGoal), (count.results[0] as { n: number }).n, query);
}

/** The agents must be the owner's own; 422 naming the ones that are not. */
async function checkAgents(env: Env, ownerId: string, ids: string[]) {
  if (!ids.length) return;
  const { results } = await env.DB.prepare(`SELECT id FROM agents WHERE owner_id = ? AND id IN (${placeholders(ids.length)})`)
    .bind(ownerId, ...ids)
    .all<{ id: string }>();
  const found = new Set(results.map((r) => r.id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) throw validationError(`body.agent_ids: not agents of yours: ${missing.join(', ')}`);
}

export async function createGoal(env: Env, user: AuthUser, input: CreateGoal): Promise<Goal> {
  await requirePermission(env, user, 'goal:create');
  await checkAgents(env, user.id, input.agent_ids);
  const id = crypto.randomUUID();
  await env.DB.prepare('INSERT INTO goals (id, owner_id, title, description, priority, deadline, agent_ids) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .bind(id, user.id, input.title, input.description, input.priority, input.deadline ? new Date(input.deadline).toISOString() : null, JSON.stringify(input.agent_ids))
    .run();
  return reload(env, id);
}

const TERMINAL: GoalStatus[] = ['completed', 'failed', 'cancelled'];

export async function updateGoal(env: Env, user: AuthUser, id: string, input: UpdateGoal): Promise<Goal> {
  const goal = await getGoalRow(env, user, id, 'write');
  if (input.agent_ids) await checkAgents(env, goal.owner_id, input.agent_ids);
  const a = assignments();
  if (input.title !== undefined) a.set('title', input.title);
  if (input.description !== undefined) a.set('description', input.description);
  if (input.priority !== undefined) a.set('priority', input.priority);
  if (input.deadline !== undefined) a.set('deadline', input.deadline ? new Date(input.deadline).toISOString() : null);
  if (input.agent_ids !== undefined) a.set('agent_ids', JSON.stringify(input.agent_ids));
  let guard = '';
  if (input.status === 'cancelled') {
    a.set('status', 'cancelled');
    guard = ` AND status NOT IN ('completed', 'cancelled')`;
  }
  const res = await env.DB.prepare(`UPDATE goals SET ${a.sql(`updated_at = ${NOW_SQL}`)} WHERE id = ?${guard}`)
    .bind(...a.binds, id)
    .run();
  if (res.meta.changes === 0) throw conflict(`Cannot cancel a goal that is ${(await loadGoalRow(env, id))?.status ?? goal.status}`);
  return reload(env, id);
}

/** Deletes the goal with its tasks, dependencies, runs and conversation (queued messages then find nothing). */
export async function deleteGoal(env: Env, user: AuthUser, id: string): Promise<void> {
  const goal = await getGoalRow(env, user, id, 'admin');
  await env.DB.batch([
    env.DB.prepare('DELETE FROM task_dependencies WHERE task_id IN (SELECT id FROM tasks WHERE goal_id = ?)').bind(goal.id),
    env.DB.prepare('DELETE FROM task_runs WHERE goal_id = ?').bind(goal.id),
    env.DB.prepare('DELETE FROM tasks WHERE goal_id = ?').bind(goal.id),
    env.DB.prepare('DELETE FROM goal_messages WHERE goal_id = ?').bind(goal.id),
    env.DB.prepare('DELETE FROM goals WHERE id = ?').bind(goal.id),
    grantsCleanupStatement(env, 'goal', goal.id),
  ]);
}

/** One conditional status change; 409 naming the current status when the goal is not in `from`. */
async function changeStatus(env: Env, user: AuthUser, id: string, action: string, from: GoalStatus[], sets: string): Promise<void> {
  const goal = await getGoalRow(env, user, id, 'write');
  const res = await env.DB.prepare(`UPDATE goals SET ${sets}, updated_at = ${NOW_SQL} WHERE id = ? AND status IN (${placeholders(from.length)})`)
    .bind(goal.id, ...from)
    .run();
  if (res.meta.changes === 0) {
    const now = (await loadGoalRow(env, id)) ?? goal;
    throw conflict(`Cannot ${action} a goal whose status is ${now.status} (allowed from: ${from.join(', ')})`);
  }
}

export async function startGoal(env: Env, user: AuthUser, id: string): Promise<Goal> {
  await changeStatus(env, user, id, 'start', ['draft'], `status = 'active', started_at = coalesce(started_at, ${NOW_SQL})`);
  await advanceGoal(env, id);
  return reload(env, id);
}

/** Stops new work: queued tasks of a paused goal are not started (running ones finish). */
export async function pauseGoal(env: Env, user: AuthUser, id: string): Promise<Goal> {
  await changeStatus(env, user, id, 'pause', ['active'], `status = 'paused'`);
  return reload(env, id);
}

/** Continues where it was: ready tasks are enqueued again when the goal executes asynchronously. */
export async function resumeGoal(env: Env, user: AuthUser, id: string): Promise<Goal> {
  await changeStatus(env, user, id, 'resume', ['paused'], `status = 'active'`);
  await advanceGoal(env, id);
  return reload(env, id);
}

/** Activates asynchronous execution and enqueues every ready task. */
export async function executeAsync(env: Env, user: AuthUser, id: string): Promise<{ goal: Goal; enqueued: number }> {
  const goal = await getGoalRow(env, user, id, 'execute');
  if (goal.task_count === 0) throw conflict('The goal has no tasks: decompose it or add tasks first');
  await changeStatus(env, user, id, 'execute', ['draft', 'active'], `status = 'active', auto_execute = 1, started_at = coalesce(started_at, ${NOW_SQL})`);
  const enqueued = await advanceGoal(env, id);
  return { goal: await reload(env, id), enqueued };
}

async function goalAgents(env: Env, goal: GoalRow): Promise<Agent[]> {
  const ids: string[] = JSON.parse(goal.agent_ids);
  const agents = await Promise.all(ids.map((id) => loadAgent(env, id)));
  return agents.filter((a): a is Agent => a !== null && a.owner_id === goal.owner_id);
}

/** Asks the planning model (the goal's first agent's, else the owner's default) for a plan. */
async function modelPlan(env: Env, goal: GoalRow, agents: Agent[], prompt: { system: string; user: string }, completedIds: string[], allowEmpty: boolean): Promise<PlannedTask[]> {
  const target = await modelTargetFor(env, goal.owner_id, agents[0] ?? null);
  const messages: ChatMessage[] = [
    { role: 'system', content: prompt.system },
    { role: 'user', content: prompt.user },
  ];
  const result = await completeChat(env, target, { messages, response_format: 'json' }, { user_id: goal.owner_id, agent_id: agents[0]?.id ?? null, source: 'goal' });
  try {
    return parsePlan(result.content, agents.map((a) => a.id), completedIds, allowEmpty);
  } catch (e) {
    if (e instanceof PlanError) throw new LlmError(`The model returned an unusable plan: ${e.message}`);
    throw e;
  }
}

const isMock = async (env: Env, goal: GoalRow, agents: Agent[]) => (await modelTargetFor(env, goal.owner_id, agents[0] ?? null)).provider === 'mock';

/** INSERTs for a plan: keys become UUIDs; references to completed tasks stay as they are. */
function planStatements(env: Env, goal: GoalRow, plan: PlannedTask[], firstPosition: number): D1PreparedStatement[] {
  const ids = new Map(plan.map((t) => [t.key, crypto.randomUUID()]));
  const ref = (key: string) => ids.get(key) ?? key;
  const statements: D1PreparedStatement[] = [];
  plan.forEach((t, i) => {
    statements.push(
      env.DB.prepare(
        'INSERT INTO tasks (id, goal_id, owner_id, parent_id, position, title, description, assigned_agent_id, requires_approval) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).bind(ids.get(t.key), goal.id, goal.owner_id, t.parent ? ref(t.parent) : null, firstPosition + i, t.title, t.description, t.agent_id, t.requires_approval ? 1 : 0),
    );
  });
  for (const t of plan) {
    for (const d of t.depends_on) statements.push(env.DB.prepare('INSERT INTO task_dependencies (task_id, depends_on_id) VALUES (?, ?)').bind(ids.get(t.key), ref(d)));
  }
  return statements;
}

/**
 * Breaks the goal into tasks, replacing any tasks it has (none of which may have started).
 * With the mock model: each non-empty line of the description is a task depending on the previous one.
 */
export async function decomposeGoal(env: Env, user: AuthUser, id: string): Promise<{ goal: Goal; tasks: Task[]; replaced: number }> {
  const goal = await getGoalRow(env, user, id, 'write');
  if (TERMINAL.includes(goal.status)) throw conflict(`Cannot decompose a goal that is ${goal.status}`);
  const started = await env.DB.prepare("SELECT count(*) AS n FROM tasks WHERE goal_id = ? AND (status NOT IN ('pending', 'awaiting_approval') OR attempts > 0)")
    .bind(goal.id)
    .first<{ n: number }>();
  if (started!.n > 0) throw conflict(`${started!.n} task(s) of this goal have started: use replan to revise the remaining work`);
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
  await env.DB.batch([
    env.DB.prepare('DELETE FROM task_dependencies WHERE task_id IN (SELECT id FROM tasks WHERE goal_id = ?)').bind(goal.id),
    env.DB.prepare('DELETE FROM tasks WHERE goal_id = ?').bind(goal.id),
    ...planStatements(env, goal, plan, 1),
  ]);
  await advanceGoal(env, goal.id);
  return { goal: await reload(env, goal.id), tasks: await goalTasks(env, goal.id), replaced: goal.task_count };
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
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < removed.length; i += 90) {
    const chunk = removed.slice(i, i + 90);
    const list = placeholders(chunk.length);
    statements.push(
      env.DB.prepare(`DELETE FROM task_dependencies WHERE task_id IN (${list}) OR depends_on_id IN (${list})`).bind(...chunk, ...chunk),
      env.DB.prepare(`UPDATE tasks SET parent_id = NULL WHERE parent_id IN (${list})`).bind(...chunk),
      env.DB.prepare(`DELETE FROM task_runs WHERE task_id IN (${list})`).bind(...chunk),
      env.DB.prepare(`DELETE FROM tasks WHERE id IN (${list}) AND status != 'completed'`).bind(...chunk),
    );
  }
  statements.push(...planStatements(env, goal, plan, firstPosition));
  statements.push(env.DB.prepare(`UPDATE goals SET status = 'active', error = NULL, updated_at = ${NOW_SQL} WHERE id = ? AND status = 'failed'`).bind(goal.id));
  await env.DB.batch(statements);
  await advanceGoal(env, goal.id);
  return { goal: await reload(env, goal.id), tasks: await goalTasks(env, goal.id), replaced: removed.length };
}

const HISTORY_LIMIT = 20;

/** A conversation about the goal: the goal's first agent (or the default model) answers with the goal, its tasks and results as context. */
export async function interact(env: Env, user: AuthUser, id: string, message: string) {
  const goal = await getGoalRow(env, user, id, 'execute');
  const tasks = await goalTasks(env, goal.id);
  const agents = await goalAgents(env, goal);
  const { results } = await env.DB.prepare('SELECT role, content, seq FROM goal_messages WHERE goal_id = ? ORDER BY seq DESC LIMIT ?')
    .bind(goal.id, HISTORY_LIMIT)
    .all<{ role: 'user' | 'assistant'; content: string; seq: number }>();
  const history: ChatMessage[] = results.reverse().map((m) => ({ role: m.role, content: m.content }));
  const taskLines = tasks.map((t) => `- [${t.status}] ${t.title}${t.result ? `: ${truncate(t.result, 500)}` : ''}${t.error ? ` (error: ${truncate(t.error, 200)})` : ''}`);
  const context = `You are discussing the goal "${goal.title}" (status ${goal.status}, ${toGoal(goal).progress}% done) with its owner.${
    goal.description ? `\nThe goal: ${truncate(goal.description, 4000)}` : ''
  }\nIts tasks:\n${taskLines.join('\n') || '(none yet)'}${goal.result ? `\nResult: ${truncate(goal.result, 4000)}` : ''}`;
  const turn = await runAgent({ env, userId: goal.owner_id, agent: agents[0] ?? null, message, context, history, source: 'goal' });
  const seq = (results[0]?.seq ?? 0) + 1;
  await env.DB.batch([
    env.DB.prepare('INSERT INTO goal_messages (id, goal_id, seq, role, content) VALUES (?, ?, ?, ?, ?)').bind(crypto.randomUUID(), goal.id, seq, 'user', message),
    env.DB.prepare('INSERT INTO goal_messages (id, goal_id, seq, role, content) VALUES (?, ?, ?, ?, ?)').bind(crypto.randomUUID(), goal.id, seq + 1, 'assistant', turn.reply),
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
