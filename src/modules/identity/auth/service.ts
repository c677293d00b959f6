import type { Env } from '../../../env';
import { ApiError, conflict, unauthorized } from '../../../lib/errors';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../../../lib/crypto';
import { issueAccessToken } from '../../../lib/jwt';
import * as store from './store';

/** A user as the API shows one. */
export interface User {
  id: string;
  email: string;
  nickname: string;
  role: 'admin' | 'user';
  status: 'active' | 'disabled';
  created_at: string;
}

export const LOGIN_MAX_FAILURES = 10;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

const toUser = (r: NonNullable<Awaited<ReturnType<typeof store.findUser>>>): User => ({
  id: r.id,
  email: r.email,
  nickname: r.nickname,
  role: r.role,
  status: r.status,
  created_at: r.createdAt,
});

export async function registerUser(env: Env, input: { email: string; password: string; nickname: string }): Promise<User> {
  const email = input.email.toLowerCase();
  const id = crypto.randomUUID();
  const passwordHash = await hashPassword(input.password);
  if (!(await store.insertUser(env.DB, { id, email, nickname: input.nickname, passwordHash }))) throw conflict('A user with this email already exists');
  return (await getUser(env, id))!;
}

export async function getUser(env: Env, id: string): Promise<User | null> {
  const row = await store.findUser(env.DB, id);
  return row ? toUser(row) : null;
}

export async function login(env: Env, username: string, password: string, now = Date.now()) {
  const email = username.trim().toLowerCase();
  const windowStart = now - LOGIN_WINDOW_MS;
  const { failures: failed, user: row } = await store.loginState(env.DB, email, windowStart);
  if (failed.n >= LOGIN_MAX_FAILURES) {
    const retryAfter = Math.max(1, Math.ceil(((failed.first ?? now) + LOGIN_WINDOW_MS - now) / 1000));
    throw new ApiError(429, 'RATE_LIMITED', `Too many failed login attempts; try again in ${retryAfter} seconds`, {
      'Retry-After': String(retryAfter),
    });
  }
  // Verify against a dummy hash for unknown emails so both failures take the same time.
  const ok = await verifyPassword(password, row?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!row || !ok || row.status !== 'active') {
    await store.recordFailedLogin(env.DB, email, now, windowStart);
    throw unauthorized('Incorrect email or password');
  }
  await store.clearLoginAttempts(env.DB, email);
  return { access_token: await issueAccessToken(env, row.id, row.role), token_type: 'bearer' as const };
}
