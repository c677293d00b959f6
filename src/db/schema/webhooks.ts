// Tables of the webhooks module (its store alone reads and writes them).
import { integer, sqliteTable, text, primaryKey } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';

/** The webhook of a workflow: its secret (AES-GCM encrypted with ENCRYPTION_KEY) and whether it is on. */
export const webhookSecrets = sqliteTable('webhook_secrets', {
  workflowId: text('workflow_id').primaryKey(),
  ownerId: text('owner_id').notNull(),
  secret: text('secret').notNull(),
  secretHint: text('secret_hint').notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  createdAt: createdAt(),
  rotatedAt: text('rotated_at'),
});

/** Signatures already accepted, kept for the replay window (cleaned by the cron step). */
export const webhookNonces = sqliteTable('webhook_nonces', {
  signatureHash: text('signature_hash').primaryKey(),
  workflowId: text('workflow_id').notNull(),
  expiresAt: integer('expires_at').notNull(),
});

/** Fixed-window request counters per workflow webhook (window start, epoch ms). */
export const webhookRateWindows = sqliteTable(
  'webhook_rate_windows',
  {
    workflowId: text('workflow_id').notNull(),
    windowStart: integer('window_start').notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.windowStart] })],
);
