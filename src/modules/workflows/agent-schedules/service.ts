import type { z } from '@hono/zod-openapi';
import type { Env } from '../../../env';
import { nextOccurrence } from '../../../engine/schedule/cron';
import { findActiveUser } from '../../identity/auth/store';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { authorize } from '../../identity/permissions/authorize';
import { isUniqueViolation, NOW_SQL } from '../../../lib/d1';
import { ApiError, notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { executeAgentWorkflow } from '../../../runs/workflow-run';
import type { CreateScheduleBody, Schedule, UpdateScheduleBody } from './schemas';

export interface ScheduleRow {
  id: string;
  owner_id: string;
  agent_id: string;
  cron: string;
  timezone: string;
  input: string;
  enabled: number;
  next_run_at: number | null;
  last_run_at: number | null;
  last_execution_id: string | null;
  last_status: string | null;
  created_at: string;
  updated_at: string;
  /** The status of the last run's execution (joined), fresher than last_status. */
  exec_status?: string | null;
}

export interface RunRow {
  id: string;
  schedule_id: string;
  scheduled_for: number;
  trigger: 'cron' | 'manual';
  status: 'queued' | 'started' | 'failed' | 'skipped';
  execution_id: string | null;
  error: string | null;
  claimed_at: number | null;
  created_at: string;
}

const iso = (ms: number | null) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
const SELECT = 'SELECT s.*, e.status AS exec_status FROM agent_schedules s LEFT JOIN executions e ON e.id = s.last_execution_id';

export function toSchedule(r: ScheduleRow): Schedule {
  return {
    id: r.id,
    owner_id: r.owner_id,
    agent_id: r.agent_id,
    cron: r.cron,
    timezone: r.timezone,
    input: r.input,
    enabled: !!r.enabled,
    next_run_at: iso(r.next_run_at),
    last_run_at: iso(r.last_run_at),
    last_execution_id: r.last_execution_id,
    last_status: r.exec_status ?? r.last_status,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/** The next occurrence (epoch ms) strictly after `now`, in the schedule's timezone; null if none. */
export function nextRunAt(cron: string, timezone: string, now: number): number | null {
  return nextOccurrence(cron, timezone, now)?.getTime() ?? null;
}

async function loadSchedule(env: Env, id: string) {
  return env.DB.prepare(`${SELECT} WHERE s.id = ?`).bind(id).first<ScheduleRow>();
}

/** The caller's schedule (admins: anyone's); 404 otherwise. */
export async function ownedSchedule(env: Env, user: AuthUser, id: string): Promise<ScheduleRow> {
  const row = await loadSchedule(env, id);
  if (!row || (row.owner_id !== user.id && !isAdmin(user))) throw notFound('Schedule');
  return row;
}

export async function listSchedules(env: Env, user: AuthUser, q: Pagination & { agent_id?: string; enabled?: boolean }) {
  const where: string[] = [];
  const args: unknown[] = [];
  if (!isAdmin(user)) (where.push('s.owner_id = ?'), args.push(user.id));
  if (q.agent_id) (where.push('s.agent_id = ?'), args.push(q.agent_id));
  if (q.enabled !== undefined) (where.push('s.enabled = ?'), args.push(q.enabled ? 1 : 0));
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const { limit, offset } = pageBounds(q);
  const [count, rows] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT count(*) AS n FROM agent_schedules s ${clause}`).bind(...args),
    env.DB.prepare(`${SELECT} ${clause} ORDER BY s.created_at DESC, s.id LIMIT ? OFFSET ?`).bind(...args, limit, offset),
  ]);
  return paginated((rows.results as unknown as ScheduleRow[]).map(toSchedule), (count.results[0] as { n: number }).n, q);
}

export async function getSchedule(env: Env, user: AuthUser, id: string) {
  return toSchedule(await ownedSchedule(env, user, id));
}

/** Schedules run agents the creator may execute (authorize(): 404 unknown or unreadable, 403 read-only). */
export async function createSchedule(env: Env, user: AuthUser, body: z.infer<typeof CreateScheduleBody>) {
  await authorize(env, user, 'agent', body.agent_id, 'execute');
  const id = crypto.randomUUID();
  const next = body.enabled ? nextRunAt(body.cron, body.timezone, Date.now()) : null;
  await env.DB.prepare(
    'INSERT INTO agent_schedules (id, owner_id, agent_id, cron, timezone, input, enabled, next_run_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  )
    .bind(id, user.id, body.agent_id, body.cron, body.timezone, body.input, body.enabled ? 1 : 0, next)
    .run();
  return getSchedule(env, user, id);
}

/** Fields sent replace the stored ones; a new cron, timezone or enabling recomputes next_run_at from now. */
export async function updateSchedule(env: Env, user: AuthUser, id: string, body: z.infer<typeof UpdateScheduleBody>) {
  const row = await ownedSchedule(env, user, id);
  if (body.agent_id !== undefined && body.agent_id !== row.agent_id) await authorize(env, user, 'agent', body.agent_id, 'execute');
  const next = {
    agent_id: body.agent_id ?? row.agent_id,
    cron: body.cron ?? row.cron,
    timezone: body.timezone ?? row.timezone,
    input: body.input ?? row.input,
    enabled: body.enabled ?? !!row.enabled,
  };
  const timing = next.cron !== row.cron || next.timezone !== row.timezone || next.enabled !== !!row.enabled;
  const nextRun = !next.enabled ? null : timing || row.next_run_at === null ? nextRunAt(next.cron, next.timezone, Date.now()) : row.next_run_at;
  await env.DB.prepare(
    `UPDATE agent_schedules SET agent_id = ?, cron = ?, timezone = ?, input = ?, enabled = ?, next_run_at = ?, updated_at = ${NOW_SQL} WHERE id = ?`,
  )
    .bind(next.agent_id, next.cron, next.timezone, next.input, next.enabled ? 1 : 0, nextRun, id)
    .run();
  return getSchedule(env, user, id);
}

/** Deletes the schedule and its run records (queued runs then find nothing and are dropped). */
export async function deleteSchedule(env: Env, user: AuthUser, id: string) {
  await ownedSchedule(env, user, id);
  await env.DB.batch([
    env.DB.prepare('DELETE FROM schedule_runs WHERE schedule_id = ?').bind(id),
    env.DB.prepare('DELETE FROM agent_schedules WHERE id = ?').bind(id),
  ]);
}

/**
 * Runs the schedule now (whether enabled or not; next_run_at is unchanged): a `manual` run
 * record and an execution started at once, answered without waiting for it.
 */
export async function triggerSchedule(env: Env, user: AuthUser, id: string) {
  const schedule = await ownedSchedule(env, user, id);
  // Checked for the caller too: an admin triggering someone's schedule must be allowed to run it.
  await authorize(env, user, 'agent', schedule.agent_id, 'execute');
  const runId = crypto.randomUUID();
  for (let at = Date.now(); ; at++) {
    try {
      await env.DB.prepare("INSERT INTO schedule_runs (id, schedule_id, scheduled_for, trigger, status, claimed_at) VALUES (?, ?, ?, 'manual', 'queued', ?)")
        .bind(runId, id, at, Date.now())
        .run();
      break;
    } catch (e) {
      // The same millisecond as another run of this schedule: the next one.
      if (!isUniqueViolation(e)) throw e;
    }
  }
  const actor = (await findActiveUser(env, schedule.owner_id)) ?? user;
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
  schedule: ScheduleRow,
  actor: AuthUser,
): Promise<{ execution_id: string; status: string } | { error: ApiError }> {
  const now = Date.now();
  try {
    // executeAgentWorkflow authorizes the actor (execute); the run is theirs and uses the agent owner's rights.
    const { execution } = await executeAgentWorkflow(env, actor, schedule.agent_id, {
      inputs: { message: schedule.input },
      trigger: 'schedule',
      waitMs: 0,
    });
    await env.DB.batch([
      env.DB.prepare("UPDATE schedule_runs SET status = 'started', execution_id = ?, error = NULL WHERE id = ?").bind(execution.id, runId),
      env.DB.prepare('UPDATE agent_schedules SET last_run_at = ?, last_execution_id = ?, last_status = ? WHERE id = ?').bind(
        now,
        execution.id,
        execution.status,
        schedule.id,
      ),
    ]);
    return { execution_id: execution.id, status: execution.status };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    await failRun(env, runId, schedule.id, `${e.code}: ${e.message}`, now);
    return { error: e };
  }
}

export async function failRun(env: Env, runId: string, scheduleId: string, error: string, at = Date.now()) {
  await env.DB.batch([
    env.DB.prepare("UPDATE schedule_runs SET status = 'failed', error = ? WHERE id = ? AND execution_id IS NULL").bind(error, runId),
    env.DB.prepare("UPDATE agent_schedules SET last_run_at = ?, last_execution_id = NULL, last_status = 'failed' WHERE id = ?").bind(at, scheduleId),
  ]);
}

export async function loadRun(env: Env, runId: string) {
  return env.DB.prepare('SELECT * FROM schedule_runs WHERE id = ?').bind(runId).first<RunRow>();
}

export async function loadScheduleRow(env: Env, id: string) {
  return loadSchedule(env, id);
}
