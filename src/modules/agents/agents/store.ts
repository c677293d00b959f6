import { and, eq, inArray, type SQL, count, sql, type SQLWrapper, desc, or } from 'drizzle-orm';
import { db, now, rowByIdSql, type Statement, likeContains } from '../../../db/client';
import { agents, agentVersions } from '../../../db/schema/agents';

/** The owner and resource-id columns of listed agents, for authorize's readableWhere(). */
export const agentAccess = { ownerId: agents.ownerId, id: agents.id };

// ── for workflows ──

/** What a run of an agent as a workflow needs: its owner and its `workflow_config` (JSON text). */
export async function findAgentWorkflowConfig(d1: D1Database, id: string): Promise<{ id: string; ownerId: string; workflowConfig: string | null } | null> {
  return (await db(d1).select({ id: agents.id, ownerId: agents.ownerId, workflowConfig: agents.workflowConfig }).from(agents).where(eq(agents.id, id)).get()) ?? null;
}

/** The ids of the agents matching `where` (a subquery for the executions' list filter). */
export function agentIdsWhere(d1: D1Database, where: SQL | undefined) {
  return db(d1).select({ id: agents.id }).from(agents).where(where);
}

// ── for goals ──
/** Which of `ids` are agents of `ownerId`. */
export async function ownedAgentIds(d1: D1Database, ownerId: string, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await db(d1)
    .select({ id: agents.id })
    .from(agents)
    .where(and(eq(agents.ownerId, ownerId), inArray(agents.id, ids)));
  return rows.map((r) => r.id);
}

/** Whether `id` is an agent of `ownerId`. */
export async function isOwnedAgent(d1: D1Database, ownerId: string, id: string): Promise<boolean> {
  return (await ownedAgentIds(d1, ownerId, [id])).length === 1;
}

// ── for monitoring ──

/** The number of agents (of one owner) and how many are deployed, as a statement for a batch. */
export const countAgents = (d1: D1Database, ownerId?: string) =>
  db(d1)
    .select({ total: count(), deployed: sql<number>`coalesce(sum(${agents.status} = 'deployed'), 0)` })
    .from(agents)
    .where(ownerId ? eq(agents.ownerId, ownerId) : undefined);

/** The name of the agent `agentId` refers to, as a scalar subquery (null when there is none). */
export const agentNameOf = (agentId: SQLWrapper): SQL<string | null> => sql<string | null>`(SELECT ${agents.name} FROM ${agents} WHERE ${agents.id} = ${agentId})`;

// ── for feedback ──

/** The owner of the agent `agentId` refers to, as a scalar subquery (null when there is none). */
export const agentOwnerOf = (agentId: SQLWrapper): SQL<string | null> => sql<string | null>`(SELECT ${agents.ownerId} FROM ${agents} WHERE ${agents.id} = ${agentId})`;

// ── for permissions ──

/** An agent's id and owner, for authorize(); null when there is none. */
export async function findResourceRef(d1: D1Database, id: string): Promise<{ id: string; owner_id: string } | null> {
  const [row] = await db(d1).select({ id: agents.id, owner_id: agents.ownerId }).from(agents).where(eq(agents.id, id));
  return row ?? null;
}

/** The agents table: JSON-valued fields (model_config, include_tools, …) are JSON text. */
export type AgentRow = typeof agents.$inferSelect;
export type AgentStatus = AgentRow['status'];
/** What is written when an agent is created (the rest is defaulted). */
export type NewAgent = Pick<
  AgentRow,
  'id' | 'ownerId' | 'name' | 'description' | 'systemPrompt' | 'modelConfig' | 'iterationLimit' | 'includeTools' | 'workflowConfig' | 'isMainAgent' | 'subAgentIds' | 'multitaskStrategy'
>;
/** What a new version of an agent changes. */
export type AgentDefinitionValues = Omit<NewAgent, 'id' | 'ownerId'>;

/** The select of one agent by id, for a caller's batch (its result: a list of at most one row). */
export function selectAgent(d1: D1Database, id: string) {
  return db(d1).select().from(agents).where(eq(agents.id, id));
}

const AGENT_BY_ID = rowByIdSql(agents);

/** The same read as a raw statement (its result: D1Result<AgentRow>) — the chat turn's hot path: no per-call query building. */
export function agentRowStatement(d1: D1Database, id: string): D1PreparedStatement {
  return d1.prepare(AGENT_BY_ID).bind(id);
}

export async function findAgent(d1: D1Database, id: string): Promise<AgentRow | null> {
  const [row] = await selectAgent(d1, id);
  return row ?? null;
}

/** A page of agents (newest first) matching `readable` (an access filter), the search and the status, with the total. */
export async function listAgents(
  d1: D1Database,
  filter: { readable?: SQL; search?: string; status?: AgentStatus },
  limit: number,
  offset: number,
): Promise<{ rows: AgentRow[]; total: number }> {
  const where = and(
    filter.readable,
    filter.search ? or(likeContains(agents.name, filter.search), likeContains(agents.description, filter.search)) : undefined,
    filter.status ? eq(agents.status, filter.status) : undefined,
  );
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(agents).where(where).orderBy(desc(agents.createdAt), desc(agents.id)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(agents).where(where),
  ]);
  return { rows, total };
}

/** Deployed agents matching `readable` (newest first): the per-account catalogue's rows. */
export function listDeployedAgents(d1: D1Database, readable: SQL) {
  return db(d1)
    .select({ id: agents.id, owner_id: agents.ownerId, name: agents.name, description: agents.description, system_prompt: agents.systemPrompt, created_at: agents.createdAt })
    .from(agents)
    .where(and(eq(agents.status, 'deployed'), readable))
    .orderBy(desc(agents.createdAt), desc(agents.id));
}

/** The owner's agents among `ids` (what delegation and sub-agent checks need of them). */
export async function findOwnedAgents(d1: D1Database, ownerId: string, ids: string[]) {
  if (!ids.length) return [];
  return db(d1)
    .select({ id: agents.id, name: agents.name, description: agents.description, isMainAgent: agents.isMainAgent })
    .from(agents)
    .where(and(eq(agents.ownerId, ownerId), inArray(agents.id, ids)));
}

export function insertAgent(d1: D1Database, agent: NewAgent): Statement {
  return db(d1).insert(agents).values(agent);
}

/**
 * Writes a new version of an agent: `version + 1` only if the version is still `expected`
 * (optimistic concurrency; the result's `meta.changes` is 0 when another writer was first).
 */
export function reviseAgent(d1: D1Database, id: string, expected: number, values: AgentDefinitionValues): Statement {
  return db(d1)
    .update(agents)
    .set({ ...values, version: sql`${agents.version} + 1`, updatedAt: now() })
    .where(and(eq(agents.id, id), eq(agents.version, expected)));
}

/**
 * The snapshot of an agent's version `version`, taken from the row itself (INSERT ... SELECT), so
 * it is exactly what was written, in the same batch as the write.
 */
export function snapshotVersion(d1: D1Database, agentId: string, version: number, createdBy: string): Statement {
  const a = agents;
  const snapshot = sql<string>`json_object('name', ${a.name}, 'description', ${a.description}, 'system_prompt', ${a.systemPrompt},
  'model_config', json(${a.modelConfig}), 'iteration_limit', ${a.iterationLimit}, 'include_tools', json(${a.includeTools}),
  'workflow_config', json(${a.workflowConfig}), 'is_main_agent', json(CASE ${a.isMainAgent} WHEN 1 THEN 'true' ELSE 'false' END),
  'sub_agent_ids', json(${a.subAgentIds}), 'multitask_strategy', ${a.multitaskStrategy})`;
  return db(d1)
    .insert(agentVersions)
    .select(
      db(d1)
        .select({
          id: sql<string>`${crypto.randomUUID()}`.as('id'),
          agentId: a.id,
          version: a.version,
          snapshot: snapshot.as('snapshot'),
          createdBy: sql<string>`${createdBy}`.as('created_by'),
          createdAt: now().as('created_at'),
        })
        .from(a)
        .where(and(eq(a.id, agentId), eq(a.version, version))),
    );
}

/** The definition snapshot (JSON text) of an agent's version `version`; null when there is none. */
export async function findVersionSnapshot(d1: D1Database, agentId: string, version: number): Promise<string | null> {
  const row = await db(d1)
    .select({ snapshot: agentVersions.snapshot })
    .from(agentVersions)
    .where(and(eq(agentVersions.agentId, agentId), eq(agentVersions.version, version)))
    .get();
  return row?.snapshot ?? null;
}

/** A status change that only happens from the expected states; true when it happened. */
export async function setAgentStatus(d1: D1Database, id: string, from: AgentStatus[], to: AgentStatus): Promise<boolean> {
  const res = await db(d1)
    .update(agents)
    .set({ status: to, updatedAt: now() })
    .where(and(eq(agents.id, id), inArray(agents.status, from)));
  return res.meta.changes > 0;
}

/** The statements that delete an agent and its versions; main agents that delegated to it stop doing so. */
export function deleteAgentStatements(d1: D1Database, id: string): Statement[] {
  return [
    db(d1).delete(agentVersions).where(eq(agentVersions.agentId, id)),
    db(d1)
      .update(agents)
      .set({ subAgentIds: sql`(SELECT json_group_array(value) FROM json_each(${agents.subAgentIds}) WHERE value != ${id})`, updatedAt: now() })
      .where(and(eq(agents.isMainAgent, 1), sql`EXISTS (SELECT 1 FROM json_each(${agents.subAgentIds}) WHERE value = ${id})`)),
    db(d1).delete(agents).where(eq(agents.id, id)),
  ];
}
