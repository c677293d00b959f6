import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireAuth } from '../../lib/auth';
import { paginatedSchema } from '../../lib/pagination';
import { errorResponses, jsonBody, jsonContent } from '../../lib/schemas';
import { ApprovalIdParam, ApprovalListQuery, ApprovalSchema, DecideBody, DecisionResultSchema } from './schemas';

const tags = ['approval'];

export const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'Approvals waiting for me (I am the designated approver, started the run, or may execute its workflow or agent)',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { query: ApprovalListQuery },
  responses: { 200: jsonContent(paginatedSchema(ApprovalSchema, 'ApprovalList'), 'A page of approvals'), 401: errorResponses[401], 422: errorResponses[422] },
});

export const decide = createRoute({
  method: 'post',
  path: '/{approval_id}/decide',
  tags,
  summary: 'Approve or reject; the paused run resumes on the matching branch',
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: ApprovalIdParam, body: jsonBody(DecideBody) },
  responses: {
    200: jsonContent(DecisionResultSchema, 'The decided approval and the run status'),
    401: errorResponses[401],
    403: errorResponses[403],
    404: errorResponses[404],
    409: errorResponses[409],
    422: errorResponses[422],
  },
});

