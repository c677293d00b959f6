import { count, eq } from 'drizzle-orm';
import { db } from '../../../db/client';
import { workflows } from '../../../db/schema/workflows';

// ── for collaboration ──

/** The fields a collaboration room edits, with the version; null when there is no such workflow. */
export async function findWorkflowDocument(d1: D1Database, id: string) {
  const [row] = await db(d1)
    .select({ name: workflows.name, description: workflows.description, graph: workflows.graph, inputsSchema: workflows.inputsSchema, version: workflows.version })
    .from(workflows)
    .where(eq(workflows.id, id));
  return row ?? null;
}

// ── for monitoring ──

/** The number of workflows (of one owner), as a statement for a batch. */
export const countWorkflows = (d1: D1Database, ownerId?: string) =>
  db(d1)
    .select({ total: count() })
    .from(workflows)
    .where(ownerId ? eq(workflows.ownerId, ownerId) : undefined);
