import { z } from '@hono/zod-openapi';
import { orNull } from '../../../lib/schemas';
import { PaginationQuery } from '../../../lib/pagination';

/**
 * Metrics a rule can watch over its window. Rates are percentages (0–100).
 *   error_rate         share of API requests answered 5xx (the system log's request lines)
 *   p95_latency        95th percentile of API request duration, ms
 *   token_usage        prompt + completion tokens of model calls
 *   failed_executions  failed workflow, agent and goal-task runs
 *   model_error_rate   share of failed model calls
 * An admin's rule watches the whole platform; anyone else's, their own requests, calls and runs.
 */
export const ALERT_METRICS = ['error_rate', 'p95_latency', 'token_usage', 'failed_executions', 'model_error_rate'] as const;
export type AlertMetric = (typeof ALERT_METRICS)[number];
/** Metrics that can be narrowed to one agent. */
export const AGENT_METRICS: ReadonlySet<AlertMetric> = new Set(['token_usage', 'failed_executions', 'model_error_rate']);

export const COMPARATORS = ['gt', 'gte', 'lt', 'lte'] as const;
export type Comparator = (typeof COMPARATORS)[number];

export const AlertRuleSchema = z
  .object({
    id: z.string(),
    owner_id: z.string(),
    name: z.string(),
    description: z.string(),
    metric: z.enum(ALERT_METRICS),
    comparator: z.enum(COMPARATORS),
    threshold: z.number(),
    window_minutes: z.int(),
    agent_id: z.string().nullable(),
    enabled: z.boolean(),
    webhook_url: z.string().nullable(),
    webhook_format: z.enum(['json', 'feishu']),
    state: z.enum(['ok', 'firing']),
    last_value: z.number().nullable(),
    last_evaluated_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('AlertRule');

const fields = {
  name: z.string().trim().min(1).max(100),
  description: z.string().trim().max(1000),
  metric: z.enum(ALERT_METRICS),
  comparator: z.enum(COMPARATORS).meta({ description: 'gt: fires when value > threshold; gte, lt, lte likewise' }),
  threshold: z.number().finite(),
  window_minutes: z.int().min(1).max(1440),
  agent_id: z.uuid().nullable().meta({ description: 'Only for token_usage, failed_executions, model_error_rate' }),
  enabled: z.boolean(),
  webhook_url: z.url().max(2000).nullable().meta({ description: 'POSTed when the rule fires and resolves (through the SSRF guard)' }),
  webhook_format: z.enum(['json', 'feishu']).meta({ description: 'json: the alert as JSON; feishu: a Feishu/Lark bot text message' }),
};

export const CreateAlertRuleBody = z
  .object({
    ...fields,
    description: fields.description.default(''),
    comparator: fields.comparator.default('gt'),
    window_minutes: fields.window_minutes.default(5),
    agent_id: fields.agent_id.optional(),
    enabled: fields.enabled.default(true),
    webhook_url: fields.webhook_url.optional(),
    webhook_format: fields.webhook_format.default('json'),
  })
  .openapi('CreateAlertRule');

export const UpdateAlertRuleBody = z.object(fields).partial().openapi('UpdateAlertRule');

export const AlertRuleListQuery = PaginationQuery.extend({
  metric: z.enum(ALERT_METRICS).optional(),
  state: z.enum(['ok', 'firing']).optional(),
});

export const AlertSchema = z
  .object({
    id: z.string(),
    rule_id: z.string(),
    rule_name: z.string().nullable(),
    owner_id: z.string(),
    status: z.enum(['firing', 'resolved']),
    metric: z.string(),
    value: z.number().nullable(),
    threshold: z.number(),
    message: z.string(),
    fired_at: z.string(),
    resolved_at: z.string().nullable(),
    resolved_value: z.number().nullable(),
    acknowledged_at: z.string().nullable(),
    acknowledged_by: z.string().nullable(),
    webhook_status: z.string().nullable(),
  })
  .openapi('Alert');

export const AlertListQuery = PaginationQuery.extend({
  rule_id: z.string().min(1).optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  acknowledged: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
});

export const EvaluationSchema = z
  .object({
    rule: AlertRuleSchema,
    value: z.number().nullable().meta({ description: 'null: no data in the window (never fires)' }),
    breached: z.boolean(),
    transition: z.enum(['fired', 'resolved', 'none']),
    alert: orNull(AlertSchema),
  })
  .openapi('AlertEvaluation');

export type AlertRule = z.infer<typeof AlertRuleSchema>;
export type Alert = z.infer<typeof AlertSchema>;
export type CreateAlertRule = z.infer<typeof CreateAlertRuleBody>;
export type UpdateAlertRule = z.infer<typeof UpdateAlertRuleBody>;
