import { and, count, desc, eq, getTableColumns, inArray, notInArray, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { QueryBuilder } from 'drizzle-orm/sqlite-core';
import { columnsAs, db, now, rowByIdSql, type SqlText, type Statement, likeContains } from '../../../db/client';
import { goalMessages, goals } from '../../../db/schema/goals';
import { deleteGoalTasks, GOAL_ID_OF_HELD_TASK, hasFailedTask, taskCountOf } from '../tasks/store';

/** The owner and resource-id columns of listed goals, for authorize's readableWhere(). */
export const goalAccess = { ownerId: goals.ownerId, id: goals.id };

/** Goals and the `interact` conversation about them. */
export type GoalRow = typeof goals.$inferSelect;
export type GoalStatus = GoalRow['status'];
export type GoalMessageRow = typeof goalMessages.$inferSelect;
/** A goal with its progress: counted from the tasks on every read, so it never disagrees with them. */
export type GoalWithCounts = GoalRow & { taskCount: number; completedTaskCount: number };

const qb = new QueryBuilder();

const goalId = sql`${goals}.${sql.identifier(goals.id.name)}`;
const withCounts = {
  ...getTableColumns(goals),
  taskCount: taskCountOf(goalId).as('task_count'),
  completedTaskCount: taskCountOf(goalId, true).as('completed_task_count'),
};

export async function findGoal(d1: D1Database, id: string): Promise<GoalWithCounts | null> {
  const [row] = await db(d1).select(withCounts).from(goals).where(eq(goals.id, id));
  return row ?? null;
}

// The goal rows of a task run's hot path: raw statements (see the tasks store).
const GOAL_BY_ID = rowByIdSql(goals);
const GOAL_OF_HELD_TASK = `SELECT ${columnsAs(goals)} FROM "goals" WHERE "id" IN (${GOAL_ID_OF_HELD_TASK})`;

/** The goal alone (a statement for a batch; D1Result<GoalRow>). */
export const selectGoal = (d1: D1Database, id: string): D1PreparedStatement => d1.prepare(GOAL_BY_ID).bind(id);

/** The goal of the task while `holder` holds the task (a statement for a batch, D1Result<GoalRow>: none once the lease is lost). */
export const selectGoalOfHeldTask = (d1: D1Database, taskId: string, holder: string): D1PreparedStatement => d1.prepare(GOAL_OF_HELD_TASK).bind(taskId, holder);

export async function findGoalRow(d1: D1Database, id: string): Promise<GoalRow | null> {
  return selectGoal(d1, id).first<GoalRow>();
}

export interface GoalFilter {
  readable?: SQL;
  search?: string;
  status?: GoalStatus;
  priority?: GoalRow['priority'];
}

export async function listGoals(d1: D1Database, f: GoalFilter, limit: number, offset: number): Promise<{ rows: GoalWithCounts[]; total: number }> {
  const where = and(
    f.readable,
    f.search ? sql`(${likeContains(goals.title, f.search)} OR ${likeContains(goals.description, f.search)})` : undefined,
    f.status ? eq(goals.status, f.status) : undefined,
    f.priority ? eq(goals.priority, f.priority) : undefined,
  );
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select(withCounts).from(goals).where(where).orderBy(desc(goals.createdAt), desc(goals.id)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(goals).where(where),
  ]);
  return { rows, total };
}

/** Ids of the goals in one of `statuses` (a subquery for other stores' raw statements). */
export const goalIdsInStatus = (statuses: GoalStatus[]): SqlText => ({
  text: `SELECT "id" FROM "goals" WHERE "status" IN (SELECT value FROM json_each(?))`,
  params: [JSON.stringify(statuses)],
});

export async function insertGoal(d1: D1Database, goal: Pick<GoalRow, 'id' | 'ownerId' | 'title' | 'description' | 'priority' | 'deadline' | 'agentIds'>): Promise<void> {
  await db(d1).insert(goals).values(goal);
}

export type GoalChanges = Partial<Record<keyof GoalRow, unknown>>;

/**
 * Changes the goal when its status is one of `from` (or, with `notIn`, none of those); returns
 * whether it changed.
 */
export async function updateGoal(d1: D1Database, id: string, changes: GoalChanges, status?: { in?: GoalStatus[]; notIn?: GoalStatus[] }): Promise<boolean> {
  const res = await updateGoalStatement(d1, id, changes, status);
  return res.meta.changes > 0;
}

export const updateGoalStatement = (d1: D1Database, id: string, changes: GoalChanges, status: { in?: GoalStatus[]; notIn?: GoalStatus[] } = {}) =>
  db(d1)
    .update(goals)
    .set({ ...(changes as Partial<GoalRow>), updatedAt: now() })
    .where(
      and(
        eq(goals.id, id),
        status.in ? inArray(goals.status, status.in) : undefined,
        status.notIn ? notInArray(goals.status, status.notIn) : undefined,
      ),
    );

/** `started_at` keeps the first start. */
export const startedNow = () => sql<string>`coalesce(${goals.startedAt}, ${now()})`;

const OPEN: GoalStatus[] = ['draft', 'active', 'paused'];

/** Completes an open goal (a statement for a batch; it changes nothing when the goal is no longer open). */
export const completeGoalStatement = (d1: D1Database, id: string, result: string) =>
  updateGoalStatement(d1, id, { status: 'completed', result, error: null, completedAt: now() }, { in: OPEN });

/** Fails an open goal (a statement for a batch; it changes nothing when the goal is no longer open). */
export const failGoalStatement = (d1: D1Database, id: string, error: string) => updateGoalStatement(d1, id, { status: 'failed', error }, { in: OPEN });

/** A failed goal becomes active again (after a replan), or, with `unlessFailedTasks`, when none of its tasks is failed any more. */
export const reactivateFailedGoal = (d1: D1Database, goalId: string, unlessFailedTasks: boolean) =>
  db(d1)
    .update(goals)
    .set({ status: 'active', error: null, updatedAt: now() })
    .where(and(eq(goals.id, goalId), eq(goals.status, 'failed'), unlessFailedTasks ? sql`NOT ${hasFailedTask(goalId)}` : undefined));

/** Deletes the goal with its tasks, dependencies, runs and conversation. */
export const deleteGoalStatements = (d1: D1Database, goalId: string): Statement[] => [
  ...deleteGoalTasks(d1, goalId, true),
  db(d1).delete(goalMessages).where(eq(goalMessages.goalId, goalId)),
  db(d1).delete(goals).where(eq(goals.id, goalId)),
];

/** The last `limit` messages about the goal, newest first. */
export async function recentMessages(d1: D1Database, goalId: string, limit: number): Promise<Array<Pick<GoalMessageRow, 'role' | 'content' | 'seq'>>> {
  return db(d1)
    .select({ role: goalMessages.role, content: goalMessages.content, seq: goalMessages.seq })
    .from(goalMessages)
    .where(eq(goalMessages.goalId, goalId))
    .orderBy(desc(goalMessages.seq))
    .limit(limit);
}

export async function appendMessages(d1: D1Database, goalId: string, firstSeq: number, messages: Array<Pick<GoalMessageRow, 'role' | 'content'>>): Promise<void> {
  const statements = messages.map((m, i) => db(d1).insert(goalMessages).values({ id: crypto.randomUUID(), goalId, seq: firstSeq + i, role: m.role, content: m.content }));
  await db(d1).batch(statements as unknown as [Statement, ...Statement[]]);
}

// ── for monitoring ──

/** `SELECT id FROM goals [WHERE owner_id = ?]`: the goals (of one owner), as a subquery. */
export const goalIdsSql = (ownerId?: string): SQL => sql`SELECT ${goals.id} FROM ${goals}${ownerId ? sql` WHERE ${eq(goals.ownerId, ownerId)}` : sql``}`;

/** The owner of the goal `goalId` refers to, as a scalar subquery. */
export const goalOwnerOf = (goalId: SQLWrapper): SQL<string> => sql<string>`(SELECT ${goals.ownerId} FROM ${goals} WHERE ${goals.id} = ${goalId})`;

// ── for permissions ──

/** A goal's id and owner, for authorize(); null when there is none. */
export async function findResourceRef(d1: D1Database, id: string): Promise<{ id: string; owner_id: string } | null> {
  const [row] = await db(d1).select({ id: goals.id, owner_id: goals.ownerId }).from(goals).where(eq(goals.id, id));
  return row ?? null;
}
