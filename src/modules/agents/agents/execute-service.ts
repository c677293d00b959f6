import { CallRecorder } from '../../../engine/llm/gateway';
import { emptyUsage } from '../../../engine/llm/types';
import {
  runDebate,
  runGraph,
  runSequential,
  topologicalOrder,
  type GraphEdge,
  type GraphNode,
  type OrchestrationAgent,
  type OrchestrationResult,
  type RunAgent,
  type Step,
} from '../../../engine/orchestration';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { ApiError, validationError } from '../../../lib/errors';
import { orchestrationTurns } from '../../../runs/agent-turn';
import { INLINE_MODES, type InlineMode, type InlineOutputs } from '../../../runs/execution-view';
import { beginInlineExecution, finishInlineExecution } from '../../../runs/workflow-run';
import type { ExecutionRow } from '../../workflows/executions/store';
import type { Agent } from './schemas';
import { getAgent, loadAgent } from './service';
import { assertChattable } from '../../../runs/agents';

export const EXECUTE_MODES = INLINE_MODES;
export type ExecuteMode = InlineMode;

export interface ExecuteInput {
  input: string;
  mode: ExecuteMode;
  rounds: number;
}

/**
 * The execute answer, from the run's `executions` row: the input, the output and the steps of
 * the run (pipeline: every stage's output too), its token usage and timings.
 */
export function toAgentExecution(row: ExecutionRow) {
  const inputs = JSON.parse(row.inputs) as { input?: string };
  const outputs = row.outputs ? (JSON.parse(row.outputs) as InlineOutputs) : null;
  const steps = (outputs?.steps ?? []) as Step[];
  return {
    id: row.id,
    agent_id: row.agentId!,
    mode: row.mode as ExecuteMode,
    status: row.status as 'running' | 'succeeded' | 'failed',
    input: inputs.input ?? '',
    output: outputs?.output ?? null,
    steps,
    ...(row.mode === 'pipeline' ? { intermediate_outputs: steps.map((s) => s.output) } : {}),
    token_usage: { prompt_tokens: row.promptTokens, completion_tokens: row.completionTokens, total_tokens: row.totalTokens },
    error: row.error ? (JSON.parse(row.error) as { code: string; message: string }) : null,
    started_at: row.startedAt!,
    finished_at: row.finishedAt,
    duration_ms: row.durationMs,
    created_at: row.createdAt,
  };
}

interface WorkflowNodeLike {
  id: string;
  type: string;
  agent_id?: unknown;
  config?: { agent_id?: unknown };
  data?: { agent_id?: unknown };
}

/**
 * The agents of an agent's `workflow_config` as a graph: each `agent` node runs the agent it
 * names (`agent_id`, `config.agent_id` or `data.agent_id`) or, naming none, the agent itself;
 * other nodes (start, end, ...) only pass data on, so edges through them join agent nodes.
 */
function workflowGraph(agent: Agent): { nodes: Array<{ id: string; agentId: string }>; edges: GraphEdge[] } | null {
  const wf = agent.workflow_config as { nodes?: WorkflowNodeLike[]; edges?: GraphEdge[] } | null;
  if (!wf?.nodes?.length) return null;
  const agentNodes = wf.nodes.filter((n) => n.type === 'agent');
  if (!agentNodes.length) return null;
  const isAgentNode = new Set(agentNodes.map((n) => n.id));
  const out = new Map<string, string[]>();
  for (const e of wf.edges ?? []) out.set(e.source, [...(out.get(e.source) ?? []), e.target]);
  const edges: GraphEdge[] = [];
  for (const node of agentNodes) {
    // The agent nodes reachable through non-agent nodes only.
    const seen = new Set<string>();
    const stack = [...(out.get(node.id) ?? [])];
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      if (isAgentNode.has(id)) edges.push({ source: node.id, target: id });
      else stack.push(...(out.get(id) ?? []));
    }
  }
  const ref = (n: WorkflowNodeLike) => [n.agent_id, n.config?.agent_id, n.data?.agent_id].find((v): v is string => typeof v === 'string' && v.length > 0);
  return { nodes: agentNodes.map((n) => ({ id: n.id, agentId: ref(n) ?? agent.id })), edges };
}

/** Loads the agents a run uses: the owner's own, runnable (409 for a stopped one). */
async function participants(env: Env, owner: Agent, ids: string[]): Promise<Map<string, Agent>> {
  const byId = new Map<string, Agent>([[owner.id, owner]]);
  for (const id of new Set(ids)) {
    if (byId.has(id)) continue;
    const a = await loadAgent(env, id);
    if (!a || a.owner_id !== owner.owner_id) throw validationError(`The agent ${id} used by this run does not exist`);
    assertChattable(a);
    byId.set(id, a);
  }
  return byId;
}

const asParticipant = (a: Agent): OrchestrationAgent => ({ id: a.id, name: a.name, description: a.description });

/**
 * `POST /agents/{id}/execute`: `agent` runs the agent once; the other modes run its sub-agents
 * (or, without sub-agents, the agent nodes of its workflow_config) in that pattern; `graph`
 * follows workflow_config. The run happens here, in the request (not in an Execution DO), and is
 * an `executions` row (trigger `execute`, `mode` set): running, then succeeded or failed with its
 * steps (one execution node each), output, token usage and timings. A model or tool failure is a
 * failed execution (200), not an error response: the record is the answer.
 */
export async function executeAgentInline(env: Env, user: AuthUser, agentId: string, input: ExecuteInput) {
  // Running needs execute (a read grant sees the agent, 403 here).
  const agent = await getAgent(env, user, agentId, 'execute');
  assertChattable(agent);

  // Every agent turn of the run goes through here, so each step knows when it started.
  const starts: Array<{ agent_id: string; input: string; at: string; used?: boolean }> = [];
  // The run's model calls are written with its final record, in one batch.
  const recorder = new CallRecorder();
  const turnsWith = (agents: Map<string, Agent>): RunAgent => {
    const run = orchestrationTurns(env, user.id, agents, 'execute', recorder);
    return (participant, text) => {
      starts.push({ agent_id: participant.id, input: text, at: new Date().toISOString() });
      return run(participant, text);
    };
  };
  let plan: (agents: Map<string, Agent>) => Promise<OrchestrationResult>;
  let ids: string[] = [];
  const graph = workflowGraph(agent);
  if (input.mode === 'agent') {
    plan = async (agents) => {
      const started = Date.now();
      const r = await turnsWith(agents)(asParticipant(agent), input.input);
      const step: Step = { agent_id: agent.id, agent_name: agent.name, input: input.input, output: r.output, token_usage: r.token_usage, duration_ms: Date.now() - started, role: 'answer' };
      return { mode: 'agent', steps: [step], output: r.output, token_usage: r.token_usage };
    };
  } else if (input.mode === 'graph') {
    if (!graph) throw validationError('body.mode: graph runs the agent nodes of the agent’s workflow_config, and it has none');
    topologicalOrder(graph.nodes.map((n) => n.id), graph.edges);
    ids = graph.nodes.map((n) => n.agentId);
    plan = (agents) => {
      const nodes: GraphNode[] = graph.nodes.map((n) => ({ id: n.id, agent: asParticipant(agents.get(n.agentId)!) }));
      return runGraph(nodes, graph.edges, input.input, turnsWith(agents));
    };
  } else {
    if (agent.sub_agent_ids.length) ids = agent.sub_agent_ids;
    else if (graph) ids = topologicalOrder(graph.nodes.map((n) => n.id), graph.edges).map((id) => graph.nodes.find((n) => n.id === id)!.agentId);
    else throw validationError(`body.mode: ${input.mode} runs the agent’s sub-agents or the agent nodes of its workflow_config, and it has neither`);
    plan = async (agents) => {
      const list = ids.map((id) => asParticipant(agents.get(id)!));
      const run = turnsWith(agents);
      if (input.mode === 'debate') return runDebate(list, input.input, input.rounds, run);
      const result = await runSequential(list, input.input, run);
      return { ...result, mode: input.mode };
    };
  }
  const agents = await participants(env, agent, ids);

  const run = await beginInlineExecution(env, {
    ownerId: user.id,
    agentId: agent.id,
    mode: input.mode,
    inputs: { input: input.input, ...(input.mode === 'debate' ? { rounds: input.rounds } : {}) },
  });
  let result: OrchestrationResult | null = null;
  let error: { code: string; message: string } | null = null;
  try {
    result = await plan(agents);
  } catch (e) {
    if (e instanceof ApiError) error = { code: e.code, message: e.message };
    else {
      console.error(JSON.stringify({ type: 'error', where: 'agent execute', error: String(e), stack: (e as Error)?.stack }));
      error = { code: 'INTERNAL_ERROR', message: 'An unexpected error occurred' };
    }
  }
  const steps = (result?.steps ?? []).map((s) => {
    const start = starts.find((t) => !t.used && t.agent_id === s.agent_id && t.input === s.input);
    if (start) start.used = true;
    return { ...s, started_at: start?.at };
  });
  const row = await finishInlineExecution(env, run, {
    status: result ? 'succeeded' : 'failed',
    outputs: result ? { output: result.output, steps } : null,
    error,
    usage: result?.token_usage ?? emptyUsage(),
    recorder,
  });
  return toAgentExecution(row);
}
