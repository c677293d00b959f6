import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Env } from '../../../env';
import type { AppEnv } from '../../../lib/context';
import { unauthorized } from '../../../lib/errors';
import { sha256Hex } from '../../../lib/crypto';
import { IsolateCache } from '../../../lib/isolate-cache';
import { verifyAccessToken, type VerifiedToken } from '../../../lib/jwt';
import { API_KEY_PREFIX, bearerSecurity, bearerToken, type AuthUser } from '../../../lib/auth';
import { findKeyUser, touchApiKey } from '../api-keys/store';
import { activeUserStatement, findUser } from './store';

/**
 * How long an isolate trusts what it read about a credential (the access token's user, the API
 * key's user) before reading it again. Changes made through this isolate — a role assigned or
 * revoked, a key revoked (and disabling a user, changing a password, should such paths be added:
 * they must call forgetUser) — take effect at once (forgetUser, forgetApiKey); a change made
 * elsewhere (another isolate, another location, D1 directly) is seen within this bound. The chat
 * routes (requireAuthDeferred) read the user with their own first batch and are never stale.
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

const UNAUTHORIZED_MESSAGE = 'Missing, invalid or expired access token';

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
 * requireAuth for hot routes whose handler reads D1 first thing anyway (a chat turn): the
 * credential is checked here (401 when missing, invalid or expired), but for an access token the
 * user row (active or not) is read in the handler's own first D1 batch, through `userLookup`,
 * instead of in a round trip of its own. API keys are looked up here, as with requireAuth.
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
