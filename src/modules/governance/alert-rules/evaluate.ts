import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { ApiError } from '../../../lib/errors';
import { guardedFetch } from '../../../lib/outbound';
import { percentileSql, ratio } from '../../../lib/stats-sql';
import { logApp } from '../system-logs/log';
import { minutesAgo } from '../../../lib/time-range';
import { executionsUnion, ownerClause, scopeOf } from '../monitoring/sources';
import { createNotification } from '../../goals/notifications/service';
import type { Alert, AlertMetric, AlertRule, Comparator } from './schemas';
import { NOW_SQL } from '../../../lib/d1';
import { findActiveUser } from '../../identity/auth/store';

export interface RuleRow extends Omit<AlertRule, 'enabled'> {
  enabled: number;
}

export const toRule = (r: RuleRow): AlertRule => ({ ...r, enabled: r.enabled === 1 });


/** The metric's value over the window for the rule owner's scope; null when there is no data. */
export async function metricValue(env: Env, owner: AuthUser, rule: Pick<AlertRule, 'metric' | 'window_minutes' | 'agent_id'>, now = Date.now()): Promise<number | null> {
  const s = await scopeOf(env, owner);
  const range = { from: minutesAgo(rule.window_minutes, now), to: new Date(now + 1).toISOString() };
  const agent = rule.agent_id ? { sql: ' AND agent_id = ?', binds: [rule.agent_id] } : { sql: '', binds: [] };
  const metric: AlertMetric = rule.metric;
  if (metric === 'error_rate' || metric === 'p95_latency') {
    const o = ownerClause(s, 'user_id');
    const where = `WHERE category = 'request' AND created_at >= ? AND created_at < ?${o.sql}`;
    const binds = [range.from, range.to, ...o.binds];
    if (metric === 'error_rate') {
      const r = await env.DB.prepare(`SELECT sum(weight) AS total, coalesce(sum(CASE WHEN status_code >= 500 THEN weight END), 0) AS errors FROM system_logs ${where}`)
        .bind(...binds)
        .first<{ total: number | null; errors: number }>();
      return r?.total ? 100 * ratio(r.errors, r.total) : null;
    }
    const r = await env.DB.prepare(percentileSql({ from: 'system_logs', where, groups: {}, value: 'duration_ms', select: 'count(*) AS n' }))
      .bind(...binds)
      .first<{ p95: number | null }>();
    return r?.p95 ?? null;
  }
  if (metric === 'failed_executions') {
    const ex = executionsUnion(s, range);
    const r = await env.DB.prepare(`SELECT count(*) AS n FROM ${ex.sql} WHERE status = 'failed'${agent.sql}`)
      .bind(...ex.binds, ...agent.binds)
      .first<{ n: number }>();
    return r?.n ?? 0;
  }
  const o = ownerClause(s, 'user_id');
  const r = await env.DB.prepare(
    `SELECT count(*) AS calls, coalesce(sum(status = 'error'), 0) AS errors, coalesce(sum(prompt_tokens + completion_tokens), 0) AS tokens
     FROM llm_calls WHERE created_at >= ? AND created_at < ?${o.sql}${agent.sql}`,
  )
    .bind(range.from, range.to, ...o.binds, ...agent.binds)
    .first<{ calls: number; errors: number; tokens: number }>();
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

export const SELECT_ALERT = 'SELECT e.*, r.name AS rule_name FROM alert_events e LEFT JOIN alert_rules r ON r.id = e.rule_id';

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
  await env.DB.prepare('UPDATE alert_events SET webhook_status = ? WHERE id = ?').bind(status.slice(0, 500), alert.id).run();
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
    const [changed] = await env.DB.batch([
      env.DB.prepare(`UPDATE alert_rules SET state = 'firing', last_value = ?, last_evaluated_at = ? WHERE id = ? AND state = 'ok'`).bind(value, at, rule.id),
      env.DB.prepare(
        `INSERT INTO alert_events (id, rule_id, owner_id, status, metric, value, threshold, message, fired_at)
         SELECT ?, ?, ?, 'firing', ?, ?, ?, ?, ? WHERE changes() = 1`,
      ).bind(alertId, rule.id, rule.owner_id, rule.metric, value, rule.threshold, message, at),
      env.DB.prepare('UPDATE alert_rules SET last_value = ?, last_evaluated_at = ? WHERE id = ?').bind(value, at, rule.id),
    ]);
    if (changed.meta.changes === 1) {
      const alert = (await env.DB.prepare(`${SELECT_ALERT} WHERE e.id = ?`).bind(alertId).first<Alert>())!;
      await createNotification(env, rule.owner_id, { type: 'alert_fired', title: `Alert: ${rule.name}`, body: message, resource_type: 'alert_rule', resource_id: rule.id });
      await logApp(env, 'warn', 'alert-rules', `Alert rule "${rule.name}" fired: ${message}`, { rule_id: rule.id, alert_id: alertId, value });
      await callWebhook(env, { ...rule, state: 'firing' }, alert, 'fired');
      return { value, breached, transition: 'fired', alert: await loadAlert(env, alertId) };
    }
    return { value, breached, transition: 'none', alert: await openAlert(env, rule.id) };
  }

  const open = await openAlert(env, rule.id);
  const [changed] = await env.DB.batch([
    env.DB.prepare(`UPDATE alert_rules SET state = 'ok', last_value = ?, last_evaluated_at = ? WHERE id = ? AND state = 'firing'`).bind(value, at, rule.id),
    env.DB.prepare(`UPDATE alert_events SET status = 'resolved', resolved_at = ?, resolved_value = ? WHERE rule_id = ? AND status = 'firing' AND changes() = 1`).bind(at, value, rule.id),
    env.DB.prepare('UPDATE alert_rules SET last_value = ?, last_evaluated_at = ? WHERE id = ?').bind(value, at, rule.id),
  ]);
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

export const loadAlert = (env: Env, id: string) => env.DB.prepare(`${SELECT_ALERT} WHERE e.id = ?`).bind(id).first<Alert>();
const openAlert = (env: Env, ruleId: string) => env.DB.prepare(`${SELECT_ALERT} WHERE e.rule_id = ? AND e.status = 'firing'`).bind(ruleId).first<Alert>();

/** Resolves a firing rule's open alert without evaluating (the rule was disabled). */
export function resolveStatements(env: Env, ruleId: string): D1PreparedStatement[] {
  return [
    env.DB.prepare(`UPDATE alert_events SET status = 'resolved', resolved_at = ${NOW_SQL}, message = message || ' (rule disabled)' WHERE rule_id = ? AND status = 'firing'`).bind(ruleId),
    env.DB.prepare(`UPDATE alert_rules SET state = 'ok' WHERE id = ?`).bind(ruleId),
  ];
}

const CRON_BATCH = 500;
const CONCURRENCY = 8;

/** The cron step: evaluates every enabled rule (least recently evaluated first), a few at a time. */
export async function evaluateAlertRules(env: Env): Promise<{ evaluated: number; fired: number; resolved: number }> {
  const { results } = await env.DB.prepare(`SELECT * FROM alert_rules WHERE enabled = 1 ORDER BY last_evaluated_at IS NOT NULL, last_evaluated_at LIMIT ${CRON_BATCH}`).all<RuleRow>();
  const rules = results.map(toRule);
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
