import { createRoute, z } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema, PaginationQuery } from '../../../lib/pagination';
import { errorResponse, errors, jsonBody, jsonContent } from '../../../lib/schemas';
import {
  BindBody,
  BindingRequestSchema,
  BindingSchema,
  BindPendingBody,
  BindPendingResult,
  DefaultAgentBody,
  DefaultAgentSchema,
  EventAck,
  EventBody,
  LookupBody,
  LookupSchema,
  StatusSchema,
  UnbindBody,
} from './schemas';

const tags = ['feishu'];

export const event = createRoute({
  tags,
  method: 'post',
  path: '/event',
  summary: 'Feishu event callback (public, verified by X-Lark-Signature and the verification token): URL verification, im.message.receive_v1',
  // The raw body is read by the handler: the signature covers its exact bytes.
  request: {
    body: { required: true, content: { 'application/json': { schema: EventBody } } },
    headers: z.object({
      'x-lark-request-timestamp': z.string().optional(),
      'x-lark-request-nonce': z.string().optional(),
      'x-lark-signature': z.string().optional(),
    }),
  },
  responses: {
    200: jsonContent(EventAck, 'The challenge for URL verification; `{}` for an accepted (or already seen) event'),
    ...errors(400, 401, 422),
    503: errorResponse('Feishu is not configured'),
  },
});

export const bind = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/bind',
  summary: 'Bind a Feishu user (open_id) to the current user with the one-time code the bot showed',
  request: { body: jsonBody(BindBody) },
  responses: { 200: jsonContent(BindingSchema, 'The binding'), ...errors(401, 409, 422) },
});

export const unbind = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/unbind',
  summary: 'Remove your Feishu binding (admins: any, by open_id)',
  request: { body: { ...jsonBody(UnbindBody), required: false } },
  responses: { 204: { description: 'Unbound' }, ...errors(401, 404, 422) },
});

export const lookup = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/lookup',
  summary: 'The binding of an open_id (your own; admins any)',
  request: { body: jsonBody(LookupBody) },
  responses: { 200: jsonContent(LookupSchema, 'The lookup'), ...errors(401, 404, 422) },
});

export const status = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/status',
  summary: 'Integration status: configuration, whether a tenant_access_token can be obtained, counts',
  responses: { 200: jsonContent(StatusSchema, 'The status'), ...errors(401) },
});

export const pending = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/pending',
  summary: 'Pending binding requests (admins)',
  request: { query: PaginationQuery },
  responses: {
    200: jsonContent(paginatedSchema(BindingRequestSchema, 'FeishuBindingRequestList'), 'A page of pending requests'),
    ...errors(401, 403, 422),
  },
});

export const bindPending = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/bind-pending',
  summary: 'Approve (bind to a user) or reject a pending binding request (admins)',
  request: { body: jsonBody(BindPendingBody) },
  responses: {
    200: jsonContent(BindPendingResult, 'The request and the binding made'),
    ...errors(401, 403, 404, 409, 422),
  },
});

export const getDefaultAgent = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/default-agent',
  summary: 'The agent bound Feishu users talk to unless they chose one (admins)',
  responses: { 200: jsonContent(DefaultAgentSchema, 'The default agent'), ...errors(401, 403) },
});

export const setDefaultAgent = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/default-agent',
  summary: 'Set (or clear with null) the Feishu default agent (admins)',
  request: { body: jsonBody(DefaultAgentBody) },
  responses: {
    200: jsonContent(DefaultAgentSchema, 'The default agent'),
    ...errors(401, 403, 409, 422),
  },
});
