import { emptyUsage } from '../llm/types';
import { newNodeState } from './runner';
import { ERROR_PORT, type Graph, type NodeState } from './types';

/**
 * What a retry or a fork of a recorded run reuses and what it runs again. A node's recorded
 * result is reused when it finished without failing the run (succeeded, or failed onto its
 * `error` branch) and nothing upstream of it runs again; every other node starts pending in the
 * new run (a skipped node is decided again from the reused nodes before it, so it costs nothing).
 */

export interface ReplayPlan {
  /**
   * The recorded states the new run starts with, marked with the run that produced them (and,
   * for a fork at items of an iteration, that iteration pending with its recorded output).
   */
  reused: NodeState[];
  /** The nodes that run again: those that did not finish, the fork point, and everything downstream of them. */
  rerun: string[];
}

/** A node that finished without failing the run. */
const finished = (s: NodeState) => s.status === 'succeeded' || (s.status === 'failed' && s.branch === ERROR_PORT);

/**
 * `recorded`: the states of the run being retried or forked (`sourceExecutionId`); `from`: the
 * node a fork runs again from (with everything downstream of it); `items`: when `from` is an
 * iteration that succeeded, only these items run again (the others keep their recorded results).
 */
export function planReplay(graph: Graph, recorded: NodeState[], opts: { sourceExecutionId: string; from?: string; items?: number[] }): ReplayPlan {
  const byId = new Map(recorded.map((s) => [s.node_id, s]));
  const downstream = new Map<string, string[]>();
  for (const e of graph.edges) downstream.set(e.source, [...(downstream.get(e.source) ?? []), e.target]);
  const rerun = new Set<string>();
  const stack = graph.nodes
    .filter((n) => {
      const s = byId.get(n.id);
      return n.id === opts.from || !s || !(finished(s) || s.status === 'skipped');
    })
    .map((n) => n.id);
  while (stack.length) {
    const id = stack.pop()!;
    if (rerun.has(id)) continue;
    rerun.add(id);
    stack.push(...(downstream.get(id) ?? []));
  }
  const reused: NodeState[] = [];
  for (const n of graph.nodes) {
    const s = byId.get(n.id);
    if (!s || rerun.has(n.id) || !finished(s)) continue;
    // Nothing of this node runs in the new run: no attempts, calls or tokens of its own.
    reused.push({ ...s, attempts: 0, calls: [], usage: emptyUsage(), wait: undefined, reused_from: s.reused_from ?? opts.sourceExecutionId });
  }
  const from = opts.from ? graph.nodes.find((n) => n.id === opts.from) : undefined;
  const was = from && byId.get(from.id);
  if (from && opts.items && was?.output) {
    reused.push({ ...newNodeState(from), replay: { output: was.output, items: opts.items, list: (was.inputs as { items?: unknown } | undefined)?.items } });
  }
  return { reused, rerun: graph.nodes.filter((n) => rerun.has(n.id)).map((n) => n.id) };
}
