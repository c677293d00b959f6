import { and, count, desc, eq, gte, lt, or, sql, type SQL } from 'drizzle-orm';
import { db, type Statement, likeStartsWith, sqlQuery } from '../../../db/client';
import { auditLogs } from '../../../db/schema/audit-logs';
import { userEmailOf } from '../../identity/auth/store';



/** The audit_logs table: one row per state-changing API request. */
export type AuditLogRow = typeof auditLogs.$inferSelect;
export type AuditLogInsert = typeof auditLogs.$inferInsert;

type Range = { from: string; to: string };

/** `INSERT OR IGNORE` on the id (the id comes from the request, so a redelivery inserts nothing). */
// Hot path (one row per write request, through the audit queue): a prepared statement, so recording
// costs its query and no query building (bench/results/2026-12-06.md).
const INSERT_AUDIT_LOG = `INSERT OR IGNORE INTO audit_logs (id, user_id, action, method, path, resource_type, resource_id, status_code, ip, user_agent, request_id, duration_ms, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export const insertAuditLog = (d1: D1Database, r: Required<Omit<AuditLogInsert, 'createdAt'>> & { createdAt: string }): D1PreparedStatement =>
  d1.prepare(INSERT_AUDIT_LOG).bind(r.id, r.userId, r.action, r.method, r.path, r.resourceType, r.resourceId, r.statusCode, r.ip, r.userAgent, r.requestId, r.durationMs, r.createdAt);

export interface AuditFilter {
  /** The own scope: only this user's entries. */
  ownerId?: string;
  userId?: string;
  /** An action or a prefix of whole parts. */
  action?: string;
  resourceType?: string;
  resourceId?: string;
  outcome?: 'success' | 'failure';
  range?: Range | null;
}

export function auditWhere(f: AuditFilter): SQL | undefined {
  const t = auditLogs;
  return and(
    f.ownerId ? eq(t.userId, f.ownerId) : undefined,
    f.userId ? eq(t.userId, f.userId) : undefined,
    f.action ? or(eq(t.action, f.action), likeStartsWith(t.action, `${f.action}.`)) : undefined,
    f.resourceType ? eq(t.resourceType, f.resourceType) : undefined,
    f.resourceId ? eq(t.resourceId, f.resourceId) : undefined,
    f.outcome ? (f.outcome === 'success' ? lt(t.statusCode, 400) : gte(t.statusCode, 400)) : undefined,
    f.range ? and(gte(t.createdAt, f.range.from), lt(t.createdAt, f.range.to)) : undefined,
  );
}

export type ListedAuditLog = AuditLogRow & { userEmail: string | null };

/** A page of entries (with the user's email), newest first, and the number matching: one round trip. */
export async function listAuditLogs(d1: D1Database, f: AuditFilter, limit: number, offset: number): Promise<{ rows: ListedAuditLog[]; total: number }> {
  const where = auditWhere(f);
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1)
      .select({ ...auditLogColumns, userEmail: userEmailOf(auditLogs.userId) })
      .from(auditLogs)
      .where(where)
      .orderBy(desc(auditLogs.createdAt), auditLogs.id)
      .limit(limit)
      .offset(offset),
    db(d1).select({ total: count() }).from(auditLogs).where(where),
  ]);
  return { rows, total };
}

const auditLogColumns = {
  id: auditLogs.id,
  userId: auditLogs.userId,
  action: auditLogs.action,
  method: auditLogs.method,
  path: auditLogs.path,
  resourceType: auditLogs.resourceType,
  resourceId: auditLogs.resourceId,
  statusCode: auditLogs.statusCode,
  ip: auditLogs.ip,
  userAgent: auditLogs.userAgent,
  requestId: auditLogs.requestId,
  durationMs: auditLogs.durationMs,
  createdAt: auditLogs.createdAt,
};

/** The figures of GET /audit-logs/stats, in one batch. */
export async function auditStats(d1: D1Database, f: AuditFilter) {
  const d = db(d1);
  const t = auditLogs;
  const where = auditWhere(f);
  const w = where ? sql`WHERE ${where}` : sql``;
  const [totals, classes, actions, users, types, days] = await d.batch([
    sqlQuery(d1).all<{ total: number; failures: number }>(sql`SELECT count(*) AS total, coalesce(sum(status_code >= 400), 0) AS failures FROM ${t} ${w}`),
    sqlQuery(d1).all<{ k: string; n: number }>(sql`SELECT (status_code / 100) || 'xx' AS k, count(*) AS n FROM ${t} ${w} GROUP BY k`),
    sqlQuery(d1).all<{ key: string; count: number }>(sql`SELECT action AS key, count(*) AS count FROM ${t} ${w} GROUP BY action ORDER BY count DESC, key LIMIT 20`),
    sqlQuery(d1).all<{ key: string | null; email: string | null; count: number }>(
      sql`SELECT ${t.userId} AS key, ${userEmailOf(t.userId)} AS email, count(*) AS count FROM ${t} ${w} GROUP BY ${t.userId} ORDER BY count DESC, key LIMIT 10`,
    ),
    sqlQuery(d1).all<{ key: string | null; count: number }>(sql`SELECT resource_type AS key, count(*) AS count FROM ${t} ${w} GROUP BY resource_type ORDER BY count DESC, key LIMIT 20`),
    sqlQuery(d1).all<{ date: string; count: number; failures: number }>(
      sql`SELECT substr(created_at, 1, 10) AS date, count(*) AS count, sum(status_code >= 400) AS failures FROM ${t} ${w} GROUP BY date ORDER BY date`,
    ),
  ]);
  return { totals: totals[0], classes, actions, users, types, days };
}

/** Deletes up to `chunk` entries older than `cutoff` (retention). */
export function deleteAuditLogsBefore(d1: D1Database, cutoff: string, chunk: number): Statement {
  return sqlQuery(d1).run(sql`DELETE FROM ${auditLogs} WHERE rowid IN (SELECT rowid FROM ${auditLogs} WHERE ${lt(auditLogs.createdAt, cutoff)} LIMIT ${sql.raw(String(chunk))})`);
}

// Monitoring reads the audit trail too (it owns no table).

/** Recent successful state changes (activity feed), newest first, with the number matching. */
export async function listActivities(d1: D1Database, ownerId: string | undefined, range: Range | null, limit: number, offset: number) {
  const where = and(lt(auditLogs.statusCode, 400), auditWhere({ ownerId, range }));
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1)
      .select({
        id: auditLogs.id,
        userId: auditLogs.userId,
        userEmail: userEmailOf(auditLogs.userId),
        action: auditLogs.action,
        resourceType: auditLogs.resourceType,
        resourceId: auditLogs.resourceId,
        statusCode: auditLogs.statusCode,
        createdAt: auditLogs.createdAt,
      })
      .from(auditLogs)
      .where(where)
      .orderBy(desc(auditLogs.createdAt), auditLogs.id)
      .limit(limit)
      .offset(offset),
    db(d1).select({ total: count() }).from(auditLogs).where(where),
  ]);
  return { rows, total };
}

/** The ids of users with an audit entry in the range, as a subquery (for active-user counts). */
export const auditActorIds = (range: Range): SQL =>
  sql`SELECT user_id FROM ${auditLogs} WHERE ${and(gte(auditLogs.createdAt, range.from), lt(auditLogs.createdAt, range.to))} AND user_id IS NOT NULL`;

/** Whether the user has an audit entry in the range, as an EXISTS expression. */
export const auditActorIn = (userId: string, range: Range): SQL =>
  sql`EXISTS (SELECT 1 FROM ${auditLogs} WHERE ${and(eq(auditLogs.userId, userId), gte(auditLogs.createdAt, range.from), lt(auditLogs.createdAt, range.to))})`;
