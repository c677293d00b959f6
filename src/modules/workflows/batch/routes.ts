import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { errors, jsonBody, jsonContent } from '../../../lib/schemas';
import { DeleteBody, DeleteResult, ExecuteBody, ExecuteResult, ExportBody, ExportBundle } from './schemas';

const tags = ['batch'];

export const execute = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/execute',
  summary: 'Start up to 100 agent/workflow runs (execute access each); per-item execution ids, served by /executions/{id}',
  request: { body: jsonBody(ExecuteBody) },
  responses: { 202: jsonContent(ExecuteResult, 'The batch id and each item: its execution or why it did not start'), ...errors(401, 422) },
});

export const exportResources = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/export',
  summary: 'Export agents, workflows, knowledge bases and custom tools you may read as one JSON bundle (no secrets)',
  request: { body: jsonBody(ExportBody) },
  responses: { 200: jsonContent(ExportBundle, 'The bundle'), ...errors(401, 422) },
});

export const deleteResources = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/delete',
  summary: 'Delete resources you may delete, with a per-id result; atomic: all or none',
  request: { body: jsonBody(DeleteBody) },
  responses: { 200: jsonContent(DeleteResult, 'Each resource: deleted, not_found, forbidden, invalid'), ...errors(401, 409, 422) },
});
