import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, createUser } from './helpers';

describe('smoke', () => {
  it('decomposes and executes asynchronously', async () => {
    const u = await createUser();
    const g = await api('/api/v1/goals', { token: u.token, json: { title: 'g', description: 'a\nb\n\nc' } });
    expect(g.status, g.text).toBe(201);
    const d = await api(`/api/v1/goals/${g.body.id}/decompose`, { token: u.token, method: 'POST' });
    expect(d.status, d.text).toBe(200);
    expect(d.body.tasks.map((t: any) => t.title)).toEqual(['a', 'b', 'c']);
    const x = await api(`/api/v1/goals/${g.body.id}/execute-async`, { token: u.token, method: 'POST' });
    expect(x.status, x.text).toBe(202);
    for (let i = 0; i < 100; i++) {
      const r = await api(`/api/v1/goals/${g.body.id}`, { token: u.token });
      if (r.body.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await api(`/api/v1/goals/${g.body.id}`, { token: u.token });
    expect(r.body, r.text).toMatchObject({ status: 'completed', progress: 100, result: 'echo: c' });
    const runs = await env.DB.prepare('SELECT count(*) AS n FROM task_runs WHERE goal_id = ?').bind(g.body.id).first();
    expect(runs).toEqual({ n: 3 });
  });
});
