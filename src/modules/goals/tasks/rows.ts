import type { Env } from '../../../env';
import { placeholders } from '../../../lib/d1';
import type { Task, TaskStatus } from './schemas';

export interface TaskRow {
  id: string;
  goal_id: string;
  owner_id: string;
  parent_id: string | null;
  position: number;
  title: string;
  description: string;
  status: TaskStatus;
  assigned_agent_id: string | null;
  requires_approval: number;
  approval_status: 'approved' | 'rejected' | null;
  approval_comment: string | null;
  claimed_by: string | null;
  claimed_by_agent_id: string | null;
  lease_expires_at: string | null;
  attempts: number;
  max_retries: number;
  result: string | null;
  error: string | null;
  started_at: string | null;
  completed_at: string | null;
  created_at: string;
  updated_at: string;
}

export function toTask(row: TaskRow, dependsOn: string[]): Task {
  return { ...row, requires_approval: row.requires_approval === 1, depends_on: dependsOn };
}

export async function loadTaskRow(env: Env, id: string): Promise<TaskRow | null> {
  return env.DB.prepare('SELECT * FROM tasks WHERE id = ?').bind(id).first<TaskRow>();
}

/** The dependencies of each task, in one query (chunked: D1 binds at most 100 parameters). */
export async function dependenciesOf(env: Env, taskIds: string[]): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>(taskIds.map((id) => [id, []]));
  for (let i = 0; i < taskIds.length; i += 100) {
    const chunk = taskIds.slice(i, i + 100);
    const { results } = await env.DB.prepare(`SELECT task_id, depends_on_id FROM task_dependencies WHERE task_id IN (${placeholders(chunk.length)})`)
      .bind(...chunk)
      .all<{ task_id: string; depends_on_id: string }>();
    for (const r of results) map.get(r.task_id)!.push(r.depends_on_id);
  }
  return map;
}

export async function withDependencies(env: Env, rows: TaskRow[]): Promise<Task[]> {
  const deps = await dependenciesOf(env, rows.map((r) => r.id));
  return rows.map((r) => toTask(r, deps.get(r.id) ?? []));
}

/** All tasks of a goal in plan order, with their dependencies (two queries, whatever the size). */
export async function goalTasks(env: Env, goalId: string): Promise<Task[]> {
  const [rows, deps] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare('SELECT * FROM tasks WHERE goal_id = ? ORDER BY position, created_at, id').bind(goalId),
    env.DB.prepare('SELECT d.task_id, d.depends_on_id FROM task_dependencies d JOIN tasks t ON t.id = d.task_id WHERE t.goal_id = ?').bind(goalId),
  ]);
  const map = new Map<string, string[]>();
  for (const d of deps.results as Array<{ task_id: string; depends_on_id: string }>) {
    if (!map.has(d.task_id)) map.set(d.task_id, []);
    map.get(d.task_id)!.push(d.depends_on_id);
  }
  return (rows.results as unknown as TaskRow[]).map((r) => toTask(r, map.get(r.id) ?? []));
}
