import { sql, type SQL } from 'drizzle-orm';
import { taskRuns } from '../../../db/schema/tasks';
import { normalisedStatus } from '../../../lib/stats-sql';
import { goalIdsSql, goalOwnerOf } from '../goals/store';

// ── for monitoring ──

/**
 * Goal task runs in a range, optionally of one goal owner, as one part of the monitoring runs
 * union: (kind, owner_id, agent_id, status normalised, duration_ms, created_at).
 */
export function taskRunsPart(range: { from: string; to: string }, ownerId?: string): SQL {
  return sql`SELECT 'task' AS kind, ${goalOwnerOf(sql`r.goal_id`)} AS owner_id, r.agent_id AS agent_id, ${sql.raw(normalisedStatus('r.status'))} AS status,
    CASE WHEN r.finished_at IS NOT NULL THEN CAST(round((julianday(r.finished_at) - julianday(r.created_at)) * 86400000) AS INTEGER) END AS duration_ms,
    r.created_at AS created_at FROM ${taskRuns} r WHERE r.created_at >= ${range.from} AND r.created_at < ${range.to} AND r.goal_id IN (${goalIdsSql(ownerId)})`;
}
