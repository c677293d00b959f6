import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { authorize } from '../../identity/permissions/authorize';
import { ApiError, conflict, notFound, validationError } from '../../../lib/errors';
import { checkOutboundUrl } from '../../../lib/outbound';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { evaluateRule, loadAlert, resolveStatements, SELECT_ALERT, toRule, type RuleRow } from './evaluate';
import { AGENT_METRICS, type Alert, type AlertMetric, type AlertRule, type CreateAlertRule, type UpdateAlertRule } from './schemas';
import { NOW_SQL } from '../../../lib/d1';


/** Rules are their owner's (admins see all); anyone else's is 404. */
async function getRuleRow(env: Env, user: AuthUser, id: string): Promise<AlertRule> {
  const row = await env.DB.prepare('SELECT * FROM alert_rules WHERE id = ?').bind(id).first<RuleRow>();
  if (!row || (row.owner_id !== user.id && !isAdmin(user))) throw notFound('Alert rule');
  return toRule(row);
}

export const getRule = getRuleRow;

async function checkFields(env: Env, user: AuthUser, metric: AlertMetric, agentId: string | null | undefined, webhookUrl: string | null | undefined) {
  if (agentId) {
    if (!AGENT_METRICS.has(metric)) throw validationError(`body.agent_id: the ${metric} metric cannot be narrowed to an agent`);
    try {
      await authorize(env, user, 'agent', agentId, 'read');
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw validationError(`body.agent_id: agent ${agentId} not found`);
      throw e;
    }
  }
  if (webhookUrl) {
    try {
      checkOutboundUrl(env, webhookUrl);
    } catch (e) {
      if (e instanceof ApiError) throw validationError(`body.webhook_url: ${e.message}`);
      throw e;
    }
  }
}

export async function listRules(env: Env, user: AuthUser, q: Pagination & { metric?: AlertMetric; state?: 'ok' | 'firing' }) {
  const where: string[] = [];
  const binds: unknown[] = [];
  if (!isAdmin(user)) {
    where.push('owner_id = ?');
    binds.push(user.id);
  }
  if (q.metric) {
    where.push('metric = ?');
    binds.push(q.metric);
  }
  if (q.state) {
    where.push('state = ?');
    binds.push(q.state);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const { limit, offset } = pageBounds(q);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT * FROM alert_rules ${clause} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`).bind(...binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM alert_rules ${clause}`).bind(...binds),
  ]);
  return paginated((rows.results as unknown as RuleRow[]).map(toRule), (count.results[0] as { n: number }).n, q);
}

export async function createRule(env: Env, user: AuthUser, input: CreateAlertRule): Promise<AlertRule> {
  await checkFields(env, user, input.metric, input.agent_id, input.webhook_url);
  const row = await env.DB.prepare(
    `INSERT INTO alert_rules (id, owner_id, name, description, metric, comparator, threshold, window_minutes, agent_id, enabled, webhook_url, webhook_format)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
  )
    .bind(
      crypto.randomUUID(),
      user.id,
      input.name,
      input.description,
      input.metric,
      input.comparator,
      input.threshold,
      input.window_minutes,
      input.agent_id ?? null,
      input.enabled ? 1 : 0,
      input.webhook_url ?? null,
      input.webhook_format,
    )
    .first<RuleRow>();
  return toRule(row!);
}

export async function updateRule(env: Env, user: AuthUser, id: string, input: UpdateAlertRule): Promise<AlertRule> {
  const rule = await getRuleRow(env, user, id);
  const next = { ...rule, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as AlertRule;
  await checkFields(env, user, next.metric, input.agent_id !== undefined ? input.agent_id : next.agent_id, input.webhook_url);
  const statements = [
    env.DB.prepare(
      `UPDATE alert_rules SET name = ?, description = ?, metric = ?, comparator = ?, threshold = ?, window_minutes = ?, agent_id = ?, enabled = ?,
         webhook_url = ?, webhook_format = ?, updated_at = ${NOW_SQL} WHERE id = ?`,
    ).bind(next.name, next.description, next.metric, next.comparator, next.threshold, next.window_minutes, next.agent_id, next.enabled ? 1 : 0, next.webhook_url, next.webhook_format, id),
  ];
  // A rule switched off stops firing: its open alert is resolved with it.
  if (rule.enabled && !next.enabled && rule.state === 'firing') statements.push(...resolveStatements(env, id));
  await env.DB.batch(statements);
  return getRuleRow(env, user, id);
}

export async function deleteRule(env: Env, user: AuthUser, id: string): Promise<void> {
  await getRuleRow(env, user, id);
  await env.DB.batch([env.DB.prepare('DELETE FROM alert_events WHERE rule_id = ?').bind(id), env.DB.prepare('DELETE FROM alert_rules WHERE id = ?').bind(id)]);
}

export async function evaluateNow(env: Env, user: AuthUser, id: string) {
  const rule = await getRuleRow(env, user, id);
  if (!rule.enabled) throw conflict('The rule is disabled; enable it to evaluate it');
  const result = await evaluateRule(env, rule);
  return { rule: await getRuleRow(env, user, id), ...result };
}

export async function listAlerts(env: Env, user: AuthUser, q: Pagination & { rule_id?: string; status?: 'firing' | 'resolved'; acknowledged?: boolean }) {
  const where: string[] = [];
  const binds: unknown[] = [];
  if (!isAdmin(user)) {
    where.push('e.owner_id = ?');
    binds.push(user.id);
  }
  if (q.rule_id) {
    where.push('e.rule_id = ?');
    binds.push(q.rule_id);
  }
  if (q.status) {
    where.push('e.status = ?');
    binds.push(q.status);
  }
  if (q.acknowledged !== undefined) where.push(q.acknowledged ? 'e.acknowledged_at IS NOT NULL' : 'e.acknowledged_at IS NULL');
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const { limit, offset } = pageBounds(q);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`${SELECT_ALERT} ${clause} ORDER BY e.fired_at DESC, e.id LIMIT ? OFFSET ?`).bind(...binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM alert_events e ${clause}`).bind(...binds),
  ]);
  return paginated(rows.results as unknown as Alert[], (count.results[0] as { n: number }).n, q);
}

/** Acknowledging says someone is on it; it keeps the first acknowledgement. */
export async function acknowledge(env: Env, user: AuthUser, alertId: string): Promise<Alert> {
  const alert = await loadAlert(env, alertId);
  if (!alert || (alert.owner_id !== user.id && !isAdmin(user))) throw notFound('Alert');
  await env.DB.prepare(`UPDATE alert_events SET acknowledged_at = ${NOW_SQL}, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL`).bind(user.id, alertId).run();
  return (await loadAlert(env, alertId))!;
}
