import { resolveModelTarget } from '../../../runs/model-target';
import { findUsableModelConfig } from '../model-configs/store';
import { ownedCustomToolIds } from '../tools/store';
import type { ModelTarget } from '../../../engine/llm/gateway';
import type { ToolSpec } from '../../../engine/llm/types';
import { MCP_TOOL_PREFIX } from '../../../engine/plugins/mcp';
import { enabledPluginTools, isPluginRef } from '../../../engine/plugins/tools';
import { findBuiltinTool, findDynamicTool } from '../../../engine/tools/registry';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { authorizeResource, decide, grantsCleanupStatement, readableFilter, requirePermission, type Action, type Decision } from '../../identity/permissions/authorize';
import { isUniqueViolation, likeContains, NOW_SQL, placeholders, tableExists } from '../../../lib/d1';
import { ApiError, conflict, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { describeZodError } from '../../../lib/router';
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

export interface AgentRow {
  id: string;
  owner_id: string;
  name: string;
  description: string;
  system_prompt: string;
  model_config: string | null;
  iteration_limit: number;
  include_tools: string;
  workflow_config: string | null;
  status: AgentStatus;
  version: number;
  is_main_agent: number;
  sub_agent_ids: string;
  created_at: string;
  updated_at: string;
}

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
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function toAgent(row: AgentRow): Agent {
  return {
    id: row.id,
    owner_id: row.owner_id,
    name: row.name,
    description: row.description,
    system_prompt: row.system_prompt,
    model_config: row.model_config ? JSON.parse(row.model_config) : null,
    iteration_limit: row.iteration_limit,
    include_tools: JSON.parse(row.include_tools),
    workflow_config: row.workflow_config ? JSON.parse(row.workflow_config) : null,
    status: row.status,
    version: row.version,
    is_main_agent: row.is_main_agent === 1,
    sub_agent_ids: JSON.parse(row.sub_agent_ids),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

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
  };
}

/** An agent by id with no access check: for the engine (sub-agents, schedules, integrations). */
export async function loadAgent(env: Env, id: string): Promise<Agent | null> {
  const row = await env.DB.prepare('SELECT * FROM agents WHERE id = ?').bind(id).first<AgentRow>();
  return row ? toAgent(row) : null;
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

/** The model an agent's calls use (its model_config resolved for its owner; see resolveModelTarget). */
export function agentModelTarget(env: Env, agent: Pick<Agent, 'owner_id' | 'model_config'>): Promise<ModelTarget> {
  return resolveModelTarget(env, agent.owner_id, agent.model_config);
}

/**
 * Checks `include_tools` entries: a builtin tool name, the name of one of the user's dynamic tools
 * (MCP), or the id of a custom tool the user owns.
 * Custom tools are the tools module's (its store says which ids the user owns).
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
    const found = await ownedCustomToolIds(env.DB, userId, customIds);
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
  const f = (await readableFilter(env, user, 'agent', undefined, 'execute')) ?? { sql: 'owner_id = ?', binds: [user.id] };
  const { results } = await env.DB.prepare(
    `SELECT id, owner_id, name, description, created_at FROM agents WHERE status = 'deployed' AND ${f.sql} ORDER BY created_at DESC, id DESC`,
  )
    .bind(...f.binds)
    .all<{ id: string; owner_id: string; name: string; description: string; created_at: string }>();
  return results;
}

/** authorize() without throwing: may `user` run `agent` (execute)? */
export async function mayRunAgent(env: Env, user: AuthUser, agent: Agent | null): Promise<Decision> {
  return decide(env, user, 'agent', agent, 'execute');
}

export async function listAgents(env: Env, user: AuthUser, query: Pagination & { search?: string; status?: AgentStatus }) {
  const where: string[] = [];
  const binds: unknown[] = [];
  const readable = await readableFilter(env, user, 'agent');
  if (readable) {
    where.push(readable.sql);
    binds.push(...readable.binds);
  }
  if (query.search) {
    where.push("(name LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')");
    binds.push(likeContains(query.search), likeContains(query.search));
  }
  if (query.status) {
    where.push('status = ?');
    binds.push(query.status);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const { limit, offset } = pageBounds(query);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT * FROM agents ${clause} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`).bind(...binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM agents ${clause}`).bind(...binds),
  ]);
  return paginated((rows.results as unknown as AgentRow[]).map(toAgent), (count.results[0] as { n: number }).n, query);
}

// The version snapshot is taken from the row itself (INSERT ... SELECT), so it is exactly what
// was written, in the same batch as the write.
const SNAPSHOT = `json_object('name', name, 'description', description, 'system_prompt', system_prompt,
  'model_config', json(model_config), 'iteration_limit', iteration_limit, 'include_tools', json(include_tools),
  'workflow_config', json(workflow_config), 'is_main_agent', json(CASE is_main_agent WHEN 1 THEN 'true' ELSE 'false' END),
  'sub_agent_ids', json(sub_agent_ids))`;

function snapshotStatement(env: Env, agentId: string, version: number, userId: string) {
  return env.DB.prepare(
    `INSERT INTO agent_versions (id, agent_id, version, snapshot, created_by)
     SELECT ?, id, version, ${SNAPSHOT}, ? FROM agents WHERE id = ? AND version = ?`,
  ).bind(crypto.randomUUID(), userId, agentId, version);
}

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

/** The statements that create an agent and its version 1, for callers that batch them with other writes. */
export function agentInsertStatements(env: Env, ownerId: string, def: AgentDefinition): { id: string; statements: D1PreparedStatement[] } {
  const id = crypto.randomUUID();
  const statements = [
    env.DB.prepare(
      `INSERT INTO agents (id, owner_id, name, description, system_prompt, model_config, iteration_limit, include_tools, workflow_config, is_main_agent, sub_agent_ids)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).bind(
      id,
      ownerId,
      def.name,
      def.description,
      def.system_prompt,
      json(def.model_config),
      def.iteration_limit,
      JSON.stringify(def.include_tools),
      json(def.workflow_config),
      def.is_main_agent ? 1 : 0,
      JSON.stringify(def.sub_agent_ids),
    ),
    snapshotStatement(env, id, 1, ownerId),
  ];
  return { id, statements };
}

async function insertAgent(env: Env, ownerId: string, def: AgentDefinition): Promise<Agent> {
  const { id, statements } = agentInsertStatements(env, ownerId, def);
  await env.DB.batch(statements);
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
      const [updated] = await env.DB.batch([
        env.DB.prepare(
          `UPDATE agents SET name = ?, description = ?, system_prompt = ?, model_config = ?, iteration_limit = ?, include_tools = ?,
             workflow_config = ?, is_main_agent = ?, sub_agent_ids = ?, version = version + 1, updated_at = ${NOW_SQL}
           WHERE id = ? AND version = ?`,
        ).bind(
          next.name,
          next.description,
          next.system_prompt,
          json(next.model_config),
          next.iteration_limit,
          JSON.stringify(next.include_tools),
          json(next.workflow_config),
          next.is_main_agent ? 1 : 0,
          JSON.stringify(next.sub_agent_ids),
          id,
          current.version,
        ),
        snapshotStatement(env, id, current.version + 1, user.id),
      ]);
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
    };
  });
}

/** Deletes an agent with its versions, sessions (and their messages) and schedules, atomically. */
export async function deleteAgent(env: Env, user: AuthUser, id: string): Promise<void> {
  await getAgent(env, user, id, 'admin');
  // The sessions' ids, read in the same batch (before their rows go), to clear their objects.
  const [sessions] = await env.DB.batch<{ id: string }>([sessionIdsStatement(env, id), ...(await deleteAgentStatements(env, id))]);
  await destroyChatSessions(env, sessions.results.map((r) => r.id));
}

/** The ids of an agent's chat sessions (whose objects must be cleared when it goes). */
export function sessionIdsStatement(env: Env, agentId: string): D1PreparedStatement {
  return env.DB.prepare('SELECT id FROM chat_sessions WHERE agent_id = ?').bind(agentId);
}

/** The statements that delete an agent and what hangs off it (for callers batching several deletions). */
export async function deleteAgentStatements(env: Env, id: string): Promise<D1PreparedStatement[]> {
  const statements = [
    grantsCleanupStatement(env, 'agent', id),
    env.DB.prepare('DELETE FROM chat_messages WHERE session_id IN (SELECT id FROM chat_sessions WHERE agent_id = ?)').bind(id),
    env.DB.prepare('DELETE FROM chat_sessions WHERE agent_id = ?').bind(id),
    env.DB.prepare('DELETE FROM agent_versions WHERE agent_id = ?').bind(id),
    // Main agents that delegated to it stop doing so.
    env.DB.prepare(
      `UPDATE agents SET sub_agent_ids = (SELECT json_group_array(value) FROM json_each(agents.sub_agent_ids) WHERE value != ?1), updated_at = ${NOW_SQL}
       WHERE is_main_agent = 1 AND EXISTS (SELECT 1 FROM json_each(agents.sub_agent_ids) WHERE value = ?1)`,
    ).bind(id),
    env.DB.prepare('DELETE FROM agents WHERE id = ?').bind(id),
  ];
  // Schedules belong to the agent-schedules module, whose table may not exist yet.
  if (await tableExists(env.DB, 'agent_schedules')) {
    statements.unshift(
      env.DB.prepare('DELETE FROM schedule_runs WHERE schedule_id IN (SELECT id FROM agent_schedules WHERE agent_id = ?)').bind(id),
      env.DB.prepare('DELETE FROM agent_schedules WHERE agent_id = ?').bind(id),
    );
  }
  return statements;
}

/** How many session objects are cleared at once. */
const DESTROY_CONCURRENCY = 20;

/**
 * Deletes the storage (history, kept stream events, alarm) of the ChatSession objects of deleted
 * sessions. Their D1 rows are already gone, so a failure is logged, not thrown.
 */
export async function destroyChatSessions(env: Env, sessionIds: string[]): Promise<void> {
  for (let i = 0; i < sessionIds.length; i += DESTROY_CONCURRENCY) {
    const outcomes = await Promise.allSettled(
      sessionIds.slice(i, i + DESTROY_CONCURRENCY).map((sid) => env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(sid)).destroy()),
    );
    for (const o of outcomes) {
      if (o.status === 'rejected') console.error(JSON.stringify({ type: 'error', where: 'chat session destroy', error: String(o.reason) }));
    }
  }
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
  const { results } = await env.DB.prepare(`SELECT id FROM agents WHERE owner_id = ? AND id IN (${placeholders(ids.length)})`)
    .bind(ownerId, ...ids)
    .all<{ id: string }>();
  const found = new Set(results.map((r) => r.id));
  return ids.filter((id) => !found.has(id));
}

export async function deployAgent(env: Env, user: AuthUser, id: string): Promise<Agent> {
  const agent = await getManageableAgent(env, user, id);
  const problems = await deployProblems(env, agent);
  if (problems.length) throw validationError(`The agent cannot be deployed: ${problems.join('; ')}`);
  return transition(env, agent, ['draft', 'stopped'], 'deployed');
}

export async function stopAgent(env: Env, user: AuthUser, id: string): Promise<Agent> {
  return transition(env, await getManageableAgent(env, user, id), ['deployed'], 'stopped');
}

/** A status change that only happens from the expected states (checked in the UPDATE itself). */
async function transition(env: Env, agent: Agent, from: AgentStatus[], to: AgentStatus): Promise<Agent> {
  const res = await env.DB.prepare(`UPDATE agents SET status = ?, updated_at = ${NOW_SQL} WHERE id = ? AND status IN (${placeholders(from.length)})`)
    .bind(to, agent.id, ...from)
    .run();
  if (res.meta.changes === 0) {
    const now = await loadAgent(env, agent.id);
    throw conflict(`Agent is ${now?.status ?? 'gone'}; only a ${from.join(' or ')} agent can become ${to}`);
  }
  return (await loadAgent(env, agent.id))!;
}

/** 409 for agents that may not be chatted with (stopped); for the chat module. */
export function assertChattable(agent: Agent) {
  if (agent.status === 'stopped') throw conflict('The agent is stopped; deploy it again to chat with it');
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
    const { results } = await env.DB.prepare(`SELECT id, is_main_agent FROM agents WHERE owner_id = ? AND id IN (${placeholders(subAgentIds.length)})`)
      .bind(current.owner_id, ...subAgentIds)
      .all<{ id: string; is_main_agent: number }>();
    const found = new Map(results.map((r) => [r.id, r]));
    const missing = subAgentIds.filter((s) => !found.has(s));
    if (missing.length) throw validationError(`body.sub_agent_ids: not agents of yours: ${missing.join(', ')}`);
    const mains = subAgentIds.filter((s) => found.get(s)!.is_main_agent === 1);
    if (mains.length) throw validationError(`body.sub_agent_ids: main agents cannot be sub-agents: ${mains.join(', ')}`);
    return { ...definitionOf(current), is_main_agent: true, sub_agent_ids: subAgentIds };
  });
}

/** The name of the tool through which a main agent delegates to a sub-agent. */
export const delegationToolName = (subAgentId: string) => `delegate_${subAgentId.replace(/-/g, '')}`;

/** One delegation tool per sub-agent of a main agent (for the agent loop); missing sub-agents are skipped. */
export async function delegationTools(env: Env, agent: Agent): Promise<Array<ToolSpec & { agent_id: string }>> {
  if (!agent.is_main_agent || !agent.sub_agent_ids.length) return [];
  const { results } = await env.DB.prepare(`SELECT id, name, description FROM agents WHERE owner_id = ? AND id IN (${placeholders(agent.sub_agent_ids.length)})`)
    .bind(agent.owner_id, ...agent.sub_agent_ids)
    .all<{ id: string; name: string; description: string }>();
  const byId = new Map(results.map((r) => [r.id, r]));
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

/** A stored chat message as read from D1 (`tool_calls` still JSON text). */
export interface MessageRow {
  id: string;
  session_id: string;
  seq: number;
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls: string | null;
  tool_call_id: string | null;
  name: string | null;
  created_at: string;
}

/** A stored chat message as the API shows it. */
export const toMessage = (m: MessageRow) => ({ ...m, tool_calls: m.tool_calls ? JSON.parse(m.tool_calls) : null });

/** The owner's design-preview conversation(s) with the agent, oldest first. */
export async function previewChatHistory(env: Env, user: AuthUser, id: string, page: Pagination) {
  const agent = await getAgent(env, user, id);
  const { limit, offset } = pageBounds(page);
  const from = `FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id WHERE s.agent_id = ? AND s.kind = 'preview' AND s.user_id = ?`;
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(
      `SELECT m.id, m.session_id, m.seq, m.role, m.content, m.tool_calls, m.tool_call_id, m.name, m.created_at ${from}
       ORDER BY s.created_at, s.id, m.seq LIMIT ? OFFSET ?`,
    ).bind(agent.id, agent.owner_id, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n ${from}`).bind(agent.id, agent.owner_id),
  ]);
  const items = (rows.results as unknown as MessageRow[]).map(toMessage);
  return paginated(items, (count.results[0] as { n: number }).n, page);
}
