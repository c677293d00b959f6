import type { Env } from '../../../env';
import { findActiveUser } from '../../identity/auth/store';
import { failRun, loadRun, loadScheduleRow, nextRunAt, startRun } from './service';
import { SCHEDULES_QUEUE_NAME, type ScheduleRunMessage } from '../../../queues';


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
  const { results: due } = await env.DB.prepare(
    'SELECT id, cron, timezone, next_run_at FROM agent_schedules WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY next_run_at LIMIT ?',
  )
    .bind(now, DUE_LIMIT)
    .all<{ id: string; cron: string; timezone: string; next_run_at: number }>();

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
    const results = await env.DB.batch(
      chunk.flatMap((s) => [
        env.DB.prepare(
          `INSERT OR IGNORE INTO schedule_runs (id, schedule_id, scheduled_for, trigger, status)
           SELECT ?, ?, ?, 'cron', 'queued' WHERE EXISTS (SELECT 1 FROM agent_schedules WHERE id = ? AND enabled = 1 AND next_run_at = ?)`,
        ).bind(s.runId, s.id, s.next_run_at, s.id, s.next_run_at),
        env.DB.prepare('UPDATE agent_schedules SET next_run_at = ? WHERE id = ? AND next_run_at = ?').bind(s.next, s.id, s.next_run_at),
      ]),
    );
    chunk.forEach((s, j) => {
      if (results[2 * j].meta.changes === 1) messages.push({ body: { run_id: s.runId } });
    });
  }

  // Runs claimed but never started (the enqueue was lost, or every delivery died mid-way) go again.
  const stale = new Date(now - REQUEUE_AFTER_MS).toISOString();
  const { results: stuck } = await env.DB.prepare(
    "SELECT id FROM schedule_runs WHERE status = 'queued' AND trigger = 'cron' AND execution_id IS NULL AND created_at < ? AND (claimed_at IS NULL OR claimed_at < ?) LIMIT 100",
  )
    .bind(stale, now - CLAIM_LEASE_MS)
    .all<{ id: string }>();
  for (const r of stuck) messages.push({ body: { run_id: r.id } });

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
      msg.ack();
      continue;
    }
    try {
      const outcome = await processRun(env, body.run_id);
      if (outcome === 'busy') msg.retry({ delaySeconds: Math.ceil(CLAIM_LEASE_MS / 1000) });
      else msg.ack();
    } catch (e) {
      console.error(JSON.stringify({ queue: SCHEDULES_QUEUE_NAME, run_id: body.run_id, error: String(e) }));
      await env.DB.prepare('UPDATE schedule_runs SET claimed_at = NULL WHERE id = ? AND execution_id IS NULL').bind(body.run_id).run();
      msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
    }
  }
}

/** Starts one run once: 'done' when it is (or already was) settled, 'busy' when another delivery holds it. */
export async function processRun(env: Env, runId: string): Promise<'done' | 'busy'> {
  const run = await loadRun(env, runId);
  if (!run || run.execution_id || run.status !== 'queued') return 'done';
  const now = Date.now();
  const claim = await env.DB.prepare(
    "UPDATE schedule_runs SET claimed_at = ? WHERE id = ? AND status = 'queued' AND execution_id IS NULL AND (claimed_at IS NULL OR claimed_at < ?)",
  )
    .bind(now, runId, now - CLAIM_LEASE_MS)
    .run();
  if (claim.meta.changes === 0) {
    const again = await loadRun(env, runId);
    return again && again.status === 'queued' && !again.execution_id ? 'busy' : 'done';
  }
  const schedule = await loadScheduleRow(env, run.schedule_id);
  if (!schedule || (run.trigger === 'cron' && !schedule.enabled)) {
    await env.DB.prepare("UPDATE schedule_runs SET status = 'skipped', error = ? WHERE id = ?")
      .bind(schedule ? 'The schedule was disabled before the run started' : 'The schedule was deleted', runId)
      .run();
    return 'done';
  }
  const owner = await findActiveUser(env, schedule.owner_id);
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
    if (run && !run.execution_id && run.status === 'queued') await failRun(env, run.id, run.schedule_id, 'INTERNAL_ERROR: the run could not be started after retries');
    msg.ack();
  }
}
