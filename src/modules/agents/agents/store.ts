import { and, eq, inArray } from 'drizzle-orm';
import { db } from '../../../db/client';
import { agents } from '../../../db/schema/agents';

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
