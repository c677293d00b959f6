import { botOpenId, DEFAULT_FEISHU_API_BASE, feishuConfig, tenantAccessToken } from '../../../engine/feishu/client';
import { decryptEvent, payloadToken, verifySignature } from '../../../engine/feishu/protocol';
import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { constantTimeEqual, randomBytes, sha256Hex } from '../../../lib/crypto';
import { ApiError, conflict, forbidden, notFound, unauthorized, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { getAgent, loadAgent } from '../../agents/agents/service';
import { assertChattable } from '../../../runs/agents';
import { notificationInsert } from '../../goals/notifications/service';
import type { Binding, BindingRequest } from './schemas';
import { deleteSetting, getSetting, putSetting } from '../../../lib/settings';
import { db, runBatch } from '../../../db/client';
import { activeAdminIds, findActiveUser } from '../../identity/auth/store';
import * as store from './store';

/** Events are remembered at least this long (Feishu redelivers for hours); the cron keeps a day. */
export const EVENT_RETENTION_MS = 24 * 60 * 60 * 1000;
export const BINDING_CODE_TTL_MS = 24 * 60 * 60 * 1000;
const DEFAULT_AGENT_KEY = 'feishu.default_agent_id';
const LAST_API_FAILURE_KEY = 'feishu.last_api_failure';

/** The last failed call of Feishu's open API, as /feishu/status reports it. */
export interface OpenApiFailure {
  at: string;
  operation: string;
  error: string;
}

/**
 * A call of Feishu's open API (the engine's client): a failure is remembered for /feishu/status
 * (time, operation, error), in D1 so every isolate sees it, and rethrown.
 */
export async function callOpenApi<T>(env: Env, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    const failure: OpenApiFailure = { at: new Date().toISOString(), operation, error: (e instanceof Error ? e.message : String(e)).slice(0, 1000) };
    await putSetting(env.DB, LAST_API_FAILURE_KEY, JSON.stringify(failure)).catch(() => undefined);
    throw e;
  }
}

async function lastOpenApiFailure(env: Env): Promise<OpenApiFailure | null> {
  const value = await getSetting(env.DB, LAST_API_FAILURE_KEY);
  return value ? (JSON.parse(value) as OpenApiFailure) : null;
}

export const HANDLED_EVENTS = new Set(['im.message.receive_v1']);

// ---------------------------------------------------------------------------------------------
// POST /feishu/event

export interface EventRequest {
  rawBody: string;
  timestamp?: string;
  nonce?: string;
  signature?: string;
}

const refused = (reason: string) => unauthorized(`Feishu event refused: ${reason}`);

/**
 * Verifies and accepts one event callback. Signature and token are checked before anything is
 * read or written; an accepted event is recorded by its event_id (a redelivery is acknowledged
 * and dropped) and queued, so Feishu gets its 200 at once.
 */
export async function receiveEvent(env: Env, req: EventRequest): Promise<{ challenge?: string }> {
  const encryptKey = env.FEISHU_ENCRYPT_KEY;
  const token = env.FEISHU_VERIFICATION_TOKEN;
  // Never an open URL: without either secret nothing could tell Feishu from anyone else.
  if (!encryptKey && !token) throw new ApiError(503, 'NOT_CONFIGURED', 'Feishu is not configured (FEISHU_VERIFICATION_TOKEN or FEISHU_ENCRYPT_KEY)');

  let outer: Record<string, unknown>;
  try {
    outer = JSON.parse(req.rawBody) as Record<string, unknown>;
  } catch {
    throw new ApiError(400, 'BAD_REQUEST', 'Malformed JSON body');
  }
  if (typeof outer !== 'object' || outer === null || Array.isArray(outer)) throw new ApiError(400, 'BAD_REQUEST', 'The body must be a JSON object');

  const signed = Boolean(req.signature);
  if (encryptKey && signed) {
    const check = await verifySignature({ timestamp: req.timestamp, nonce: req.nonce, signature: req.signature }, req.rawBody, encryptKey);
    if (!check.ok) throw refused(check.reason);
  }

  let payload = outer;
  if (typeof outer.encrypt === 'string') {
    if (!encryptKey) throw refused('encrypted body but no encrypt key configured');
    try {
      payload = JSON.parse(await decryptEvent(outer.encrypt, encryptKey)) as Record<string, unknown>;
    } catch {
      throw refused('the body does not decrypt with the configured encrypt key');
    }
  }

  if (token) {
    const given = payloadToken(payload);
    if (!given || !constantTimeEqual(given, token)) throw refused('verification token mismatch');
  }

  if (payload.type === 'url_verification') {
    if (typeof payload.challenge !== 'string') throw validationError('body.challenge: required');
    return { challenge: payload.challenge };
  }

  // Events (not the URL check) must carry a valid signature whenever an encrypt key is set.
  if (encryptKey && !signed) throw refused('missing X-Lark-Signature');

  const header = payload.header as { event_id?: unknown; event_type?: unknown } | undefined;
  const eventId = typeof header?.event_id === 'string' ? header.event_id : typeof payload.uuid === 'string' ? payload.uuid : null;
  const eventType = typeof header?.event_type === 'string' ? header.event_type : String((payload.event as { type?: unknown } | undefined)?.type ?? 'unknown');
  if (!eventId) throw validationError('body.header.event_id: required');

  // RETURNING answers a row only when this request inserted it: a redelivery gets none.
  const inserted = await store.recordEvent(env.DB, eventId, eventType, Date.now());
  if (inserted && HANDLED_EVENTS.has(eventType)) {
    try {
      await env.FEISHU_QUEUE.send({ event_id: eventId, payload });
    } catch (e) {
      // Not queued: forget the event so Feishu's redelivery is accepted again.
      await store.forgetEvent(env.DB, eventId);
      throw e;
    }
  }
  return {};
}

/** Cron: events older than the retention window are forgotten. */
export async function cleanupEvents(env: Env): Promise<void> {
  await store.deleteEventsReceivedBefore(env.DB, Date.now() - EVENT_RETENTION_MS);
}

// ---------------------------------------------------------------------------------------------
// Bindings

/** A request as the API shows it (never the code's hash). */
const toRequest = (r: store.BindingRequestRow): BindingRequest => ({
  id: r.id,
  open_id: r.openId,
  chat_id: r.chatId,
  name: r.name,
  code_expires_at: r.codeExpiresAt,
  status: r.status,
  user_id: r.userId,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

const toBinding = (b: store.BindingRow): Binding => ({
  open_id: b.openId,
  user_id: b.userId,
  agent_id: b.agentId,
  name: b.name,
  created_at: b.createdAt,
  updated_at: b.updatedAt,
});

export async function findBinding(env: Env, openId: string): Promise<Binding | null> {
  const row = await store.findBindingByOpenId(env.DB, openId);
  return row && toBinding(row);
}

/** Readable one-time codes: no 0/O, 1/I. */
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function newCode(): string {
  return [...randomBytes(6)].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('');
}

/**
 * A fresh one-time code for an unbound Feishu user (a new one replaces any earlier one). Admins
 * are notified when the request is new.
 */
export async function requestBinding(env: Env, openId: string, chatId: string | null, name: string | null): Promise<{ code: string; created: boolean }> {
  const code = newCode();
  const hash = await sha256Hex(code);
  const expires = new Date(Date.now() + BINDING_CODE_TTL_MS).toISOString();
  const id = crypto.randomUUID();
  const rowId = await store.upsertBindingRequest(env.DB, { id, openId, chatId, name, codeHash: hash, codeExpiresAt: expires });
  const created = rowId === id;
  if (created) {
    const admins = await activeAdminIds(env.DB);
    if (admins.length) {
      await runBatch(
        env.DB,
        admins.map((adminId) =>
          notificationInsert(env, adminId, {
            type: 'feishu_binding_request',
            title: 'Feishu binding request',
            body: `The Feishu user ${name ?? openId} wrote to the bot and is not bound to an account. Review it under pending bindings.`,
            resource_type: 'feishu_binding_request',
            resource_id: id,
          }),
        ),
      );
    }
  }
  return { code, created };
}

async function checkAgentChoice(env: Env, user: AuthUser, agentId: string | null | undefined): Promise<string | null> {
  if (!agentId) return null;
  const agent = await getAgent(env, user, agentId).catch(() => {
    throw validationError('body.agent_id: no such agent of yours');
  });
  return agent.id;
}

/** Binding statements: the user's earlier binding is replaced; an open_id bound to someone else is a conflict. */
async function writeBinding(env: Env, openId: string, userId: string, agentId: string | null, name: string | null, requestId: string): Promise<Binding> {
  const other = await findBinding(env, openId);
  if (other && other.user_id !== userId) throw conflict('This Feishu user is already bound to another account');
  const [, , [row]] = await db(env.DB).batch(store.bindingStatements(env.DB, { openId, userId, agentId, name, requestId }));
  return toBinding(row);
}

/** POST /feishu/bind: the one-time code proves the caller is the Feishu user who asked. */
export async function bind(env: Env, user: AuthUser, input: { open_id: string; code: string; agent_id?: string | null }): Promise<Binding> {
  const agentId = await checkAgentChoice(env, user, input.agent_id);
  const req = await store.findPendingRequestOf(env.DB, input.open_id);
  const hash = await sha256Hex(input.code.trim().toUpperCase());
  // One answer for every failure, so the endpoint does not tell which open_ids are waiting.
  if (!req || Date.parse(req.codeExpiresAt) < Date.now() || !constantTimeEqual(hash, req.codeHash)) {
    throw validationError('body.code: invalid or expired code for this open_id; message the bot in Feishu for a new one');
  }
  return writeBinding(env, input.open_id, user.id, agentId, req.name, req.id);
}

/** POST /feishu/unbind: the caller's own binding, or (admins) the named open_id's. */
export async function unbind(env: Env, user: AuthUser, input: { open_id?: string }): Promise<void> {
  const binding = input.open_id
    ? await findBinding(env, input.open_id)
    : await store.findBindingOfUser(env.DB, user.id).then((b) => b && toBinding(b));
  if (!binding || (binding.user_id !== user.id && !isAdmin(user))) throw notFound('Feishu binding');
  await runBatch(env.DB, store.unbindStatements(env.DB, binding.open_id));
}

/** POST /feishu/lookup: admins see any open_id; others only their own (anyone else's is 404). */
export async function lookup(env: Env, user: AuthUser, openId: string) {
  const [binding, pending] = await Promise.all([
    findBinding(env, openId),
    store.findPendingRequestOf(env.DB, openId),
  ]);
  if (!isAdmin(user) && binding?.user_id !== user.id) throw notFound('Feishu binding');
  return { open_id: openId, bound: binding !== null, binding, pending_request: pending !== null };
}

export async function listPending(env: Env, user: AuthUser, page: Pagination) {
  if (!isAdmin(user)) throw forbidden('Only admins review Feishu binding requests');
  const { limit, offset } = pageBounds(page);
  const { rows, total } = await store.listPendingRequests(env.DB, limit, offset);
  return paginated(rows.map(toRequest), total, page);
}

/** POST /feishu/bind-pending: an admin binds a waiting Feishu user to an account, or rejects the request. */
export async function bindPending(env: Env, admin: AuthUser, input: { request_id: string; approve: boolean; user_id?: string; agent_id?: string | null }) {
  if (!isAdmin(admin)) throw forbidden('Only admins review Feishu binding requests');
  const req = await store.findRequest(env.DB, input.request_id);
  if (!req) throw notFound('Binding request');
  if (req.status !== 'pending') throw conflict(`The request is already ${req.status}`);
  if (!input.approve) {
    const row = await store.rejectRequest(env.DB, req.id);
    return { request: toRequest(row!), binding: null };
  }
  if (!input.user_id) throw validationError('body.user_id: required when approving');
  const target = await findActiveUser(env, input.user_id);
  if (!target) throw validationError('body.user_id: no such active user');
  let agentId: string | null = null;
  if (input.agent_id) {
    const agent = await loadAgent(env, input.agent_id);
    if (!agent || agent.owner_id !== input.user_id) throw validationError("body.agent_id: not one of that user's agents");
    agentId = agent.id;
  }
  const binding = await writeBinding(env, req.openId, input.user_id, agentId, req.name, req.id);
  const updated = await store.findRequest(env.DB, req.id);
  return { request: toRequest(updated!), binding };
}

// ---------------------------------------------------------------------------------------------
// Default agent and status

export async function defaultAgentId(env: Env): Promise<string | null> {
  return (await getSetting(env.DB, DEFAULT_AGENT_KEY)) || null;
}

export async function getDefaultAgent(env: Env, user: AuthUser) {
  if (!isAdmin(user)) throw forbidden('Only admins manage the Feishu default agent');
  const id = await defaultAgentId(env);
  const agent = id ? await loadAgent(env, id) : null;
  return { agent_id: agent?.id ?? null, agent_name: agent?.name ?? null };
}

export async function setDefaultAgent(env: Env, user: AuthUser, agentId: string | null) {
  if (!isAdmin(user)) throw forbidden('Only admins manage the Feishu default agent');
  if (agentId === null) {
    await deleteSetting(env.DB, DEFAULT_AGENT_KEY);
    return { agent_id: null, agent_name: null };
  }
  const agent = await loadAgent(env, agentId);
  if (!agent) throw validationError('body.agent_id: no such agent');
  assertChattable(agent);
  await putSetting(env.DB, DEFAULT_AGENT_KEY, agent.id);
  return { agent_id: agent.id, agent_name: agent.name };
}

export async function status(env: Env) {
  const cfg = feishuConfig(env);
  let tokenOk = false;
  let tokenError: string | null = cfg ? null : 'FEISHU_APP_ID / FEISHU_APP_SECRET not set';
  if (cfg) {
    try {
      await callOpenApi(env, 'tenant_access_token', () => tenantAccessToken(env, cfg));
      tokenOk = true;
    } catch (e) {
      tokenError = e instanceof Error ? e.message : String(e);
    }
  }
  const [counts, defaultId, lastFailure] = await Promise.all([store.counts(env.DB, Date.now() - 86_400_000), defaultAgentId(env), lastOpenApiFailure(env)]);
  return {
    configured: cfg !== null,
    verification_token_set: Boolean(env.FEISHU_VERIFICATION_TOKEN),
    encrypt_key_set: Boolean(env.FEISHU_ENCRYPT_KEY),
    api_base: cfg?.base ?? DEFAULT_FEISHU_API_BASE,
    token_ok: tokenOk,
    token_error: tokenError,
    last_api_failure: lastFailure,
    default_agent_id: defaultId,
    bindings: counts?.bindings ?? 0,
    pending_requests: counts?.pending ?? 0,
    events_last_24h: counts?.events ?? 0,
  };
}

export { botOpenId };
