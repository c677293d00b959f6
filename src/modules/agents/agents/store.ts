import { eq, type SQL } from 'drizzle-orm';
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
