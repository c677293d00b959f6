import { isPluginRef, pluginToolSpecs } from '../engine/plugins/tools';
import { parseArguments, runAgentTurn, type AgentEvent, type AgentTurnResult, type ToolExecution, type TurnStep } from '../engine/agent/loop';
import { resolveModelTarget } from './model-target';
import { addUsage, emptyUsage, type ChatMessage, type ToolCall, type ToolSpec } from '../engine/llm/types';
import { invokeTool } from '../engine/tools/invoke';
import { findBuiltinTool, findDynamicTool, findToolProvider } from '../engine/tools/registry';
import type { Env } from '../env';
import { ApiError } from '../lib/errors';
import type { CallRecorder, ModelTarget } from '../engine/llm/gateway';
import type { OrchestrationAgent, RunAgent } from '../engine/orchestration';
import * as toolsStore from '../modules/agents/tools/store';
import { agentModelTarget, delegationTools, loadTurnAgent } from './agents';
import type { TurnAgent } from './types';
import type { TurnTrace } from '../engine/telemetry/spans';
import { startTurnTrace, type TraceParent } from './traces';

/**
 * The one agent turn: one turn of an agent (or of the bare default model when `agent` is
 * null) with everything the agent is configured with: system prompt, model, `include_tools`
 * (builtin, MCP, custom and plugin tools), `iteration_limit`, and for main agents one delegation
 * tool per sub-agent. Used by the ChatSession DO, orchestration, `POST /agents/{id}/execute`,
 * workflow agent nodes, goals and tasks, the swarm, Feishu, MCP and the OpenAI-compatible API.
 */
export interface RunAgentOptions {
  env: Env;
  /** Who the turn runs for (tool calls, llm_calls). */
  userId: string;
  agent: TurnAgent | null;
  /** The model the turn's calls use, when the caller resolved it already (else modelTargetFor). */
  target?: ModelTarget;
  message: string;
  /** Appended to the agent's system prompt: what the agent is working on (a goal, a task). */
  context?: string;
  history?: ChatMessage[];
  stream?: boolean;
  onEvent?: (event: AgentEvent) => void | Promise<void>;
  sessionId?: string | null;
  /** What started the run, recorded with model and tool calls: chat, orchestrate, execute, delegate. */
  source: string;
  signal?: AbortSignal;
  /** A chat turn's interrupt (double-texting): see AgentTurnInput.interrupt. */
  interrupt?: AbortSignal;
  /** A chat turn resumed after a restart: the steps it had recorded (they are not run again). */
  resume?: TurnStep[];
  /** Each step of the turn, before it moves on (the ChatSession records them). */
  onStep?: (step: TurnStep) => void | Promise<void>;
  /** Delegation depth (0 for the agent the user talks to): sub-agents, run_agent and runs started by run_workflow go one deeper. */
  depth?: number;
  /** Collects the turn's `llm_calls` rows (delegated turns' too) for the caller to write with its own batch. */
  recorder?: CallRecorder;
  /** A delegated turn's place in its caller's trace (docs/traces.md); a root turn starts its own. */
  trace?: TraceParent;
}

/**
 * Sub-agents are not main agents, but an agent promoted later could form a loop, and an agent may
 * call itself through run_agent or run_workflow: nested turns and tool-started runs stop here.
 */
export const MAX_DELEGATION_DEPTH = 3;

/**
 * The depth of a turn or run that a tool call at `depth` starts (run_agent, run_workflow); 409
 * MAX_DEPTH at the limit, which the calling model sees as the tool's error.
 */
export function nestedDepth(depth: number | undefined, tool: string): number {
  const current = depth ?? 0;
  if (current >= MAX_DELEGATION_DEPTH) {
    throw new ApiError(409, 'MAX_DEPTH', `${tool} refused: agent turns and workflow runs started through tools and delegation nest at most ${MAX_DELEGATION_DEPTH} deep`);
  }
  return current + 1;
}
const DEFAULT_BARE_ITERATION_LIMIT = 5;

/** Tools an agent can call, by the name the model sees. */
type ToolBinding = { kind: 'tool'; ref: string; spec: ToolSpec } | { kind: 'delegate'; agentId: string; spec: ToolSpec };

async function customToolSpecs(env: Env, ownerId: string, ids: string[]): Promise<Array<{ ref: string; spec: ToolSpec }>> {
  const rows = await toolsStore.customToolSpecs(env.DB, ownerId, ids);
  return rows.map((r) => ({ ref: r.id, spec: { name: r.name, description: r.description, parameters: JSON.parse(r.parameters) } }));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function agentTools(env: Env, agent: TurnAgent, depth: number): Promise<Map<string, ToolBinding>> {
  const bindings = new Map<string, ToolBinding>();
  // Every source is read at once (dynamic, custom, plugin tools and sub-agents may each query D1);
  // the bindings are then made in a fixed order, the first of a name winning.
  const [named, custom, plugin, delegates] = await Promise.all([
    // Dynamic tools (MCP) are the agent owner's, like custom tools.
    Promise.all(agent.include_tools.filter((ref) => !UUID.test(ref)).map((ref) => findBuiltinTool(ref) ?? findDynamicTool({ env, userId: agent.owner_id }, ref))),
    customToolSpecs(env, agent.owner_id, agent.include_tools.filter((r) => UUID.test(r))),
    // Tools of the owner's installed, enabled plugins (`plugin:<id>:<operation>`); invokeTool runs them.
    pluginToolSpecs(env, agent.owner_id, agent.include_tools),
    depth < MAX_DELEGATION_DEPTH ? delegationTools(env.DB, agent) : Promise.resolve([]),
  ]);
  for (const tool of named) {
    if (tool) bindings.set(tool.name, { kind: 'tool', ref: tool.name, spec: { name: tool.name, description: tool.description, parameters: tool.parameters } });
  }
  for (const { ref, spec } of [...custom, ...plugin]) {
    if (!bindings.has(spec.name)) bindings.set(spec.name, { kind: 'tool', ref, spec });
  }
  for (const { agent_id, ...spec } of delegates) bindings.set(spec.name, { kind: 'delegate', agentId: agent_id, spec });
  return bindings;
}

/** The model a turn of `agent` (or, without one, of the user's default model) uses. */
export function modelTargetFor(env: Env, userId: string, agent: TurnAgent | null): Promise<ModelTarget> {
  return agent ? agentModelTarget(env, agent) : resolveModelTarget(env, userId, null);
}

const describeError = (e: unknown) => (e instanceof ApiError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e));

export async function runAgent(opts: RunAgentOptions): Promise<AgentTurnResult> {
  // Spans of the turn, its model and tool calls, when traces are exported (docs/traces.md).
  const traced = await startTurnTrace(opts.env, opts);
  if (!traced) return runAgentTraced(opts);
  try {
    const result = await runAgentTraced(opts, traced.trace);
    await traced.finish(result.token_usage);
    return result;
  } catch (e) {
    await traced.finish(null, e);
    throw e;
  }
}

async function runAgentTraced(opts: RunAgentOptions, trace?: TurnTrace): Promise<AgentTurnResult> {
  const { env, agent } = opts;
  const depth = opts.depth ?? 0;
  const [target, tools] = await Promise.all([
    opts.target ?? modelTargetFor(env, opts.userId, agent),
    agent ? agentTools(env, agent, depth) : Promise.resolve(new Map<string, ToolBinding>()),
  ]);
  trace?.setModel(target);
  // Delegated work is part of what the turn cost.
  const delegatedUsage = emptyUsage();

  const executeTool = async (call: ToolCall): Promise<ToolExecution> => {
    const started = Date.now();
    const binding = tools.get(call.name);
    if (!binding) return { output: null, error: `Tool ${call.name} is not available to this agent`, duration_ms: 0 };
    const args = parseArguments(call.arguments);
    if (!args || typeof args !== 'object' || Array.isArray(args)) {
      return { output: null, error: 'The tool arguments must be a JSON object', duration_ms: 0 };
    }
    try {
      if (binding.kind === 'delegate') {
        const sub = await loadTurnAgent(env.DB, binding.agentId);
        if (!sub) return { output: null, error: 'The sub-agent no longer exists', duration_ms: Date.now() - started };
        if (sub.status === 'stopped') return { output: null, error: `The agent "${sub.name}" is stopped`, duration_ms: Date.now() - started };
        const task = (args as { task?: unknown }).task;
        const result = await runAgent({
          env,
          userId: opts.userId,
          agent: sub,
          message: typeof task === 'string' && task ? task : JSON.stringify(args),
          sessionId: opts.sessionId,
          source: 'delegate',
          signal: opts.signal,
          depth: depth + 1,
          recorder: opts.recorder,
          trace: trace?.nested(),
        });
        addUsage(delegatedUsage, result.token_usage);
        return {
          output: {
            agent_id: sub.id,
            agent_name: sub.name,
            reply: result.reply,
            tool_calls: result.tool_calls.map(({ name, arguments: a, output, error }) => ({ name, arguments: a, output, ...(error ? { error } : {}) })),
            token_usage: result.token_usage,
            iterations: result.iterations,
          },
          duration_ms: Date.now() - started,
        };
      }
      // A custom, MCP or plugin tool is its owner's (the agent's owner), even when an admin talks to the agent.
      const userId = (UUID.test(binding.ref) || findToolProvider(binding.ref) || isPluginRef(binding.ref)) && agent ? agent.owner_id : opts.userId;
      const outcome = await invokeTool(
        { env, userId, agentId: agent?.id ?? null, sessionId: opts.sessionId ?? null, caller: 'agent', signal: opts.signal, depth },
        binding.ref,
        args as Record<string, unknown>,
      );
      return { output: outcome.output, duration_ms: outcome.duration_ms };
    } catch (e) {
      // The model sees the failure and can react; the turn goes on.
      return { output: null, error: describeError(e), duration_ms: Date.now() - started };
    }
  };

  const result = await runAgentTurn({
    env,
    target,
    meta: { user_id: opts.userId, agent_id: agent?.id ?? null, session_id: opts.sessionId ?? null, source: opts.source, recorder: opts.recorder },
    systemPrompt: [agent?.system_prompt, opts.context].filter(Boolean).join('\n\n') || null,
    history: opts.history ?? [],
    message: opts.message,
    tools: [...tools.values()].map((b) => b.spec),
    executeTool,
    iterationLimit: agent?.iteration_limit ?? DEFAULT_BARE_ITERATION_LIMIT,
    stream: opts.stream,
    onEvent: opts.onEvent,
    signal: opts.signal,
    interrupt: opts.interrupt,
    resume: opts.resume,
    onStep: opts.onStep,
    trace,
  });
  addUsage(result.token_usage, delegatedUsage);
  return result;
}

/**
 * The orchestration modes' way to run agents (orchestrate, graph, `POST /agents/{id}/execute`):
 * each agent once, with no history, its model calls collected in `recorder`.
 */
export function orchestrationTurns(env: Env, userId: string, agents: Map<string, TurnAgent>, source: string, recorder?: CallRecorder): RunAgent {
  return async (participant: OrchestrationAgent, input: string) => {
    const r = await runAgent({ env, userId, agent: agents.get(participant.id)!, message: input, source, recorder });
    return { output: r.reply, token_usage: r.token_usage };
  };
}
