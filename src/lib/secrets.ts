import type { Env } from '../env';
import { ApiError } from './errors';
import { randomBytes, toBase64 } from './crypto';
import { getSetting, insertSettingIfMissing } from './settings';

/** Secrets the worker cannot serve without. */
export const REQUIRED_SECRETS = ['JWT_SECRET', 'ENCRYPTION_KEY'] as const;
export type SecretName = (typeof REQUIRED_SECRETS)[number];

export const isProduction = (env: Env) => env.ENVIRONMENT === 'production';

export function missingSecrets(env: Env): SecretName[] {
  return REQUIRED_SECRETS.filter((name) => !env[name]);
}

/** 503 until `wrangler secret put` has set every required secret in production. */
export function assertConfigured(env: Env) {
  if (!isProduction(env)) return;
  const missing = missingSecrets(env);
  if (missing.length > 0) {
    throw new ApiError(
      503,
      'NOT_CONFIGURED',
      `The server is not configured: set ${missing.join(', ')} with \`wrangler secret put <NAME>\` and redeploy.`,
    );
  }
}

// Outside production a missing secret is generated once and kept in D1, so a fresh clone works
// with no set-up and tokens survive restarts. Cached per isolate.
const cache = new Map<string, Promise<string>>();

export function getSecret(env: Env, name: SecretName): Promise<string> {
  const configured = env[name];
  if (configured) return Promise.resolve(configured);
  assertConfigured(env);
  let pending = cache.get(name);
  if (!pending) {
    pending = loadOrCreateDevSecret(env.DB, name);
    pending.catch(() => cache.delete(name));
    cache.set(name, pending);
  }
  return pending;
}

async function loadOrCreateDevSecret(d1: D1Database, name: SecretName): Promise<string> {
  const key = `dev_secret:${name}`;
  // Insert unless present, then read: two isolates racing end up with the same value.
  await insertSettingIfMissing(d1, key, toBase64(randomBytes(32)));
  const value = await getSetting(d1, key);
  if (value === null) throw new Error(`Could not create development secret ${name}`);
  return value;
}
