import { eq, inArray, and, count, desc, getTableColumns, isNotNull, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { db, type Statement, now, runBatch } from '../../../db/client';
import { agentSchedules, scheduleRuns } from '../../../db/schema/agent-schedules';
import { executionStatuses } from '../executions/store';

// ── for agents ──

/** The statements that delete an agent's schedules and their runs (the agent is being deleted). */
export function deleteForAgent(d1: D1Database, agentId: string): Statement[] {
  return [
    db(d1)
      .delete(scheduleRuns)
      .where(inArray(scheduleRuns.scheduleId, db(d1).select({ id: agentSchedules.id }).from(agentSchedules).where(eq(agentSchedules.agentId, agentId)))),
    db(d1).delete(agentSchedules).where(eq(agentSchedules.agentId, agentId)),
  ];
}

// ── agent-schedules: the module's own reads and writes ──

/** A schedule as stored (next/last run times are epoch ms). */
export type ScheduleRow = typeof agentSchedules.$inferSelect;
/** A schedule with the status of its last run's execution (fresher than lastStatus). */
export type ScheduleView = ScheduleRow & { execStatus: string | null };
/** One run of a schedule. */
export type RunRow = typeof scheduleRuns.$inferSelect;

function selectViews(d1: D1Database) {
  const e = executionStatuses(d1);
  return db(d1)
    .select({ ...getTableColumns(agentSchedules), execStatus: e.status })
    .from(agentSchedules)
    .leftJoin(e, eq(e.id, agentSchedules.lastExecutionId));
}

export async function findSchedule(d1: D1Database, id: string): Promise<ScheduleView | null> {
  const [row] = await selectViews(d1).where(eq(agentSchedules.id, id)).limit(1);
  return row ?? null;
}

/** One page of schedules (newest first) and their count, in one round trip. */
export async function listSchedules(
  d1: D1Database,
  filter: { ownerId?: string; agentId?: string; enabled?: boolean },
  limit: number,
  offset: number,
): Promise<{ rows: ScheduleView[]; total: number }> {
  const conds: SQL[] = [];
  if (filter.ownerId !== undefined) conds.push(eq(agentSchedules.ownerId, filter.ownerId));
  if (filter.agentId) conds.push(eq(agentSchedules.agentId, filter.agentId));
  if (filter.enabled !== undefined) conds.push(eq(agentSchedules.enabled, filter.enabled));
  const where = conds.length ? and(...conds) : undefined;
  const [[{ total }], rows] = await db(d1).batch([
    db(d1).select({ total: count() }).from(agentSchedules).where(where),
    selectViews(d1).where(where).orderBy(desc(agentSchedules.createdAt), agentSchedules.id).limit(limit).offset(offset),
  ]);
  return { rows, total };
}

export async function insertSchedule(d1: D1Database, row: Omit<typeof agentSchedules.$inferInsert, 'createdAt' | 'updatedAt'>): Promise<void> {
  await db(d1).insert(agentSchedules).values(row);
}

export async function updateSchedule(
  d1: D1Database,
  id: string,
  fields: Pick<ScheduleRow, 'agentId' | 'cron' | 'timezone' | 'input' | 'enabled' | 'nextRunAt'>,
): Promise<void> {
  await db(d1)
    .update(agentSchedules)
    .set({ ...fields, updatedAt: now() })
    .where(eq(agentSchedules.id, id));
}

/** The schedule and its run records, in one batch. */
export async function deleteSchedule(d1: D1Database, id: string): Promise<void> {
  await runBatch(d1, [db(d1).delete(scheduleRuns).where(eq(scheduleRuns.scheduleId, id)), db(d1).delete(agentSchedules).where(eq(agentSchedules.id, id))]);
}

/** A queued manual run; false (nothing written) when the schedule already has a run for that millisecond. */
export async function insertManualRun(d1: D1Database, run: { id: string; scheduleId: string; scheduledFor: number; claimedAt: number }): Promise<boolean> {
  const result = await db(d1)
    .insert(scheduleRuns)
    .values({ ...run, trigger: 'manual', status: 'queued' })
    .onConflictDoNothing()
    .run();
  return result.meta.changes === 1;
}

/** The run has its execution: recorded on the run and, as the last run, on the schedule. */
export async function markRunStarted(
  d1: D1Database,
  runId: string,
  scheduleId: string,
  execution: { id: string; status: string },
  at: number,
): Promise<void> {
  await runBatch(d1, [
    db(d1).update(scheduleRuns).set({ status: 'started', executionId: execution.id, error: null }).where(eq(scheduleRuns.id, runId)),
    db(d1)
      .update(agentSchedules)
      .set({ lastRunAt: at, lastExecutionId: execution.id, lastStatus: execution.status })
      .where(eq(agentSchedules.id, scheduleId)),
  ]);
}

/** The run failed to start (unless it has an execution already); the schedule's last run is a failure. */
export async function markRunFailed(d1: D1Database, runId: string, scheduleId: string, error: string, at: number): Promise<void> {
  await runBatch(d1, [
    db(d1)
      .update(scheduleRuns)
      .set({ status: 'failed', error })
      .where(and(eq(scheduleRuns.id, runId), isNull(scheduleRuns.executionId))),
    db(d1).update(agentSchedules).set({ lastRunAt: at, lastExecutionId: null, lastStatus: 'failed' }).where(eq(agentSchedules.id, scheduleId)),
  ]);
}

export async function markRunSkipped(d1: D1Database, runId: string, error: string): Promise<void> {
  await db(d1).update(scheduleRuns).set({ status: 'skipped', error }).where(eq(scheduleRuns.id, runId));
}

export async function findRun(d1: D1Database, runId: string): Promise<RunRow | null> {
  const [row] = await db(d1).select().from(scheduleRuns).where(eq(scheduleRuns.id, runId)).limit(1);
  return row ?? null;
}

/** Enabled schedules whose next run has passed, the most overdue first. */
export function dueSchedules(d1: D1Database, at: number, limit: number): Promise<Array<{ id: string; cron: string; timezone: string; nextRunAt: number }>> {
  return db(d1)
    .select({ id: agentSchedules.id, cron: agentSchedules.cron, timezone: agentSchedules.timezone, nextRunAt: sql<number>`${agentSchedules.nextRunAt}` })
    .from(agentSchedules)
    .where(and(eq(agentSchedules.enabled, true), isNotNull(agentSchedules.nextRunAt), lte(agentSchedules.nextRunAt, at)))
    .orderBy(agentSchedules.nextRunAt)
    .limit(limit);
}

/**
 * Claims slots, one batch for all: per slot, the cron run is inserted (INSERT OR IGNORE on
 * UNIQUE(schedule_id, scheduled_for)) only while the schedule is enabled and next_run_at is still
 * the slot, and next_run_at moves on. True for each slot this call claimed.
 */
export async function claimSlots(d1: D1Database, slots: Array<{ runId: string; scheduleId: string; slot: number; next: number | null }>): Promise<boolean[]> {
  if (!slots.length) return [];
  const results = (await runBatch(
    d1,
    slots.flatMap((s) => [
      // INSERT OR IGNORE … SELECT (as ON CONFLICT DO NOTHING): every column, in the table's order.
      db(d1)
        .insert(scheduleRuns)
        .select(
          sql`SELECT ${s.runId}, ${s.scheduleId}, ${s.slot}, 'cron', 'queued', NULL, NULL, NULL, ${now()}
              WHERE EXISTS (SELECT 1 FROM ${agentSchedules} WHERE ${agentSchedules.id} = ${s.scheduleId} AND ${agentSchedules.enabled} = 1 AND ${agentSchedules.nextRunAt} = ${s.slot})`,
        )
        .onConflictDoNothing(),
      db(d1)
        .update(agentSchedules)
        .set({ nextRunAt: s.next })
        .where(and(eq(agentSchedules.id, s.scheduleId), eq(agentSchedules.nextRunAt, s.slot))),
    ]),
  )) as D1Result[];
  return slots.map((_, j) => results[2 * j].meta.changes === 1);
}

/** Cron runs claimed but never started, created before `createdBefore` and not held by a live claim. */
export async function staleCronRuns(d1: D1Database, createdBefore: string, claimedBefore: number, limit: number): Promise<string[]> {
  const rows = await db(d1)
    .select({ id: scheduleRuns.id })
    .from(scheduleRuns)
    .where(
      and(
        eq(scheduleRuns.status, 'queued'),
        eq(scheduleRuns.trigger, 'cron'),
        isNull(scheduleRuns.executionId),
        lt(scheduleRuns.createdAt, createdBefore),
        or(isNull(scheduleRuns.claimedAt), lt(scheduleRuns.claimedAt, claimedBefore)),
      ),
    )
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Takes the claim on a queued, unstarted run unless a claim newer than `expiredBefore` holds it. */
export async function claimRun(d1: D1Database, runId: string, at: number, expiredBefore: number): Promise<boolean> {
  const result = await db(d1)
    .update(scheduleRuns)
    .set({ claimedAt: at })
    .where(
      and(
        eq(scheduleRuns.id, runId),
        eq(scheduleRuns.status, 'queued'),
        isNull(scheduleRuns.executionId),
        or(isNull(scheduleRuns.claimedAt), lt(scheduleRuns.claimedAt, expiredBefore)),
      ),
    )
    .run();
  return result.meta.changes > 0;
}

/** Drops the claim of a run that has not started (its delivery failed and will be retried). */
export async function releaseRun(d1: D1Database, runId: string): Promise<void> {
  await db(d1)
    .update(scheduleRuns)
    .set({ claimedAt: null })
    .where(and(eq(scheduleRuns.id, runId), isNull(scheduleRuns.executionId)));
}
