import { DEFAULT_MULTITASK_STRATEGY } from '../../../../durable-objects/contracts';
import { eq } from 'drizzle-orm';
import { findUsableModelConfig } from '../model-configs/store';
import { MCP_TOOL_PREFIX } from '../../../engine/plugins/mcp';
import { enabledPluginTools, isPluginRef } from '../../../engine/plugins/tools';
import { findBuiltinTool, findDynamicTool } from '../../../engine/tools/registry';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { authorizeResource, decide, grantsCleanup, readableWhere, requirePermission, type Action, type Decision } from '../../identity/permissions/authorize';
import { isUniqueViolation } from '../../../lib/d1';
import { runBatch, type AnyStatement } from '../../../db/client';
import { ApiError, conflict, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { describeZodError } from '../../../lib/router';
import { agentModelTarget, loadTurnAgent, toTurnAgent } from '../../../runs/agents';
import * as chatStore from '../agent-chat/store';
import { destroyChatSessions, toMessage } from '../agent-chat/service';
import * as toolsStore from '../tools/store';
import * as schedulesStore from '../../workflows/agent-schedules/store';
import * as store from './store';
import { checkDeployGate } from '../../governance/evals/gate';
import { deleteGateStatement } from '../../governance/evals/store';
import {
  AGENT_EXPORT_FORMAT,
  AGENT_EXPORT_VERSION,
  WorkflowConfigSchema,
  type Agent,
  type AgentExport,
  type AgentModelConfig,
  type AgentStatus,
  type CreateAgent,
  type UpdateAgent,
} from './schemas';

/** What a version of an agent consists of (everything but identity, status and timestamps). */
export interface AgentDefinition {
  name: string;
  description: string;
  system_prompt: string;
  model_config: AgentModelConfig | null;
  iteration_limit: number;
  include_tools: string[];
  workflow_config: Record<string, unknown> | null;
  is_main_agent: boolean;
  sub_agent_ids: string[];
  /** Chat double-texting; absent: the default (`enqueue`). */
  multitask_strategy?: Agent['multitask_strategy'];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;


/** An agents row as the API shows it. */
export const toAgent = (row: store.AgentRow): Agent => toTurnAgent(row) as Agent;

function definitionOf(agent: Agent): AgentDefinition {
  return {
    name: agent.name,
    description: agent.description,
    system_prompt: agent.system_prompt,
    model_config: agent.model_config,
    iteration_limit: agent.iteration_limit,
    include_tools: agent.include_tools,
    workflow_config: agent.workflow_config,
    is_main_agent: agent.is_main_agent,
    sub_agent_ids: agent.sub_agent_ids,
    multitask_strategy: agent.multitask_strategy,
  };
}

/** An agent by id with no access check: for the engine (sub-agents, schedules, integrations). */
export async function loadAgent(env: Env, id: string): Promise<Agent | null> {
  return (await loadTurnAgent(env.DB, id)) as Agent | null;
}

/**
 * An agent the user may `action` (authorize(): owner, admin, grant or role). 404 when they may
 * not even read it, 403 when they may read it but not do this. Chat/execute callers pass 'execute'.
 */
export async function getAgent(env: Env, user: AuthUser, id: string, action: Action = 'read'): Promise<Agent> {
  const agent = await loadAgent(env, id);
  await authorizeResource(env, user, 'agent', agent, action);
  return agent!;
}

const getManageableAgent = (env: Env, user: AuthUser, id: string) => getAgent(env, user, id, 'write');

/**
 * Checks `include_tools` entries: a builtin tool name, the name of one of the user's dynamic tools
 * (MCP), or the id of a custom tool the user owns.
 * Throws 422 naming the unknown entries.
 */
export async function resolveToolRefs(env: Env, userId: string, refs: string[], field = 'body.include_tools') {
  const builtin: string[] = [];
  const customIds = refs.filter((r) => UUID.test(r));
  const unknown: string[] = [];
  for (const ref of refs) {
    if (UUID.test(ref)) continue;
    if (findBuiltinTool(ref)) builtin.push(ref);
    // Dynamic tools (an MCP plugin's `mcp_<slug>_<tool>`) count as builtin-like names.
    else if (await findDynamicTool({ env, userId }, ref)) builtin.push(ref);
    else unknown.push(ref);
  }
  // Plugin tools: refs of the user's installed, enabled plugins.
  const pluginRefs = refs.filter(isPluginRef);
  if (pluginRefs.length) {
    const usable = new Set((await enabledPluginTools(env, userId)).map((t) => t.ref));
    for (const ref of pluginRefs) {
      unknown.splice(unknown.indexOf(ref), 1);
      if (!usable.has(ref)) unknown.push(ref);
    }
  }
  const custom: string[] = [];
  if (customIds.length) {
    const found = await toolsStore.ownedCustomToolIds(env.DB, userId, customIds);
    for (const id of customIds) (found.has(id) ? custom : unknown).push(id);
  }
  if (unknown.length) throw validationError(`${field}: unknown tool${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}`);
  return { builtin, custom };
}

async function checkModelConfigRef(env: Env, userId: string, config: AgentModelConfig | null | undefined, field = 'body.model_config') {
  if (config?.model_config_id && !(await findUsableModelConfig(env.DB, userId, config.model_config_id))) {
    throw validationError(`${field}.model_config_id: model config ${config.model_config_id} not found`);
  }
}

/**
 * The deployed agents `user` may run, for per-account catalogues (OpenAI-compatible models, MCP
 * tools): their own and those shared with them at `execute` or above. Admins and roles that reach
 * every agent list only their own here — a catalogue is per account — yet may still address any
 * agent by id (`mayRunAgent`).
 */
export async function runnableDeployedAgents(env: Env, user: AuthUser) {
  const runnable = (await readableWhere(env, user, 'agent', store.agentAccess, 'execute')) ?? eq(store.agentAccess.ownerId, user.id);
  return store.listDeployedAgents(env.DB, runnable);
}

/** authorize() without throwing: may `user` run `agent` (execute)? */
export async function mayRunAgent(env: Env, user: AuthUser, agent: Agent | null): Promise<Decision> {
  return decide(env, user, 'agent', agent, 'execute');
}

export async function listAgents(env: Env, user: AuthUser, query: Pagination & { search?: string; status?: AgentStatus }) {
  const readable = await readableWhere(env, user, 'agent', store.agentAccess);
  const { limit, offset } = pageBounds(query);
  const { rows, total } = await store.listAgents(env.DB, { readable, search: query.search, status: query.status }, limit, offset);
  return paginated(rows.map(toAgent), total, query);
}

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

/** A definition as the agents table stores it. */
const definitionValues = (def: AgentDefinition): store.AgentDefinitionValues => ({
  name: def.name,
  description: def.description,
  systemPrompt: def.system_prompt,
  modelConfig: json(def.model_config),
  iterationLimit: def.iteration_limit,
  includeTools: JSON.stringify(def.include_tools),
  workflowConfig: json(def.workflow_config),
  isMainAgent: def.is_main_agent ? 1 : 0,
  subAgentIds: JSON.stringify(def.sub_agent_ids),
  multitaskStrategy: def.multitask_strategy ?? DEFAULT_MULTITASK_STRATEGY,
});

/** The statements that create an agent and its version 1, for callers that batch them with other writes. */
export function agentInsertStatements(env: Env, ownerId: string, def: AgentDefinition): { id: string; statements: AnyStatement[] } {
  const id = crypto.randomUUID();
  const statements = [store.insertAgent(env.DB, { id, ownerId, ...definitionValues(def) }), store.snapshotVersion(env.DB, id, 1, ownerId)];
  return { id, statements };
}

async function insertAgent(env: Env, ownerId: string, def: AgentDefinition): Promise<Agent> {
  const { id, statements } = agentInsertStatements(env, ownerId, def);
  await runBatch(env.DB, statements);
  return (await loadAgent(env, id))!;
}

export async function createAgent(env: Env, user: AuthUser, input: CreateAgent): Promise<Agent> {
  await requirePermission(env, user, 'agent:create');
  await resolveToolRefs(env, user.id, input.include_tools);
  await checkModelConfigRef(env, user.id, input.model_config);
  return insertAgent(env, user.id, {
    name: input.name,
    description: input.description,
    system_prompt: input.system_prompt,
    model_config: input.model_config ?? null,
    iteration_limit: input.iteration_limit,
    include_tools: input.include_tools,
    workflow_config: input.workflow_config ?? null,
    is_main_agent: false,
    sub_agent_ids: [],
    multitask_strategy: input.multitask_strategy,
  });
}

const MAX_REVISION_ATTEMPTS = 10;

/**
 * Writes a new version of an agent: `version + 1` only if the version is still the one read
 * (optimistic concurrency), and the snapshot of that new version in the same batch. A writer
 * that lost the race re-reads and tries again, so concurrent updates each get their own version.
 */
async function reviseAgent(env: Env, user: AuthUser, id: string, change: (current: Agent) => Promise<AgentDefinition>): Promise<Agent> {
  for (let attempt = 1; ; attempt++) {
    const current = await getManageableAgent(env, user, id);
    const next = await change(current);
    try {
      const [updated] = (await runBatch(env.DB, [
        store.reviseAgent(env.DB, id, current.version, definitionValues(next)),
        store.snapshotVersion(env.DB, id, current.version + 1, user.id),
      ])) as [D1Result];
      if (updated.meta.changes === 1) return (await loadAgent(env, id)) ?? current;
    } catch (e) {
      // Another writer took version+1 between our read and write: its snapshot row wins.
      if (!isUniqueViolation(e)) throw e;
    }
    if (attempt >= MAX_REVISION_ATTEMPTS) throw conflict('The agent was changed concurrently too many times; try again');
    await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
  }
}

export async function updateAgent(env: Env, user: AuthUser, id: string, input: UpdateAgent): Promise<Agent> {
  return reviseAgent(env, user, id, async (current) => {
    if (input.include_tools) await resolveToolRefs(env, current.owner_id, input.include_tools);
    if (input.model_config !== undefined) await checkModelConfigRef(env, current.owner_id, input.model_config);
    const def = definitionOf(current);
    return {
      ...def,
      name: input.name ?? def.name,
      description: input.description ?? def.description,
      system_prompt: input.system_prompt ?? def.system_prompt,
      model_config: input.model_config !== undefined ? input.model_config : def.model_config,
      iteration_limit: input.iteration_limit ?? def.iteration_limit,
      include_tools: input.include_tools ?? def.include_tools,
      workflow_config: input.workflow_config !== undefined ? input.workflow_config : def.workflow_config,
      multitask_strategy: input.multitask_strategy ?? def.multitask_strategy,
    };
  });
}

/** Deletes an agent with its versions, sessions (and their messages) and schedules, atomically. */
export async function deleteAgent(env: Env, user: AuthUser, id: string): Promise<void> {
  await getAgent(env, user, id, 'admin');
  // The sessions' ids, read in the same batch (before their rows go), to clear their objects.
  const [sessions] = (await runBatch(env.DB, [sessionIdsStatement(env, id), ...(await deleteAgentStatements(env, id))])) as [Array<{ id: string }>];
  await destroyChatSessions(env, sessions.map((r) => r.id));
}

/** The select of the ids of an agent's chat sessions (whose objects must be cleared when it goes): a list of {id}. */
export function sessionIdsStatement(env: Env, agentId: string): AnyStatement {
  return chatStore.selectSessionIdsOfAgent(env.DB, agentId);
}

/** The statements that delete an agent and what hangs off it (for callers batching several deletions). */
export async function deleteAgentStatements(env: Env, id: string): Promise<AnyStatement[]> {
  return [
    // Schedules (and their runs) of the agent, from their owner.
    ...schedulesStore.deleteForAgent(env.DB, id),
    grantsCleanup(env.DB, 'agent', id),
    ...chatStore.deleteForAgent(env.DB, id),
    deleteGateStatement(env.DB, id),
    ...store.deleteAgentStatements(env.DB, id),
  ];
}

/** Why an agent cannot run, or [] when it can: model resolvable, tools exist, workflow valid, sub-agents present. */
export async function deployProblems(env: Env, agent: Agent): Promise<string[]> {
  const problems: string[] = [];
  try {
    const target = await agentModelTarget(env, agent);
    if (target.provider === 'workers-ai' && !env.AI) problems.push('model_config: the workers-ai provider needs the AI binding, which is not configured');
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    problems.push(e.message);
  }
  try {
    await resolveToolRefs(env, agent.owner_id, agent.include_tools, 'include_tools');
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    problems.push(e.message);
  }
  if (agent.workflow_config) {
    const parsed = WorkflowConfigSchema.safeParse(agent.workflow_config);
    if (!parsed.success) problems.push(describeZodError('workflow_config', parsed.error));
  }
  if (agent.is_main_agent) {
    const missing = await missingSubAgents(env, agent.owner_id, agent.sub_agent_ids);
    if (missing.length) problems.push(`sub_agent_ids: ${missing.join(', ')} no longer exist`);
    if (agent.sub_agent_ids.length === 0) problems.push('sub_agent_ids: a main agent needs at least one sub-agent');
  }
  return problems;
}

async function missingSubAgents(env: Env, ownerId: string, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const found = new Set((await store.findOwnedAgents(env.DB, ownerId, ids)).map((r) => r.id));
  return ids.filter((id) => !found.has(id));
}

export async function deployAgent(env: Env, user: AuthUser, id: string): Promise<Agent> {
  const agent = await getManageableAgent(env, user, id);
  const problems = await deployProblems(env, agent);
  if (problems.length) throw validationError(`The agent cannot be deployed: ${problems.join('; ')}`);
  // An agent already deployed answers 409 below without an eval run.
  if (agent.status !== 'deployed') await checkDeployGate(env, agent);
  return transition(env, agent, ['draft', 'stopped'], 'deployed');
}

export async function stopAgent(env: Env, user: AuthUser, id: string): Promise<Agent> {
  return transition(env, await getManageableAgent(env, user, id), ['deployed'], 'stopped');
}

/** A status change that only happens from the expected states (checked in the UPDATE itself). */
async function transition(env: Env, agent: Agent, from: AgentStatus[], to: AgentStatus): Promise<Agent> {
  if (!(await store.setAgentStatus(env.DB, agent.id, from, to))) {
    const now = await loadAgent(env, agent.id);
    throw conflict(`Agent is ${now?.status ?? 'gone'}; only a ${from.join(' or ')} agent can become ${to}`);
  }
  return (await loadAgent(env, agent.id))!;
}

export async function duplicateAgent(env: Env, user: AuthUser, id: string): Promise<Agent> {
  const source = await getAgent(env, user, id);
  await requirePermission(env, user, 'agent:create');
  const def = definitionOf(source);
  const suffix = ' (copy)';
  // Someone else's sub-agents are not the copier's to delegate to.
  const sameOwner = source.owner_id === user.id;
  return insertAgent(env, user.id, {
    ...def,
    name: def.name.slice(0, 100 - suffix.length) + suffix,
    is_main_agent: sameOwner && def.is_main_agent,
    sub_agent_ids: sameOwner ? def.sub_agent_ids : [],
  });
}

/** The portable document: builtin tools only and the model by provider/name (no config ids, no keys). */
export async function exportAgent(env: Env, user: AuthUser, id: string): Promise<AgentExport> {
  const agent = await getAgent(env, user, id);
  let modelConfig: AgentExport['agent']['model_config'] = null;
  if (agent.model_config) {
    const { model_config_id, ...rest } = agent.model_config;
    const portable: NonNullable<AgentExport['agent']['model_config']> = { ...rest };
    if (model_config_id) {
      const stored = await findUsableModelConfig(env.DB, agent.owner_id, model_config_id);
      if (stored) {
        portable.provider = stored.provider as typeof portable.provider;
        portable.model_name ??= stored.modelName;
        if (portable.temperature === undefined && stored.temperature !== null) portable.temperature = stored.temperature;
        if (portable.max_tokens === undefined && stored.maxTokens !== null) portable.max_tokens = stored.maxTokens;
      }
    }
    modelConfig = portable;
  }
  return {
    format: AGENT_EXPORT_FORMAT,
    format_version: AGENT_EXPORT_VERSION,
    exported_at: new Date().toISOString(),
    agent: {
      name: agent.name,
      description: agent.description,
      system_prompt: agent.system_prompt,
      model_config: modelConfig,
      iteration_limit: agent.iteration_limit,
      // Custom and plugin tools (MCP plugins' `mcp_…` included) are the exporter's (their definitions, their credentials): left out.
      include_tools: agent.include_tools.filter((ref) => !UUID.test(ref) && !isPluginRef(ref) && !ref.startsWith(MCP_TOOL_PREFIX)),
      workflow_config: agent.workflow_config as AgentExport['agent']['workflow_config'],
    },
  };
}

export async function importAgent(env: Env, user: AuthUser, doc: AgentExport): Promise<Agent> {
  const a = doc.agent;
  await requirePermission(env, user, 'agent:create');
  await resolveToolRefs(env, user.id, a.include_tools, 'body.agent.include_tools');
  return insertAgent(env, user.id, {
    name: a.name,
    description: a.description,
    system_prompt: a.system_prompt,
    model_config: a.model_config,
    iteration_limit: a.iteration_limit,
    include_tools: a.include_tools,
    workflow_config: a.workflow_config,
    is_main_agent: false,
    sub_agent_ids: [],
  });
}

/**
 * Makes the agent a main agent delegating to `subAgentIds` (the caller's own agents). Sub-agents
 * may not be main agents themselves: that keeps delegation free of cycles.
 */
export async function createMainAgent(env: Env, user: AuthUser, id: string, subAgentIds: string[]): Promise<Agent> {
  return reviseAgent(env, user, id, async (current) => {
    if (subAgentIds.includes(current.id)) throw validationError('body.sub_agent_ids: an agent cannot delegate to itself');
    // Sub-agents are the agent owner's (a collaborator with write access delegates among them).
    const found = new Map((await store.findOwnedAgents(env.DB, current.owner_id, subAgentIds)).map((r) => [r.id, r]));
    const missing = subAgentIds.filter((s) => !found.has(s));
    if (missing.length) throw validationError(`body.sub_agent_ids: not agents of yours: ${missing.join(', ')}`);
    const mains = subAgentIds.filter((s) => found.get(s)!.isMainAgent === 1);
    if (mains.length) throw validationError(`body.sub_agent_ids: main agents cannot be sub-agents: ${mains.join(', ')}`);
    return { ...definitionOf(current), is_main_agent: true, sub_agent_ids: subAgentIds };
  });
}

/** The owner's design-preview conversation(s) with the agent, oldest first. */
export async function previewChatHistory(env: Env, user: AuthUser, id: string, page: Pagination) {
  const agent = await getAgent(env, user, id);
  const { limit, offset } = pageBounds(page);
  const { rows, total } = await chatStore.listPreviewMessages(env.DB, agent.id, agent.owner_id, limit, offset);
  return paginated(rows.map(toMessage), total, page);
}
