import type { Env } from '../../../env';
import { API_KEY_PREFIX } from '../../../lib/auth';
import { randomBytes, sha256Hex } from '../../../lib/crypto';
import { notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import * as store from './store';
import { forgetApiKey } from '../auth/guard';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** 25 random bytes as 40 base32 characters: 200 bits, unguessable, URL- and header-safe. */
function newSecret(): string {
  const bytes = randomBytes(25);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return API_KEY_PREFIX + out;
}

function toApiKey(row: store.ListedApiKey, now = new Date().toISOString()) {
  const status = row.revokedAt ? 'revoked' : row.expiresAt && row.expiresAt <= now ? 'expired' : 'active';
  return {
    id: row.id,
    name: row.name,
    key_hint: `${row.prefix}…`,
    created_at: row.createdAt,
    expires_at: row.expiresAt,
    last_used_at: row.lastUsedAt,
    revoked_at: row.revokedAt,
    status: status as 'active' | 'expired' | 'revoked',
  };
}

export async function createApiKey(env: Env, userId: string, input: { name: string; expires_in_days?: number }) {
  const key = newSecret();
  const expiresAt = input.expires_in_days ? new Date(Date.now() + input.expires_in_days * 86_400_000).toISOString() : null;
  const row = await store.insertApiKey(env.DB, {
    id: crypto.randomUUID(),
    userId,
    name: input.name,
    prefix: key.slice(0, API_KEY_PREFIX.length + 8),
    keyHash: await sha256Hex(key),
    expiresAt,
  });
  return { ...toApiKey(row), key };
}

export async function listApiKeys(env: Env, userId: string, page: Pagination) {
  const { limit, offset } = pageBounds(page);
  const { rows, total } = await store.listApiKeys(env.DB, userId, limit, offset);
  const now = new Date().toISOString();
  return paginated(rows.map((r) => toApiKey(r, now)), total, page);
}

export async function revokeApiKey(env: Env, userId: string, id: string) {
  const row = await store.revokeApiKey(env.DB, userId, id);
  if (!row) throw notFound('API key');
  forgetApiKey(row.id);
  return toApiKey(row);
}
