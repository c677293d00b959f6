import { goalOutcome, RUN_LEASE_SECONDS, type Scope, taskMessage } from '../../../engine/goals/scheduler';
import { truncate } from '../../../engine/goals/plan';
import { now, runBatch } from '../../../db/client';
import type { Env } from '../../../env';
import { loadAgent } from '../../agents/agents/service';
import { insertNotification, insertNotificationIfChanged } from '../notifications/store';
import { loadTaskRow, type TaskRow } from './rows';
import * as tasksStore from './store';
import { runAgent } from '../../../runs/agent-turn';
import * as goalsStore from '../goals/store';
import type { GoalRow } from '../goals/store';
import { TASKS_QUEUE_NAME, type TaskMessage } from '../../../queues';
import { logJobFailure } from '../../governance/system-logs/log';

const TASKS_JOB = `queue:${TASKS_QUEUE_NAME}`;

/**
 * Asynchronous execution of goals: the `tiangong-tasks` queue consumer, running one task with
 * its agent, and advancing a goal after every change (approvals, newly ready tasks, completion).
 */

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
  const [goals, counts] = (await env.DB.batch([goalsStore.selectGoal(env.DB, goalId), tasksStore.statusCounts(env.DB, goalId)])) as [
    D1Result<GoalRow>,
    D1Result<tasksStore.StatusCount>,
  ];
  const goal = goals.results[0];
  const rows = counts.results;
  if (!goal || !['draft', 'active', 'paused'].includes(goal.status)) return 0;
  const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
  const outcome = goalOutcome(byStatus);

  if (outcome === 'completed') {
    const result = await goalResult(env, goalId);
    // The notification only when this call made the change (changes() of the UPDATE before it).
    await runBatch(env.DB, [
      goalsStore.completeGoalStatement(env.DB, goalId, result),
      insertNotificationIfChanged(env.DB, goal.ownerId, {
        type: 'goal_completed',
        title: `Goal completed: ${truncate(goal.title, 200)}`,
        body: truncate(result, 2000),
        resourceType: 'goal',
        resourceId: goalId,
      }),
    ]);
    return 0;
  }

  if (outcome === 'failed') {
    const failed = await tasksStore.firstFailed(env.DB, goalId);
    const error = `Task "${failed?.title}" failed: ${failed?.error ?? 'unknown error'}`;
    await runBatch(env.DB, [
      goalsStore.failGoalStatement(env.DB, goalId, error),
      insertNotificationIfChanged(env.DB, goal.ownerId, { type: 'goal_failed', title: `Goal failed: ${truncate(goal.title, 200)}`, body: error, resourceType: 'goal', resourceId: goalId }),
    ]);
    return 0;
  }

  if (goal.status !== 'active') return 0;
  // Only goals with pending tasks still needing approval pay for the promotion UPDATE.
  const gated = rows.some((r) => r.status === 'pending' && r.gated > 0);
  const awaiting = gated ? await tasksStore.promoteAwaitingApproval(env.DB, goalId) : [];
  if (awaiting.length) {
    await runBatch(
      env.DB,
      awaiting.map((t) =>
        insertNotification(env.DB, t.ownerId, {
          type: 'task_awaiting_approval',
          title: `Approval needed: ${truncate(t.title, 200)}`,
          body: `The task "${t.title}" of the goal "${goal.title}" is ready and waits for your approval.`,
          resourceType: 'task',
          resourceId: t.id,
        }),
      ),
    );
  }
  if (goal.autoExecute !== 1) return 0;
  const ready = await tasksStore.readyTaskIds(env.DB, goalId, scope);
  await enqueueTasks(env, goalId, ready);
  return ready.length;
}

/** The goal's result: the results of its final tasks (those nothing depends on), in plan order. */
async function goalResult(env: Env, goalId: string): Promise<string> {
  const results = await tasksStore.finalTasks(env.DB, goalId);
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
  const [claimed, , goals, deps] = (await env.DB.batch([
    tasksStore.claimStatement(env.DB, taskId, {
      holder: runId,
      leaseSeconds: RUN_LEASE_SECONDS,
      status: 'running',
      countAttempt: true,
      goalIds: goalsStore.goalIdsInStatus(trigger === 'queue' ? ['active'] : ['draft', 'active']),
      fromClaimed: opts.fromClaimed,
    }),
    tasksStore.insertRunIfClaimed(env.DB, runId, taskId, trigger),
    goalsStore.selectGoalOfHeldTask(env.DB, taskId, runId),
    tasksStore.dependencyResults(env.DB, taskId),
  ])) as [D1Result<TaskRow>, D1Result, D1Result<GoalRow>, D1Result<tasksStore.DependencyResult>];
  if (claimed.results.length !== 1) return { ran: false };
  const task = claimed.results[0];
  const goal = goals.results[0];

  let reply: string | null = null;
  let error: string | null = null;
  let usage: unknown = null;
  try {
    const agentId = task.assignedAgentId ?? task.claimedByAgentId;
    const agent = agentId ? await loadAgent(env, agentId) : null;
    if (agentId && !agent) throw new Error(`the assigned agent ${agentId} no longer exists`);
    const turn = await runAgent({ env, userId: task.ownerId, agent, message: taskMessage(task), context: taskContext(goal, deps.results), source: 'goal' });
    reply = turn.reply;
    usage = turn.token_usage;
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }

  const finishRun = (status: 'completed' | 'failed', runError: string | null) =>
    tasksStore.finishRun(env.DB, runId, { status, output: reply, error: runError, tokenUsage: usage ? JSON.stringify(usage) : null });
  // Every write below holds only while this run still holds the lease (claimed_by = runId).
  const endRun = (status: 'completed' | 'pending' | 'failed') => tasksStore.endHeldRun(env.DB, taskId, runId, status, reply, error);
  const changed = (res: unknown) => (res as D1Result).meta.changes > 0;
  let status: 'completed' | 'retrying' | 'failed' | 'lost';
  if (error === null) {
    const [upd] = await env.DB.batch([endRun('completed'), finishRun('completed', null)]);
    status = changed(upd) ? 'completed' : 'lost';
  } else if (task.attempts <= task.maxRetries) {
    const [upd] = await env.DB.batch([endRun('pending'), finishRun('failed', error)]);
    status = changed(upd) ? 'retrying' : 'lost';
  } else {
    const [upd] = await runBatch(env.DB, [
      endRun('failed'),
      // Right after the UPDATE: changes() is its row count, so only a real failure notifies.
      insertNotificationIfChanged(env.DB, task.ownerId, {
        type: 'task_failed',
        title: `Task failed: ${truncate(task.title, 200)}`,
        body: `After ${task.attempts} attempt(s): ${truncate(error, 2000)}`,
        resourceType: 'task',
        resourceId: taskId,
      }),
      finishRun('failed', error),
    ]);
    status = changed(upd) ? 'failed' : 'lost';
  }
  if (status === 'lost') await tasksStore.markRunLost(env.DB, runId);
  if (status === 'completed' || status === 'failed') await advanceGoal(env, task.goalId, { dependentsOf: taskId });
  // The queue needs no fresh copy of the task; the synchronous execute answers with one.
  const latest = trigger === 'execute' ? await loadTaskRow(env, taskId) : null;
  return { ran: true, status, attempt: task.attempts, task: latest ?? task };
}

/** What the agent knows about the goal while doing a task: the goal and its dependencies' results. */
function taskContext(goal: GoalRow, deps: tasksStore.DependencyResult[]): string {
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
        await logJobFailure(env, { job: TASKS_JOB, gaveUp: true, messageId: message.id, attempt: message.attempts, cause: 'malformed task message dropped' });
        message.ack();
        return;
      }
      try {
        await handleTaskMessage(env, message.body);
        message.ack();
      } catch (e) {
        await logJobFailure(env, { job: TASKS_JOB, gaveUp: false, messageId: message.id, attempt: message.attempts, resource: { type: 'task', id: message.body.task_id }, cause: e });
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
      await logJobFailure(env, { job: TASKS_JOB, gaveUp: true, messageId: message.id, resource: { type: 'task', id: message.body.task_id }, userId: task?.ownerId });
      const error = 'the task could not be processed after repeated delivery failures';
      if (task) {
        await runBatch(env.DB, [
          tasksStore.transitionTask(env.DB, task.id, ['pending', 'claimed', 'running'], { status: 'failed', error, claimedBy: null, leaseExpiresAt: null }),
          insertNotificationIfChanged(env.DB, task.ownerId, { type: 'task_failed', title: `Task failed: ${truncate(task.title, 200)}`, body: error, resourceType: 'task', resourceId: task.id }),
        ]);
        await advanceGoal(env, task.goalId);
      }
    }
    message.ack();
  }
}

/** Cron step: releases expired leases and lets their goals pick the tasks up again. */
export async function expireTaskLeases(env: Env): Promise<number> {
  const released = await tasksStore.releaseExpiredLeases(env.DB);
  for (const task of released) await advanceGoal(env, task.goalId, { only: task.id });
  return released.length;
}
