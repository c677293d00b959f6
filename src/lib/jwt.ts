import { SignJWT, jwtVerify } from 'jose';
import type { Env } from '../env';
import { getSecret } from './secrets';

const encoder = new TextEncoder();
const DEFAULT_TTL_SECONDS = 24 * 60 * 60;

// Imported once per secret: an HMAC CryptoKey costs more to build than to use.
const keys = new Map<string, Promise<CryptoKey>>();

async function signingKey(env: Env): Promise<CryptoKey> {
  const secret = await getSecret(env, 'JWT_SECRET');
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    keys.set(secret, key);
  }
  return key;
}

export function tokenTtlSeconds(env: Env): number {
  const ttl = Number(env.JWT_TTL_SECONDS);
  return Number.isFinite(ttl) && ttl > 0 ? ttl : DEFAULT_TTL_SECONDS;
}

export async function issueAccessToken(env: Env, userId: string, role: string): Promise<string> {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(`${tokenTtlSeconds(env)}s`)
    .setJti(crypto.randomUUID())
    .sign(await signingKey(env));
}

/** A valid access token's subject and expiry (ms since the epoch). */
export interface VerifiedToken {
  userId: string;
  expiresAt: number;
}

/** The token's subject and expiry, or null for anything not a valid, unexpired HS256 token of ours. */
export async function verifyAccessToken(env: Env, token: string): Promise<VerifiedToken | null> {
  try {
    // Algorithms pinned: `alg: none` and any other algorithm are rejected.
    const { payload } = await jwtVerify(token, await signingKey(env), { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || !payload.sub) return null;
    return { userId: payload.sub, expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY };
  } catch {
    return null;
  }
}
