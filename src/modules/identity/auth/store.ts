import { count, eq, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { db } from '../../../db/client';
import { users } from '../../../db/schema/auth';

// ── for audit-logs ──

/** The email of the user `userId` refers to, as a scalar subquery (null when there is none): a LEFT JOIN users without the join. */
export const userEmailOf = (userId: SQLWrapper): SQL<string | null> => sql<string | null>`(SELECT ${users.email} FROM ${users} WHERE ${users.id} = ${userId})`;

// ── for monitoring ──

/** The number of active users, as a statement for a batch. */
export const countActiveUsers = (d1: D1Database) => db(d1).select({ total: count() }).from(users).where(eq(users.status, 'active'));
