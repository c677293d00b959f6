import { eq, sql, type SQL } from 'drizzle-orm';
import { db, now, sqlQuery } from '../../../db/client';
import { traceExporters } from '../../../db/schema/monitoring';
import { percentileSql } from '../../../lib/stats-sql';
import { llmCallerIds, llmCallerIn } from '../../agents/model-configs/store';
import { taskRunsPart } from '../../goals/tasks/store';
import { goalIdsSql, goalOwnerOf } from '../../goals/goals/store';
import { executionRunsPart } from '../../workflows/executions/store';
import { auditActorIds, auditActorIn } from '../audit-logs/store';



/**
 * Monitoring owns one table, `trace_exporters` (below). For its statistics this store composes the
 * owners' query fragments (runs of the executions and tasks stores, actors of the audit and
 * model-call stores).
 */

type Range = { from: string; to: string };

export type ExecutionKind = 'workflow' | 'agent' | 'task';

/**
 * Every run of the platform as one row set (kind, owner_id, agent_id, status, duration_ms,
 * created_at), filtered by time and owner inside each part so each uses its own index:
 * workflow runs (`executions` without a mode), agent runs (`executions` of
 * `POST /agents/{id}/execute`, with their mode) and goal task runs (`task_runs`).
 * Statuses are normalised: succeeded, failed, cancelled, running, other.
 */
export function runsUnion(range: Range, ownerId?: string, kinds?: ExecutionKind[]): { from: SQL; kinds: ExecutionKind[] } {
  const used = (['workflow', 'agent', 'task'] as const).filter((k) => !kinds || kinds.includes(k));
  const parts = used.map((k) => (k === 'task' ? taskRunsPart(range, { goalIds: goalIdsSql(ownerId), goalOwnerOf }) : executionRunsPart(k, range, ownerId)));
  return { from: sql`(${sql.join(parts, sql` UNION ALL `)}) AS x`, kinds: used };
}

/** Users active in the range (an audit entry or a model call): 0/1 for one user, else the count. */
export const activeUsers = (d1: D1Database, range: Range, userId?: string) =>
  sqlQuery(d1).all<{ active: number }>(
    userId
      ? sql`SELECT (${auditActorIn(userId, range)} OR ${llmCallerIn(userId, range)}) AS active`
      : sql`SELECT count(*) AS active FROM (${auditActorIds(range)} UNION ${llmCallerIds(range)})`,
  );

/** Totals over runs: all, created since `since`, succeeded, failed, running, average duration. */
export const runTotals = (d1: D1Database, from: SQL, since: string) =>
  sqlQuery(d1).all<{ total: number; today: number; succeeded: number; failed: number; running: number; avg_duration_ms: number | null }>(
    sql`SELECT count(*) AS total, coalesce(sum(created_at >= ${since}), 0) AS today, coalesce(sum(status = 'succeeded'), 0) AS succeeded,
         coalesce(sum(status = 'failed'), 0) AS failed, coalesce(sum(status = 'running'), 0) AS running, avg(duration_ms) AS avg_duration_ms FROM ${from}`,
  );

/** GET /monitoring/executions: by status, by kind, durations, by day; one batch. */
export async function runStats(d1: D1Database, from: SQL) {
  const d = db(d1);
  const [statuses, kinds, duration, days] = await d.batch([
    sqlQuery(d1).all<{ k: string; n: number }>(sql`SELECT status AS k, count(*) AS n FROM ${from} GROUP BY status`),
    sqlQuery(d1).all<{ kind: string; total: number; succeeded: number; failed: number }>(
      sql`SELECT kind, count(*) AS total, coalesce(sum(status = 'succeeded'), 0) AS succeeded, coalesce(sum(status = 'failed'), 0) AS failed FROM ${from} GROUP BY kind ORDER BY kind`,
    ),
    sqlQuery(d1).all<{ avg_ms: number | null; p50: number | null; p95: number | null }>(percentileSql({ from, groups: {}, value: 'duration_ms', select: 'avg(duration_ms) AS avg_ms' })),
    sqlQuery(d1).all<{ date: string; total: number; succeeded: number; failed: number; avg_duration_ms: number | null }>(
      sql`SELECT substr(created_at, 1, 10) AS date, count(*) AS total, coalesce(sum(status = 'succeeded'), 0) AS succeeded,
         coalesce(sum(status = 'failed'), 0) AS failed, avg(duration_ms) AS avg_duration_ms FROM ${from} GROUP BY date ORDER BY date`,
    ),
  ]);
  return { statuses, kinds, duration: duration[0], days };
}

/** Runs per UTC day, optionally of one agent. */
export const runsByDay = (d1: D1Database, from: SQL, agentId?: string) =>
  sqlQuery(d1).all<{ date: string; n: number }>(sql`SELECT substr(created_at, 1, 10) AS date, count(*) AS n FROM ${from} ${agentId ? sql`WHERE agent_id = ${agentId}` : sql``} GROUP BY date`);

/** Failed runs, optionally of one agent (alert metric failed_executions). */
export const failedRuns = (d1: D1Database, from: SQL, agentId?: string) =>
  sqlQuery(d1).get<{ n: number } | undefined>(sql`SELECT count(*) AS n FROM ${from} WHERE status = 'failed'${agentId ? sql` AND agent_id = ${agentId}` : sql``}`);

// ── trace exporters (the one table monitoring owns: docs/traces.md) ──

export type TraceExporterRow = typeof traceExporters.$inferSelect;
export type NewTraceExporter = Pick<TraceExporterRow, 'userId' | 'endpoint' | 'headers' | 'headersHint' | 'includeContent' | 'enabled'>;

export async function findTraceExporter(d1: D1Database, userId: string): Promise<TraceExporterRow | null> {
  return (await db(d1).select().from(traceExporters).where(eq(traceExporters.userId, userId)).get()) ?? null;
}

/** Sets a user's exporter (one per user: a second replaces the first). */
export async function putTraceExporter(d1: D1Database, row: NewTraceExporter): Promise<TraceExporterRow> {
  const { userId, ...set } = row;
  const [saved] = await db(d1)
    .insert(traceExporters)
    .values(row)
    .onConflictDoUpdate({ target: traceExporters.userId, set: { ...set, updatedAt: now() } })
    .returning();
  return saved;
}

export async function deleteTraceExporter(d1: D1Database, userId: string): Promise<boolean> {
  const res = await db(d1).delete(traceExporters).where(eq(traceExporters.userId, userId));
  return res.meta.changes > 0;
}
