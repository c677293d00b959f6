import { validationError } from '../../lib/errors';
import { addUsage, emptyUsage, type Usage } from '../llm/types';

/**
 * Multi-agent patterns over one primitive, `run(agent, input)`, supplied by the caller (the chat
 * module runs a whole agent turn there). Each answer lists every step and the final output.
 */
export interface OrchestrationAgent {
  id: string;
  name: string;
  description?: string | null;
}

export interface AgentOutput {
  output: string;
  token_usage: Usage;
}

export type RunAgent = (agent: OrchestrationAgent, input: string) => Promise<AgentOutput>;

export interface Step {
  agent_id: string;
  agent_name: string;
  input: string;
  output: string;
  token_usage: Usage;
  duration_ms: number;
  round?: number;
  node_id?: string;
  role?: 'answer' | 'summary' | 'router';
}

export interface OrchestrationResult {
  mode: string;
  steps: Step[];
  output: string;
  token_usage: Usage;
  /** route: the chosen agent and why. */
  routed_to?: { agent_id: string; agent_name: string; reason: string };
}

async function step(run: RunAgent, agent: OrchestrationAgent, input: string, extra: Partial<Step> = {}): Promise<Step> {
  const started = Date.now();
  const { output, token_usage } = await run(agent, input);
  return { agent_id: agent.id, agent_name: agent.name, input, output, token_usage, duration_ms: Date.now() - started, ...extra };
}

function total(steps: Step[]): Usage {
  return steps.reduce((u, s) => addUsage(u, s.token_usage), emptyUsage());
}

/** Each agent's output is the next one's input. */
export async function runSequential(agents: OrchestrationAgent[], message: string, run: RunAgent): Promise<OrchestrationResult> {
  const steps: Step[] = [];
  let input = message;
  for (const agent of agents) {
    const s = await step(run, agent, input, { role: 'answer' });
    steps.push(s);
    input = s.output;
  }
  return { mode: 'sequential', steps, output: input, token_usage: total(steps) };
}

/** A router picks one agent for the message. */
export type Router = (agents: OrchestrationAgent[], message: string) => Promise<{ agent: OrchestrationAgent; reason: string }>;

/**
 * The deterministic router (used with the mock model, and as the fallback of model routing):
 * the agent whose name appears in the message (the longest such name), else the first agent.
 */
export const nameMatchRouter: Router = async (agents, message) => {
  const text = message.toLowerCase();
  const named = agents
    .filter((a) => a.name && text.includes(a.name.toLowerCase()))
    .sort((a, b) => b.name.length - a.name.length)[0];
  return named ? { agent: named, reason: `the message names "${named.name}"` } : { agent: agents[0], reason: 'no agent is named in the message; the first agent answers' };
};

/** Only the chosen agent answers. */
export async function runRoute(agents: OrchestrationAgent[], message: string, run: RunAgent, router: Router): Promise<OrchestrationResult> {
  const { agent, reason } = await router(agents, message);
  const s = await step(run, agent, message, { role: 'answer' });
  return {
    mode: 'route',
    steps: [s],
    output: s.output,
    token_usage: total([s]),
    routed_to: { agent_id: agent.id, agent_name: agent.name, reason },
  };
}

/**
 * The agents answer in turn for `rounds` rounds, each seeing the answers so far; then the first
 * agent summarises the debate.
 */
export async function runDebate(agents: OrchestrationAgent[], message: string, rounds: number, run: RunAgent): Promise<OrchestrationResult> {
  const steps: Step[] = [];
  const transcript = () => steps.map((s) => `[${s.agent_name}, round ${s.round}] ${s.output}`).join('\n');
  for (let round = 1; round <= rounds; round++) {
    for (const agent of agents) {
      const input = steps.length
        ? `Question: ${message}\n\nThe debate so far:\n${transcript()}\n\nGive your answer for round ${round}, responding to the others.`
        : message;
      steps.push(await step(run, agent, input, { round, role: 'answer' }));
    }
  }
  const summaryInput = `Summarise this debate on "${message}" into one final answer:\n${transcript()}`;
  const summary = await step(run, agents[0], summaryInput, { role: 'summary' });
  steps.push(summary);
  return { mode: 'debate', steps, output: summary.output, token_usage: total(steps) };
}

export interface GraphNode {
  id: string;
  agent: OrchestrationAgent;
}

export interface GraphEdge {
  source: string;
  target: string;
}

/** Node ids in an order where every edge goes forward; 422 for unknown nodes or a cycle. */
export function topologicalOrder(nodeIds: string[], edges: GraphEdge[]): string[] {
  const ids = new Set(nodeIds);
  if (ids.size !== nodeIds.length) throw validationError('body.nodes: node ids must be unique');
  const indegree = new Map(nodeIds.map((id) => [id, 0]));
  for (const e of edges) {
    if (!ids.has(e.source) || !ids.has(e.target)) throw validationError(`body.edges: edge ${e.source} → ${e.target} names an unknown node`);
    indegree.set(e.target, indegree.get(e.target)! + 1);
  }
  const ready = nodeIds.filter((id) => indegree.get(id) === 0);
  const order: string[] = [];
  while (ready.length) {
    const id = ready.shift()!;
    order.push(id);
    for (const e of edges) {
      if (e.source !== id) continue;
      indegree.set(e.target, indegree.get(e.target)! - 1);
      if (indegree.get(e.target) === 0) ready.push(e.target);
    }
  }
  if (order.length !== nodeIds.length) {
    throw validationError(`body.edges: the graph has a cycle through ${nodeIds.filter((id) => !order.includes(id)).join(', ')}`);
  }
  return order;
}

/**
 * Agents along a DAG: a node runs as soon as all its predecessors have, so independent branches
 * run concurrently; a node receives the message (no predecessors) or its predecessors' outputs.
 * The output joins the outputs of the nodes without successors.
 */
export async function runGraph(nodes: GraphNode[], edges: GraphEdge[], message: string, run: RunAgent): Promise<OrchestrationResult> {
  const order = topologicalOrder(nodes.map((n) => n.id), edges);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const done = new Map<string, Promise<Step>>();
  const started = new Map<string, number>();
  const execute = (id: string): Promise<Step> => {
    let pending = done.get(id);
    if (!pending) {
      pending = (async () => {
        const preds = edges.filter((e) => e.target === id).map((e) => e.source);
        const inputs = await Promise.all(preds.map(execute));
        const input = inputs.length === 0 ? message : inputs.length === 1 ? inputs[0].output : inputs.map((s) => `[${s.node_id}] ${s.output}`).join('\n\n');
        started.set(id, Date.now());
        return step(run, byId.get(id)!.agent, input, { node_id: id, role: 'answer' });
      })();
      done.set(id, pending);
    }
    return pending;
  };
  const steps = await Promise.all(order.map(execute));
  // Steps in the order they started, so concurrent branches read naturally.
  steps.sort((a, b) => started.get(a.node_id!)! - started.get(b.node_id!)!);
  const sinks = order.filter((id) => !edges.some((e) => e.source === id));
  const outputs = sinks.map((id) => steps.find((s) => s.node_id === id)!);
  const output = outputs.length === 1 ? outputs[0].output : outputs.map((s) => `[${s.node_id}] ${s.output}`).join('\n\n');
  return { mode: 'graph', steps, output, token_usage: total(steps) };
}
