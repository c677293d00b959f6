import { count, eq, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { db } from '../../../db/client';
import { agents } from '../../../db/schema/agents';

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
