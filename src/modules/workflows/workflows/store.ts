import { eq } from 'drizzle-orm';
import { db } from '../../../db/client';
import { workflows } from '../../../db/schema/workflows';

// ── for permissions ──

/** A workflow's id and owner, for authorize(); null when there is none. */
export async function findResourceRef(d1: D1Database, id: string): Promise<{ id: string; owner_id: string } | null> {
  const [row] = await db(d1).select({ id: workflows.id, owner_id: workflows.ownerId }).from(workflows).where(eq(workflows.id, id));
  return row ?? null;
}
