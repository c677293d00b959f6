import { NOW_SQL } from '../../lib/d1';
/**
 * Scheduling of a goal's tasks on D1, without HTTP: which tasks are ready, which now wait for
 * approval, claiming with a lease, and expiring leases. Every state change is one conditional
 * UPDATE, so concurrent workers (queue consumers, API claims, the cron) never both win.
 */


/** Default lease of an API claim, and of a run by the queue consumer (longer than any agent turn). */
export const CLAIM_LEASE_SECONDS = 300;
export const RUN_LEASE_SECONDS = 900;

/** Every dependency of task `t` is completed. */
export const DEPS_DONE_SQL = `NOT EXISTS (SELECT 1 FROM task_dependencies d JOIN tasks dt ON dt.id = d.depends_on_id
  WHERE d.task_id = t.id AND dt.status != 'completed')`;

/** Approval is not needed or was given. */
export const APPROVED_SQL = "(t.requires_approval = 0 OR t.approval_status = 'approved')";

/** Pending and runnable now. */
export const READY_SQL = `t.status = 'pending' AND ${APPROVED_SQL} AND ${DEPS_DONE_SQL}`;

/** Claimable: ready, or held under a lease that has run out (its holder is presumed dead). */
export const CLAIMABLE_SQL = `((t.status = 'pending') OR (t.status IN ('claimed', 'running') AND t.lease_expires_at <= ${NOW_SQL}))
  AND ${APPROVED_SQL} AND ${DEPS_DONE_SQL}`;

export const leaseUntil = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

/** Which tasks a scheduling step looks at: all, those waiting for one task, or one task. */
export type Scope = { dependentsOf?: string; only?: string };

function scopeSql(scope: Scope): { sql: string; binds: string[] } {
  if (scope.dependentsOf) return { sql: ' AND t.id IN (SELECT task_id FROM task_dependencies WHERE depends_on_id = ?)', binds: [scope.dependentsOf] };
  if (scope.only) return { sql: ' AND t.id = ?', binds: [scope.only] };
  return { sql: '', binds: [] };
}

/**
 * Ids of the goal's ready tasks, in plan order. A finished task only looks at its dependents, so
 * a wide goal does not re-enqueue every waiting task on every completion.
 */
export async function readyTaskIds(db: D1Database, goalId: string, scope: Scope = {}): Promise<string[]> {
  const s = scopeSql(scope);
  const { results } = await db
    .prepare(`SELECT t.id FROM tasks t WHERE t.goal_id = ? AND ${READY_SQL}${s.sql} ORDER BY t.position, t.created_at`)
    .bind(goalId, ...s.binds)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/**
 * Tasks that would be ready but need approval become `awaiting_approval`; returns them, so the
 * caller notifies once per task (the UPDATE only matches each task once).
 */
export async function promoteAwaitingApproval(db: D1Database, goalId: string): Promise<Array<{ id: string; title: string; owner_id: string }>> {
  const { results } = await db
    .prepare(
      `UPDATE tasks AS t SET status = 'awaiting_approval', updated_at = ${NOW_SQL}
       WHERE t.goal_id = ? AND t.status = 'pending' AND t.requires_approval = 1 AND t.approval_status IS NULL AND ${DEPS_DONE_SQL}
       RETURNING id, title, owner_id`,
    )
    .bind(goalId)
    .all<{ id: string; title: string; owner_id: string }>();
  return results;
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
  /** Goal statuses in which the claim may happen (pausing a goal stops new work). */
  goalStatuses: string[];
  /** Also take a task under a live claim (executing a task someone claimed). */
  fromClaimed?: boolean;
}

/**
 * The claim as one conditional UPDATE returning the claimed row (no row: someone else won, or the
 * task is not claimable), so callers can put it in a batch with what depends on it.
 */
export function claimStatement(db: D1Database, taskId: string, o: ClaimOptions): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE tasks AS t SET status = ?, claimed_by = ?, claimed_by_agent_id = ${o.status === 'running' ? 'coalesce(?, claimed_by_agent_id)' : '?'}, lease_expires_at = ?,
         attempts = attempts + ?, started_at = coalesce(started_at, ${NOW_SQL}),
         updated_at = ${NOW_SQL}
       WHERE t.id = ? AND (${CLAIMABLE_SQL}${o.fromClaimed ? ` OR (t.status = 'claimed' AND ${DEPS_DONE_SQL})` : ''})
         AND EXISTS (SELECT 1 FROM goals g WHERE g.id = t.goal_id AND g.status IN (${o.goalStatuses.map(() => '?').join(', ')}))
       RETURNING *`,
    )
    .bind(o.status, o.holder, o.agentId ?? null, leaseUntil(o.leaseSeconds), o.countAttempt ? 1 : 0, taskId, ...o.goalStatuses);
}

/** Claims a task atomically: exactly one of any number of concurrent callers gets `true`. */
export async function claimTask(db: D1Database, taskId: string, o: ClaimOptions): Promise<boolean> {
  const { results } = await claimStatement(db, taskId, o).all();
  return results.length === 1;
}

/** Releases every lease that has run out; returns the tasks released with their goals. */
export async function releaseExpiredLeases(db: D1Database): Promise<Array<{ id: string; goal_id: string }>> {
  const { results } = await db
    .prepare(
      `UPDATE tasks SET status = 'pending', claimed_by = NULL, claimed_by_agent_id = NULL, lease_expires_at = NULL, updated_at = ${NOW_SQL}
       WHERE status IN ('claimed', 'running') AND lease_expires_at <= ${NOW_SQL}
       RETURNING id, goal_id`,
    )
    .all<{ id: string; goal_id: string }>();
  return results;
}

/** What the goal's tasks say about the goal: all done, one failed for good, or still going. */
export function goalOutcome(counts: Record<string, number>): 'completed' | 'failed' | 'open' {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total > 0 && (counts.completed ?? 0) === total) return 'completed';
  if ((counts.failed ?? 0) > 0) return 'failed';
  return 'open';
}

/** Percentage of completed tasks, one decimal. */
export function progressOf(completed: number, total: number): number {
  return total === 0 ? 0 : Math.round((1000 * completed) / total) / 10;
}

/** The message an agent receives for a task (the mock model answers `echo: ` + this). */
export function taskMessage(task: { title: string; description: string }): string {
  return task.description ? `${task.title}\n\n${task.description}` : task.title;
}
