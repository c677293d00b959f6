import { runAgentTurn, type AgentEvent, type AgentTurnResult, type ToolExecution } from '../../engine/agent/loop';
import type { CallMeta, ModelTarget } from '../../engine/llm/gateway';
import { resolveModelTarget } from '../../engine/llm/resolve';
import type { ChatMessage, ToolCall, ToolSpec } from '../../engine/llm/types';
import { parseArguments } from '../../engine/agent/loop';
import { invokeTool } from '../../engine/tools/invoke';
import { findBuiltinTool } from '../../engine/tools/registry';
import type { Env } from '../../env';
import type { Agent } from '../agents/schemas';
import { agentModelTarget, delegationTools, loadAgent } from '../agents/service';

/**
 * Runs one agent turn for goals, tasks and the swarm: the agent's model, system prompt, builtin
 * tools and (for main agents) delegation to its sub-agents. Without an agent, the owner's default
 * model answers with no tools.
 */
export interface RunInput {
  ownerId: string;
  agent: Agent | null;
  message: string;
  /** Appended to the agent's system prompt: what the agent is working on. */
  context?: string;
  history?: ChatMessage[];
  source: string;
  stream?: boolean;
  onEvent?: (event: AgentEvent) => void | Promise<void>;
  signal?: AbortSignal;
}

export async function targetFor(env: Env, ownerId: string, agent: Agent | null): Promise<ModelTarget> {
  return agent ? agentModelTarget(env, agent) : resolveModelTarget(env, ownerId, null);
}

export async function runAgent(env: Env, input: RunInput, depth = 0): Promise<AgentTurnResult> {
  const { agent } = input;
  const target = await targetFor(env, input.ownerId, agent);
  const meta: CallMeta = { user_id: input.ownerId, agent_id: agent?.id ?? null, source: input.source };
  const builtin: ToolSpec[] = (agent?.include_tools ?? []).flatMap((name) => {
    const tool = findBuiltinTool(name);
    return tool ? [{ name: tool.name, description: tool.description, parameters: tool.parameters }] : [];
  });
  // Sub-agents do not delegate further, so delegation cannot loop.
  const delegates = agent && depth === 0 ? await delegationTools(env, agent) : [];

  const executeTool = async (call: ToolCall): Promise<ToolExecution> => {
    const started = Date.now();
    const args = parseArguments(call.arguments);
    try {
      const delegate = delegates.find((d) => d.name === call.name);
      if (delegate) {
        const sub = await loadAgent(env, delegate.agent_id);
        if (!sub) return { output: null, error: `agent ${delegate.agent_id} no longer exists`, duration_ms: Date.now() - started };
        const task = typeof args === 'object' && args && 'task' in args ? String((args as { task: unknown }).task) : String(call.arguments);
        const turn = await runAgent(env, { ownerId: input.ownerId, agent: sub, message: task, source: input.source, signal: input.signal }, depth + 1);
        return { output: turn.reply, duration_ms: Date.now() - started };
      }
      const outcome = await invokeTool({ env, userId: input.ownerId, agentId: agent?.id ?? null, caller: input.source, signal: input.signal }, call.name, (args ?? {}) as Record<string, unknown>);
      return { output: outcome.output, duration_ms: outcome.duration_ms };
    } catch (e) {
      return { output: null, error: e instanceof Error ? e.message : String(e), duration_ms: Date.now() - started };
    }
  };

  const systemPrompt = [agent?.system_prompt, input.context].filter(Boolean).join('\n\n') || null;
  return runAgentTurn({
    env,
    target,
    meta,
    systemPrompt,
    history: input.history ?? [],
    message: input.message,
    tools: [...builtin, ...delegates.map(({ agent_id: _, ...spec }) => spec)],
    executeTool,
    iterationLimit: agent?.iteration_limit ?? 15,
    stream: input.stream,
    onEvent: input.onEvent,
    signal: input.signal,
  });
}
