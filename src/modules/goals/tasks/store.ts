import { and, asc, count, desc, eq, getTableColumns, inArray, isNull, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import { QueryBuilder } from 'drizzle-orm/sqlite-core';
import { columnsAs, db, now, NOW_SQL, type SqlText, type Statement, likeContains } from '../../../db/client';
import { taskDependencies, taskRuns, tasks } from '../../../db/schema/tasks';
import { leaseUntil, type Scope } from '../../../engine/goals/scheduler';
import { normalisedStatus } from '../../../lib/stats-sql';

/** The owner and resource-id columns of listed tasks (by their goal), for authorize's readableWhere(). */
export const taskAccess = { ownerId: tasks.ownerId, id: tasks.goalId };

/**
 * The tasks of goals, their dependencies and their runs: reads, and the scheduling writes (which
 * tasks are ready, which now wait for approval, claiming with a lease, expiring leases). Every
 * state change is one conditional UPDATE, so concurrent workers (queue consumers, API claims, the
 * cron) never both win.
 */
export type TaskRow = typeof tasks.$inferSelect;
export type TaskRunRow = typeof taskRuns.$inferSelect;
export type TaskStatus = TaskRow['status'];

const qb = new QueryBuilder();

// ── the scheduler's conditions, over the `tasks` row being looked at ──
// SQL text, one definition for the drizzle queries (sql.raw) and for the raw statements of a
// task run's hot path below.

/** Every dependency of the task is completed. */
const DEPS_DONE = `NOT EXISTS (SELECT 1 FROM "task_dependencies" d JOIN "tasks" dt ON dt."id" = d."depends_on_id" WHERE d."task_id" = "tasks"."id" AND dt."status" <> 'completed')`;
/** Approval is not needed or was given. */
const APPROVED = `("tasks"."requires_approval" = 0 OR "tasks"."approval_status" = 'approved')`;
/** Pending and runnable now. */
const READY = `"tasks"."status" = 'pending' AND ${APPROVED} AND ${DEPS_DONE}`;
/** Claimable: ready, or held under a lease that has run out (its holder is presumed dead). */
const CLAIMABLE = `("tasks"."status" = 'pending' OR ("tasks"."status" IN ('claimed', 'running') AND "tasks"."lease_expires_at" <= ${NOW_SQL})) AND ${APPROVED} AND ${DEPS_DONE}`;

const depsDone = () => sql.raw(DEPS_DONE);
const claimable = () => sql.raw(`(${CLAIMABLE})`);

// ── reads ──
export async function findTask(d1: D1Database, id: string): Promise<TaskRow | null> {
  const [row] = await db(d1).select().from(tasks).where(eq(tasks.id, id));
  return row ?? null;
}

/** The dependencies of each task (one batch; D1 binds at most 100 parameters per statement). */
export async function dependenciesOf(d1: D1Database, taskIds: string[]): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>(taskIds.map((id) => [id, []]));
  if (!taskIds.length) return map;
  const chunks: Statement[] = [];
  for (let i = 0; i < taskIds.length; i += 100) {
    chunks.push(db(d1).select().from(taskDependencies).where(inArray(taskDependencies.taskId, taskIds.slice(i, i + 100))));
  }
  const results = (await db(d1).batch(chunks as [Statement, ...Statement[]])) as Array<Array<typeof taskDependencies.$inferSelect>>;
  for (const rows of results) for (const r of rows) map.get(r.taskId)!.push(r.dependsOnId);
  return map;
}

/** All tasks of a goal in plan order, and every dependency among them (one round trip). */
export async function goalTaskRows(d1: D1Database, goalId: string): Promise<{ rows: TaskRow[]; deps: Array<{ taskId: string; dependsOnId: string }> }> {
  const [rows, deps] = await db(d1).batch([
    db(d1).select().from(tasks).where(eq(tasks.goalId, goalId)).orderBy(asc(tasks.position), asc(tasks.createdAt), asc(tasks.id)),
    db(d1)
      .select({ taskId: taskDependencies.taskId, dependsOnId: taskDependencies.dependsOnId })
      .from(taskDependencies)
      .innerJoin(tasks, eq(tasks.id, taskDependencies.taskId))
      .where(eq(tasks.goalId, goalId)),
  ]);
  return { rows, deps };
}

export interface TaskFilter {
  readable?: SQL;
  goalId?: string;
  status?: TaskStatus;
  assignedAgentId?: string;
  search?: string;
}

export async function listTasks(d1: D1Database, f: TaskFilter, limit: number, offset: number): Promise<{ rows: TaskRow[]; total: number }> {
  const where = and(
    f.readable,
    f.goalId ? eq(tasks.goalId, f.goalId) : undefined,
    f.status ? eq(tasks.status, f.status) : undefined,
    f.assignedAgentId ? eq(tasks.assignedAgentId, f.assignedAgentId) : undefined,
    f.search ? sql`(${likeContains(tasks.title, f.search)} OR ${likeContains(tasks.description, f.search)})` : undefined,
  );
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(tasks).where(where).orderBy(desc(tasks.createdAt), desc(tasks.position), asc(tasks.id)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(tasks).where(where),
  ]);
  return { rows, total };
}

/** Tasks of a goal that can be claimed now, in plan order, with their count (one round trip). */
export async function listClaimable(d1: D1Database, goalId: string, limit: number, offset: number): Promise<{ rows: TaskRow[]; total: number }> {
  const where = and(eq(tasks.goalId, goalId), claimable());
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(tasks).where(where).orderBy(asc(tasks.position), asc(tasks.createdAt)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(tasks).where(where),
  ]);
  return { rows, total };
}

/** The task's dependencies that are not completed, in plan order. */
export async function unfinishedDependencies(d1: D1Database, taskId: string): Promise<TaskRow[]> {
  const rows = await db(d1)
    .select(getTableColumns(tasks))
    .from(taskDependencies)
    .innerJoin(tasks, eq(tasks.id, taskDependencies.dependsOnId))
    .where(and(eq(taskDependencies.taskId, taskId), ne(tasks.status, 'completed')))
    .orderBy(asc(tasks.position));
  return rows;
}

/** Tasks of the goal that have started (or been attempted). */
export async function countStarted(d1: D1Database, goalId: string): Promise<number> {
  const [{ n }] = await db(d1)
    .select({ n: count() })
    .from(tasks)
    .where(and(eq(tasks.goalId, goalId), or(sql`${tasks.status} NOT IN ('pending', 'awaiting_approval')`, sql`${tasks.attempts} > 0`)));
  return n;
}

/** The first failed task of the goal in plan order. */
export async function firstFailed(d1: D1Database, goalId: string): Promise<{ title: string; error: string | null } | null> {
  const [row] = await db(d1)
    .select({ title: tasks.title, error: tasks.error })
    .from(tasks)
    .where(and(eq(tasks.goalId, goalId), eq(tasks.status, 'failed')))
    .orderBy(asc(tasks.position))
    .limit(1);
  return row ?? null;
}

/** The goal's final tasks (those nothing depends on), in plan order. */
export async function finalTasks(d1: D1Database, goalId: string): Promise<Array<{ title: string; result: string | null }>> {
  return db(d1)
    .select({ title: tasks.title, result: tasks.result })
    .from(tasks)
    .where(
      and(
        eq(tasks.goalId, goalId),
        sql`NOT EXISTS (SELECT 1 FROM ${taskDependencies} d WHERE d.${sql.identifier(taskDependencies.dependsOnId.name)} = ${tasks}.${sql.identifier(tasks.id.name)})`,
      ),
    )
    .orderBy(asc(tasks.position), asc(tasks.createdAt));
}

// ── a task run's hot path: raw statements (measured: drizzle adds ~0.2 ms of CPU per statement,
// and a task runs about fifteen; bench/results/2026-12-06.md) ──

const TASK_COLUMNS = columnsAs(tasks);

const DEPENDENCY_RESULTS = `SELECT t."title" AS "title", t."result" AS "result" FROM "task_dependencies" d JOIN "tasks" t ON t."id" = d."depends_on_id"
  WHERE d."task_id" = ? ORDER BY t."position"`;

/** Titles and results of the tasks `taskId` builds on, in plan order (a statement for a batch; D1Result<DependencyResult>). */
export const dependencyResults = (d1: D1Database, taskId: string): D1PreparedStatement => d1.prepare(DEPENDENCY_RESULTS).bind(taskId);
export type DependencyResult = { title: string; result: string | null };

const STATUS_COUNTS = `SELECT "status", count(*) AS "n", sum("requires_approval" = 1 AND "approval_status" IS NULL) AS "gated" FROM "tasks"
  WHERE "goal_id" = ? GROUP BY "status"`;

/** Per status: how many tasks of the goal, and how many of them still need an approval (a statement for a batch; D1Result<StatusCount>). */
export const statusCounts = (d1: D1Database, goalId: string): D1PreparedStatement => d1.prepare(STATUS_COUNTS).bind(goalId);
export type StatusCount = { status: TaskStatus; n: number; gated: number };

const READY_IDS = `SELECT "id" FROM "tasks" WHERE "goal_id" = ?1 AND ${READY}`;
const IN_PLAN_ORDER = `ORDER BY "position", "created_at"`;
const READY_IDS_IN_SCOPE = {
  all: `${READY_IDS} ${IN_PLAN_ORDER}`,
  dependentsOf: `${READY_IDS} AND "id" IN (SELECT "task_id" FROM "task_dependencies" WHERE "depends_on_id" = ?2) ${IN_PLAN_ORDER}`,
  only: `${READY_IDS} AND "id" = ?2`,
};

/**
 * Ids of the goal's ready tasks, in plan order. A finished task only looks at its dependents, so
 * a wide goal does not re-enqueue every waiting task on every completion.
 */
export async function readyTaskIds(d1: D1Database, goalId: string, scope: Scope = {}): Promise<string[]> {
  const statement = scope.dependentsOf
    ? d1.prepare(READY_IDS_IN_SCOPE.dependentsOf).bind(goalId, scope.dependentsOf)
    : scope.only
      ? d1.prepare(READY_IDS_IN_SCOPE.only).bind(goalId, scope.only)
      : d1.prepare(READY_IDS_IN_SCOPE.all).bind(goalId);
  const { results } = await statement.all<{ id: string }>();
  return results.map((r) => r.id);
}

// ── subqueries for other stores ──
/** Count of the tasks of the goal whose id is `goalId` (a qualified outer column: a correlated scalar subquery), optionally completed only. */
export const taskCountOf = (goalId: SQL, completedOnly = false) =>
  sql<number>`(SELECT count(*) FROM ${tasks} WHERE ${tasks}.${sql.identifier(tasks.goalId.name)} = ${goalId}${completedOnly ? sql` AND ${tasks}.${sql.identifier(tasks.status.name)} = 'completed'` : sql``})`;

/** Some task of the goal has failed (for a condition). */
export const hasFailedTask = (goalId: string) => sql`EXISTS (SELECT 1 FROM ${tasks} WHERE ${tasks.goalId} = ${goalId} AND ${tasks.status} = 'failed')`;

/** SQL text: the goal id of the task (parameter ?1) while the holder (?2) holds it, a subquery for the goals store's raw statement. */
export const GOAL_ID_OF_HELD_TASK = `SELECT "goal_id" FROM "tasks" WHERE "id" = ?1 AND "claimed_by" = ?2`;

// ── writes (statements for batches) ──
export type NewTask = Pick<TaskRow, 'id' | 'goalId' | 'ownerId' | 'parentId' | 'title' | 'description' | 'assignedAgentId' | 'requiresApproval'> &
  Partial<Pick<TaskRow, 'maxRetries'>> & { position: number | 'next' };

/** INSERT of a task; position `next` puts it after the goal's last task. */
export function insertTask(d1: D1Database, t: NewTask) {
  const position =
    t.position === 'next' ? sql`(SELECT coalesce(max(${tasks.position}), 0) + 1 FROM ${tasks} WHERE ${tasks.goalId} = ${t.goalId})` : t.position;
  return db(d1)
    .insert(tasks)
    .values({ ...t, position: position as number });
}

export const insertDependencies = (d1: D1Database, taskId: string, dependsOn: string[]): Statement[] =>
  dependsOn.map((d) => db(d1).insert(taskDependencies).values({ taskId, dependsOnId: d }));

export const deleteDependenciesOf = (d1: D1Database, taskId: string) => db(d1).delete(taskDependencies).where(eq(taskDependencies.taskId, taskId));

export type TaskChanges = Partial<Pick<TaskRow, 'title' | 'description' | 'parentId' | 'assignedAgentId' | 'maxRetries' | 'requiresApproval' | 'status'>>;

export const updateTask = (d1: D1Database, id: string, changes: TaskChanges) =>
  db(d1)
    .update(tasks)
    .set({ ...changes, updatedAt: now() })
    .where(eq(tasks.id, id));

/** Deletes a task: its children move up to its parent and tasks waiting for it no longer do. */
export const deleteTaskStatements = (d1: D1Database, id: string, parentId: string | null): Statement[] => [
  db(d1)
    .delete(taskDependencies)
    .where(or(eq(taskDependencies.taskId, id), eq(taskDependencies.dependsOnId, id))),
  db(d1).update(tasks).set({ parentId }).where(eq(tasks.parentId, id)),
  db(d1).delete(taskRuns).where(eq(taskRuns.taskId, id)),
  db(d1).delete(tasks).where(eq(tasks.id, id)),
];

/** Deletes every task of the goal with their dependencies; with `runs`, their runs too. */
export const deleteGoalTasks = (d1: D1Database, goalId: string, runs: boolean): Statement[] => [
  db(d1)
    .delete(taskDependencies)
    .where(inArray(taskDependencies.taskId, qb.select({ id: tasks.id }).from(tasks).where(eq(tasks.goalId, goalId)))),
  ...(runs ? [db(d1).delete(taskRuns).where(eq(taskRuns.goalId, goalId))] : []),
  db(d1).delete(tasks).where(eq(tasks.goalId, goalId)),
];

/** Deletes tasks that are not completed (at most 90 ids: D1 binds at most 100 parameters). */
export const deleteUnfinishedTasks = (d1: D1Database, ids: string[]): Statement[] => [
  db(d1)
    .delete(taskDependencies)
    .where(or(inArray(taskDependencies.taskId, ids), inArray(taskDependencies.dependsOnId, ids))),
  db(d1).update(tasks).set({ parentId: null }).where(inArray(tasks.parentId, ids)),
  db(d1).delete(taskRuns).where(inArray(taskRuns.taskId, ids)),
  db(d1)
    .delete(tasks)
    .where(and(inArray(tasks.id, ids), ne(tasks.status, 'completed'))),
];

/** A conditional transition of one task: changes only when its status is one of `from` (a statement returning no rows). */
export const transitionTask = (d1: D1Database, id: string, from: TaskStatus[], changes: Partial<Record<keyof TaskRow, unknown>>) =>
  db(d1)
    .update(tasks)
    .set({ ...(changes as Partial<TaskRow>), updatedAt: now() })
    .where(and(eq(tasks.id, id), inArray(tasks.status, from)));

const END_HELD_RUN = `UPDATE "tasks" SET "status" = ?3,
    "result" = CASE WHEN ?3 = 'completed' THEN ?4 ELSE "result" END, "error" = ?5,
    "claimed_by" = NULL, "lease_expires_at" = NULL,
    "claimed_by_agent_id" = CASE WHEN ?3 = 'pending' THEN NULL ELSE "claimed_by_agent_id" END,
    "completed_at" = CASE WHEN ?3 = 'completed' THEN ${NOW_SQL} ELSE "completed_at" END, "updated_at" = ${NOW_SQL}
  WHERE "id" = ?1 AND "claimed_by" = ?2 AND "status" = 'running'`;

/**
 * The end of a run on its task, while `holder` still holds the running task (else it changes
 * nothing: D1Result.meta.changes 0): `completed` with the result, back to `pending` for a retry
 * (the agent's claim released too), or `failed`; the lease ends in every case.
 */
export const endHeldRun = (d1: D1Database, id: string, holder: string, status: 'completed' | 'pending' | 'failed', result: string | null, error: string | null) =>
  d1.prepare(END_HELD_RUN).bind(id, holder, status, result, error);

/**
 * Tasks that would be ready but need approval become `awaiting_approval`; returns them, so the
 * caller notifies once per task (the UPDATE only matches each task once).
 */
export async function promoteAwaitingApproval(d1: D1Database, goalId: string): Promise<Array<{ id: string; title: string; ownerId: string }>> {
  return db(d1)
    .update(tasks)
    .set({ status: 'awaiting_approval', updatedAt: now() })
    .where(and(eq(tasks.goalId, goalId), eq(tasks.status, 'pending'), eq(tasks.requiresApproval, 1), isNull(tasks.approvalStatus), depsDone()))
    .returning({ id: tasks.id, title: tasks.title, ownerId: tasks.ownerId });
}

export interface ClaimOptions {
  /** Who holds the lease: a run id (queue, execute) or the claiming user. */
  holder: string;
  agentId?: string | null;
  leaseSeconds: number;
  /** `running` for an execution, `claimed` for an API claim. */
  status: 'claimed' | 'running';
  /** Count this claim as an execution attempt. */
  countAttempt: boolean;
  /** Ids of the goals in which the claim may happen (pausing a goal stops new work): a subquery of the goals store. */
  goalIds: SqlText;
  /** Also take a task under a live claim (executing a task someone claimed). */
  fromClaimed?: boolean;
}

// The goals subquery comes last: its anonymous parameters number on from ?7 (SQLite's rule).
const claimSql = (goalIds: string) => `UPDATE "tasks" SET "status" = ?2, "claimed_by" = ?3,
    "claimed_by_agent_id" = CASE WHEN ?2 = 'running' THEN coalesce(?4, "claimed_by_agent_id") ELSE ?4 END,
    "lease_expires_at" = ?5, "attempts" = "attempts" + ?6, "started_at" = coalesce("started_at", ${NOW_SQL}), "updated_at" = ${NOW_SQL}
  WHERE "id" = ?1 AND ((${CLAIMABLE}) OR (?7 AND "tasks"."status" = 'claimed' AND ${DEPS_DONE}))
    AND "goal_id" IN (${goalIds})
  RETURNING ${TASK_COLUMNS}`;
const claimSqlByGoalIds = new Map<string, string>();

/**
 * The claim as one conditional UPDATE returning the claimed row (D1Result<TaskRow>; no row:
 * someone else won, or the task is not claimable), so callers can put it in a batch with what
 * depends on it.
 */
export function claimStatement(d1: D1Database, taskId: string, o: ClaimOptions): D1PreparedStatement {
  let text = claimSqlByGoalIds.get(o.goalIds.text);
  if (!text) claimSqlByGoalIds.set(o.goalIds.text, (text = claimSql(o.goalIds.text)));
  return d1
    .prepare(text)
    .bind(taskId, o.status, o.holder, o.agentId ?? null, leaseUntil(o.leaseSeconds), o.countAttempt ? 1 : 0, o.fromClaimed ? 1 : 0, ...o.goalIds.params);
}

/** Claims a task atomically: exactly one of any number of concurrent callers gets `true`. */
export async function claimTask(d1: D1Database, taskId: string, o: ClaimOptions): Promise<boolean> {
  return (await claimStatement(d1, taskId, o).all()).results.length === 1;
}

/** Releases every lease that has run out; returns the tasks released with their goals. */
export async function releaseExpiredLeases(d1: D1Database): Promise<Array<{ id: string; goalId: string }>> {
  return db(d1)
    .update(tasks)
    .set({ status: 'pending', claimedBy: null, claimedByAgentId: null, leaseExpiresAt: null, updatedAt: now() })
    .where(and(inArray(tasks.status, ['claimed', 'running']), lte(tasks.leaseExpiresAt, now())))
    .returning({ id: tasks.id, goalId: tasks.goalId });
}

const INSERT_RUN_IF_CLAIMED = `INSERT INTO "task_runs" ("id", "task_id", "goal_id", "attempt", "trigger", "agent_id", "status")
  SELECT ?1, "id", "goal_id", "attempts", ?3, coalesce("assigned_agent_id", "claimed_by_agent_id"), 'running' FROM "tasks" WHERE "id" = ?2 AND "claimed_by" = ?1`;

/** The run record of a claim: written only if the claim before it in the batch won (claimed_by = runId). */
export const insertRunIfClaimed = (d1: D1Database, runId: string, taskId: string, trigger: TaskRunRow['trigger']): D1PreparedStatement =>
  d1.prepare(INSERT_RUN_IF_CLAIMED).bind(runId, taskId, trigger);

const FINISH_RUN = `UPDATE "task_runs" SET "status" = ?2, "output" = ?3, "error" = ?4, "token_usage" = ?5, "finished_at" = ${NOW_SQL} WHERE "id" = ?1`;

/** The run's end: its status, the agent's output, the error and the token usage. */
export const finishRun = (d1: D1Database, runId: string, r: Pick<TaskRunRow, 'status' | 'output' | 'error' | 'tokenUsage'>): D1PreparedStatement =>
  d1.prepare(FINISH_RUN).bind(runId, r.status, r.output, r.error, r.tokenUsage);

/** A finished run whose task was lost before it ended (the lease ran out and someone else took it): failed, the output kept. */
export const markRunLost = (d1: D1Database, runId: string) =>
  db(d1).update(taskRuns).set({ status: 'failed', error: 'the lease was lost before the run finished' }).where(eq(taskRuns.id, runId));

// ── for monitoring ──

/**
 * Goal task runs in a range, of the goals `goalIds` selects, as one part of the monitoring runs
 * union: (kind, owner_id, agent_id, status normalised, duration_ms, created_at). The goal
 * fragments (their ids, a goal's owner) come from the goals store, which imports this one.
 */
export function taskRunsPart(range: { from: string; to: string }, goals: { goalIds: SQL; goalOwnerOf: (goalId: SQL) => SQL }): SQL {
  return sql`SELECT 'task' AS kind, ${goals.goalOwnerOf(sql`r.goal_id`)} AS owner_id, r.agent_id AS agent_id, ${sql.raw(normalisedStatus('r.status'))} AS status,
    CASE WHEN r.finished_at IS NOT NULL THEN CAST(round((julianday(r.finished_at) - julianday(r.created_at)) * 86400000) AS INTEGER) END AS duration_ms,
    r.created_at AS created_at FROM ${taskRuns} r WHERE r.created_at >= ${range.from} AND r.created_at < ${range.to} AND r.goal_id IN (${goals.goalIds})`;
}
