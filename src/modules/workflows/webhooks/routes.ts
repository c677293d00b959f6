import { createRoute, z } from '@hono/zod-openapi';
import { errorResponse, errors, jsonContent } from '../../../lib/schemas';
import { WebhookAccepted, WebhookBody, WebhookHeaders, WebhookQuery, WebhookResult, WebhookResultDetail } from './schemas';

const tags = ['webhooks'];

const responses = {
  200: jsonContent(z.union([WebhookResult, WebhookResultDetail]), 'With ?wait=true: the finished run, its status and outputs (with &details=true: the execution detail)'),
  202: jsonContent(WebhookAccepted, 'The execution was started'),
  ...errors(401, 422),
  404: errorResponse('No workflow with an enabled webhook by this id or name'),
  429: errorResponse('More than 60 requests this minute (Retry-After)'),
};

// Public: no bearer token; the workflow's webhook secret authenticates (see service.ts). The raw
// body is read by the handler, because the signature covers its exact bytes.
const request = {
  headers: WebhookHeaders,
  query: WebhookQuery,
  body: { required: false, content: { 'application/json': { schema: WebhookBody } } },
};

export const byId = createRoute({
  tags,
  method: 'post',
  path: '/workflows/{workflow_id}',
  summary: "Run a workflow with the JSON body as inputs, authenticated by the workflow's webhook secret (signature or secret header)",
  request: { ...request, params: z.object({ workflow_id: z.string().min(1).openapi({ param: { name: 'workflow_id', in: 'path' } }) }) },
  responses,
});

export const byName = createRoute({
  tags,
  method: 'post',
  path: '/workflows/by-name/{name}',
  summary: 'Run the workflow of this name whose webhook secret signed the request (names are not unique; secrets are)',
  request: { ...request, params: z.object({ name: z.string().min(1).max(200).openapi({ param: { name: 'name', in: 'path' } }) }) },
  responses,
});
