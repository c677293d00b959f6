import { and, count, desc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { db, now } from '../../../db/client';
import { apiKeys } from '../../../db/schema/api-keys';
import { activeUsers } from '../auth/store';

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
 * id and last use: one query (the auth path of every API-key request).
 */
export async function findKeyUser(d1: D1Database, keyHash: string, at: string) {
  const u = activeUsers(d1);
  const [row] = await db(d1)
    .select({ id: u.id, email: u.email, nickname: u.nickname, role: u.role, keyId: apiKeys.id, lastUsedAt: apiKeys.lastUsedAt })
    .from(apiKeys)
    .innerJoin(u, eq(u.id, apiKeys.userId))
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, at))));
  return row ?? null;
}

export async function touchApiKey(d1: D1Database, id: string, at: string): Promise<void> {
  await db(d1).update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, id));
}
