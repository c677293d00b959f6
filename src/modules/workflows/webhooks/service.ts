import type { Env } from '../../../env';
import { constantTimeEqual, decryptSecret, encryptSecret, randomBytes, sha256Hex, toHex } from '../../../lib/crypto';
import { runBatch } from '../../../db/client';
import type { AuthUser } from '../../../lib/auth';
import { activeUserStatement } from '../../identity/auth/store';
import { ApiError, notFound, unauthorized, validationError } from '../../../lib/errors';
import { getSecret } from '../../../lib/secrets';
import { IsolateCache } from '../../../lib/isolate-cache';
import type { ExecutionDetail } from '../../../runs/execution-view';
import { runWorkflow } from '../../../runs/workflow-run';
import { workflowRowStatement, type WorkflowRow } from '../workflows/store';
import * as store from './store';

/**
 * Workflow webhooks: POST /webhooks/workflows/{id} or /webhooks/workflows/by-name/{name} runs
 * the workflow with the JSON body as inputs. No bearer token: the request proves it knows the
 * workflow's own secret, either by an HMAC signature
 *
 *   X-Tiangong-Timestamp: <unix seconds>
 *   X-Tiangong-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>
 *
 * (refused outside ±5 minutes of the server's clock, and each signature accepted once), or by
 * sending the secret itself in `X-Webhook-Secret`. Secrets are made, shown once and rotated
 * through the workflow (`webhook_enabled`, `rotate_webhook_secret` on PUT /workflows/{id}).
 */

export const REPLAY_WINDOW_SECONDS = 300;
export const RATE_LIMIT_PER_MINUTE = 60;
/** `?wait=true` waits this long for the run to settle before answering 202 anyway. */
export const WAIT_MS = 30_000;
/** Workflows sharing a name that one by-name request is checked against. */
const NAME_CANDIDATES = 20;
const SECRET_PREFIX = 'whsec_';

export interface WebhookView {
  enabled: boolean;
  url_by_id: string;
  url_by_name: string;
  secret_hint: string | null;
  created_at: string | null;
  rotated_at: string | null;
  /** The secret itself: only in the answer that created or rotated it. */
  secret?: string;
}

const hintOf = (secret: string) => `${SECRET_PREFIX}…${secret.slice(-4)}`;

export function webhookUrls(origin: string, workflow: { id: string; name: string }) {
  const base = `${origin}/api/v1/webhooks/workflows`;
  return { url_by_id: `${base}/${workflow.id}`, url_by_name: `${base}/by-name/${encodeURIComponent(workflow.name)}` };
}

/** The stored webhook of a workflow (null before it was first enabled): what webhookView shows. */
export async function webhookRow(env: Env, workflowId: string) {
  return store.findWebhookSecret(env.DB, workflowId);
}

/**
 * The webhook of a workflow as its owner sees it (never the secret); `row` when the caller read it
 * already (beside the workflow's own row: one round trip for both).
 */
export async function webhookView(
  env: Env,
  origin: string,
  workflow: { id: string; name: string },
  row?: Awaited<ReturnType<typeof webhookRow>>,
): Promise<WebhookView> {
  if (row === undefined) row = await webhookRow(env, workflow.id);
  return {
    enabled: !!row?.enabled,
    ...webhookUrls(origin, workflow),
    secret_hint: row?.secretHint ?? null,
    created_at: row?.createdAt ?? null,
    rotated_at: row?.rotatedAt ?? null,
  };
}

/**
 * Turns the webhook on or off and rotates its secret. Enabling for the first time and rotating
 * make a new secret, returned once; disabling keeps it (re-enabling brings the same one back).
 * The caller has checked the user may administer the workflow.
 */
export async function configureWebhook(
  env: Env,
  workflow: { id: string; owner_id: string; name: string },
  change: { enabled?: boolean; rotate?: boolean },
  origin: string,
): Promise<WebhookView> {
  const row = await webhookRow(env, workflow.id);
  const enabled = change.enabled ?? (row ? !!row.enabled : !!change.rotate);
  let secret: string | undefined;
  if (change.rotate || (!row && enabled)) {
    secret = SECRET_PREFIX + toHex(randomBytes(32));
    const stored = await encryptSecret(secret, await getSecret(env, 'ENCRYPTION_KEY'));
    // A first secret has no rotation time; replacing one records it.
    await store.putWebhookSecret(env.DB, { workflowId: workflow.id, ownerId: workflow.owner_id, secret: stored, secretHint: hintOf(secret), enabled });
  } else if (row) {
    await store.setWebhookEnabled(env.DB, workflow.id, enabled);
  }
  const view = await webhookView(env, origin, workflow);
  return secret ? { ...view, secret } : view;
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return toHex(await crypto.subtle.sign('HMAC', key, enc.encode(message)));
}

/** A workflow the request may be for, with its secret decrypted and as stored (`stored`). */
interface Candidate {
  id: string;
  ownerId: string;
  name: string;
  secret: string;
  stored: string;
}

export interface WebhookRequest {
  target: { id: string } | { name: string };
  rawBody: string;
  timestamp?: string;
  signature?: string;
  secretHeader?: string;
  wait: boolean;
  /** Epoch ms; tests may pin it. */
  now?: number;
}

/**
 * Authenticates and runs one webhook request. A workflow without an enabled webhook does not
 * exist here (404, whoever owns it); a wrong, missing, stale or replayed credential is 401 and
 * runs nothing. By name, the workflow is the one of that name whose secret the request proves
 * (names are unique to no one, secrets are).
 *
 * One D1 round trip before the run when the isolate knows the target's candidates (workflows
 * with their decrypted secrets, kept per isolate): the request is authenticated against them,
 * then one batch counts it, records its signature, and reads the owner's account and the
 * workflow — the count and the signature only if the webhook is still as the candidate was read
 * (enabled, same secret, owner and, by name, name). If it is not (rotated, disabled, deleted,
 * renamed), that batch wrote nothing: the candidates are read again and the request checked
 * anew, so a change is never served from the cache. A request the known candidates refuse is
 * also checked against a fresh read (a new secret, a new workflow of the name) before it is 401.
 * Cold, that fresh read is the one more round trip. With `wait`, a graph that cannot suspend runs
 * inline (startExecution), recorded in one more batch at its end.
 */
export async function receiveWebhook(env: Env, req: WebhookRequest) {
  const now = req.now ?? Date.now();
  const key = 'id' in req.target ? `id:${req.target.id}` : `name:${req.target.name}`;
  const windowStart = Math.floor(now / 60_000) * 60_000;
  let candidates = knownCandidates.get(key);
  // A cached attempt, then fresh reads; two fresh reads both outrun by a change refuse the request
  // (what it proved was the webhook's secret a moment ago, not now).
  for (let fresh = 0; ; ) {
    if (!candidates) {
      if (fresh === 2) throw unauthorized('The webhook changed (its secret, name or state) while this request was checked: send it again');
      fresh++;
      candidates = await loadCandidates(env, req.target);
      if (candidates.length === 0) throw notFound('Workflow');
    }
    const auth = await authenticate(candidates, req, now);
    if (!auth) {
      if (fresh) throw unauthorized(req.signature !== undefined ? 'Invalid webhook signature' : 'Invalid webhook secret');
      knownCandidates.delete(key);
      candidates = undefined;
      continue;
    }
    const workflow = auth.match;
    const state = { workflowId: workflow.id, ownerId: workflow.ownerId, secret: workflow.stored, ...('name' in req.target ? { name: workflow.name } : {}) };
    const [counted, owner, found, recorded] = (await runBatch(env.DB, [
      store.countRequestStatement(env.DB, state, windowStart),
      activeUserStatement(env.DB, workflow.ownerId),
      workflowRowStatement(env.DB, workflow.id),
      ...(auth.nonce ? [store.recordNonceStatement(env.DB, state, auth.nonce)] : []),
    ])) as [D1Result<{ count: number }>, D1Result<AuthUser>, D1Result<WorkflowRow>, D1Result<{ signatureHash: string }> | undefined];
    if (counted.results.length === 0) {
      // The webhook is no longer as read: nothing was written; read it again.
      knownCandidates.delete(key);
      candidates = undefined;
      continue;
    }
    if (fresh) knownCandidates.set(key, candidates);
    if (recorded && recorded.results.length === 0) throw unauthorized('This signed request was already received (replay)');
    rateLimit(counted.results[0].count, windowStart, now);
    return run(env, req, owner.results[0], found.results[0]);
  }
}

/** The authenticated request's run: its body as the workflow's inputs, as the workflow's owner. */
function run(env: Env, req: WebhookRequest, ownerUser: AuthUser | undefined, workflow: WorkflowRow | undefined) {
  let inputs: unknown = {};
  if (req.rawBody.trim()) {
    try {
      inputs = JSON.parse(req.rawBody);
    } catch {
      throw validationError('body: not valid JSON');
    }
  }
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) throw validationError('body: must be a JSON object (the workflow inputs)');

  // The workflow runs as its owner's, as long as the owner's account is active.
  if (!ownerUser || !workflow) throw notFound('Workflow');
  return runWorkflow(env, ownerUser, workflow, {
    inputs: inputs as Record<string, unknown>,
    trigger: 'webhook',
    waitMs: req.wait ? WAIT_MS : 0,
    inline: req.wait,
  });
}

/** What `?wait=true` answers by default: the run's outcome, without its nodes (`?details=true` adds them). */
export function webhookResult(execution: ExecutionDetail) {
  const { id, workflow_id, status, outputs, error, token_usage, started_at, finished_at, duration_ms } = execution;
  return { execution_id: id, workflow_id, status, outputs, error, token_usage, started_at, finished_at, duration_ms };
}

/** Decrypted secrets by workflow, while their stored (encrypted) form is the same: one decryption per secret and isolate. */
const decrypted = new IsolateCache<string, { stored: string; secret: string }>(1000, Infinity);

/**
 * The candidates of a target (`id:<id>` or `name:<name>`) as last read, secrets decrypted. No age
 * bound: every request that uses them checks in its batch that its webhook is still so.
 */
const knownCandidates = new IsolateCache<string, Candidate[]>(1000, Infinity);

async function loadCandidates(env: Env, target: WebhookRequest['target']): Promise<Candidate[]> {
  const results = await store.webhookCandidates(env.DB, target, NAME_CANDIDATES);
  if (results.length === 0) return [];
  const key = await getSecret(env, 'ENCRYPTION_KEY');
  return Promise.all(
    results.map(async (c) => {
      const hit = decrypted.get(c.id);
      if (hit?.stored === c.secret) return { ...c, secret: hit.secret, stored: c.secret };
      const secret = await decryptSecret(c.secret, key);
      decrypted.set(c.id, { stored: c.secret, secret });
      return { ...c, secret, stored: c.secret };
    }),
  );
}

/**
 * The candidate the request proves it knows the secret of, and the signature to record (signed
 * requests); null when it proves none of them. 401 for a request that cannot prove any.
 */
async function authenticate(candidates: Candidate[], req: WebhookRequest, now: number): Promise<{ match: Candidate; nonce?: { signatureHash: string; expiresAt: number } } | null> {
  if (req.signature !== undefined) {
    const ts = req.timestamp?.trim() ?? '';
    if (!/^\d{1,12}$/.test(ts)) throw unauthorized('X-Tiangong-Timestamp (unix seconds) is required with X-Tiangong-Signature');
    if (Math.abs(now / 1000 - Number(ts)) > REPLAY_WINDOW_SECONDS) {
      throw unauthorized(`The timestamp is outside the ±${REPLAY_WINDOW_SECONDS} s window: check the clock and sign each request anew`);
    }
    const m = /^sha256=([0-9a-fA-F]{64})$/.exec(req.signature.trim());
    if (!m) throw unauthorized('X-Tiangong-Signature must be sha256=<hex HMAC-SHA256>');
    const given = m[1].toLowerCase();
    let match: Candidate | undefined;
    for (const c of candidates) {
      // Every candidate is checked (no early exit), in constant time per comparison.
      if (constantTimeEqual(await hmacHex(c.secret, `${ts}.${req.rawBody}`), given) && !match) match = c;
    }
    if (!match) return null;
    // Each signature once: a replay within the window finds its hash already there.
    const hash = await sha256Hex(`${match.id}:${given}`);
    return { match, nonce: { signatureHash: hash, expiresAt: (Number(ts) + REPLAY_WINDOW_SECONDS) * 1000 + 60_000 } };
  }
  if (req.secretHeader !== undefined) {
    let match: Candidate | undefined;
    for (const c of candidates) if (constantTimeEqual(c.secret, req.secretHeader.trim()) && !match) match = c;
    return match ? { match } : null;
  }
  throw unauthorized('Sign the request (X-Tiangong-Timestamp and X-Tiangong-Signature) or send X-Webhook-Secret');
}

/** A fixed one-minute window per workflow: the 61st authenticated request of a minute is 429. */
function rateLimit(count: number, windowStart: number, now: number) {
  if (count > RATE_LIMIT_PER_MINUTE) {
    const retryAfter = Math.max(1, Math.ceil((windowStart + 60_000 - now) / 1000));
    throw new ApiError(429, 'RATE_LIMITED', `This webhook accepts ${RATE_LIMIT_PER_MINUTE} requests a minute; try again in ${retryAfter} seconds`, {
      'Retry-After': String(retryAfter),
    });
  }
}

/** Cron step: expired replay hashes and past rate windows go. */
export async function cleanupWebhookState(env: Env, now = Date.now()) {
  await store.cleanupWebhookState(env.DB, now, now - 2 * 60_000);
}
