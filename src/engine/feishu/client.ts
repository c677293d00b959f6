import type { Env } from '../../env';
import { ApiError } from '../../lib/errors';
import { guardedFetch } from '../../lib/outbound';

/**
 * Feishu's open API, as the bot uses it: a `tenant_access_token` cached until shortly before it
 * expires, the bot's own identity, and replies to messages. Every request goes through the SSRF
 * guard like any other outbound call.
 */

export const DEFAULT_FEISHU_API_BASE = 'https://open.feishu.cn';
/** A token is renewed this long before Feishu says it expires. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000;

export interface FeishuConfig {
  appId: string;
  appSecret: string;
  base: string;
}

export function feishuConfig(env: Env): FeishuConfig | null {
  if (!env.FEISHU_APP_ID || !env.FEISHU_APP_SECRET) return null;
  return { appId: env.FEISHU_APP_ID, appSecret: env.FEISHU_APP_SECRET, base: (env.FEISHU_API_BASE || DEFAULT_FEISHU_API_BASE).replace(/\/+$/, '') };
}

const feishuError = (message: string) => new ApiError(502, 'FEISHU_ERROR', message);

interface CachedToken {
  token: string;
  expiresAt: number;
}

// Per isolate; keyed by app and base so a configuration change never reuses another app's token.
const tokens = new Map<string, CachedToken>();
const inflight = new Map<string, Promise<CachedToken>>();
const botIds = new Map<string, string>();

const cacheKey = (cfg: FeishuConfig) => `${cfg.base}|${cfg.appId}`;

async function callJson(env: Env, url: string, init: RequestInit): Promise<Record<string, unknown>> {
  const res = await guardedFetch(env, url, { ...init, headers: { 'content-type': 'application/json; charset=utf-8', ...init.headers } }, { timeoutMs: 10_000, maxBytes: 1024 * 1024 });
  let body: Record<string, unknown>;
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    throw feishuError(`Feishu answered ${res.status} without JSON`);
  }
  return body;
}

/** A valid tenant_access_token: from the cache, or fetched once however many callers wait for it. */
export async function tenantAccessToken(env: Env, cfg: FeishuConfig, now = Date.now()): Promise<string> {
  const key = cacheKey(cfg);
  const cached = tokens.get(key);
  if (cached && cached.expiresAt - TOKEN_REFRESH_MARGIN_MS > now) return cached.token;
  let pending = inflight.get(key);
  if (!pending) {
    pending = (async () => {
      const body = await callJson(env, `${cfg.base}/open-apis/auth/v3/tenant_access_token/internal`, {
        method: 'POST',
        body: JSON.stringify({ app_id: cfg.appId, app_secret: cfg.appSecret }),
      });
      if (body.code !== 0 || typeof body.tenant_access_token !== 'string') throw feishuError(`tenant_access_token: ${String(body.msg ?? body.code)}`);
      const entry = { token: body.tenant_access_token, expiresAt: Date.now() + Number(body.expire ?? 7200) * 1000 };
      tokens.set(key, entry);
      return entry;
    })().finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return (await pending).token;
}

/** Forgets the cached token (Feishu said it is invalid). */
export function dropToken(cfg: FeishuConfig): void {
  tokens.delete(cacheKey(cfg));
}

// Feishu's codes for an invalid or expired access token: the request is retried once with a new one.
const TOKEN_INVALID = new Set([99991661, 99991663, 99991668]);

async function authorized(env: Env, cfg: FeishuConfig, path: string, init: RequestInit): Promise<Record<string, unknown>> {
  for (let attempt = 0; ; attempt++) {
    const token = await tenantAccessToken(env, cfg);
    const body = await callJson(env, cfg.base + path, { ...init, headers: { authorization: `Bearer ${token}` } });
    if (TOKEN_INVALID.has(Number(body.code)) && attempt === 0) {
      dropToken(cfg);
      continue;
    }
    if (body.code !== 0) throw feishuError(`${path}: ${String(body.msg ?? body.code)}`);
    return body;
  }
}

/** The bot's own open_id (to tell mentions of the bot apart in groups); cached per isolate. */
export async function botOpenId(env: Env, cfg: FeishuConfig): Promise<string | undefined> {
  const key = cacheKey(cfg);
  if (botIds.has(key)) return botIds.get(key);
  const body = await authorized(env, cfg, '/open-apis/bot/v3/info', { method: 'GET' });
  const id = (body.bot as { open_id?: string } | undefined)?.open_id;
  if (id) botIds.set(key, id);
  return id;
}

/**
 * Replies to a message with text. `uuid` makes Feishu drop a repeated reply to the same event
 * (a redelivered queue message), within its one-hour deduplication window.
 */
export async function replyText(env: Env, cfg: FeishuConfig, messageId: string, text: string, uuid?: string): Promise<string | undefined> {
  const body = await authorized(env, cfg, `/open-apis/im/v1/messages/${encodeURIComponent(messageId)}/reply`, {
    method: 'POST',
    body: JSON.stringify({ msg_type: 'text', content: JSON.stringify({ text: text.slice(0, 30_000) }), ...(uuid ? { uuid: uuid.slice(0, 50) } : {}) }),
  });
  return (body.data as { message_id?: string } | undefined)?.message_id;
}

/** Sends a text message to a chat or user (`receive_id_type`: chat_id, open_id, ...). */
export async function sendText(env: Env, cfg: FeishuConfig, receiveIdType: 'chat_id' | 'open_id', receiveId: string, text: string): Promise<string | undefined> {
  const body = await authorized(env, cfg, `/open-apis/im/v1/messages?receive_id_type=${receiveIdType}`, {
    method: 'POST',
    body: JSON.stringify({ receive_id: receiveId, msg_type: 'text', content: JSON.stringify({ text: text.slice(0, 30_000) }) }),
  });
  return (body.data as { message_id?: string } | undefined)?.message_id;
}
