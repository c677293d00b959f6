import type { Env } from '../../env';
import type { EngineServices } from '../../engine/workflow/nodes';
import { NodeError } from '../../engine/workflow/types';
import { loadAgent } from '../agents/service';
import { runAgent } from '../agents/runner';

/** The agent node's service: one turn of one of the owner's agents (tools and delegation included). */
export function agentRunner(env: Env, ownerId: string, runAgentId: string | null): NonNullable<EngineServices['runAgent']> {
  return async (agentId, message, signal) => {
    const id = agentId ?? runAgentId;
    if (!id) throw new NodeError('INVALID_CONFIG', 'agent_id is required outside an agent run', false);
    const agent = await loadAgent(env, id);
    if (!agent || agent.owner_id !== ownerId) throw new NodeError('NOT_FOUND', `Agent ${id} not found`, false);
    const turn = await runAgent({ env, userId: ownerId, agent, message, source: 'workflow', signal });
    return {
      agent_id: agent.id,
      reply: turn.reply,
      usage: turn.token_usage,
      iterations: turn.iterations,
      tool_calls: turn.tool_calls.map((t) => ({ name: t.name, duration_ms: t.duration_ms, ...(t.error ? { error: t.error } : {}) })),
    };
  };
}
