import { and, asc, eq, lt, lte, sql } from 'drizzle-orm';
import { db, now, runBatch, type Statement } from '../../../db/client';
import { webhookNonces, webhookRateWindows, webhookSecrets } from '../../../db/schema/webhooks';
import { WORKFLOW_REFS_SQL, workflowRefs } from '../workflows/store';

/** A workflow's webhook: its secret (encrypted) and whether it is on. */
export type WebhookSecretRow = typeof webhookSecrets.$inferSelect;

export async function findWebhookSecret(d1: D1Database, workflowId: string): Promise<WebhookSecretRow | null> {
  const [row] = await db(d1).select().from(webhookSecrets).where(eq(webhookSecrets.workflowId, workflowId)).limit(1);
  return row ?? null;
}

/** A new secret: a first one has no rotation time, replacing one records it (owner and creation stay). */
export async function putWebhookSecret(d1: D1Database, row: Pick<WebhookSecretRow, 'workflowId' | 'ownerId' | 'secret' | 'secretHint' | 'enabled'>): Promise<void> {
  await db(d1)
    .insert(webhookSecrets)
    .values(row)
    .onConflictDoUpdate({
      target: webhookSecrets.workflowId,
      set: { secret: sql`excluded.secret`, secretHint: sql`excluded.secret_hint`, enabled: sql`excluded.enabled`, rotatedAt: now() },
    });
}

export async function setWebhookEnabled(d1: D1Database, workflowId: string, enabled: boolean): Promise<void> {
  await db(d1).update(webhookSecrets).set({ enabled }).where(eq(webhookSecrets.workflowId, workflowId));
}

/** A workflow's webhook state goes: add these to the batch that deletes the workflow. */
export function deleteWebhookStatements(d1: D1Database, workflowId: string): Statement[] {
  return [
    db(d1).delete(webhookSecrets).where(eq(webhookSecrets.workflowId, workflowId)),
    db(d1).delete(webhookRateWindows).where(eq(webhookRateWindows.workflowId, workflowId)),
  ];
}

/** Workflows with an enabled webhook, by id or (up to `limit`, oldest first) by name, with their encrypted secrets. */
export function webhookCandidates(
  d1: D1Database,
  target: { id: string } | { name: string },
  limit: number,
): Promise<Array<{ id: string; ownerId: string; name: string; secret: string }>> {
  const w = workflowRefs(d1);
  const query = db(d1)
    .select({ id: w.id, ownerId: w.ownerId, name: w.name, secret: webhookSecrets.secret })
    .from(w)
    .innerJoin(webhookSecrets, eq(webhookSecrets.workflowId, w.id));
  const enabled = eq(webhookSecrets.enabled, true);
  return 'id' in target
    ? query.where(and(enabled, eq(w.id, target.id)))
    : query
        .where(and(enabled, eq(w.name, target.name)))
        .orderBy(asc(w.createdAt))
        .limit(limit);
}

/**
 * A webhook as the request was authenticated against it: the workflow, its owner, its stored
 * (encrypted) secret and, by name, its name. The request's writes below happen only while the
 * webhook is still so (enabled, same secret, owner and name) when the batch runs: a request
 * checked against a stale copy writes nothing.
 */
export interface WebhookState {
  workflowId: string;
  ownerId: string;
  /** The secret as stored (encrypted): a rotation changes it. */
  secret: string;
  /** By-name requests: the name the workflow must still have. */
  name?: string;
}

// The request's two writes: raw statements (the webhook's hot path, no per-call query building),
// each an INSERT … SELECT of the one row of the webhook joined to its workflow while it is as read.
const stillAsRead = (byName: boolean) =>
  `FROM "webhook_secrets" s JOIN ${WORKFLOW_REFS_SQL} w ON w."id" = s."workflow_id"
   WHERE s."workflow_id" = ? AND s."enabled" = 1 AND s."secret" = ? AND w."owner_id" = ?${byName ? ' AND w."name" = ?' : ''}`;
const COUNT_SQL = (byName: boolean) =>
  `INSERT INTO "webhook_rate_windows" ("workflow_id", "window_start", "count") SELECT s."workflow_id", ?, 1 ${stillAsRead(byName)}
   ON CONFLICT ("workflow_id", "window_start") DO UPDATE SET "count" = "count" + 1 RETURNING "count"`;
const NONCE_SQL = (byName: boolean) =>
  `INSERT INTO "webhook_nonces" ("signature_hash", "workflow_id", "expires_at") SELECT ?, s."workflow_id", ? ${stillAsRead(byName)}
   ON CONFLICT DO NOTHING RETURNING "signature_hash" AS "signatureHash"`;
const COUNT = { byId: COUNT_SQL(false), byName: COUNT_SQL(true) };
const NONCE = { byId: NONCE_SQL(false), byName: NONCE_SQL(true) };
const stateParams = (s: WebhookState) => (s.name === undefined ? [s.workflowId, s.secret, s.ownerId] : [s.workflowId, s.secret, s.ownerId, s.name]);

/**
 * Records an accepted signature (for a batch), if the webhook is still as `state` read it. Its
 * result, D1Result<{signatureHash}>, holds the hash, or no row when it was already there (a
 * replay) or the webhook changed.
 */
export function recordNonceStatement(d1: D1Database, state: WebhookState, nonce: { signatureHash: string; expiresAt: number }): D1PreparedStatement {
  return d1.prepare(state.name === undefined ? NONCE.byId : NONCE.byName).bind(nonce.signatureHash, nonce.expiresAt, ...stateParams(state));
}

/**
 * Counts one request in the workflow's window (for a batch), if the webhook is still as `state`
 * read it. Its result, D1Result<{count}>, holds the window's count so far, or no row when the
 * webhook changed.
 */
export function countRequestStatement(d1: D1Database, state: WebhookState, windowStart: number): D1PreparedStatement {
  return d1.prepare(state.name === undefined ? COUNT.byId : COUNT.byName).bind(windowStart, ...stateParams(state));
}

/** Expired replay hashes and rate windows that ended before `windowsBefore`, in one batch. */
export async function cleanupWebhookState(d1: D1Database, at: number, windowsBefore: number): Promise<void> {
  await runBatch(d1, [
    db(d1).delete(webhookNonces).where(lte(webhookNonces.expiresAt, at)),
    db(d1).delete(webhookRateWindows).where(lt(webhookRateWindows.windowStart, windowsBefore)),
  ]);
}
