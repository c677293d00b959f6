import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireAuth } from '../../lib/auth';
import { paginatedSchema, PaginationQuery } from '../../lib/pagination';
import { errorResponses, idParam, jsonBody, jsonContent } from '../../lib/schemas';
import { CreateModelConfigBody, ModelConfigSchema, ModelConfigTestResult, UpdateModelConfigBody } from './schemas';

const tags = ['model-configs'];
const params = idParam('config_id');

export const list = createRoute({
  tags,
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  method: 'get',
  path: '/',
  summary: "Model configs the caller can use: their own and the system-wide ones",
  request: { query: PaginationQuery },
  responses: {
    200: jsonContent(paginatedSchema(ModelConfigSchema, 'ModelConfigList'), 'A page of model configs'),
    401: errorResponses[401],
    422: errorResponses[422],
  },
});

export const create = createRoute({
  tags,
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  method: 'post',
  path: '/',
  summary: 'Create a model config (the API key is stored encrypted and only returned masked)',
  request: { body: jsonBody(CreateModelConfigBody) },
  responses: {
    201: jsonContent(ModelConfigSchema, 'The new model config'),
    401: errorResponses[401],
    403: errorResponses[403],
    422: errorResponses[422],
  },
});

export const get = createRoute({
  tags,
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  method: 'get',
  path: '/{config_id}',
  summary: 'A model config',
  request: { params },
  responses: {
    200: jsonContent(ModelConfigSchema, 'The model config'),
    401: errorResponses[401],
    404: errorResponses[404],
  },
});

export const update = createRoute({
  tags,
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  method: 'put',
  path: '/{config_id}',
  summary: 'Update a model config (api_key: a new key, null to remove it, absent to keep it)',
  request: { params, body: jsonBody(UpdateModelConfigBody) },
  responses: {
    200: jsonContent(ModelConfigSchema, 'The updated model config'),
    401: errorResponses[401],
    403: errorResponses[403],
    404: errorResponses[404],
    422: errorResponses[422],
  },
});

export const remove = createRoute({
  tags,
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  method: 'delete',
  path: '/{config_id}',
  summary: 'Delete a model config',
  request: { params },
  responses: {
    204: { description: 'Deleted' },
    401: errorResponses[401],
    403: errorResponses[403],
    404: errorResponses[404],
  },
});

export const test = createRoute({
  tags,
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  method: 'post',
  path: '/{config_id}/test',
  summary: 'Make a minimal real call with the config: whether it worked, how long it took, the error',
  request: { params },
  responses: {
    200: jsonContent(ModelConfigTestResult, 'The outcome of the call'),
    401: errorResponses[401],
    404: errorResponses[404],
  },
});
