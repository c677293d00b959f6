import { resolveModelTarget } from './model-target';
import type { ModelTarget } from '../engine/llm/gateway';
import type { ToolSpec } from '../engine/llm/types';
import type { Env } from '../env';
import { conflict } from '../lib/errors';
import * as agentsStore from '../modules/agents/agents/store';
import type { TurnAgent } from './types';

/**
 * What every caller of an agent turn (chat turns, orchestration, workflow agent nodes, goals, …) needs
 * of the agents table, presentation-free: the agent from its row, its model, its delegation tools.
 */

/** An agent row with its JSON fields parsed (the API's Agent has exactly this shape). */
export function toTurnAgent(row: agentsStore.AgentRow): TurnAgent {
  return {
    id: row.id,
    owner_id: row.ownerId,
    name: row.name,
    description: row.description,
    system_prompt: row.systemPrompt,
    model_config: row.modelConfig ? JSON.parse(row.modelConfig) : null,
    iteration_limit: row.iterationLimit,
    include_tools: JSON.parse(row.includeTools),
    workflow_config: row.workflowConfig ? JSON.parse(row.workflowConfig) : null,
    status: row.status,
    version: row.version,
    is_main_agent: row.isMainAgent === 1,
    sub_agent_ids: JSON.parse(row.subAgentIds),
    multitask_strategy: row.multitaskStrategy,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

/** An agent by id with no access check (callers check with authorize()). */
export async function loadTurnAgent(d1: D1Database, id: string): Promise<TurnAgent | null> {
  const row = await agentsStore.findAgent(d1, id);
  return row ? toTurnAgent(row) : null;
}

/** 409 for agents that may not be chatted with or run (stopped). */
export function assertChattable(agent: Pick<TurnAgent, 'status'>) {
  if (agent.status === 'stopped') throw conflict('The agent is stopped; deploy it again to chat with it');
}

/** The model an agent's calls use (its model_config resolved for its owner; see resolveModelTarget). */
export function agentModelTarget(env: Env, agent: Pick<TurnAgent, 'owner_id' | 'model_config'>): Promise<ModelTarget> {
  return resolveModelTarget(env, agent.owner_id, agent.model_config);
}

/** The name of the tool through which a main agent delegates to a sub-agent. */
export const delegationToolName = (subAgentId: string) => `delegate_${subAgentId.replace(/-/g, '')}`;

/** One delegation tool per sub-agent of a main agent (for the agent loop); missing sub-agents are skipped. */
export async function delegationTools(d1: D1Database, agent: TurnAgent): Promise<Array<ToolSpec & { agent_id: string }>> {
  if (!agent.is_main_agent || !agent.sub_agent_ids.length) return [];
  const rows = await agentsStore.findOwnedAgents(d1, agent.owner_id, agent.sub_agent_ids);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return agent.sub_agent_ids.flatMap((id) => {
    const sub = byId.get(id);
    if (!sub) return [];
    return [
      {
        agent_id: id,
        name: delegationToolName(id),
        description: `Delegate a task to the agent "${sub.name}"${sub.description ? `: ${sub.description}` : ''}. It answers with its result.`,
        parameters: {
          type: 'object',
          properties: { task: { type: 'string', description: 'What the agent should do, with all the context it needs' } },
          required: ['task'],
        },
      },
    ];
  });
}
