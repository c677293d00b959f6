import type { z } from '@hono/zod-openapi';
import type { Env } from '../../../env';
import { nextOccurrence } from '../../../engine/schedule/cron';
import { findActiveUser } from '../../identity/auth/store';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { authorize } from '../../identity/permissions/authorize';
import { ApiError, notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { executeAgentWorkflow } from '../../../runs/workflow-run';
import type { CreateScheduleBody, Schedule, UpdateScheduleBody } from './schemas';
import * as store from './store';
import type { ScheduleView } from './store';

const iso = (ms: number | null) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function toSchedule(r: ScheduleView): Schedule {
  return {
    id: r.id,
    owner_id: r.ownerId,
    agent_id: r.agentId,
    cron: r.cron,
    timezone: r.timezone,
    input: r.input,
    enabled: r.enabled,
    next_run_at: iso(r.nextRunAt),
    last_run_at: iso(r.lastRunAt),
    last_execution_id: r.lastExecutionId,
    last_status: r.execStatus ?? r.lastStatus,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

/** The next occurrence (epoch ms) strictly after `now`, in the schedule's timezone; null if none. */
export function nextRunAt(cron: string, timezone: string, now: number): number | null {
  return nextOccurrence(cron, timezone, now)?.getTime() ?? null;
}

/** The caller's schedule (admins: anyone's); 404 otherwise. */
export async function ownedSchedule(env: Env, user: AuthUser, id: string): Promise<ScheduleView> {
  const row = await store.findSchedule(env.DB, id);
  if (!row || (row.ownerId !== user.id && !isAdmin(user))) throw notFound('Schedule');
  return row;
}

export async function listSchedules(env: Env, user: AuthUser, q: Pagination & { agent_id?: string; enabled?: boolean }) {
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listSchedules(
    env.DB,
    { ownerId: isAdmin(user) ? undefined : user.id, agentId: q.agent_id, enabled: q.enabled },
    limit,
    offset,
  );
  return paginated(rows.map(toSchedule), total, q);
}

export async function getSchedule(env: Env, user: AuthUser, id: string) {
  return toSchedule(await ownedSchedule(env, user, id));
}

/** Schedules run agents the creator may execute (authorize(): 404 unknown or unreadable, 403 read-only). */
export async function createSchedule(env: Env, user: AuthUser, body: z.infer<typeof CreateScheduleBody>) {
  await authorize(env, user, 'agent', body.agent_id, 'execute');
  const id = crypto.randomUUID();
  const next = body.enabled ? nextRunAt(body.cron, body.timezone, Date.now()) : null;
  await store.insertSchedule(env.DB, {
    id,
    ownerId: user.id,
    agentId: body.agent_id,
    cron: body.cron,
    timezone: body.timezone,
    input: body.input,
    enabled: body.enabled,
    nextRunAt: next,
  });
  return getSchedule(env, user, id);
}

/** Fields sent replace the stored ones; a new cron, timezone or enabling recomputes next_run_at from now. */
export async function updateSchedule(env: Env, user: AuthUser, id: string, body: z.infer<typeof UpdateScheduleBody>) {
  const row = await ownedSchedule(env, user, id);
  if (body.agent_id !== undefined && body.agent_id !== row.agentId) await authorize(env, user, 'agent', body.agent_id, 'execute');
  const next = {
    agentId: body.agent_id ?? row.agentId,
    cron: body.cron ?? row.cron,
    timezone: body.timezone ?? row.timezone,
    input: body.input ?? row.input,
    enabled: body.enabled ?? row.enabled,
  };
  const timing = next.cron !== row.cron || next.timezone !== row.timezone || next.enabled !== row.enabled;
  const nextRun = !next.enabled ? null : timing || row.nextRunAt === null ? nextRunAt(next.cron, next.timezone, Date.now()) : row.nextRunAt;
  await store.updateSchedule(env.DB, id, { ...next, nextRunAt: nextRun });
  return getSchedule(env, user, id);
}

/** Deletes the schedule and its run records (queued runs then find nothing and are dropped). */
export async function deleteSchedule(env: Env, user: AuthUser, id: string) {
  await ownedSchedule(env, user, id);
  await store.deleteSchedule(env.DB, id);
}

/**
 * Runs the schedule now (whether enabled or not; next_run_at is unchanged): a `manual` run
 * record and an execution started at once, answered without waiting for it.
 */
export async function triggerSchedule(env: Env, user: AuthUser, id: string) {
  const schedule = await ownedSchedule(env, user, id);
  // Checked for the caller too: an admin triggering someone's schedule must be allowed to run it.
  await authorize(env, user, 'agent', schedule.agentId, 'execute');
  const runId = crypto.randomUUID();
  // The same millisecond as another run of this schedule: the next one.
  for (let at = Date.now(); !(await store.insertManualRun(env.DB, { id: runId, scheduleId: id, scheduledFor: at, claimedAt: Date.now() })); at++);
  const actor = (await findActiveUser(env, schedule.ownerId)) ?? user;
  const started = await startRun(env, runId, schedule, actor);
  if ('error' in started) throw started.error;
  return { schedule_id: id, run_id: runId, execution_id: started.execution_id, status: started.status };
}

/**
 * Starts the run's execution for the schedule's owner (who must still be allowed to execute
 * the agent; the execution is theirs and uses the agent owner's rights, like every shared run) and records it on the run
 * and the schedule. Refusals (agent gone, access revoked, invalid agent graph) fail the run and
 * are returned; anything else is thrown, for the queue to retry.
 */
export async function startRun(
  env: Env,
  runId: string,
  schedule: ScheduleView,
  actor: AuthUser,
): Promise<{ execution_id: string; status: string } | { error: ApiError }> {
  const now = Date.now();
  try {
    // executeAgentWorkflow authorizes the actor (execute); the run is theirs and uses the agent owner's rights.
    const { execution } = await executeAgentWorkflow(env, actor, schedule.agentId, {
      inputs: { message: schedule.input },
      trigger: 'schedule',
      waitMs: 0,
    });
    await store.markRunStarted(env.DB, runId, schedule.id, execution, now);
    return { execution_id: execution.id, status: execution.status };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    await failRun(env, runId, schedule.id, `${e.code}: ${e.message}`, now);
    return { error: e };
  }
}

export async function failRun(env: Env, runId: string, scheduleId: string, error: string, at = Date.now()) {
  await store.markRunFailed(env.DB, runId, scheduleId, error, at);
}

export async function loadRun(env: Env, runId: string) {
  return store.findRun(env.DB, runId);
}

export async function loadScheduleRow(env: Env, id: string) {
  return store.findSchedule(env.DB, id);
}
