import { and, asc, count, desc, eq, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import { db, now, runBatch, type Statement, sqlQuery } from '../../../db/client';
import { alertEvents, alertRules } from '../../../db/schema/alert-rules';



/** The alert_rules and alert_events tables. */
export type AlertRuleRow = typeof alertRules.$inferSelect;
export type AlertRuleInsert = typeof alertRules.$inferInsert;
export type AlertEventRow = typeof alertEvents.$inferSelect;
export type AlertEventWithRule = AlertEventRow & { ruleName: string | null };

export async function findRule(d1: D1Database, id: string): Promise<AlertRuleRow | null> {
  const [row] = await db(d1).select().from(alertRules).where(eq(alertRules.id, id));
  return row ?? null;
}

export async function listRules(d1: D1Database, f: { ownerId?: string; metric?: string; state?: 'ok' | 'firing' }, limit: number, offset: number) {
  const where = and(
    f.ownerId ? eq(alertRules.ownerId, f.ownerId) : undefined,
    f.metric ? eq(alertRules.metric, f.metric) : undefined,
    f.state ? eq(alertRules.state, f.state) : undefined,
  );
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(alertRules).where(where).orderBy(desc(alertRules.createdAt), alertRules.id).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(alertRules).where(where),
  ]);
  return { rows, total };
}

export async function insertRule(d1: D1Database, row: AlertRuleInsert): Promise<AlertRuleRow> {
  const [saved] = await db(d1).insert(alertRules).values(row).returning();
  return saved;
}

export const updateRuleStatement = (
  d1: D1Database,
  id: string,
  set: Pick<AlertRuleRow, 'name' | 'description' | 'metric' | 'comparator' | 'threshold' | 'windowMinutes' | 'agentId' | 'enabled' | 'webhookUrl' | 'webhookFormat'>,
): Statement => db(d1).update(alertRules).set({ ...set, updatedAt: now() }).where(eq(alertRules.id, id));

/** A rule and its alerts, in one batch. */
export const deleteRule = (d1: D1Database, id: string) =>
  runBatch(d1, [db(d1).delete(alertEvents).where(eq(alertEvents.ruleId, id)), db(d1).delete(alertRules).where(eq(alertRules.id, id))]);

/** Enabled rules, least recently evaluated first (the cron step). */
export const enabledRules = (d1: D1Database, limit: number): Promise<AlertRuleRow[]> =>
  db(d1).select().from(alertRules).where(eq(alertRules.enabled, 1)).orderBy(sql`${alertRules.lastEvaluatedAt} IS NOT NULL`, asc(alertRules.lastEvaluatedAt)).limit(limit);

const lastValue = (d1: D1Database, id: string, value: number | null, at: string) =>
  db(d1).update(alertRules).set({ lastValue: value, lastEvaluatedAt: at }).where(eq(alertRules.id, id));

/**
 * ok → firing, once: the rule's conditional state change, the alert inserted only when that
 * changed a row (`changes() = 1`), then the last value. The first result's `meta.changes` says
 * whether this evaluation fired.
 */
export function fireStatements(d1: D1Database, rule: Pick<AlertRuleRow, 'id' | 'ownerId' | 'metric' | 'threshold'>, alertId: string, value: number | null, message: string, at: string): Statement[] {
  return [
    db(d1)
      .update(alertRules)
      .set({ state: 'firing', lastValue: value, lastEvaluatedAt: at })
      .where(and(eq(alertRules.id, rule.id), eq(alertRules.state, 'ok'))),
    sqlQuery(d1).run(
      sql`INSERT INTO ${alertEvents} (id, rule_id, owner_id, status, metric, value, threshold, message, fired_at)
         SELECT ${alertId}, ${rule.id}, ${rule.ownerId}, 'firing', ${rule.metric}, ${value}, ${rule.threshold}, ${message}, ${at} WHERE changes() = 1`,
    ),
    lastValue(d1, rule.id, value, at),
  ];
}

/** firing → ok, once: the conditional state change, the open alert resolved only if that changed a row, then the last value. */
export function recoverStatements(d1: D1Database, ruleId: string, value: number | null, at: string): Statement[] {
  return [
    db(d1)
      .update(alertRules)
      .set({ state: 'ok', lastValue: value, lastEvaluatedAt: at })
      .where(and(eq(alertRules.id, ruleId), eq(alertRules.state, 'firing'))),
    sqlQuery(d1).run(sql`UPDATE ${alertEvents} SET status = 'resolved', resolved_at = ${at}, resolved_value = ${value} WHERE rule_id = ${ruleId} AND status = 'firing' AND changes() = 1`),
    lastValue(d1, ruleId, value, at),
  ];
}

/** Resolves a firing rule's open alert without evaluating (the rule was disabled). */
export function resolveStatements(d1: D1Database, ruleId: string): Statement[] {
  return [
    db(d1)
      .update(alertEvents)
      .set({ status: 'resolved', resolvedAt: now(), message: sql`${alertEvents.message} || ' (rule disabled)'` })
      .where(and(eq(alertEvents.ruleId, ruleId), eq(alertEvents.status, 'firing'))),
    db(d1).update(alertRules).set({ state: 'ok' }).where(eq(alertRules.id, ruleId)),
  ];
}

export const setWebhookStatus = (d1: D1Database, alertId: string, status: string) => db(d1).update(alertEvents).set({ webhookStatus: status }).where(eq(alertEvents.id, alertId));

const withRule = {
  id: alertEvents.id,
  ruleId: alertEvents.ruleId,
  ownerId: alertEvents.ownerId,
  status: alertEvents.status,
  metric: alertEvents.metric,
  value: alertEvents.value,
  threshold: alertEvents.threshold,
  message: alertEvents.message,
  firedAt: alertEvents.firedAt,
  resolvedAt: alertEvents.resolvedAt,
  resolvedValue: alertEvents.resolvedValue,
  acknowledgedAt: alertEvents.acknowledgedAt,
  acknowledgedBy: alertEvents.acknowledgedBy,
  webhookStatus: alertEvents.webhookStatus,
  createdAt: alertEvents.createdAt,
  ruleName: sql<string | null>`(SELECT ${alertRules.name} FROM ${alertRules} WHERE ${alertRules.id} = ${alertEvents.ruleId})`,
};

async function findAlertWhere(d1: D1Database, where: SQL | undefined): Promise<AlertEventWithRule | null> {
  const [row] = await db(d1).select(withRule).from(alertEvents).where(where).limit(1);
  return row ?? null;
}

export const findAlert = (d1: D1Database, id: string) => findAlertWhere(d1, eq(alertEvents.id, id));
export const findOpenAlert = (d1: D1Database, ruleId: string) => findAlertWhere(d1, and(eq(alertEvents.ruleId, ruleId), eq(alertEvents.status, 'firing')));

export async function listAlerts(d1: D1Database, f: { ownerId?: string; ruleId?: string; status?: 'firing' | 'resolved'; acknowledged?: boolean }, limit: number, offset: number) {
  const where = and(
    f.ownerId ? eq(alertEvents.ownerId, f.ownerId) : undefined,
    f.ruleId ? eq(alertEvents.ruleId, f.ruleId) : undefined,
    f.status ? eq(alertEvents.status, f.status) : undefined,
    f.acknowledged === undefined ? undefined : f.acknowledged ? isNotNull(alertEvents.acknowledgedAt) : isNull(alertEvents.acknowledgedAt),
  );
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select(withRule).from(alertEvents).where(where).orderBy(desc(alertEvents.firedAt), alertEvents.id).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(alertEvents).where(where),
  ]);
  return { rows, total };
}

/** Acknowledging keeps the first acknowledgement. */
export const acknowledgeAlert = (d1: D1Database, alertId: string, userId: string) =>
  db(d1)
    .update(alertEvents)
    .set({ acknowledgedAt: now(), acknowledgedBy: userId })
    .where(and(eq(alertEvents.id, alertId), isNull(alertEvents.acknowledgedAt)));
