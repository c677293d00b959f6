import type { Env } from '../../../env';
import { API_KEY_PREFIX } from '../../../lib/auth';
import { randomBytes, sha256Hex } from '../../../lib/crypto';
import { notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';

interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

const COLUMNS = 'id, name, prefix, created_at, expires_at, last_used_at, revoked_at';
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

function toApiKey(row: ApiKeyRow, now = new Date().toISOString()) {
  const status = row.revoked_at ? 'revoked' : row.expires_at && row.expires_at <= now ? 'expired' : 'active';
  return {
    id: row.id,
    name: row.name,
    key_hint: `${row.prefix}…`,
    created_at: row.created_at,
    expires_at: row.expires_at,
    last_used_at: row.last_used_at,
    revoked_at: row.revoked_at,
    status: status as 'active' | 'expired' | 'revoked',
  };
}

export async function createApiKey(env: Env, userId: string, input: { name: string; expires_in_days?: number }) {
  const key = newSecret();
  const id = crypto.randomUUID();
  const expiresAt = input.expires_in_days ? new Date(Date.now() + input.expires_in_days * 86_400_000).toISOString() : null;
  await env.DB.prepare('INSERT INTO api_keys (id, user_id, name, prefix, key_hash, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
    .bind(id, userId, input.name, key.slice(0, API_KEY_PREFIX.length + 8), await sha256Hex(key), expiresAt)
    .run();
  const row = await env.DB.prepare(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`).bind(id).first<ApiKeyRow>();
  return { ...toApiKey(row!), key };
}

export async function listApiKeys(env: Env, userId: string, page: Pagination) {
  const { limit, offset } = pageBounds(page);
  const [rows, count] = await env.DB.batch([
    env.DB.prepare(`SELECT ${COLUMNS} FROM api_keys WHERE user_id = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?`).bind(userId, limit, offset),
    env.DB.prepare('SELECT count(*) AS n FROM api_keys WHERE user_id = ?').bind(userId),
  ]);
  const now = new Date().toISOString();
  return paginated((rows.results as unknown as ApiKeyRow[]).map((r) => toApiKey(r, now)), (count.results[0] as { n: number }).n, page);
}

export async function revokeApiKey(env: Env, userId: string, id: string) {
  const row = await env.DB.prepare(
    `UPDATE api_keys SET revoked_at = coalesce(revoked_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      WHERE id = ? AND user_id = ? RETURNING ${COLUMNS}`,
  )
    .bind(id, userId)
    .first<ApiKeyRow>();
  if (!row) throw notFound('API key');
  return toApiKey(row);
}
