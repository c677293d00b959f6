import { createRoute, z } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errorResponse, errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import { CreateDataSourceBody, DataSourceListQuery, DataSourceSchema, QueryBody, QueryResultSchema, TestResultSchema, UpdateDataSourceBody } from './schemas';

const tags = ['data-sources'];
const params = idParam('id');
const one = (description: string) => jsonContent(DataSourceSchema, description);

export const list = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/',
  summary: 'Your data sources, newest first (filter by type, search name/description)',
  request: { query: DataSourceListQuery },
  responses: { 200: jsonContent(paginatedSchema(DataSourceSchema, 'DataSourceList'), 'A page of data sources'), ...errors(401, 422) },
});

export const create = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/',
  summary: 'Add a data source; credentials are stored encrypted and never returned',
  request: { body: jsonBody(CreateDataSourceBody) },
  responses: { 201: one('The data source'), ...errors(401, 422) },
});

export const get = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/{id}',
  summary: 'A data source (credentials: only which fields are set)',
  request: { params },
  responses: { 200: one('The data source'), ...errors(401, 404) },
});

export const update = createRoute({
  ...authenticated,
  tags,
  method: 'put',
  path: '/{id}',
  summary: 'Update a data source (its type is fixed)',
  request: { params, body: jsonBody(UpdateDataSourceBody) },
  responses: { 200: one('The updated data source'), ...errors(401, 404, 422) },
});

export const remove = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/{id}',
  summary: 'Delete a data source',
  request: { params },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 404) },
});

export const test = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/{id}/test',
  summary: 'Test the connection; the outcome is recorded as last_test',
  request: { params, query: z.object({ timeout_ms: z.coerce.number().int().min(100).max(30_000).default(10_000) }) },
  responses: { 200: jsonContent(TestResultSchema, 'Whether the source answered (ok false with the reason otherwise)'), ...errors(401, 404, 422) },
});

export const query = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/{id}/query',
  summary: 'Run a read-only query (row limit, timeout); writes are refused by the transaction or the server',
  request: { params, body: jsonBody(QueryBody) },
  responses: {
    200: jsonContent(QueryResultSchema, 'Rows'),
    400: errorResponse('QUERY_ERROR: the source refused the query (syntax, read-only, not found); SSRF_BLOCKED'),
    ...errors(401, 404, 422),
    502: errorResponse('DATA_SOURCE_ERROR: the source could not be reached'),
    504: errorResponse('QUERY_TIMEOUT'),
  },
});
