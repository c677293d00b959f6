import { and, count, desc, eq, getTableColumns, inArray, lt, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { db, insertRowsSql, rowValues, type Statement, likeContains } from '../../../db/client';
import { executionLogs } from '../../../db/schema/execution-logs';
import { runIdsWhere } from '../executions/store';

export type ExecutionLogRow = typeof executionLogs.$inferSelect;

/** What the API shows of an entry (never its owner). */
const shown = {
  id: executionLogs.id,
  executionId: executionLogs.executionId,
  seq: executionLogs.seq,
  nodeId: executionLogs.nodeId,
  level: executionLogs.level,
  message: executionLogs.message,
  data: executionLogs.data,
  createdAt: executionLogs.createdAt,
};
export type ShownLog = Pick<ExecutionLogRow, keyof typeof shown>;

/** Entries the user may read: their own, and those of the runs matching `runs` (undefined: every entry). */
export function readableLogsWhere(d1: D1Database, userId: string, runs: SQL | undefined): SQL | undefined {
  if (!runs) return undefined;
  return or(eq(executionLogs.ownerId, userId), inArray(executionLogs.executionId, runIdsWhere(d1, runs)));
}

export async function listLogs(
  d1: D1Database,
  q: { readable?: SQL; executionId?: string; nodeId?: string; level?: string; search?: string; since?: string; until?: string; limit: number; offset: number },
): Promise<{ rows: ShownLog[]; total: number }> {
  const where = and(
    q.readable,
    q.executionId ? eq(executionLogs.executionId, q.executionId) : undefined,
    q.nodeId ? eq(executionLogs.nodeId, q.nodeId) : undefined,
    q.level ? eq(executionLogs.level, q.level as ExecutionLogRow['level']) : undefined,
    q.search ? likeContains(executionLogs.message, q.search) : undefined,
    q.since ? sql`${executionLogs.createdAt} >= ${q.since}` : undefined,
    q.until ? sql`${executionLogs.createdAt} <= ${q.until}` : undefined,
  );
  const [[{ total }], rows] = await db(d1).batch([
    db(d1).select({ total: count() }).from(executionLogs).where(where),
    db(d1).select(shown).from(executionLogs).where(where).orderBy(desc(executionLogs.createdAt), desc(executionLogs.seq)).limit(q.limit).offset(q.offset),
  ]);
  return { rows, total };
}

export async function findLog(d1: D1Database, id: string): Promise<(ShownLog & { ownerId: string }) | null> {
  return (await db(d1).select({ ...shown, ownerId: executionLogs.ownerId }).from(executionLogs).where(eq(executionLogs.id, id)).get()) ?? null;
}

export async function logsOf(d1: D1Database, executionId: string): Promise<ShownLog[]> {
  return db(d1).select(shown).from(executionLogs).where(eq(executionLogs.executionId, executionId)).orderBy(executionLogs.seq);
}

/** Entries per level of the runs matching `runs` (for the statistics' batch). */
export function levelCountsQuery(d1: D1Database, runs: SQL | undefined) {
  return db(d1)
    .select({ level: executionLogs.level, n: count() })
    .from(executionLogs)
    .where(inArray(executionLogs.executionId, runIdsWhere(d1, runs)))
    .groupBy(executionLogs.level);
}

/** Deletes a user's entries created before `cutoff`; how many went. */
export async function deleteLogsBefore(d1: D1Database, ownerId: string, cutoff: string): Promise<number> {
  const gone = await db(d1)
    .delete(executionLogs)
    .where(and(eq(executionLogs.ownerId, ownerId), lt(executionLogs.createdAt, cutoff)))
    .returning({ id: executionLogs.id });
  return gone.length;
}

/** Deletes the entries of the runs a subquery selects (a run's record expiring: executions/retention.ts). */
export function deleteLogsOfRunsStatement(d1: D1Database, runIds: SQLWrapper): Statement {
  return db(d1).delete(executionLogs).where(inArray(executionLogs.executionId, runIds));
}

const LOG_FIELDS = Object.keys(getTableColumns(executionLogs));
/** D1 binds at most 100 parameters per statement: 11 rows of 9 columns each. */
const LOG_ROWS_PER_STATEMENT = Math.floor(100 / LOG_FIELDS.length);

/**
 * The actor's (or an inline run's) new entries of a run, kept when already there (a mirror retried
 * after a restart): raw statements made once per shape, no per-call query building.
 */
export function insertLogsStatements(d1: D1Database, rows: ExecutionLogRow[]): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += LOG_ROWS_PER_STATEMENT) {
    const part = rows.slice(i, i + LOG_ROWS_PER_STATEMENT);
    out.push(d1.prepare(insertRowsSql(executionLogs, LOG_FIELDS, part.length, 'ON CONFLICT DO NOTHING')).bind(...rowValues(executionLogs, LOG_FIELDS, part)));
  }
  return out;
}
