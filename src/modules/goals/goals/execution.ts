import {
  claimStatement,
  goalOutcome,
  promoteAwaitingApproval,
  readyTaskIds,
  releaseExpiredLeases,
  RUN_LEASE_SECONDS,
  type Scope,
  taskMessage,
} from '../../../engine/goals/scheduler';
import { truncate } from '../../../engine/goals/plan';
import type { Env } from '../../../env';
import { loadAgent } from '../../agents/agents/service';
import { notificationStatement } from '../notifications/service';
import { loadTaskRow, type TaskRow } from '../tasks/rows';
import { runAgent } from '../../../runs/agent-turn';
import { NOW_SQL } from '../../../lib/d1';
import type { TaskMessage } from '../../../queues';

/**
 * Asynchronous execution of goals: the `tiangong-tasks` queue consumer, running one task with
 * its agent, and advancing a goal after every change (approvals, newly ready tasks, completion).
 */

interface GoalRow {
  id: string;
  owner_id: string;
  title: string;
  description: string;
  status: string;
  auto_execute: number;
  agent_ids: string;
}

const isTaskMessage = (b: unknown): b is TaskMessage =>
  typeof b === 'object' && b !== null && typeof (b as TaskMessage).task_id === 'string' && typeof (b as TaskMessage).goal_id === 'string';

/** Puts tasks on the queue (sendBatch takes at most 100 messages). */
export async function enqueueTasks(env: Env, goalId: string, taskIds: string[], delaySeconds = 0): Promise<void> {
  for (let i = 0; i < taskIds.length; i += 100) {
    await env.TASKS_QUEUE.sendBatch(taskIds.slice(i, i + 100).map((task_id) => ({ body: { task_id, goal_id: goalId }, delaySeconds })));
  }
}

/**
 * Brings a goal up to date with its tasks: completes or fails it (once: the UPDATE is
 * conditional), asks for approvals that are now due, and, when it executes asynchronously,
 * enqueues the ready tasks in `scope` (all by default). Safe to call any number of times (a task
 * enqueued twice still runs once); returns how many tasks it enqueued.
 */
export async function advanceGoal(env: Env, goalId: string, scope: Scope = {}): Promise<number> {
  const [goals, counts] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare('SELECT * FROM goals WHERE id = ?').bind(goalId),
    env.DB.prepare('SELECT status, count(*) AS n, sum(requires_approval = 1 AND approval_status IS NULL) AS gated FROM tasks WHERE goal_id = ? GROUP BY status').bind(goalId),
  ]);
  const goal = goals.results[0] as unknown as GoalRow | undefined;
  if (!goal || !['draft', 'active', 'paused'].includes(goal.status)) return 0;
  const rows = counts.results as Array<{ status: string; n: number; gated: number }>;
  const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
  const outcome = goalOutcome(byStatus);

  if (outcome === 'completed') {
    const result = await goalResult(env, goalId);
    const id = crypto.randomUUID();
    await env.DB.batch([
      env.DB.prepare(
        `UPDATE goals SET status = 'completed', result = ?, error = NULL, completed_at = ${NOW_SQL}, updated_at = ${NOW_SQL}
         WHERE id = ? AND status IN ('draft', 'active', 'paused')`,
      ).bind(result, goalId),
      // Only when this call made the change (the goal row says so by its completed_at being new).
      env.DB.prepare(
        `INSERT INTO notifications (id, user_id, type, title, body, resource_type, resource_id)
         SELECT ?, owner_id, 'goal_completed', ?, ?, 'goal', id FROM goals WHERE id = ? AND changes() = 1`,
      ).bind(id, `Goal completed: ${truncate(goal.title, 200)}`, truncate(result, 2000), goalId),
    ]);
    return 0;
  }

  if (outcome === 'failed') {
    const failed = await env.DB.prepare("SELECT title, error FROM tasks WHERE goal_id = ? AND status = 'failed' ORDER BY position LIMIT 1")
      .bind(goalId)
      .first<{ title: string; error: string | null }>();
    const error = `Task "${failed?.title}" failed: ${failed?.error ?? 'unknown error'}`;
    await env.DB.batch([
      env.DB.prepare(`UPDATE goals SET status = 'failed', error = ?, updated_at = ${NOW_SQL} WHERE id = ? AND status IN ('draft', 'active', 'paused')`).bind(error, goalId),
      env.DB.prepare(
        `INSERT INTO notifications (id, user_id, type, title, body, resource_type, resource_id)
         SELECT ?, owner_id, 'goal_failed', ?, ?, 'goal', id FROM goals WHERE id = ? AND changes() = 1`,
      ).bind(crypto.randomUUID(), `Goal failed: ${truncate(goal.title, 200)}`, error, goalId),
    ]);
    return 0;
  }

  if (goal.status !== 'active') return 0;
  // Only goals with pending tasks still needing approval pay for the promotion UPDATE.
  const gated = rows.some((r) => r.status === 'pending' && r.gated > 0);
  const awaiting = gated ? await promoteAwaitingApproval(env.DB, goalId) : [];
  if (awaiting.length) {
    await env.DB.batch(
      awaiting.map((t) =>
        notificationStatement(env, t.owner_id, {
          type: 'task_awaiting_approval',
          title: `Approval needed: ${truncate(t.title, 200)}`,
          body: `The task "${t.title}" of the goal "${goal.title}" is ready and waits for your approval.`,
          resource_type: 'task',
          resource_id: t.id,
        }),
      ),
    );
  }
  if (goal.auto_execute !== 1) return 0;
  const ready = await readyTaskIds(env.DB, goalId, scope);
  await enqueueTasks(env, goalId, ready);
  return ready.length;
}

/** The goal's result: the results of its final tasks (those nothing depends on), in plan order. */
async function goalResult(env: Env, goalId: string): Promise<string> {
  const { results } = await env.DB.prepare(
    `SELECT title, result FROM tasks t WHERE goal_id = ?
       AND NOT EXISTS (SELECT 1 FROM task_dependencies d WHERE d.depends_on_id = t.id)
     ORDER BY position, created_at`,
  )
    .bind(goalId)
    .all<{ title: string; result: string | null }>();
  const text = results.length === 1 ? (results[0].result ?? '') : results.map((r) => `## ${r.title}\n${r.result ?? ''}`).join('\n\n');
  return truncate(text, 100_000);
}

export type RunOutcome =
  | { ran: false }
  | { ran: true; status: 'completed' | 'retrying' | 'failed' | 'lost'; attempt: number; task: TaskRow };

/** Backoff before the next queued attempt: 1 s, 2 s, 4 s, ... at most a minute. */
export const retryDelaySeconds = (attempt: number) => Math.min(60, 2 ** Math.max(0, attempt - 1));

/**
 * Runs a task once with its agent, if it can be claimed: the claim (a conditional UPDATE) is
 * what makes a twice-delivered message run the task once. Success completes the task; a failure
 * returns it to pending while retries remain (the caller decides when to run it again), else
 * fails it and notifies the owner. The goal is advanced afterwards.
 */
export async function runTask(env: Env, taskId: string, trigger: 'queue' | 'execute', opts: { fromClaimed?: boolean } = {}): Promise<RunOutcome> {
  const runId = crypto.randomUUID();
  // One round trip: the claim, and only if it won (claimed_by = runId), the run record, the goal
  // and the results of the dependencies the agent builds on.
  const [claimed, , goals, deps] = await env.DB.batch<Record<string, unknown>>([
    claimStatement(env.DB, taskId, {
      holder: runId,
      leaseSeconds: RUN_LEASE_SECONDS,
      status: 'running',
      countAttempt: true,
      goalStatuses: trigger === 'queue' ? ['active'] : ['draft', 'active'],
      fromClaimed: opts.fromClaimed,
    }),
    env.DB.prepare(
      `INSERT INTO task_runs (id, task_id, goal_id, attempt, trigger, agent_id, status)
       SELECT ?, id, goal_id, attempts, ?, coalesce(assigned_agent_id, claimed_by_agent_id), 'running' FROM tasks WHERE id = ? AND claimed_by = ?`,
    ).bind(runId, trigger, taskId, runId),
    env.DB.prepare('SELECT g.* FROM goals g JOIN tasks t ON t.goal_id = g.id WHERE t.id = ? AND t.claimed_by = ?').bind(taskId, runId),
    env.DB.prepare(
      `SELECT t.title, t.result FROM task_dependencies d JOIN tasks t ON t.id = d.depends_on_id WHERE d.task_id = ? ORDER BY t.position`,
    ).bind(taskId),
  ]);
  if (claimed.results.length !== 1) return { ran: false };
  const task = claimed.results[0] as unknown as TaskRow;
  const goal = goals.results[0] as unknown as GoalRow;

  let reply: string | null = null;
  let error: string | null = null;
  let usage: unknown = null;
  try {
    const agentId = task.assigned_agent_id ?? task.claimed_by_agent_id;
    const agent = agentId ? await loadAgent(env, agentId) : null;
    if (agentId && !agent) throw new Error(`the assigned agent ${agentId} no longer exists`);
    const turn = await runAgent({ env, userId: task.owner_id, agent, message: taskMessage(task), context: taskContext(goal, deps.results as Array<{ title: string; result: string | null }>), source: 'goal' });
    reply = turn.reply;
    usage = turn.token_usage;
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }

  const finishRun = (status: 'completed' | 'failed', runError: string | null) =>
    env.DB.prepare(`UPDATE task_runs SET status = ?, output = ?, error = ?, token_usage = ?, finished_at = ${NOW_SQL} WHERE id = ?`).bind(
      status,
      reply,
      runError,
      usage ? JSON.stringify(usage) : null,
      runId,
    );
  // Every write below holds only while this run still holds the lease (claimed_by = runId).
  const held = 'id = ? AND claimed_by = ? AND status = ?';
  let status: 'completed' | 'retrying' | 'failed' | 'lost';
  if (error === null) {
    const [upd] = await env.DB.batch([
      env.DB.prepare(
        `UPDATE tasks SET status = 'completed', result = ?, error = NULL, claimed_by = NULL, lease_expires_at = NULL,
           completed_at = ${NOW_SQL}, updated_at = ${NOW_SQL} WHERE ${held}`,
      ).bind(reply, taskId, runId, 'running'),
      finishRun('completed', null),
    ]);
    status = upd.meta.changes ? 'completed' : 'lost';
  } else if (task.attempts <= task.max_retries) {
    const [upd] = await env.DB.batch([
      env.DB.prepare(
        `UPDATE tasks SET status = 'pending', error = ?, claimed_by = NULL, claimed_by_agent_id = NULL, lease_expires_at = NULL, updated_at = ${NOW_SQL}
         WHERE ${held}`,
      ).bind(error, taskId, runId, 'running'),
      finishRun('failed', error),
    ]);
    status = upd.meta.changes ? 'retrying' : 'lost';
  } else {
    const [upd] = await env.DB.batch([
      env.DB.prepare(
        `UPDATE tasks SET status = 'failed', error = ?, claimed_by = NULL, lease_expires_at = NULL, updated_at = ${NOW_SQL} WHERE ${held}`,
      ).bind(error, taskId, runId, 'running'),
      // Right after the UPDATE: changes() is its row count, so only a real failure notifies.
      env.DB.prepare(
        `INSERT INTO notifications (id, user_id, type, title, body, resource_type, resource_id)
         SELECT ?, ?, 'task_failed', ?, ?, 'task', ? WHERE changes() = 1`,
      ).bind(crypto.randomUUID(), task.owner_id, `Task failed: ${truncate(task.title, 200)}`, `After ${task.attempts} attempt(s): ${truncate(error, 2000)}`, taskId),
      finishRun('failed', error),
    ]);
    status = upd.meta.changes ? 'failed' : 'lost';
  }
  if (status === 'lost') {
    await env.DB.prepare("UPDATE task_runs SET status = 'failed', error = 'the lease was lost before the run finished' WHERE id = ?").bind(runId).run();
  }
  if (status === 'completed' || status === 'failed') await advanceGoal(env, task.goal_id, { dependentsOf: taskId });
  // The queue needs no fresh copy of the task; the synchronous execute answers with one.
  const latest = trigger === 'execute' ? await loadTaskRow(env, taskId) : null;
  return { ran: true, status, attempt: task.attempts, task: latest ?? task };
}

/** What the agent knows about the goal while doing a task: the goal and its dependencies' results. */
function taskContext(goal: GoalRow, deps: Array<{ title: string; result: string | null }>): string {
  const lines = deps.map((r) => `- ${r.title}: ${truncate(r.result ?? '', 2000)}`).join('\n');
  return `You are working on one task of the goal "${goal.title}".${goal.description ? `\nThe goal: ${truncate(goal.description, 4000)}` : ''}${
    lines ? `\nResults of the tasks this one builds on:\n${lines}` : ''
  }\nAnswer with the result of your task.`;
}

/** One queued task: run it if it can be claimed; on a failure with retries left, queue it again later. */
export async function handleTaskMessage(env: Env, body: TaskMessage): Promise<RunOutcome> {
  const outcome = await runTask(env, body.task_id, 'queue');
  if (outcome.ran && outcome.status === 'retrying') await enqueueTasks(env, body.goal_id, [body.task_id], retryDelaySeconds(outcome.attempt));
  return outcome;
}

/**
 * The `tiangong-tasks` consumer. Messages of a batch run concurrently; one that throws (D1 or the
 * queue unavailable) is retried by the queue and ends in the dead-letter queue after max_retries.
 */
export async function consumeTaskBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      if (!isTaskMessage(message.body)) {
        console.error(JSON.stringify({ queue: batch.queue, message: 'malformed task message dropped', id: message.id }));
        message.ack();
        return;
      }
      try {
        await handleTaskMessage(env, message.body);
        message.ack();
      } catch (e) {
        console.error(JSON.stringify({ queue: batch.queue, task_id: message.body.task_id, error: String(e) }));
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }),
  );
}

/**
 * The dead-letter consumer: a task whose messages kept failing to be processed is failed (if
 * nothing else finished it) and its owner notified, so no goal waits forever on a lost message.
 */
export async function consumeTaskDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    if (isTaskMessage(message.body)) {
      const task = await loadTaskRow(env, message.body.task_id);
      const error = 'the task could not be processed after repeated delivery failures';
      if (task) {
        await env.DB.batch([
          env.DB.prepare(
            `UPDATE tasks SET status = 'failed', error = ?, claimed_by = NULL, lease_expires_at = NULL, updated_at = ${NOW_SQL}
             WHERE id = ? AND status IN ('pending', 'claimed', 'running')`,
          ).bind(error, task.id),
          env.DB.prepare(
            `INSERT INTO notifications (id, user_id, type, title, body, resource_type, resource_id)
             SELECT ?, ?, 'task_failed', ?, ?, 'task', ? WHERE changes() = 1`,
          ).bind(crypto.randomUUID(), task.owner_id, `Task failed: ${truncate(task.title, 200)}`, error, task.id),
        ]);
        await advanceGoal(env, task.goal_id);
      }
    }
    message.ack();
  }
}

/** Cron step: releases expired leases and lets their goals pick the tasks up again. */
export async function expireTaskLeases(env: Env): Promise<number> {
  const released = await releaseExpiredLeases(env.DB);
  for (const task of released) await advanceGoal(env, task.goal_id, { only: task.id });
  return released.length;
}
