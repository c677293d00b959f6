import { sql, type SQL } from 'drizzle-orm';
import { db } from '../../../db/client';
import { executionNodes, executions } from '../../../db/schema/executions';
import { batchable, normalisedStatus, percentileSql } from '../../../lib/stats-sql';

/** Raw statistics queries that can join a D1 batch (see batchable). */
const raw = (d1: D1Database) => ({
  all: <T>(q: SQL) => batchable(d1, db(d1).all<T>(q)),
  get: <T>(q: SQL) => batchable(d1, db(d1).get<T>(q)),
  run: (q: SQL) => batchable(d1, db(d1).run(q)),
});


// ── for monitoring ──

/**
 * Workflow runs (`mode IS NULL`) or agent runs (`POST /agents/{id}/execute`, with a mode) in a
 * range, optionally of one owner, as one part of the monitoring runs union:
 * (kind, owner_id, agent_id, status normalised, duration_ms, created_at).
 */
export function executionRunsPart(kind: 'workflow' | 'agent', range: { from: string; to: string }, ownerId?: string): SQL {
  return sql`SELECT ${sql.raw(`'${kind}'`)} AS kind, owner_id, agent_id, ${sql.raw(normalisedStatus('status'))} AS status, duration_ms, created_at FROM ${executions}
    WHERE created_at >= ${range.from} AND created_at < ${range.to} AND mode ${sql.raw(kind === 'workflow' ? 'IS NULL' : 'IS NOT NULL')}${ownerId ? sql` AND owner_id = ${ownerId}` : sql``}`;
}

/** Per node type: runs, failures, average and percentile durations, tokens, of runs created in the range. */
export function nodeTypeStats(d1: D1Database, range: { from: string; to: string }, ownerId?: string) {
  return raw(d1).all<{ node_type: string; runs: number; failed: number; avg_ms: number | null; tokens: number; p50: number | null; p95: number | null }>(
    percentileSql({
      from: sql`(SELECT n.node_type, n.status, n.duration_ms, n.total_tokens FROM ${executionNodes} n JOIN ${executions} e ON e.id = n.execution_id
        WHERE e.created_at >= ${range.from} AND e.created_at < ${range.to}${ownerId ? sql` AND e.owner_id = ${ownerId}` : sql``})`,
      groups: { node_type: 'node_type' },
      value: 'duration_ms',
      select: "count(*) AS runs, coalesce(sum(status = 'failed'), 0) AS failed, avg(duration_ms) AS avg_ms, coalesce(sum(total_tokens), 0) AS tokens",
      orderBy: 'runs DESC, node_type',
    }),
  );
}
