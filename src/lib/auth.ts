import { createMiddleware } from 'hono/factory';
import type { AppEnv, Env } from '../env';
import { unauthorized } from './errors';
import { sha256Hex } from './crypto';
import { verifyAccessToken } from './jwt';

export interface AuthUser {
  id: string;
  email: string;
  nickname: string;
  role: 'admin' | 'user';
  /** How the request authenticated: an access token (JWT) or an API key. */
  auth_method?: 'jwt' | 'api_key';
}

/** API keys look like `tg_<40 base32 chars>`; anything else is treated as a JWT. */
export const API_KEY_PREFIX = 'tg_';

export const isAdmin = (user: AuthUser) => user.role === 'admin';

/**
 * The active user a bearer credential names — an access token or an API key; null when it is
 * invalid, expired or revoked, or the user is disabled or gone.
 */
export async function authenticate(env: Env, token: string | undefined | null): Promise<AuthUser | null> {
  if (!token) return null;
  if (token.startsWith(API_KEY_PREFIX)) return authenticateApiKey(env, token);
  const userId = await verifyAccessToken(env, token);
  if (!userId) return null;
  const user = await findActiveUser(env, userId);
  return user ? { ...user, auth_method: 'jwt' } : null;
}

/** The active user with this id (for work done on a user's behalf: tools, queues, schedules). */
export async function findActiveUser(env: Env, id: string): Promise<AuthUser | null> {
  return env.DB.prepare("SELECT id, email, nickname, role FROM users WHERE id = ? AND status = 'active'").bind(id).first<AuthUser>();
}

async function authenticateApiKey(env: Env, key: string): Promise<AuthUser | null> {
  const hash = await sha256Hex(key);
  const now = new Date().toISOString();
  const row = await env.DB.prepare(
    `SELECT u.id, u.email, u.nickname, u.role, k.id AS key_id, k.last_used_at
       FROM api_keys k JOIN users u ON u.id = k.user_id
      WHERE k.key_hash = ? AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?) AND u.status = 'active'`,
  )
    .bind(hash, now)
    .first<AuthUser & { key_id: string; last_used_at: string | null }>();
  if (!row) return null;
  // last_used_at is informational: refreshed at most once a minute, not written on every request.
  if (!row.last_used_at || Date.parse(row.last_used_at) < Date.now() - 60_000) {
    await env.DB.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').bind(now, row.key_id).run();
  }
  return { id: row.id, email: row.email, nickname: row.nickname, role: row.role, auth_method: 'api_key' };
}

export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
}

/** The one auth middleware: `Authorization: Bearer <JWT or API key>` → `c.get('user')`, else 401. */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const user = await authenticate(c.env, bearerToken(c.req.header('Authorization')));
  if (!user) throw unauthorized('Missing, invalid or expired access token');
  c.set('user', user);
  await next();
});

/** The OpenAPI security requirement of routes behind `requireAuth`. */
export const bearerSecurity = [{ bearerAuth: [] }];

/** Spread into a createRoute() config: the route requires auth and documents it. */
export const authenticated = { security: bearerSecurity, middleware: requireAuth };
