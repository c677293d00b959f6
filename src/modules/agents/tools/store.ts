import { and, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { db } from '../../../db/client';
import { toolUsage } from '../../../db/schema/tools';
import { batchable, percentileSql } from '../../../lib/stats-sql';

/** Raw statistics queries that can join a D1 batch (see batchable). */
const raw = (d1: D1Database) => ({
  all: <T>(q: SQL) => batchable(d1, db(d1).all<T>(q)),
  get: <T>(q: SQL) => batchable(d1, db(d1).get<T>(q)),
  run: (q: SQL) => batchable(d1, db(d1).run(q)),
});


// ── for agent-monitoring ──

/** Tool calls in a range, optionally of one agent, one user (the own scope). */
export interface ToolUsageFilter {
  range: { from: string; to: string };
  agentId?: string;
  userId?: string;
}

const toolUsageWhere = (f: ToolUsageFilter): SQL =>
  and(
    gte(toolUsage.createdAt, f.range.from),
    lt(toolUsage.createdAt, f.range.to),
    f.agentId ? eq(toolUsage.agentId, f.agentId) : undefined,
    f.userId ? eq(toolUsage.userId, f.userId) : undefined,
  )!;

export const toolUsageTotals = (d1: D1Database, f: ToolUsageFilter) =>
  raw(d1).all<{ total: number; failed: number }>(sql`SELECT count(*) AS total, coalesce(sum(NOT ok), 0) AS failed FROM ${toolUsage} WHERE ${toolUsageWhere(f)}`);

export const toolUsageByTool = (d1: D1Database, f: ToolUsageFilter) =>
  raw(d1).all<{ tool_name: string; tool_type: string; calls: number; failed: number; avg_ms: number; p50: number; p95: number }>(
    percentileSql({
      from: sql`${toolUsage}`,
      where: toolUsageWhere(f),
      groups: { tool_name: 'tool_name', tool_type: 'tool_type' },
      value: 'duration_ms',
      select: 'count(*) AS calls, coalesce(sum(NOT ok), 0) AS failed, avg(duration_ms) AS avg_ms',
      orderBy: 'calls DESC, tool_name',
    }),
  );

export const toolUsageByDay = (d1: D1Database, f: ToolUsageFilter) =>
  raw(d1).all<{ date: string; n: number }>(sql`SELECT substr(created_at, 1, 10) AS date, count(*) AS n FROM ${toolUsage} WHERE ${toolUsageWhere(f)} GROUP BY date`);
