import type { Env } from '../../../env';
import { ApiError, conflict, unauthorized } from '../../../lib/errors';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../../../lib/crypto';
import { issueAccessToken } from '../../../lib/jwt';

export interface UserRow {
  id: string;
  email: string;
  nickname: string;
  role: 'admin' | 'user';
  status: 'active' | 'disabled';
  created_at: string;
}

const USER_COLUMNS = 'id, email, nickname, role, status, created_at';
export const LOGIN_MAX_FAILURES = 10;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

export async function registerUser(
  env: Env,
  input: { email: string; password: string; nickname: string },
): Promise<UserRow> {
  const email = input.email.toLowerCase();
  const id = crypto.randomUUID();
  const passwordHash = await hashPassword(input.password);
  // One statement decides the role, so two first registrations cannot both become admin.
  const result = await env.DB.prepare(
    `INSERT INTO users (id, email, nickname, password_hash, role)
     SELECT ?1, ?2, ?3, ?4, CASE WHEN EXISTS (SELECT 1 FROM users) THEN 'user' ELSE 'admin' END
     WHERE NOT EXISTS (SELECT 1 FROM users WHERE lower(email) = ?2)`,
  )
    .bind(id, email, input.nickname, passwordHash)
    .run()
    .catch((e: unknown) => {
      if (String(e).includes('UNIQUE')) return null;
      throw e;
    });
  if (!result || result.meta.changes === 0) throw conflict('A user with this email already exists');
  return (await getUser(env, id))!;
}

export async function getUser(env: Env, id: string): Promise<UserRow | null> {
  return env.DB.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).bind(id).first<UserRow>();
}

export async function login(env: Env, username: string, password: string, now = Date.now()) {
  const email = username.trim().toLowerCase();
  const windowStart = now - LOGIN_WINDOW_MS;
  const [failures, user] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(
      'SELECT count(*) AS n, min(attempted_at) AS first FROM login_attempts WHERE email = ? AND attempted_at > ?',
    ).bind(email, windowStart),
    env.DB.prepare("SELECT id, role, status, password_hash FROM users WHERE email = ?").bind(email),
  ]);
  const failed = failures.results[0] as { n: number; first: number | null };
  if (failed.n >= LOGIN_MAX_FAILURES) {
    const retryAfter = Math.max(1, Math.ceil(((failed.first ?? now) + LOGIN_WINDOW_MS - now) / 1000));
    throw new ApiError(429, 'RATE_LIMITED', `Too many failed login attempts; try again in ${retryAfter} seconds`, {
      'Retry-After': String(retryAfter),
    });
  }
  const row = user.results[0] as { id: string; role: string; status: string; password_hash: string } | undefined;
  // Verify against a dummy hash for unknown emails so both failures take the same time.
  const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_PASSWORD_HASH);
  if (!row || !ok || row.status !== 'active') {
    await env.DB.batch([
      env.DB.prepare('INSERT INTO login_attempts (email, attempted_at) VALUES (?, ?)').bind(email, now),
      env.DB.prepare('DELETE FROM login_attempts WHERE attempted_at <= ?').bind(windowStart),
    ]);
    throw unauthorized('Incorrect email or password');
  }
  await env.DB.prepare('DELETE FROM login_attempts WHERE email = ?').bind(email).run();
  return { access_token: await issueAccessToken(env, row.id, row.role), token_type: 'bearer' as const };
}
