import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { ApiError } from '../../../lib/errors';
import { guardedFetch } from '../../../lib/outbound';
import { ratio } from '../../../lib/stats-sql';
import { logApp } from '../system-logs/log';
import { minutesAgo } from '../../../lib/time-range';
import { ownerOf, scopeOf } from '../monitoring/sources';
import { failedRuns, runsUnion } from '../monitoring/store';
import { requestErrors, requestP95 } from '../system-logs/store';
import { llmCallTotals } from '../../agents/model-configs/store';
import { findActiveUser } from '../../identity/auth/store';
import { runBatch, type Statement } from '../../../db/client';
import * as store from './store';
import { setWebhookStatus, type AlertEventWithRule, type AlertRuleRow } from './store';
import { createNotification } from '../../goals/notifications/service';
import type { Alert, AlertMetric, AlertRule, Comparator } from './schemas';

export const toRule = (r: AlertRuleRow): AlertRule => ({
  id: r.id,
  owner_id: r.ownerId,
  name: r.name,
  description: r.description,
  metric: r.metric as AlertMetric,
  comparator: r.comparator as Comparator,
  threshold: r.threshold,
  window_minutes: r.windowMinutes,
  agent_id: r.agentId,
  enabled: r.enabled === 1,
  webhook_url: r.webhookUrl,
  webhook_format: r.webhookFormat as AlertRule['webhook_format'],
  state: r.state,
  last_value: r.lastValue,
  last_evaluated_at: r.lastEvaluatedAt,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

/** An alert as the API shows it (snake_case, with its rule's name). */
export const toAlert = (r: AlertEventWithRule): Alert =>
  ({
    id: r.id,
    rule_id: r.ruleId,
    owner_id: r.ownerId,
    status: r.status,
    metric: r.metric,
    value: r.value,
    threshold: r.threshold,
    message: r.message,
    fired_at: r.firedAt,
    resolved_at: r.resolvedAt,
    resolved_value: r.resolvedValue,
    acknowledged_at: r.acknowledgedAt,
    acknowledged_by: r.acknowledgedBy,
    webhook_status: r.webhookStatus,
    created_at: r.createdAt,
    rule_name: r.ruleName,
  }) as Alert;

/** The metric's value over the window for the rule owner's scope; null when there is no data. */
export async function metricValue(env: Env, owner: AuthUser, rule: Pick<AlertRule, 'metric' | 'window_minutes' | 'agent_id'>, now = Date.now()): Promise<number | null> {
  const s = await scopeOf(env, owner);
  const range = { from: minutesAgo(rule.window_minutes, now), to: new Date(now + 1).toISOString() };
  const agentId = rule.agent_id ?? undefined;
  const userId = ownerOf(s);
  const metric: AlertMetric = rule.metric;
  if (metric === 'error_rate') {
    const r = await requestErrors(env.DB, range, userId);
    return r?.total ? 100 * ratio(r.errors, r.total) : null;
  }
  if (metric === 'p95_latency') return requestP95(env.DB, range, userId);
  if (metric === 'failed_executions') {
    const r = await failedRuns(env.DB, runsUnion(range, userId).from, agentId);
    return r?.n ?? 0;
  }
  const [r] = await llmCallTotals(env.DB, { range, userId, agentId });
  if (metric === 'token_usage') return r?.tokens ?? 0;
  return r?.calls ? 100 * ratio(r.errors, r.calls) : null;
}

export function breaches(value: number | null, comparator: Comparator, threshold: number): boolean {
  if (value === null) return false;
  switch (comparator) {
    case 'gt':
      return value > threshold;
    case 'gte':
      return value >= threshold;
    case 'lt':
      return value < threshold;
    case 'lte':
      return value <= threshold;
  }
}

const SYMBOL: Record<Comparator, string> = { gt: '>', gte: '≥', lt: '<', lte: '≤' };
const fmt = (v: number | null) => (v === null ? 'no data' : Number.isInteger(v) ? String(v) : v.toFixed(2));


/** Tells a webhook (JSON or a Feishu bot message) and records how that went on the alert. */
async function callWebhook(env: Env, rule: AlertRule, alert: Alert, event: 'fired' | 'resolved'): Promise<void> {
  if (!rule.webhook_url) return;
  const text = `[${event === 'fired' ? 'FIRING' : 'RESOLVED'}] ${rule.name}: ${alert.message}`;
  const payload =
    rule.webhook_format === 'feishu'
      ? { msg_type: 'text', content: { text } }
      : { event, rule: { id: rule.id, name: rule.name, metric: rule.metric, comparator: rule.comparator, threshold: rule.threshold, window_minutes: rule.window_minutes }, alert };
  let status: string;
  try {
    const res = await guardedFetch(env, rule.webhook_url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) }, { timeoutMs: 10_000, maxBytes: 64 * 1024 });
    await res.body?.cancel();
    status = `${event}: HTTP ${res.status}`;
  } catch (e) {
    status = `${event}: ${e instanceof ApiError ? `${e.code} ${e.message}` : String(e)}`;
    await logApp(env, 'warn', 'alert-rules', `Webhook of alert rule ${rule.id} failed`, { status });
  }
  await setWebhookStatus(env.DB, alert.id, status.slice(0, 500));
}

export interface Evaluation {
  value: number | null;
  breached: boolean;
  transition: 'fired' | 'resolved' | 'none';
  alert: Alert | null;
}

/**
 * Evaluates one rule. ok → firing records an alert, notifies the owner and calls the webhook;
 * firing → firing changes nothing but the last value (no re-notification); firing → ok resolves
 * the open alert and tells the owner. State changes are conditional UPDATEs, so two evaluations
 * racing (cron and evaluate-now) fire or resolve once.
 */
export async function evaluateRule(env: Env, rule: AlertRule, now = Date.now()): Promise<Evaluation> {
  const owner = await findActiveUser(env, rule.owner_id);
  if (!owner) return { value: null, breached: false, transition: 'none', alert: null };
  const value = await metricValue(env, owner, rule, now);
  const breached = breaches(value, rule.comparator, rule.threshold);
  const at = new Date(now).toISOString();
  const message = `${rule.metric} over ${rule.window_minutes} min is ${fmt(value)} (threshold ${SYMBOL[rule.comparator]} ${fmt(rule.threshold)})`;

  if (breached) {
    const alertId = crypto.randomUUID();
    const [changed] = (await runBatch(env.DB, store.fireStatements(env.DB, { id: rule.id, ownerId: rule.owner_id, metric: rule.metric, threshold: rule.threshold }, alertId, value, message, at))) as D1Result[];
    if (changed.meta.changes === 1) {
      const alert = (await loadAlert(env, alertId))!;
      await createNotification(env, rule.owner_id, { type: 'alert_fired', title: `Alert: ${rule.name}`, body: message, resource_type: 'alert_rule', resource_id: rule.id });
      await logApp(env, 'warn', 'alert-rules', `Alert rule "${rule.name}" fired: ${message}`, { rule_id: rule.id, alert_id: alertId, value });
      await callWebhook(env, { ...rule, state: 'firing' }, alert, 'fired');
      return { value, breached, transition: 'fired', alert: await loadAlert(env, alertId) };
    }
    return { value, breached, transition: 'none', alert: await openAlert(env, rule.id) };
  }

  const open = await openAlert(env, rule.id);
  const [changed] = (await runBatch(env.DB, store.recoverStatements(env.DB, rule.id, value, at))) as D1Result[];
  if (changed.meta.changes === 1 && open) {
    const body = `Recovered: ${message}`;
    await createNotification(env, rule.owner_id, { type: 'alert_resolved', title: `Resolved: ${rule.name}`, body, resource_type: 'alert_rule', resource_id: rule.id });
    await logApp(env, 'info', 'alert-rules', `Alert rule "${rule.name}" resolved: ${message}`, { rule_id: rule.id, alert_id: open.id, value });
    const resolved = (await loadAlert(env, open.id))!;
    await callWebhook(env, rule, resolved, 'resolved');
    return { value, breached, transition: 'resolved', alert: await loadAlert(env, open.id) };
  }
  return { value, breached, transition: 'none', alert: null };
}

export const loadAlert = async (env: Env, id: string): Promise<Alert | null> => {
  const row = await store.findAlert(env.DB, id);
  return row ? toAlert(row) : null;
};
const openAlert = async (env: Env, ruleId: string): Promise<Alert | null> => {
  const row = await store.findOpenAlert(env.DB, ruleId);
  return row ? toAlert(row) : null;
};

/** Resolves a firing rule's open alert without evaluating (the rule was disabled). */
export const resolveStatements = (env: Env, ruleId: string): Statement[] => store.resolveStatements(env.DB, ruleId);

const CRON_BATCH = 500;
const CONCURRENCY = 8;

/** The cron step: evaluates every enabled rule (least recently evaluated first), a few at a time. */
export async function evaluateAlertRules(env: Env): Promise<{ evaluated: number; fired: number; resolved: number }> {
  const rules = (await store.enabledRules(env.DB, CRON_BATCH)).map(toRule);
  const tally = { evaluated: 0, fired: 0, resolved: 0 };
  const now = Date.now();
  for (let i = 0; i < rules.length; i += CONCURRENCY) {
    const outcomes = await Promise.allSettled(rules.slice(i, i + CONCURRENCY).map((r) => evaluateRule(env, r, now)));
    for (const [j, o] of outcomes.entries()) {
      if (o.status === 'rejected') {
        await logApp(env, 'error', 'alert-rules', `Evaluating alert rule ${rules[i + j].id} failed`, { error: String(o.reason) });
        continue;
      }
      tally.evaluated++;
      if (o.value.transition === 'fired') tally.fired++;
      if (o.value.transition === 'resolved') tally.resolved++;
    }
  }
  return tally;
}
