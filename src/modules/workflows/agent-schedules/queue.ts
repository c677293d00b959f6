import type { Env } from '../../../env';
import { findActiveUser } from '../../identity/auth/store';
import { failRun, loadRun, loadScheduleRow, nextRunAt, startRun } from './service';
import * as store from './store';
import { SCHEDULES_QUEUE_NAME, type ScheduleRunMessage } from '../../../queues';
import { logJobFailure } from '../../governance/system-logs/log';

const SCHEDULES_JOB = `queue:${SCHEDULES_QUEUE_NAME}`;


/** How long a consumer's claim on a run keeps other deliveries of it off. */
const CLAIM_LEASE_MS = 5 * 60 * 1000;
/** A cron run still queued (never started) after this long is enqueued again. */
const REQUEUE_AFTER_MS = 10 * 60 * 1000;
const DUE_LIMIT = 500;

/**
 * The cron step (every minute): each enabled schedule whose next_run_at has passed gets one run.
 * The slot is claimed in D1 — INSERT OR IGNORE on UNIQUE(schedule_id, scheduled_for), only while
 * next_run_at is still the slot — and next_run_at moves to the first occurrence after `now` in the
 * same batch. Two invocations for the same minute therefore make one run, and a schedule missed
 * for hours (downtime) runs once, not once per missed occurrence. Only claimed runs are enqueued.
 */
export async function enqueueDueSchedules(env: Env, now = Date.now()): Promise<{ enqueued: number; requeued: number }> {
  const due = await store.dueSchedules(env.DB, now, DUE_LIMIT);

  const messages: Array<{ body: ScheduleRunMessage }> = [];
  for (let i = 0; i < due.length; i += 40) {
    const chunk = due.slice(i, i + 40).map((s) => {
      let next: number | null;
      try {
        next = nextRunAt(s.cron, s.timezone, now);
      } catch {
        next = null; // cannot happen for a validated expression; such a schedule simply stops
      }
      return { ...s, runId: crypto.randomUUID(), next };
    });
    const claimed = await store.claimSlots(
      env.DB,
      chunk.map((s) => ({ runId: s.runId, scheduleId: s.id, slot: s.nextRunAt, next: s.next })),
    );
    chunk.forEach((s, j) => {
      if (claimed[j]) messages.push({ body: { run_id: s.runId } });
    });
  }

  // Runs claimed but never started (the enqueue was lost, or every delivery died mid-way) go again.
  const stale = new Date(now - REQUEUE_AFTER_MS).toISOString();
  const stuck = await store.staleCronRuns(env.DB, stale, now - CLAIM_LEASE_MS, 100);
  for (const id of stuck) messages.push({ body: { run_id: id } });

  for (let i = 0; i < messages.length; i += 100) await env.SCHEDULES_QUEUE.sendBatch(messages.slice(i, i + 100));
  return { enqueued: messages.length - stuck.length, requeued: stuck.length };
}

/**
 * Starts queued runs. Delivery is at least once, so a run that has an execution (or ended) is
 * acknowledged without running again, and a run another delivery is starting right now (a fresh
 * claim) is retried later rather than started twice.
 */
export async function consumeScheduleBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const msg of batch.messages) {
    const body = msg.body as ScheduleRunMessage;
    if (!body || typeof body.run_id !== 'string') {
      await logJobFailure(env, { job: SCHEDULES_JOB, gaveUp: true, messageId: msg.id, attempt: msg.attempts, cause: 'malformed schedule message dropped' });
      msg.ack();
      continue;
    }
    try {
      const outcome = await processRun(env, body.run_id);
      if (outcome === 'busy') msg.retry({ delaySeconds: Math.ceil(CLAIM_LEASE_MS / 1000) });
      else msg.ack();
    } catch (e) {
      await logJobFailure(env, { job: SCHEDULES_JOB, gaveUp: false, messageId: msg.id, attempt: msg.attempts, resource: { type: 'schedule_run', id: body.run_id }, cause: e });
      await store.releaseRun(env.DB, body.run_id);
      msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
    }
  }
}

/** Starts one run once: 'done' when it is (or already was) settled, 'busy' when another delivery holds it. */
export async function processRun(env: Env, runId: string): Promise<'done' | 'busy'> {
  const run = await loadRun(env, runId);
  if (!run || run.executionId || run.status !== 'queued') return 'done';
  const now = Date.now();
  if (!(await store.claimRun(env.DB, runId, now, now - CLAIM_LEASE_MS))) {
    const again = await loadRun(env, runId);
    return again && again.status === 'queued' && !again.executionId ? 'busy' : 'done';
  }
  const schedule = await loadScheduleRow(env, run.scheduleId);
  if (!schedule || (run.trigger === 'cron' && !schedule.enabled)) {
    await store.markRunSkipped(env.DB, runId, schedule ? 'The schedule was disabled before the run started' : 'The schedule was deleted');
    return 'done';
  }
  const owner = await findActiveUser(env, schedule.ownerId);
  if (!owner) {
    await failRun(env, runId, schedule.id, 'FORBIDDEN: the schedule owner is disabled or deleted');
    return 'done';
  }
  await startRun(env, runId, schedule, owner);
  return 'done';
}

/** Runs that kept failing to start: recorded as failed on the run and the schedule. */
export async function consumeScheduleDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const msg of batch.messages) {
    const runId = (msg.body as ScheduleRunMessage)?.run_id;
    const run = typeof runId === 'string' ? await loadRun(env, runId) : null;
    if (typeof runId === 'string') await logJobFailure(env, { job: SCHEDULES_JOB, gaveUp: true, messageId: msg.id, resource: { type: 'schedule_run', id: runId } });
    if (run && !run.executionId && run.status === 'queued') await failRun(env, run.id, run.scheduleId, 'INTERNAL_ERROR: the run could not be started after retries');
    msg.ack();
  }
}
