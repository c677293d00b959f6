import { and, count, desc, eq, sql } from 'drizzle-orm';
import { db, now } from '../../../db/client';
import { apiKeys } from '../../../db/schema/api-keys';
import { ACTIVE_USERS_SQL } from '../auth/store';

/** The api_keys table: only the SHA-256 of a key is kept. */
export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** What listings show of a key (never its hash). */
const listed = {
  id: apiKeys.id,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  createdAt: apiKeys.createdAt,
  expiresAt: apiKeys.expiresAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
};
export type ListedApiKey = Pick<ApiKeyRow, keyof typeof listed>;

export async function insertApiKey(d1: D1Database, key: Pick<ApiKeyRow, 'id' | 'userId' | 'name' | 'prefix' | 'keyHash' | 'expiresAt'>): Promise<ListedApiKey> {
  const [row] = await db(d1).insert(apiKeys).values(key).returning(listed);
  return row;
}

export async function listApiKeys(d1: D1Database, userId: string, limit: number, offset: number): Promise<{ rows: ListedApiKey[]; total: number }> {
  const mine = eq(apiKeys.userId, userId);
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select(listed).from(apiKeys).where(mine).orderBy(desc(apiKeys.createdAt), apiKeys.id).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(apiKeys).where(mine),
  ]);
  return { rows, total };
}

/** Revokes one of the user's keys (a second revoke keeps the first time); null when it is not theirs. */
export async function revokeApiKey(d1: D1Database, userId: string, id: string): Promise<ListedApiKey | null> {
  const [row] = await db(d1)
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${now()})` })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId)))
    .returning(listed);
  return row ?? null;
}

/**
 * The active user of a usable key (not revoked, not expired at `at`) with its hash, and the key's
 * id, expiry and last use: one query.
 */
export async function findKeyUser(d1: D1Database, keyHash: string, at: string) {
  // Hot path (every API-key request): raw SQL; drizzle measured ~0.3 ms per query here (loaded 2-core box) vs µs for prepare.
  return d1
    .prepare(
      `SELECT u.id, u.email, u.nickname, u.role, u.created_at AS createdAt, k.id AS keyId, k.expires_at AS expiresAt, k.last_used_at AS lastUsedAt
         FROM api_keys k JOIN ${ACTIVE_USERS_SQL} u ON u.id = k.user_id
        WHERE k.key_hash = ? AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?)`,
    )
    .bind(keyHash, at)
    .first<Pick<ApiKeyRow, 'lastUsedAt' | 'expiresAt'> & { id: string; email: string; nickname: string; role: 'admin' | 'user'; createdAt: string; keyId: string }>();
}

export async function touchApiKey(d1: D1Database, id: string, at: string): Promise<void> {
  await db(d1).update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, id));
}
