import { createRoute, z } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema, PaginationQuery } from '../../../lib/pagination';
import { errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import {
  CreateWorkflowBody,
  ExecuteBody,
  ExecuteResultSchema,
  ExportDocument,
  FromTemplateBody,
  ImportBody,
  TemplateListQuery,
  TemplateSchema,
  TemplateSummarySchema,
  UpdateWorkflowBody,
  ValidateBody,
  ValidationResultSchema,
  VersionParams,
  VersionSchema,
  VersionSummarySchema,
  WorkflowListQuery,
  WorkflowSchema,
  WorkflowSummarySchema,
} from './schemas';

const tags = ['workflows'];
const WorkflowId = idParam('workflow_id');
const TemplateId = idParam('id');

export const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'My workflows (search by name/description, filter by status)',
  ...authenticated,
  request: { query: WorkflowListQuery },
  responses: { 200: jsonContent(paginatedSchema(WorkflowSummarySchema, 'WorkflowList'), 'A page of workflows'), ...errors(401, 422) },
});

export const create = createRoute({
  method: 'post',
  path: '/',
  tags,
  summary: 'Create a workflow (an invalid graph is saved as a draft; executing it is 422)',
  ...authenticated,
  request: { body: jsonBody(CreateWorkflowBody) },
  responses: { 201: jsonContent(WorkflowSchema, 'The new workflow (version 1)'), ...errors(401, 403, 422) },
});

export const validate = createRoute({
  method: 'post',
  path: '/validate',
  tags,
  summary: 'Validate a graph: start, reachability, ports, cycles, node configs, variable references',
  ...authenticated,
  request: { body: jsonBody(ValidateBody) },
  responses: { 200: jsonContent(ValidationResultSchema, '{valid, errors}'), ...errors(401, 422) },
});

export const importWorkflow = createRoute({
  method: 'post',
  path: '/import',
  tags,
  summary: 'Import an exported workflow document',
  ...authenticated,
  request: { body: jsonBody(ImportBody) },
  responses: { 201: jsonContent(WorkflowSchema, 'The imported workflow'), ...errors(401, 403, 422) },
});

export const listTemplates = createRoute({
  method: 'get',
  path: '/templates',
  tags,
  summary: 'Builtin workflow templates',
  ...authenticated,
  request: { query: TemplateListQuery },
  responses: { 200: jsonContent(paginatedSchema(TemplateSummarySchema, 'WorkflowTemplateList'), 'A page of templates'), ...errors(401, 422) },
});

export const getTemplate = createRoute({
  method: 'get',
  path: '/templates/{id}',
  tags,
  summary: 'One template with its graph and sample inputs',
  ...authenticated,
  request: { params: TemplateId },
  responses: { 200: jsonContent(TemplateSchema, 'The template'), ...errors(401, 404) },
});

export const createFromTemplate = createRoute({
  method: 'post',
  path: '/templates/{id}/create',
  tags,
  summary: 'Create one of my workflows from a template',
  ...authenticated,
  request: { params: TemplateId, body: { required: false, content: { 'application/json': { schema: FromTemplateBody } } } },
  responses: { 201: jsonContent(WorkflowSchema, 'The new workflow'), ...errors(401, 403, 404, 422) },
});

export const get = createRoute({
  method: 'get',
  path: '/{workflow_id}',
  tags,
  summary: 'A workflow',
  ...authenticated,
  request: { params: WorkflowId },
  responses: { 200: jsonContent(WorkflowSchema, 'The workflow'), ...errors(401, 404) },
});

export const update = createRoute({
  method: 'put',
  path: '/{workflow_id}',
  tags,
  summary: 'Update a workflow; every update of its definition stores a new version. webhook_enabled / rotate_webhook_secret (admin access) switch its webhook and answer a new secret once',
  ...authenticated,
  request: { params: WorkflowId, body: jsonBody(UpdateWorkflowBody) },
  responses: {
    200: jsonContent(WorkflowSchema, 'The workflow at its new version'),
    ...errors(401, 403, 404, 422),
  },
});

export const remove = createRoute({
  method: 'delete',
  path: '/{workflow_id}',
  tags,
  summary: 'Delete a workflow and its version history (its executions stay)',
  ...authenticated,
  request: { params: WorkflowId },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404) },
});

export const execute = createRoute({
  method: 'post',
  path: '/{workflow_id}/execute',
  tags,
  summary: 'Run the workflow: 200 with the result when it finishes within wait_ms, else 202 with the execution id',
  ...authenticated,
  request: { params: WorkflowId, body: { required: false, content: { 'application/json': { schema: ExecuteBody } } } },
  responses: {
    200: jsonContent(ExecuteResultSchema, 'The finished run'),
    202: jsonContent(ExecuteResultSchema, 'The run continues (running, paused or waiting for approval)'),
    ...errors(401, 403, 404, 422),
  },
});

export const exportWorkflow = createRoute({
  method: 'get',
  path: '/{workflow_id}/export',
  tags,
  summary: 'Export as a self-contained JSON document',
  ...authenticated,
  request: { params: WorkflowId },
  responses: { 200: jsonContent(ExportDocument, 'The export document'), ...errors(401, 404) },
});

export const versions = createRoute({
  method: 'get',
  path: '/{workflow_id}/versions',
  tags,
  summary: 'Version history, newest first',
  ...authenticated,
  request: { params: WorkflowId, query: PaginationQuery },
  responses: { 200: jsonContent(paginatedSchema(VersionSummarySchema, 'WorkflowVersionList'), 'A page of versions'), ...errors(401, 404) },
});

export const version = createRoute({
  method: 'get',
  path: '/{workflow_id}/versions/{v}',
  tags,
  summary: 'One version with its graph',
  ...authenticated,
  request: { params: VersionParams },
  responses: { 200: jsonContent(VersionSchema, 'The version'), ...errors(401, 404, 422) },
});

export const rollback = createRoute({
  method: 'post',
  path: '/{workflow_id}/versions/{v}/rollback',
  tags,
  summary: 'Roll back: store a new version equal to version v',
  ...authenticated,
  request: { params: VersionParams },
  responses: { 200: jsonContent(WorkflowSchema, 'The workflow at its new version'), ...errors(401, 403, 404, 422) },
});

export { z };
