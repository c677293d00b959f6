import type { Env } from '../env';
import type { EngineServices } from '../engine/workflow/node';
import type { Graph, InputDef } from '../engine/workflow/types';
import { NodeError } from '../engine/workflow/types';
import { findActiveUser } from '../modules/identity/auth/store';
import { type AuthUser } from '../lib/auth';
import { decide, type ResourceRef, type ResourceType } from '../modules/identity/permissions/authorize';
import { findWorkflow } from '../modules/workflows/workflows/store';
import { loadTurnAgent } from './agents';
import { runAgent } from './agent-turn';

/**
 * Whose rights a run's graph uses: `principalId` (the workflow's or agent's owner for a run of
 * a saved workflow or agent, the caller for a single-node debug run). Every agent and
 * sub-workflow a node names must be one the principal may `execute` (authorize()); the account
 * is read once per run.
 */
function principalAccess(env: Env, principalId: string) {
  let principal: Promise<AuthUser | null> | undefined;
  return async (type: ResourceType, resource: ResourceRef | null): Promise<boolean> => {
    if (!resource) return false;
    const user = await (principal ??= findActiveUser(env, principalId));
    return user !== null && (await decide(env, user, type, resource, 'execute')).allowed;
  };
}

/**
 * The agent node's service: one turn of an agent the principal may execute (tools and delegation
 * included), at the run's delegation depth.
 */
export function principalAgentNode(
  env: Env,
  principalId: string,
  runAgentId: string | null,
  may = principalAccess(env, principalId),
  delegationDepth = 0,
): NonNullable<EngineServices['runAgent']> {
  return async (agentId, message, signal) => {
    const id = agentId ?? runAgentId;
    if (!id) throw new NodeError('INVALID_CONFIG', 'agent_id is required outside an agent run', false);
    const agent = await loadTurnAgent(env.DB, id);
    if (!agent || !(await may('agent', agent))) throw new NodeError('NOT_FOUND', `Agent ${id} not found`, false);
    const turn = await runAgent({ env, userId: principalId, agent, message, source: 'workflow', signal, depth: delegationDepth });
    return {
      agent_id: agent.id,
      reply: turn.reply,
      usage: turn.token_usage,
      iterations: turn.iterations,
      tool_calls: turn.tool_calls.map((t) => ({ name: t.name, duration_ms: t.duration_ms, ...(t.error ? { error: t.error } : {}) })),
    };
  };
}

/** The engine services every run has: agent nodes and sub-workflows, with the principal's rights. */
export function principalServices(env: Env, principalId: string, runAgentId: string | null, delegationDepth = 0): Pick<EngineServices, 'runAgent' | 'loadWorkflow'> {
  const may = principalAccess(env, principalId);
  return {
    runAgent: principalAgentNode(env, principalId, runAgentId, may, delegationDepth),
    loadWorkflow: async (id) => {
      const row = await findWorkflow(env.DB, id);
      if (!row || !(await may('workflow', { id: row.id, owner_id: row.ownerId }))) return null;
      return { id: row.id, graph: JSON.parse(row.graph) as Graph, inputs_schema: JSON.parse(row.inputsSchema) as InputDef[] };
    },
  };
}
