
// ── for webhooks ──
import { db as dbForWebhooks } from '../../../db/client';
import { workflows as workflowsForWebhooks } from '../../../db/schema/workflows';

/** Workflows' id, owner, name and creation time as a subquery to join (webhooks find their workflow by id or name). */
export function workflowRefs(d1: D1Database) {
  const w = workflowsForWebhooks;
  return dbForWebhooks(d1).select({ id: w.id, ownerId: w.ownerId, name: w.name, createdAt: w.createdAt }).from(w).as('w');
}
