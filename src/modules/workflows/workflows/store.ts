import { and, asc, eq, type SQL } from 'drizzle-orm';
import { db } from '../../../db/client';
import { workflows } from '../../../db/schema/workflows';

// ── for mcp ──
const runnable = { id: workflows.id, name: workflows.name, description: workflows.description, inputsSchema: workflows.inputsSchema };

/** Active workflows matching `where` (the caller's access condition), oldest first. */
export function activeWorkflows(d1: D1Database, where: SQL | undefined) {
  return db(d1)
    .select(runnable)
    .from(workflows)
    .where(and(eq(workflows.status, 'active'), where))
    .orderBy(asc(workflows.createdAt), asc(workflows.id));
}

/** The active workflow with this id, if it matches `where`. */
export async function findActiveWorkflow(d1: D1Database, id: string, where: SQL | undefined) {
  const [row] = await db(d1)
    .select(runnable)
    .from(workflows)
    .where(and(eq(workflows.id, id), eq(workflows.status, 'active'), where))
    .limit(1);
  return row ?? null;
}

// ── for template-market ──
/** Whether the workflow exists and belongs to `ownerId`. */
export async function isOwnWorkflow(d1: D1Database, id: string, ownerId: string): Promise<boolean> {
  const [row] = await db(d1)
    .select({ id: workflows.id })
    .from(workflows)
    .where(and(eq(workflows.id, id), eq(workflows.ownerId, ownerId)))
    .limit(1);
  return row !== undefined;
}
