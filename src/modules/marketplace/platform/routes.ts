import { createRoute, z } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { errors, jsonContent } from '../../../lib/schemas';
import { QuickCreateBody, QuickCreateResultSchema, ScenarioCategorySchema, ScenarioListQuery, ScenarioSchema } from './schemas';

const tags = ['platform'];
const params = z.object({ scenario_id: z.string().min(1).max(100).openapi({ param: { name: 'scenario_id', in: 'path' }, example: 'customer-service-bot' }) });

export const list = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/scenarios',
  summary: 'Scenario templates (customer-service bot, knowledge Q&A, data analyst, Feishu assistant, content writer)',
  request: { query: ScenarioListQuery },
  responses: { 200: jsonContent(z.object({ items: z.array(ScenarioSchema) }), 'Scenarios'), ...errors(401, 422) },
});

export const categories = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/scenarios/categories',
  summary: 'Scenario categories with their number of scenarios',
  responses: { 200: jsonContent(z.object({ items: z.array(ScenarioCategorySchema) }), 'Categories'), ...errors(401) },
});

export const get = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/scenarios/{scenario_id}',
  summary: 'A scenario: the agent, knowledge base and workflow quick-create makes',
  request: { params },
  responses: { 200: jsonContent(ScenarioSchema, 'The scenario'), ...errors(401, 404) },
});

export const quickCreate = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/scenarios/{scenario_id}/quick-create',
  summary: 'Create the scenario’s agent, knowledge base and workflow in one atomic step',
  request: { params, body: { required: false, content: { 'application/json': { schema: QuickCreateBody } } } },
  responses: { 201: jsonContent(QuickCreateResultSchema, 'What was created'), ...errors(401, 403, 404, 422) },
});
