import { count, eq, sql, type SQL, type SQLWrapper, and, gt, lte, min } from 'drizzle-orm';
import { db, now, type Statement } from '../../../db/client';
import { users, loginAttempts } from '../../../db/schema/auth';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';

/** The users table (the password hash included: never present a row as it is). */
export type UserRow = typeof users.$inferSelect;

// Hot path (every request with an access token): raw, so it costs the request nothing beyond its
// query, and batchable with a handler's raw D1 reads (agent-chat's first batch).
const ACTIVE_USER_SQL = "SELECT id, email, nickname, role FROM users WHERE id = ? AND status = 'active'";

/** The active user's read as a raw D1 statement: its first row is an `AuthUser` less auth_method. */
export const activeUserStatement = (d1: D1Database, id: string): D1PreparedStatement => d1.prepare(ACTIVE_USER_SQL).bind(id);

/** The active user with this id (for work done on a user's behalf: tools, queues, schedules). */
export async function findActiveUser(env: Pick<Env, 'DB'>, id: string): Promise<AuthUser | null> {
  return activeUserStatement(env.DB, id).first<AuthUser>();
}

/** Active users' principal columns and creation time as a raw subquery, for raw hot-path joins (the API-key lookup). */
export const ACTIVE_USERS_SQL = "(SELECT id, email, nickname, role, created_at FROM users WHERE status = 'active')";

// Hot path (the access-token check, GET /auth/me): a prepared statement, like the check above.
const USER_SQL = 'SELECT id, email, nickname, role, status, created_at AS createdAt FROM users WHERE id = ?';

export async function findUser(d1: D1Database, id: string): Promise<Pick<UserRow, 'id' | 'email' | 'nickname' | 'role' | 'status' | 'createdAt'> | null> {
  return d1.prepare(USER_SQL).bind(id).first();
}

/**
 * Registers a user unless the email (any case) is taken; the first user becomes admin. One
 * statement decides the role, so two first registrations cannot both become admin. Returns
 * whether a row was written.
 */
export async function insertUser(d1: D1Database, user: Pick<UserRow, 'id' | 'email' | 'nickname' | 'passwordHash'>): Promise<boolean> {
  const result = await db(d1)
    .run(
      sql`INSERT INTO ${users} (id, email, nickname, password_hash, role)
        SELECT ${user.id}, ${user.email}, ${user.nickname}, ${user.passwordHash}, CASE WHEN EXISTS (SELECT 1 FROM ${users}) THEN 'user' ELSE 'admin' END
        WHERE NOT EXISTS (SELECT 1 FROM ${users} WHERE lower(email) = ${user.email})`,
    )
    // Two registrations of one email at once: the unique index refuses the second.
    .catch((e: unknown) => {
      if (/UNIQUE/.test(`${e} ${(e as Error)?.cause ?? ''}`)) return null;
      throw e;
    });
  return (result?.meta.changes ?? 0) > 0;
}

/** Makes an account admin or not (users.role): a statement for the caller's batch. */
export const setUserRole = (d1: D1Database, id: string, role: UserRow['role']): Statement =>
  db(d1).update(users).set({ role, updatedAt: now() }).where(eq(users.id, id));

export async function countActiveAdmins(d1: D1Database): Promise<number> {
  const [{ n }] = await db(d1)
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.role, 'admin'), eq(users.status, 'active')));
  return n;
}

// ---------------------------------------------------------------------------------------------
// Logins

/** The failed logins of an email since `since` (ms) and the account, in one round trip. */
export async function loginState(d1: D1Database, email: string, since: number) {
  const [[failures], [user]] = await db(d1).batch([
    db(d1)
      .select({ n: count(), first: min(loginAttempts.attemptedAt) })
      .from(loginAttempts)
      .where(and(eq(loginAttempts.email, email), gt(loginAttempts.attemptedAt, since))),
    db(d1).select({ id: users.id, role: users.role, status: users.status, passwordHash: users.passwordHash }).from(users).where(eq(users.email, email)),
  ]);
  return { failures: failures as { n: number; first: number | null }, user: user ?? null };
}

/** Records a failed login and drops attempts older than the window, in one batch. */
export async function recordFailedLogin(d1: D1Database, email: string, at: number, windowStart: number): Promise<void> {
  await db(d1).batch([db(d1).insert(loginAttempts).values({ email, attemptedAt: at }), purgeLoginAttempts(d1, windowStart)]);
}

export async function clearLoginAttempts(d1: D1Database, email: string): Promise<void> {
  await db(d1).delete(loginAttempts).where(eq(loginAttempts.email, email));
}

/** Drops the failed logins at or before `before` (ms): they no longer count (also run by cron). */
export const purgeLoginAttempts = (d1: D1Database, before: number) => db(d1).delete(loginAttempts).where(lte(loginAttempts.attemptedAt, before));

// ── for audit-logs ──

/** The email of the user `userId` refers to, as a scalar subquery (null when there is none): a LEFT JOIN users without the join. */
export const userEmailOf = (userId: SQLWrapper): SQL<string | null> => sql<string | null>`(SELECT ${users.email} FROM ${users} WHERE ${users.id} = ${userId})`;

// ── for monitoring ──

/** The number of active users, as a statement for a batch. */
export const countActiveUsers = (d1: D1Database) => db(d1).select({ total: count() }).from(users).where(eq(users.status, 'active'));

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
