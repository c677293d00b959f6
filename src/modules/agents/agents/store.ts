import { and, eq, inArray, type SQL, count, sql, type SQLWrapper } from 'drizzle-orm';
import { db } from '../../../db/client';
import { agents } from '../../../db/schema/agents';

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
