import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Env } from '../../../env';
import type { AppEnv } from '../../../lib/context';
import { unauthorized } from '../../../lib/errors';
import { sha256Hex } from '../../../lib/crypto';
import { IsolateCache } from '../../../lib/isolate-cache';
import { verifyAccessToken, type VerifiedToken } from '../../../lib/jwt';
import { API_KEY_PREFIX, UNAUTHORIZED_MESSAGE, bearerSecurity, bearerToken, type AuthUser } from '../../../lib/auth';
import { findKeyUser, touchApiKey } from '../api-keys/store';
import { findUser } from './store';

/**
 * How long an isolate trusts what it read about a credential (the access token's user, the API
 * key's user) before reading it again. Changes made through this isolate — a role assigned or
 * revoked, a key revoked (and disabling a user, changing a password, should such paths be added:
 * they must call forgetUser) — take effect at once (forgetUser, forgetApiKey); a change made
 * elsewhere (another isolate, another location, D1 directly) is seen within this bound. The chat
 * routes (requireAuthDeferred) have the session object read the user with its checks: never stale.
 */
export const CREDENTIAL_CACHE_TTL_MS = 30_000;
const CREDENTIAL_CACHE_ENTRIES = 1000;

// Access token → its verified subject and expiry: the HMAC check runs once per token and bound.
const verifiedTokens = new IsolateCache<string, VerifiedToken>(CREDENTIAL_CACHE_ENTRIES, CREDENTIAL_CACHE_TTL_MS);
// The active user of a credential, and when their account was made (GET /auth/me answers from it).
interface Account {
  user: AuthUser;
  createdAt: string;
}
// User id → the active user (no entry for a disabled or missing user: each such request reads again).
const activeUsers = new IsolateCache<string, Account>(CREDENTIAL_CACHE_ENTRIES, CREDENTIAL_CACHE_TTL_MS);
// API key (the secret itself, kept only in memory: no hash per request) → its active user.
interface KeyEntry extends Account {
  keyId: string;
  expiresAt: number;
}
const keyUsers = new IsolateCache<string, KeyEntry>(CREDENTIAL_CACHE_ENTRIES, CREDENTIAL_CACHE_TTL_MS);

/** A user's credentials are read again on their next request (role, status or password changed). */
export function forgetUser(userId: string): void {
  activeUsers.delete(userId);
  keyUsers.deleteWhere((entry) => entry.user.id === userId);
}

/** A key is read again on its next use (revoked). */
export function forgetApiKey(keyId: string): void {
  keyUsers.deleteWhere((entry) => entry.keyId === keyId);
}

/** The access token's subject and expiry when it is valid now (its signature checked once per bound). */
async function verifiedToken(env: Env, token: string): Promise<VerifiedToken | null> {
  let verified = verifiedTokens.get(token) ?? null;
  if (!verified) {
    verified = await verifyAccessToken(env, token);
    if (verified) verifiedTokens.set(token, verified);
  }
  if (verified && verified.expiresAt <= Date.now()) {
    verifiedTokens.delete(token);
    return null;
  }
  return verified;
}

/**
 * The active user a bearer credential names — an access token or an API key; null when it is
 * invalid, expired or revoked, or the user is disabled or gone. Served from the isolate's cache
 * when it read the same credential less than CREDENTIAL_CACHE_TTL_MS ago (no D1 round trip).
 */
export async function authenticate(env: Env, token: string | undefined | null): Promise<AuthUser | null> {
  const account = await authenticateAccount(env, token);
  return account && { ...account.user };
}

async function authenticateAccount(env: Env, token: string | undefined | null): Promise<Account | null> {
  if (!token) return null;
  if (token.startsWith(API_KEY_PREFIX)) return authenticateApiKey(env, token);
  const verified = await verifiedToken(env, token);
  if (!verified) return null;
  const cached = activeUsers.get(verified.userId);
  if (cached) return cached;
  const row = await findUser(env.DB, verified.userId);
  if (!row || row.status !== 'active') return null;
  const account: Account = { user: { id: row.id, email: row.email, nickname: row.nickname, role: row.role, auth_method: 'jwt' }, createdAt: row.createdAt };
  activeUsers.set(verified.userId, account);
  return account;
}


async function authenticateApiKey(env: Env, key: string): Promise<Account | null> {
  const cached = keyUsers.get(key);
  if (cached) {
    if (cached.expiresAt > Date.now()) return cached;
    keyUsers.delete(key);
    return null;
  }
  const now = new Date().toISOString();
  const row = await findKeyUser(env.DB, await sha256Hex(key), now);
  if (!row) return null;
  // last_used_at is informational: refreshed at most once a minute (when the key is read again), not on every request.
  if (!row.lastUsedAt || Date.parse(row.lastUsedAt) < Date.now() - 60_000) await touchApiKey(env.DB, row.keyId, now);
  const entry: KeyEntry = {
    user: { id: row.id, email: row.email, nickname: row.nickname, role: row.role, auth_method: 'api_key' },
    createdAt: row.createdAt,
    keyId: row.keyId,
    expiresAt: row.expiresAt ? Date.parse(row.expiresAt) : Number.POSITIVE_INFINITY,
  };
  keyUsers.set(key, entry);
  return entry;
}

/** The one auth middleware: `Authorization: Bearer <JWT or API key>` → `c.get('user')`, else 401. */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const account = await authenticateAccount(c.env, bearerToken(c.req.header('Authorization')));
  if (!account) throw unauthorized(UNAUTHORIZED_MESSAGE);
  c.set('user', { ...account.user });
  c.set('userCreatedAt', account.createdAt);
  await next();
});

/**
 * requireAuth for hot routes whose handler checks the user with its own first read (a chat turn:
 * the session object's checks): the credential is checked here (401 when missing, invalid or
 * expired), but for an access token the user row (active or not) is read by those checks
 * (`deferredCaller`), not in a round trip of its own. API keys are looked up here, as with requireAuth.
 */
export const requireAuthDeferred = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header('Authorization'));
  if (token && !token.startsWith(API_KEY_PREFIX)) {
    const verified = await verifiedToken(c.env, token);
    if (!verified) throw unauthorized(UNAUTHORIZED_MESSAGE);
    c.set('pendingUserId', verified.userId);
  } else {
    const user = await authenticate(c.env, token);
    if (!user) throw unauthorized(UNAUTHORIZED_MESSAGE);
    c.set('user', user);
  }
  await next();
});

/**
 * The caller of a route behind requireAuthDeferred: the credential's user id, with the account
 * when the credential check read it (an API key); otherwise the handler's own checks read it.
 */
export interface Caller {
  id: string;
  user: AuthUser | null;
}

export function deferredCaller(c: Context<AppEnv>): Caller {
  const user = c.get('user');
  return user ? { id: user.id, user } : { id: c.get('pendingUserId')!, user: null };
}

/** Spread into a createRoute() config: the route requires auth and documents it. */
export const authenticated = { security: bearerSecurity, middleware: requireAuth };

/** `authenticated` for routes whose handler checks the user with its own first read (`deferredCaller`). */
export const authenticatedDeferred = { security: bearerSecurity, middleware: requireAuthDeferred };
