import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { hasPermission } from '../../identity/permissions/authorize';
import { existingTables } from '../../../lib/d1';

/**
 * What the monitoring endpoints aggregate. Every figure comes from a recorded table; tables of
 * modules that are not deployed (`executions`, `tool_usage`, `execution_nodes`) are left out —
 * their figures are absent, never invented.
 */
export const OPTIONAL_TABLES = ['executions', 'execution_nodes', 'tool_usage', 'workflows'] as const;

export interface Scope {
  /** `all` with monitoring:read (admins), else `own`: only the caller's data. */
  scope: 'all' | 'own';
  userId: string;
  tables: Set<string>;
}

export async function scopeOf(env: Env, user: AuthUser): Promise<Scope> {
  const [all, tables] = await Promise.all([hasPermission(env, user, 'monitoring:read'), existingTables(env.DB, [...OPTIONAL_TABLES])]);
  return { scope: all ? 'all' : 'own', userId: user.id, tables };
}

/** `AND <column> = ?` for the own scope. */
export function ownerClause(s: Scope, column: string): { sql: string; binds: unknown[] } {
  return s.scope === 'own' ? { sql: ` AND ${column} = ?`, binds: [s.userId] } : { sql: '', binds: [] };
}

export type ExecutionKind = 'workflow' | 'agent' | 'task';

/**
 * Every run of the platform as one row set (kind, owner_id, agent_id, status, duration_ms,
 * created_at), filtered by time and scope inside each part so each uses its own index:
 * workflow runs (`executions` without a mode), agent runs (`executions` of
 * `POST /agents/{id}/execute`, with their mode) and goal task runs (`task_runs`).
 * Statuses are normalised: succeeded, failed, cancelled, running, other.
 */
export function executionsUnion(s: Scope, range: { from: string; to: string }, kinds?: ExecutionKind[]): { sql: string; binds: unknown[]; kinds: ExecutionKind[] } {
  // Every part names its columns: the first part present decides the union's column names.
  const parts: string[] = [];
  const binds: unknown[] = [];
  const used: ExecutionKind[] = [];
  const want = (k: ExecutionKind) => !kinds || kinds.includes(k);
  const norm = (col: string) =>
    `CASE ${col} WHEN 'succeeded' THEN 'succeeded' WHEN 'completed' THEN 'succeeded' WHEN 'failed' THEN 'failed' WHEN 'cancelled' THEN 'cancelled'
      WHEN 'running' THEN 'running' ELSE 'other' END`;
  if (want('workflow') && s.tables.has('executions')) {
    const o = ownerClause(s, 'owner_id');
    parts.push(`SELECT 'workflow' AS kind, owner_id, agent_id, ${norm('status')} AS status, duration_ms, created_at FROM executions WHERE created_at >= ? AND created_at < ? AND mode IS NULL${o.sql}`);
    binds.push(range.from, range.to, ...o.binds);
    used.push('workflow');
  }
  if (want('agent') && s.tables.has('executions')) {
    const o = ownerClause(s, 'owner_id');
    parts.push(`SELECT 'agent' AS kind, owner_id, agent_id, ${norm('status')} AS status, duration_ms, created_at FROM executions WHERE created_at >= ? AND created_at < ? AND mode IS NOT NULL${o.sql}`);
    binds.push(range.from, range.to, ...o.binds);
    used.push('agent');
  }
  if (want('task')) {
    const o = ownerClause(s, 'g.owner_id');
    parts.push(
      `SELECT 'task' AS kind, g.owner_id AS owner_id, r.agent_id AS agent_id, ${norm('r.status')} AS status,
         CASE WHEN r.finished_at IS NOT NULL THEN CAST(round((julianday(r.finished_at) - julianday(r.created_at)) * 86400000) AS INTEGER) END AS duration_ms,
         r.created_at AS created_at FROM task_runs r JOIN goals g ON g.id = r.goal_id WHERE r.created_at >= ? AND r.created_at < ?${o.sql}`,
    );
    binds.push(range.from, range.to, ...o.binds);
    used.push('task');
  }
  return { sql: `(${parts.join(' UNION ALL ')}) AS x`, binds, kinds: used };
}

export const startOfTodayUtc = () => new Date().toISOString().slice(0, 10) + 'T00:00:00.000Z';

/** Every UTC date from `from` to `to`, so a daily series has a row (a real zero) for each day. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const end = new Date(to).getTime();
  for (let t = Date.parse(from.slice(0, 10) + 'T00:00:00Z'); t < end; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}
