import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Env } from '../../../env';
import type { AppEnv } from '../../../lib/context';
import { unauthorized } from '../../../lib/errors';
import { sha256Hex } from '../../../lib/crypto';
import { verifyAccessToken } from '../../../lib/jwt';
import { API_KEY_PREFIX, bearerSecurity, bearerToken, type AuthUser } from '../../../lib/auth';
import { findKeyUser, touchApiKey } from '../api-keys/store';
import { activeUserStatement, findActiveUser } from './store';

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

const UNAUTHORIZED_MESSAGE = 'Missing, invalid or expired access token';

async function authenticateApiKey(env: Env, key: string): Promise<AuthUser | null> {
  const hash = await sha256Hex(key);
  const now = new Date().toISOString();
  const row = await findKeyUser(env.DB, hash, now);
  if (!row) return null;
  // last_used_at is informational: refreshed at most once a minute, not written on every request.
  if (!row.lastUsedAt || Date.parse(row.lastUsedAt) < Date.now() - 60_000) await touchApiKey(env.DB, row.keyId, now);
  return { id: row.id, email: row.email, nickname: row.nickname, role: row.role, auth_method: 'api_key' };
}

/** The one auth middleware: `Authorization: Bearer <JWT or API key>` → `c.get('user')`, else 401. */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const user = await authenticate(c.env, bearerToken(c.req.header('Authorization')));
  if (!user) throw unauthorized(UNAUTHORIZED_MESSAGE);
  c.set('user', user);
  await next();
});

/**
 * requireAuth for hot routes whose handler reads D1 first thing anyway (a chat turn): the
 * credential is checked here (401 when missing, invalid or expired), but for an access token the
 * user row (active or not) is read in the handler's own first D1 batch, through `userLookup`,
 * instead of in a round trip of its own. API keys are looked up here, as with requireAuth.
 */
export const requireAuthDeferred = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header('Authorization'));
  if (token && !token.startsWith(API_KEY_PREFIX)) {
    const userId = await verifyAccessToken(c.env, token);
    if (!userId) throw unauthorized(UNAUTHORIZED_MESSAGE);
    c.set('pendingUserId', userId);
  } else {
    const user = await authenticate(c.env, token);
    if (!user) throw unauthorized(UNAUTHORIZED_MESSAGE);
    c.set('user', user);
  }
  await next();
});

/** The caller's user, known already or to be read with the caller's own batch. */
export interface UserLookup {
  /** The user's id (known from the credential). */
  id: string;
  /** The user row's read, to add to a raw D1 batch (`env.DB.batch`); null when the user is known. */
  statement: D1PreparedStatement | null;
  /** The user from that read's first row: 401 when it is missing (user disabled or gone). */
  resolve(row: unknown): AuthUser;
}

export const knownUser = (user: AuthUser): UserLookup => ({ id: user.id, statement: null, resolve: () => user });

/** The user of a request behind requireAuth or requireAuthDeferred; `resolve` also sets `c.get('user')`. */
export function userLookup(c: Context<AppEnv>): UserLookup {
  const known = c.get('user');
  const pending = c.get('pendingUserId');
  if (known || !pending) return knownUser(known);
  return {
    id: pending,
    statement: activeUserStatement(c.env.DB, pending),
    resolve(row) {
      if (!row) throw unauthorized(UNAUTHORIZED_MESSAGE);
      const user: AuthUser = { ...(row as AuthUser), auth_method: 'jwt' };
      c.set('user', user);
      return user;
    },
  };
}

/** Spread into a createRoute() config: the route requires auth and documents it. */
export const authenticated = { security: bearerSecurity, middleware: requireAuth };

/** `authenticated` for routes whose handler reads the user with its own batch (`userLookup`). */
export const authenticatedDeferred = { security: bearerSecurity, middleware: requireAuthDeferred };
