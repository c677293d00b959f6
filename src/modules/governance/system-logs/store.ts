import { and, count, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { db, NOW_SQL, type Statement, likeContains, likeStartsWith, sqlQuery } from '../../../db/client';
import { systemLogs } from '../../../db/schema/system-logs';
import { percentileSql } from '../../../lib/stats-sql';

/** The system_logs table: request lines, unhandled errors, background jobs, application messages. */
export type SystemLogRow = typeof systemLogs.$inferSelect;
export type SystemLogInsert = typeof systemLogs.$inferInsert;

type Range = { from: string; to: string };

/** The insert of one line; `INSERT OR IGNORE` on the id, so writing the same entry twice keeps one row. */
// Hot path (a request line per request, through the audit queue): a prepared statement, so logging
// costs its query and no query building (bench/results/2026-12-06.md).
const INSERT_SYSTEM_LOG = `INSERT OR IGNORE INTO system_logs (id, category, level, source, message, request_id, user_id, method, path, status_code, duration_ms, weight, data, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, ${NOW_SQL}))`;

export function insertSystemLog(d1: D1Database, r: Required<Omit<SystemLogInsert, 'createdAt'>> & { createdAt: string | null }): D1PreparedStatement {
  return d1
    .prepare(INSERT_SYSTEM_LOG)
    .bind(r.id, r.category, r.level, r.source, r.message, r.requestId, r.userId, r.method, r.path, r.statusCode, r.durationMs, r.weight, r.data, r.createdAt);
}

/** The cause of the last failed attempt of a background job on a resource (a dead letter's consumer is not told why). */
export async function lastJobFailureCause(d1: D1Database, resourceType: string, resourceId: string): Promise<string | null> {
  const t = systemLogs;
  const [row] = await db(d1)
    .select({ cause: sql<string | null>`json_extract(${t.data}, '$.cause')` })
    .from(t)
    .where(
      and(
        eq(t.level, 'warn'),
        eq(t.category, 'job'),
        sql`json_extract(${t.data}, '$.resource_type') = ${resourceType}`,
        sql`json_extract(${t.data}, '$.resource_id') = ${resourceId}`,
      ),
    )
    .orderBy(desc(t.createdAt))
    .limit(1);
  return row?.cause ?? null;
}

export interface SystemLogFilter {
  category?: SystemLogRow['category'];
  categories?: Array<SystemLogRow['category']>;
  level?: string;
  source?: string;
  userId?: string;
  requestId?: string;
  search?: string;
  pathPrefix?: string;
  statusCode?: number;
  range?: Range | null;
}

function filterWhere(f: SystemLogFilter): SQL | undefined {
  const t = systemLogs;
  return and(
    f.category ? eq(t.category, f.category) : f.categories ? inArray(t.category, f.categories) : undefined,
    f.level ? eq(t.level, f.level as SystemLogRow['level']) : undefined,
    f.source ? eq(t.source, f.source) : undefined,
    f.userId ? eq(t.userId, f.userId) : undefined,
    f.requestId ? eq(t.requestId, f.requestId) : undefined,
    f.search ? likeContains(t.message, f.search) : undefined,
    f.pathPrefix ? likeStartsWith(t.path, f.pathPrefix) : undefined,
    f.statusCode ? eq(t.statusCode, f.statusCode) : undefined,
    f.range ? and(gte(t.createdAt, f.range.from), lt(t.createdAt, f.range.to)) : undefined,
  );
}

/** A page of lines, newest first, and the number matching: one round trip. */
export async function listSystemLogs(d1: D1Database, f: SystemLogFilter, limit: number, offset: number): Promise<{ rows: SystemLogRow[]; total: number }> {
  const where = filterWhere(f);
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(systemLogs).where(where).orderBy(desc(systemLogs.createdAt), systemLogs.id).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(systemLogs).where(where),
  ]);
  return { rows, total };
}

const inRange = (r: Range) => and(gte(systemLogs.createdAt, r.from), lt(systemLogs.createdAt, r.to))!;
const requestsIn = (r: Range, userId?: string) => and(eq(systemLogs.category, 'request'), inRange(r), userId ? eq(systemLogs.userId, userId) : undefined)!;

/** The figures of GET /system-logs/stats, in one batch. */
export async function systemLogStats(d1: D1Database, range: Range) {
  const d = db(d1);
  const t = systemLogs;
  const requests = requestsIn(range);
  const [cats, levels, overall, paths, jobs, hours] = await d.batch([
    d.select({ k: t.category, n: count() }).from(t).where(inRange(range)).groupBy(t.category),
    d.select({ k: t.level, n: count() }).from(t).where(inRange(range)).groupBy(t.level),
    sqlQuery(d1).all<{ count: number; server_errors: number; client_errors: number; avg_ms: number | null; p50: number | null; p95: number | null }>(
      percentileSql({
        from: sql`${t}`,
        where: requests,
        groups: {},
        value: 'duration_ms',
        select: `coalesce(sum(weight), 0) AS count, coalesce(sum(CASE WHEN status_code >= 500 THEN weight END), 0) AS server_errors,
          coalesce(sum(CASE WHEN status_code BETWEEN 400 AND 499 THEN weight END), 0) AS client_errors,
          sum(duration_ms * weight) / sum(weight) AS avg_ms`,
      }),
    ),
    sqlQuery(d1).all<{ path: string; count: number; errors: number; p50: number | null; p95: number | null }>(
      percentileSql({
        from: sql`${t}`,
        where: requests,
        groups: { path: 'path' },
        value: 'duration_ms',
        select: 'sum(weight) AS count, coalesce(sum(CASE WHEN status_code >= 500 THEN weight END), 0) AS errors',
        orderBy: 'count DESC, path',
        limit: 10,
      }),
    ),
    // Runs are the lines with a duration (a queue batch, a cron run); failures the warnings and errors (failed attempts, give-ups).
    sqlQuery(d1).all<{ runs: number; failures: number }>(
      sql`SELECT coalesce(sum(duration_ms IS NOT NULL), 0) AS runs, coalesce(sum(level IN ('warn', 'error')), 0) AS failures FROM ${t} WHERE ${and(eq(t.category, 'job'), inRange(range))}`,
    ),
    sqlQuery(d1).all<{ hour: string; requests: number; errors: number }>(
      sql`SELECT substr(created_at, 1, 13) || ':00:00Z' AS hour, sum(weight) AS requests, coalesce(sum(CASE WHEN status_code >= 500 THEN weight END), 0) AS errors
       FROM ${t} WHERE ${requests} GROUP BY substr(created_at, 1, 13) ORDER BY hour`,
    ),
  ]);
  return { cats, levels, overall: overall[0], paths, jobs: jobs[0], hours };
}

/** Deletes up to `chunk` lines older than `cutoff` (retention). */
export function deleteSystemLogsBefore(d1: D1Database, cutoff: string, chunk: number): Statement {
  return sqlQuery(d1).run(sql`DELETE FROM ${systemLogs} WHERE rowid IN (SELECT rowid FROM ${systemLogs} WHERE ${lt(systemLogs.createdAt, cutoff)} LIMIT ${sql.raw(String(chunk))})`);
}

/** Weighted request count and server errors in a window (alert metric error_rate); `userId` narrows to one user's requests. */
export async function requestErrors(d1: D1Database, range: Range, userId?: string): Promise<{ total: number | null; errors: number } | undefined> {
  return sqlQuery(d1).get(
    sql`SELECT sum(weight) AS total, coalesce(sum(CASE WHEN status_code >= 500 THEN weight END), 0) AS errors FROM ${systemLogs} WHERE ${requestsIn(range, userId)}`,
  );
}

/** The 95th percentile of request durations in a window (alert metric p95_latency). */
export async function requestP95(d1: D1Database, range: Range, userId?: string): Promise<number | null> {
  const r = await sqlQuery(d1).get<{ p95: number | null } | undefined>(
    percentileSql({ from: sql`${systemLogs}`, where: requestsIn(range, userId), groups: {}, value: 'duration_ms', select: 'count(*) AS n' }),
  );
  return r?.p95 ?? null;
}
