// Tables of the alert-rules module (its store alone reads and writes them).
import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/** A watched metric over a window against a threshold; `state` is ok or firing. */
export const alertRules = sqliteTable(
  'alert_rules',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    metric: text('metric').notNull(),
    comparator: text('comparator').notNull(),
    threshold: real('threshold').notNull(),
    windowMinutes: integer('window_minutes').notNull(),
    agentId: text('agent_id'),
    enabled: integer('enabled').notNull().default(1),
    webhookUrl: text('webhook_url'),
    webhookFormat: text('webhook_format').notNull().default('json'),
    state: text('state', { enum: ['ok', 'firing'] }).notNull().default('ok'),
    lastValue: real('last_value'),
    lastEvaluatedAt: text('last_evaluated_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('alert_rules_owner_idx').on(t.ownerId, t.createdAt), index('alert_rules_enabled_idx').on(t.enabled)],
);

/** The alert log: one row per firing, resolved when the metric recovers. */
export const alertEvents = sqliteTable(
  'alert_events',
  {
    id: text('id').primaryKey(),
    ruleId: text('rule_id').notNull(),
    ownerId: text('owner_id').notNull(),
    status: text('status', { enum: ['firing', 'resolved'] }).notNull(),
    metric: text('metric').notNull(),
    value: real('value'),
    threshold: real('threshold').notNull(),
    message: text('message').notNull(),
    firedAt: text('fired_at').notNull(),
    resolvedAt: text('resolved_at'),
    resolvedValue: real('resolved_value'),
    acknowledgedAt: text('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
    webhookStatus: text('webhook_status'),
    createdAt: createdAt(),
  },
  (t) => [
    index('alert_events_owner_idx').on(t.ownerId, t.firedAt),
    index('alert_events_rule_idx').on(t.ruleId, t.firedAt),
    // At most one open (firing) alert per rule.
    uniqueIndex('alert_events_open_unique').on(t.ruleId).where(sql`status = 'firing'`),
  ],
);
