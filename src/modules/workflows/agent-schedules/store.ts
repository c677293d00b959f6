// ── for agents ──
import { eq, inArray } from 'drizzle-orm';
import { db, type Statement } from '../../../db/client';
import { agentSchedules, scheduleRuns } from '../../../db/schema/agent-schedules';

/** The statements that delete an agent's schedules and their runs (the agent is being deleted). */
export function deleteForAgent(d1: D1Database, agentId: string): Statement[] {
  return [
    db(d1)
      .delete(scheduleRuns)
      .where(inArray(scheduleRuns.scheduleId, db(d1).select({ id: agentSchedules.id }).from(agentSchedules).where(eq(agentSchedules.agentId, agentId)))),
    db(d1).delete(agentSchedules).where(eq(agentSchedules.agentId, agentId)),
  ];
}
