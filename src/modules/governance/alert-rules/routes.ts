import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import { AlertListQuery, AlertRuleListQuery, AlertRuleSchema, AlertSchema, CreateAlertRuleBody, EvaluationSchema, UpdateAlertRuleBody } from './schemas';

const tags = ['alert-rules'];
const params = idParam('rule_id');

export const list = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/',
  summary: 'Your alert rules (admins: all), newest first',
  request: { query: AlertRuleListQuery },
  responses: { 200: jsonContent(paginatedSchema(AlertRuleSchema, 'AlertRuleList'), 'A page of rules'), ...errors(401, 422) },
});

export const create = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/',
  summary: 'Create an alert rule: a metric over a window against a threshold, evaluated every minute',
  request: { body: jsonBody(CreateAlertRuleBody) },
  responses: { 201: jsonContent(AlertRuleSchema, 'The rule'), ...errors(401, 422) },
});

export const alerts = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/alerts',
  summary: 'The alert log: firings (open or resolved) of your rules, newest first',
  request: { query: AlertListQuery },
  responses: { 200: jsonContent(paginatedSchema(AlertSchema, 'AlertList'), 'A page of alerts'), ...errors(401, 422) },
});

export const acknowledge = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/alerts/{alert_id}/acknowledge',
  summary: 'Acknowledge an alert (keeps the first acknowledgement)',
  request: { params: idParam('alert_id') },
  responses: { 200: jsonContent(AlertSchema, 'The alert'), ...errors(401, 404) },
});

export const get = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/{rule_id}',
  summary: 'An alert rule with its state and last value',
  request: { params },
  responses: { 200: jsonContent(AlertRuleSchema, 'The rule'), ...errors(401, 404) },
});

export const update = createRoute({
  ...authenticated,
  tags,
  method: 'put',
  path: '/{rule_id}',
  summary: 'Update a rule (fields sent replace the stored ones); disabling a firing rule resolves its alert',
  request: { params, body: jsonBody(UpdateAlertRuleBody) },
  responses: { 200: jsonContent(AlertRuleSchema, 'The rule'), ...errors(401, 404, 422) },
});

export const remove = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/{rule_id}',
  summary: 'Delete a rule and its alerts',
  request: { params },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 404) },
});

export const evaluate = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/{rule_id}/evaluate',
  summary: 'Evaluate a rule now (as the cron does): may fire or resolve it',
  request: { params },
  responses: { 200: jsonContent(EvaluationSchema, 'The evaluation'), ...errors(401, 404, 409) },
});
