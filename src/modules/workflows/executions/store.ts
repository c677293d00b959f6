
// ── for agent-schedules ──
import { db as dbForSchedules } from '../../../db/client';
import { executions as executionsForSchedules } from '../../../db/schema/executions';

/** Executions' ids and statuses as a subquery to join (a schedule shows its last run's status). */
export function executionStatuses(d1: D1Database) {
  const e = executionsForSchedules;
  return dbForSchedules(d1).select({ id: e.id, status: e.status }).from(e).as('e');
}
