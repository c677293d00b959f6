import { eq, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { goals } from '../../../db/schema/goals';

// ── for monitoring ──

/** `SELECT id FROM goals [WHERE owner_id = ?]`: the goals (of one owner), as a subquery. */
export const goalIdsSql = (ownerId?: string): SQL => sql`SELECT ${goals.id} FROM ${goals}${ownerId ? sql` WHERE ${eq(goals.ownerId, ownerId)}` : sql``}`;

/** The owner of the goal `goalId` refers to, as a scalar subquery. */
export const goalOwnerOf = (goalId: SQLWrapper): SQL<string> => sql<string>`(SELECT ${goals.ownerId} FROM ${goals} WHERE ${goals.id} = ${goalId})`;
