import type { Env } from '../../../env';
import type { Task } from './schemas';
import { dependenciesOf, findTask, goalTaskRows, type TaskRow } from './store';

export type { TaskRow };

/** The API's task: the row in snake_case with its dependencies. */
export function toTask(row: TaskRow, dependsOn: string[]): Task {
  return {
    id: row.id,
    goal_id: row.goalId,
    owner_id: row.ownerId,
    parent_id: row.parentId,
    position: row.position,
    title: row.title,
    description: row.description,
    status: row.status,
    assigned_agent_id: row.assignedAgentId,
    requires_approval: row.requiresApproval === 1,
    approval_status: row.approvalStatus,
    approval_comment: row.approvalComment,
    claimed_by: row.claimedBy,
    claimed_by_agent_id: row.claimedByAgentId,
    lease_expires_at: row.leaseExpiresAt,
    attempts: row.attempts,
    max_retries: row.maxRetries,
    result: row.result,
    error: row.error,
    started_at: row.startedAt,
    completed_at: row.completedAt,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    depends_on: dependsOn,
  };
}

export async function loadTaskRow(env: Env, id: string): Promise<TaskRow | null> {
  return findTask(env.DB, id);
}

export async function withDependencies(env: Env, rows: TaskRow[]): Promise<Task[]> {
  const deps = await dependenciesOf(env.DB, rows.map((r) => r.id));
  return rows.map((r) => toTask(r, deps.get(r.id) ?? []));
}

/** All tasks of a goal in plan order, with their dependencies (one round trip, whatever the size). */
export async function goalTasks(env: Env, goalId: string): Promise<Task[]> {
  const { rows, deps } = await goalTaskRows(env.DB, goalId);
  const map = new Map<string, string[]>();
  for (const d of deps) {
    if (!map.has(d.taskId)) map.set(d.taskId, []);
    map.get(d.taskId)!.push(d.dependsOnId);
  }
  return rows.map((r) => toTask(r, map.get(r.id) ?? []));
}
