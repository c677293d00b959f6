// ── for agents ──
import { and, eq, inArray } from 'drizzle-orm';
import { db } from '../../../db/client';
import { customTools } from '../../../db/schema/tools';

/** The owner's custom tools among `ids`: what an agent's turn offers the model. */
export async function findToolSpecs(d1: D1Database, ownerId: string, ids: string[]) {
  if (!ids.length) return [];
  return db(d1)
    .select({ id: customTools.id, name: customTools.name, description: customTools.description, parameters: customTools.parameters })
    .from(customTools)
    .where(and(eq(customTools.ownerId, ownerId), inArray(customTools.id, ids)));
}

/** Which of `ids` are custom tools of the owner (an agent's include_tools check). */
export async function findOwnedToolIds(d1: D1Database, ownerId: string, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await db(d1)
    .select({ id: customTools.id })
    .from(customTools)
    .where(and(eq(customTools.ownerId, ownerId), inArray(customTools.id, ids)));
  return new Set(rows.map((r) => r.id));
}
