import { expect } from 'vitest';
import { api } from './helpers';

export type G = { nodes: any[]; edges: any[] };

/** start → …chain… → end, each edge from the default port. */
export function chain(nodes: any[], endOutputs: Record<string, unknown> = {}): G {
  const all = [{ id: 'start', type: 'start' }, ...nodes, { id: 'end', type: 'end', config: { outputs: endOutputs } }];
  return { nodes: all, edges: all.slice(1).map((n, i) => ({ source: all[i].id, target: n.id })) };
}

export async function createWorkflow(token: string, graph: G, extra: Record<string, unknown> = {}) {
  const res = await api('/api/v1/workflows', { token, json: { name: 'wf', graph, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; version: number };
}

export async function run(token: string, graph: G, inputs: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const wf = await createWorkflow(token, graph, extra);
  const res = await api(`/api/v1/workflows/${wf.id}/execute`, { token, json: { inputs } });
  return { wf, res, body: res.body };
}

/** Polls an execution until `pred` holds (the DO runs in the background). */
export async function waitFor(token: string, id: string, pred: (e: any) => boolean, ms = 10_000) {
  const until = Date.now() + ms;
  for (;;) {
    const res = await api(`/api/v1/executions/${id}`, { token });
    if (pred(res.body)) return res.body;
    if (Date.now() > until) throw new Error(`timed out waiting; last: ${res.text}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
