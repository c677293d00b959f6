import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, jsonBody, jsonContent } from '../../../lib/schemas';
import {
  CreateNodeTemplateBody,
  NodeTemplateListQuery,
  NodeTemplateSchema,
  NodeTypeListSchema,
  TemplateIdParam,
  UpdateNodeTemplateBody,
} from './schemas';

const tags = ['node-templates'];

export const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'Builtin node templates and mine (filter by node type, search)',
  ...authenticated,
  request: { query: NodeTemplateListQuery },
  responses: { 200: jsonContent(paginatedSchema(NodeTemplateSchema, 'NodeTemplateList'), 'A page of node templates'), ...errors(401, 422) },
});

export const nodeTypes = createRoute({
  method: 'get',
  path: '/node-types',
  tags,
  summary: 'The node types the engine runs, with the JSON Schema of each config',
  ...authenticated,
  responses: { 200: jsonContent(NodeTypeListSchema, 'Node types'), ...errors(401) },
});

export const get = createRoute({
  method: 'get',
  path: '/{template_id}',
  tags,
  summary: 'A node template',
  ...authenticated,
  request: { params: TemplateIdParam },
  responses: { 200: jsonContent(NodeTemplateSchema, 'The node template'), ...errors(401, 404) },
});

export const create = createRoute({
  method: 'post',
  path: '/',
  tags,
  summary: "Save a node configuration (checked against its type's config schema)",
  ...authenticated,
  request: { body: jsonBody(CreateNodeTemplateBody) },
  responses: { 201: jsonContent(NodeTemplateSchema, 'The node template'), ...errors(401, 422) },
});

export const update = createRoute({
  method: 'put',
  path: '/{template_id}',
  tags,
  summary: 'Update one of my node templates (builtins are read-only: 403)',
  ...authenticated,
  request: { params: TemplateIdParam, body: jsonBody(UpdateNodeTemplateBody) },
  responses: {
    200: jsonContent(NodeTemplateSchema, 'The node template'),
    ...errors(401, 403, 404, 422),
  },
});

export const remove = createRoute({
  method: 'delete',
  path: '/{template_id}',
  tags,
  summary: 'Delete one of my node templates',
  ...authenticated,
  request: { params: TemplateIdParam },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404) },
});
