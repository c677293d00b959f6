import { eq } from 'drizzle-orm';
import { db } from '../../../db/client';
import { agents } from '../../../db/schema/agents';

// ── for permissions ──

/** An agent's id and owner, for authorize(); null when there is none. */
export async function findResourceRef(d1: D1Database, id: string): Promise<{ id: string; owner_id: string } | null> {
  const [row] = await db(d1).select({ id: agents.id, owner_id: agents.ownerId }).from(agents).where(eq(agents.id, id));
  return row ?? null;
}
