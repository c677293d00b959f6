import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { api, createUser } from './helpers';

export type User = Awaited<ReturnType<typeof createUser>>;

export async function createAgent(u: User, extra: Record<string, unknown> = {}) {
  const res = await api('/api/v1/agents', { token: u.token, json: { name: 'worker', model_config: { provider: 'mock', model_name: 'mock-1' }, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

export async function createGoal(u: User, extra: Record<string, unknown> = {}) {
  const res = await api('/api/v1/goals', { token: u.token, json: { title: 'a goal', description: '', ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** A goal decomposed by the mock rule: one chained task per line. */
export async function decomposedGoal(u: User, lines: string[], extra: Record<string, unknown> = {}) {
  const goal = await createGoal(u, { description: lines.join('\n'), ...extra });
  const res = await api(`/api/v1/goals/${goal.id}/decompose`, { token: u.token, method: 'POST' });
  expect(res.status, res.text).toBe(200);
  return { goal: res.body.goal, tasks: res.body.tasks as any[] };
}

export async function createTask(u: User, goalId: string, extra: Record<string, unknown> = {}) {
  const res = await api('/api/v1/tasks', { token: u.token, json: { goal_id: goalId, title: 'a task', ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

export const post = (u: User, path: string, json?: unknown) => api(path, { token: u.token, method: 'POST', json });

/** Polls until `check` passes (the local queue delivers asynchronously). */
export async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (check(v)) return v;
    if (Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 40));
  }
}

export const count = async (sql: string, ...binds: unknown[]) => (await env.DB.prepare(sql).bind(...binds).first<{ n: number }>())!.n;

export const notificationsOf = async (userId: string) =>
  (await env.DB.prepare('SELECT type, title, body, resource_type, resource_id FROM notifications WHERE user_id = ? ORDER BY created_at').bind(userId).all()).results as any[];
