import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, jsonBody, jsonContent } from '../../../lib/schemas';
import { ApprovalIdParam, ApprovalListQuery, ApprovalSchema, DecideBody, DecisionResultSchema, SubmitBody } from './schemas';

const tags = ['approval'];

export const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'Approvals and forms (kind input) waiting for me (I am the designated approver or assignee, started the run, or may execute its workflow or agent)',
  ...authenticated,
  request: { query: ApprovalListQuery },
  responses: { 200: jsonContent(paginatedSchema(ApprovalSchema, 'ApprovalList'), 'A page of approvals'), ...errors(401, 422) },
});

export const decide = createRoute({
  method: 'post',
  path: '/{approval_id}/decide',
  tags,
  summary: 'Approve or reject; the paused run resumes on the matching branch',
  ...authenticated,
  request: { params: ApprovalIdParam, body: jsonBody(DecideBody) },
  responses: {
    200: jsonContent(DecisionResultSchema, 'The decided approval and the run status'),
    ...errors(401, 403, 404, 409, 422),
  },
});


export const submit = createRoute({
  method: 'post',
  path: '/{approval_id}/submit',
  tags,
  summary: 'Extension: fill in a human_input form; the paused run continues with the values as the node output',
  description: 'Values are checked against the form: 422 naming the field (unknown, missing, wrong type), defaults applied. A form already submitted, timed out or cancelled is 409.',
  ...authenticated,
  request: { params: ApprovalIdParam, body: jsonBody(SubmitBody) },
  responses: {
    200: jsonContent(DecisionResultSchema, 'The submitted form and the run status'),
    ...errors(401, 403, 404, 409, 422),
  },
});
