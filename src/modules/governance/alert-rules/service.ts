import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { authorize } from '../../identity/permissions/authorize';
import { ApiError, conflict, notFound, validationError } from '../../../lib/errors';
import { checkOutboundUrl } from '../../../lib/outbound';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { evaluateRule, loadAlert, resolveStatements, toAlert, toRule } from './evaluate';
import { runBatch, type Statement } from '../../../db/client';
import * as store from './store';
import { AGENT_METRICS, type Alert, type AlertMetric, type AlertRule, type CreateAlertRule, type UpdateAlertRule } from './schemas';


/** Rules are their owner's (admins see all); anyone else's is 404. */
async function getRuleRow(env: Env, user: AuthUser, id: string): Promise<AlertRule> {
  const row = await store.findRule(env.DB, id);
  if (!row || (row.ownerId !== user.id && !isAdmin(user))) throw notFound('Alert rule');
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
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listRules(env.DB, { ownerId: isAdmin(user) ? undefined : user.id, metric: q.metric, state: q.state }, limit, offset);
  return paginated(rows.map(toRule), total, q);
}

export async function createRule(env: Env, user: AuthUser, input: CreateAlertRule): Promise<AlertRule> {
  await checkFields(env, user, input.metric, input.agent_id, input.webhook_url);
  const row = await store.insertRule(env.DB, {
    id: crypto.randomUUID(),
    ownerId: user.id,
    name: input.name,
    description: input.description,
    metric: input.metric,
    comparator: input.comparator,
    threshold: input.threshold,
    windowMinutes: input.window_minutes,
    agentId: input.agent_id ?? null,
    enabled: input.enabled ? 1 : 0,
    webhookUrl: input.webhook_url ?? null,
    webhookFormat: input.webhook_format,
  });
  return toRule(row);
}

export async function updateRule(env: Env, user: AuthUser, id: string, input: UpdateAlertRule): Promise<AlertRule> {
  const rule = await getRuleRow(env, user, id);
  const next = { ...rule, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as AlertRule;
  await checkFields(env, user, next.metric, input.agent_id !== undefined ? input.agent_id : next.agent_id, input.webhook_url);
  const statements: Statement[] = [
    store.updateRuleStatement(env.DB, id, {
      name: next.name,
      description: next.description,
      metric: next.metric,
      comparator: next.comparator,
      threshold: next.threshold,
      windowMinutes: next.window_minutes,
      agentId: next.agent_id,
      enabled: next.enabled ? 1 : 0,
      webhookUrl: next.webhook_url,
      webhookFormat: next.webhook_format,
    }),
  ];
  // A rule switched off stops firing: its open alert is resolved with it.
  if (rule.enabled && !next.enabled && rule.state === 'firing') statements.push(...resolveStatements(env, id));
  await runBatch(env.DB, statements);
  return getRuleRow(env, user, id);
}

export async function deleteRule(env: Env, user: AuthUser, id: string): Promise<void> {
  await getRuleRow(env, user, id);
  await store.deleteRule(env.DB, id);
}

export async function evaluateNow(env: Env, user: AuthUser, id: string) {
  const rule = await getRuleRow(env, user, id);
  if (!rule.enabled) throw conflict('The rule is disabled; enable it to evaluate it');
  const result = await evaluateRule(env, rule);
  return { rule: await getRuleRow(env, user, id), ...result };
}

export async function listAlerts(env: Env, user: AuthUser, q: Pagination & { rule_id?: string; status?: 'firing' | 'resolved'; acknowledged?: boolean }) {
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listAlerts(env.DB, { ownerId: isAdmin(user) ? undefined : user.id, ruleId: q.rule_id, status: q.status, acknowledged: q.acknowledged }, limit, offset);
  return paginated(rows.map(toAlert), total, q);
}

/** Acknowledging says someone is on it; it keeps the first acknowledgement. */
export async function acknowledge(env: Env, user: AuthUser, alertId: string): Promise<Alert> {
  const alert = await loadAlert(env, alertId);
  if (!alert || (alert.owner_id !== user.id && !isAdmin(user))) throw notFound('Alert');
  await store.acknowledgeAlert(env.DB, alertId, user.id);
  return (await loadAlert(env, alertId))!;
}
