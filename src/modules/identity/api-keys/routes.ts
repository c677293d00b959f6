import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../auth/guard';
import { PaginationQuery, paginatedSchema } from '../../../lib/pagination';
import { errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import { ApiKeySchema, CreateApiKeyBody, CreatedApiKeySchema } from './schemas';

const tags = ['api-keys'];
const common = { tags, ...authenticated };

export const create = createRoute({
  ...common,
  method: 'post',
  path: '/',
  summary: 'Create an API key (the secret is shown once)',
  request: { body: jsonBody(CreateApiKeyBody) },
  responses: { 201: jsonContent(CreatedApiKeySchema, 'The new key, with its secret'), ...errors(401, 422) },
});

export const list = createRoute({
  ...common,
  method: 'get',
  path: '/',
  summary: "The caller's API keys, masked",
  request: { query: PaginationQuery },
  responses: { 200: jsonContent(paginatedSchema(ApiKeySchema), 'Keys, newest first'), ...errors(401, 422) },
});

export const revoke = createRoute({
  ...common,
  method: 'delete',
  path: '/{key_id}',
  summary: 'Revoke an API key (effective at once)',
  request: { params: idParam('key_id') },
  responses: { 200: jsonContent(ApiKeySchema, 'The revoked key'), ...errors(401, 404) },
});
