import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, jsonBody, jsonContent } from '../../../lib/schemas';
import { CreateExecutionBody, ExecutionDetailSchema, ExecutionIdParam, ExecutionListQuery, ExecutionSchema, ForkBody, ResumeBody, RetryBody } from './schemas';

const tags = ['executions'];

export const create = createRoute({
  method: 'post',
  path: '/',
  tags,
  summary: 'Start a run of a workflow (or of an agent with a workflow); 200 when it finishes within wait_ms, else 202',
  ...authenticated,
  request: { body: jsonBody(CreateExecutionBody) },
  responses: {
    200: jsonContent(ExecutionDetailSchema, 'The finished run'),
    202: jsonContent(ExecutionDetailSchema, 'The run continues'),
    ...errors(401, 403, 404, 422),
  },
});

export const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'Executions I may read (mine and runs of workflows and agents I may read), newest first (filters: workflow, agent, status, time)',
  ...authenticated,
  request: { query: ExecutionListQuery },
  responses: { 200: jsonContent(paginatedSchema(ExecutionSchema, 'ExecutionList'), 'A page of executions'), ...errors(401, 422) },
});

export const get = createRoute({
  method: 'get',
  path: '/{execution_id}',
  tags,
  summary: 'An execution: status, per-node states, outputs, error, timings, token usage',
  ...authenticated,
  request: { params: ExecutionIdParam },
  responses: { 200: jsonContent(ExecutionDetailSchema, 'The execution'), ...errors(401, 404) },
});

export const pause = createRoute({
  method: 'post',
  path: '/{execution_id}/pause',
  tags,
  summary: 'Pause: running nodes finish, no new node starts',
  ...authenticated,
  request: { params: ExecutionIdParam },
  responses: { 200: jsonContent(ExecutionDetailSchema, 'The paused execution'), ...errors(401, 403, 404, 409) },
});

export const resume = createRoute({
  method: 'post',
  path: '/{execution_id}/resume',
  tags,
  summary: 'Resume a paused execution (optionally waiting up to wait_ms for it to come to rest)',
  ...authenticated,
  request: { params: ExecutionIdParam, body: { required: false, content: { 'application/json': { schema: ResumeBody } } } },
  responses: { 200: jsonContent(ExecutionDetailSchema, 'The execution'), ...errors(401, 403, 404, 409, 422) },
});

export const cancel = createRoute({
  method: 'post',
  path: '/{execution_id}/cancel',
  tags,
  summary: 'Cancel: running nodes are aborted, pending approvals withdrawn',
  ...authenticated,
  request: { params: ExecutionIdParam },
  responses: { 200: jsonContent(ExecutionDetailSchema, 'The cancelled execution'), ...errors(401, 403, 404, 409) },
});

export const retry = createRoute({
  method: 'post',
  path: '/{execution_id}/retry',
  tags,
  summary:
    'Extension: resume a failed or cancelled run from where it failed — a new execution (retry_of) that reuses every finished node\'s recorded result and runs only the failed, cancelled or never-started nodes; 200 when it finishes within wait_ms, else 202',
  ...authenticated,
  request: { params: ExecutionIdParam, body: { required: false, content: { 'application/json': { schema: RetryBody } } } },
  responses: {
    200: jsonContent(ExecutionDetailSchema, 'The finished retry'),
    202: jsonContent(ExecutionDetailSchema, 'The retry continues'),
    ...errors(401, 403, 404, 409, 422),
  },
});

export const fork = createRoute({
  method: 'post',
  path: '/{execution_id}/fork',
  tags,
  summary:
    'Extension: time travel — a new execution (forked_from) of a finished, failed or cancelled run that reuses the recorded results before from_node_id and runs that node and everything downstream of it again (with node_overrides); 200 when it finishes within wait_ms, else 202',
  ...authenticated,
  request: { params: ExecutionIdParam, body: jsonBody(ForkBody) },
  responses: {
    200: jsonContent(ExecutionDetailSchema, 'The finished fork'),
    202: jsonContent(ExecutionDetailSchema, 'The fork continues'),
    ...errors(401, 403, 404, 409, 422),
  },
});
