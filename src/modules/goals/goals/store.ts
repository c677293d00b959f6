import { eq } from 'drizzle-orm';
import { db } from '../../../db/client';
import { goals } from '../../../db/schema/goals';

// ── for permissions ──

/** A goal's id and owner, for authorize(); null when there is none. */
export async function findResourceRef(d1: D1Database, id: string): Promise<{ id: string; owner_id: string } | null> {
  const [row] = await db(d1).select({ id: goals.id, owner_id: goals.ownerId }).from(goals).where(eq(goals.id, id));
  return row ?? null;
}
