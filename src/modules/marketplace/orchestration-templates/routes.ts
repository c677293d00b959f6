import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import { CreateTemplateBody, TemplateListQuery, TemplateSchema, UpdateTemplateBody } from './schemas';

const tags = ['orchestration-templates'];
const params = idParam('template_id');
const one = (d: string) => jsonContent(TemplateSchema, d);

export const list = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/',
  summary: 'Multi-agent patterns: the builtin ones (pipeline, debate, router triage, fan-out and merge, reviewer loop) and yours',
  request: { query: TemplateListQuery },
  responses: { 200: jsonContent(paginatedSchema(TemplateSchema, 'OrchestrationTemplateList'), 'A page of templates, builtins first'), ...errors(401, 422) },
});

export const create = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/',
  summary: 'Create a template: a mode, roles, and the mode’s settings (steps, rounds, edges)',
  request: { body: jsonBody(CreateTemplateBody) },
  responses: { 201: one('The template'), ...errors(401, 422) },
});

export const get = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/{template_id}',
  summary: 'A template (builtin or yours)',
  request: { params },
  responses: { 200: one('The template'), ...errors(401, 404) },
});

export const update = createRoute({
  ...authenticated,
  tags,
  method: 'put',
  path: '/{template_id}',
  summary: 'Update your template (builtins are read-only: 403)',
  request: { params, body: jsonBody(UpdateTemplateBody) },
  responses: { 200: one('The template'), ...errors(401, 403, 404, 422) },
});

export const remove = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/{template_id}',
  summary: 'Delete your template (builtins: 403)',
  request: { params },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404) },
});
