import { and, asc, eq, lt, lte, sql } from 'drizzle-orm';
import { db, now, runBatch, type Statement } from '../../../db/client';
import { webhookNonces, webhookRateWindows, webhookSecrets } from '../../../db/schema/webhooks';
import { workflowRefs } from '../workflows/store';

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

/** Records an accepted signature (for a batch): it answers the hash, or no row when it was already there (a replay). */
export function recordNonceStatement(d1: D1Database, nonce: { signatureHash: string; workflowId: string; expiresAt: number }) {
  return db(d1).insert(webhookNonces).values(nonce).onConflictDoNothing().returning({ signatureHash: webhookNonces.signatureHash });
}

/** Counts one request in the workflow's window (for a batch): it answers the window's count so far. */
export function countRequestStatement(d1: D1Database, workflowId: string, windowStart: number) {
  return db(d1)
    .insert(webhookRateWindows)
    .values({ workflowId, windowStart, count: 1 })
    .onConflictDoUpdate({ target: [webhookRateWindows.workflowId, webhookRateWindows.windowStart], set: { count: sql`${webhookRateWindows.count} + 1` } })
    .returning({ count: webhookRateWindows.count });
}

/** Expired replay hashes and rate windows that ended before `windowsBefore`, in one batch. */
export async function cleanupWebhookState(d1: D1Database, at: number, windowsBefore: number): Promise<void> {
  await runBatch(d1, [
    db(d1).delete(webhookNonces).where(lte(webhookNonces.expiresAt, at)),
    db(d1).delete(webhookRateWindows).where(lt(webhookRateWindows.windowStart, windowsBefore)),
  ]);
}
