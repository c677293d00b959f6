import { and, eq, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { db } from '../../../db/client';
import { users } from '../../../db/schema/auth';

// ── for markets ──
/** A user's nickname (null when no such user) as a scalar subquery, for other owners' listings. */
export const nicknameOf = (userId: SQLWrapper): SQL<string | null> => sql<string | null>`(SELECT ${users.nickname} FROM ${users} WHERE ${users.id} = ${userId})`;

// ── for feishu ──
/** Ids of the active admins (to notify them). */
export async function activeAdminIds(d1: D1Database): Promise<string[]> {
  const rows = await db(d1)
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.role, 'admin'), eq(users.status, 'active')));
  return rows.map((r) => r.id);
}
