import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema, PaginationQuery } from '../../../lib/pagination';
import { errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import { CreateModelConfigBody, ModelConfigSchema, ModelConfigTestResult, UpdateModelConfigBody } from './schemas';

const tags = ['model-configs'];
const params = idParam('config_id');

export const list = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/',
  summary: "Model configs the caller can use: their own and the system-wide ones",
  request: { query: PaginationQuery },
  responses: {
    200: jsonContent(paginatedSchema(ModelConfigSchema, 'ModelConfigList'), 'A page of model configs'),
    ...errors(401, 422),
  },
});

export const create = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/',
  summary: 'Create a model config (the API key is stored encrypted and only returned masked)',
  request: { body: jsonBody(CreateModelConfigBody) },
  responses: {
    201: jsonContent(ModelConfigSchema, 'The new model config'),
    ...errors(401, 403, 422),
  },
});

export const get = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/{config_id}',
  summary: 'A model config',
  request: { params },
  responses: {
    200: jsonContent(ModelConfigSchema, 'The model config'),
    ...errors(401, 404),
  },
});

export const update = createRoute({
  tags,
  ...authenticated,
  method: 'put',
  path: '/{config_id}',
  summary: 'Update a model config (api_key: a new key, null to remove it, absent to keep it)',
  request: { params, body: jsonBody(UpdateModelConfigBody) },
  responses: {
    200: jsonContent(ModelConfigSchema, 'The updated model config'),
    ...errors(401, 403, 404, 422),
  },
});

export const remove = createRoute({
  tags,
  ...authenticated,
  method: 'delete',
  path: '/{config_id}',
  summary: 'Delete a model config',
  request: { params },
  responses: {
    204: { description: 'Deleted' },
    ...errors(401, 403, 404),
  },
});

export const test = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{config_id}/test',
  summary: 'Make a minimal real call with the config: whether it worked, how long it took, the error',
  request: { params },
  responses: {
    200: jsonContent(ModelConfigTestResult, 'The outcome of the call'),
    ...errors(401, 404),
  },
});
