import { z } from '@hono/zod-openapi';
import { DATA_SOURCE_TYPES, MAX_ROWS, MAX_TIMEOUT_MS } from '../../../engine/data-sources';
import { PaginationQuery } from '../../../lib/pagination';

const host = z.string().trim().min(1).max(253).meta({ example: 'db.example.com' });
const port = z.int().min(1).max(65535);
const secret = z.string().min(1).max(4096);
const headerMap = z.record(z.string().trim().min(1).max(100), z.string().max(4096)).refine((h) => Object.keys(h).length <= 30, 'at most 30 headers');

const SqlConfig = (defaultPort: number) =>
  z.object({
    host,
    port: port.default(defaultPort),
    database: z.string().trim().min(1).max(200),
    user: z.string().trim().min(1).max(200),
    ssl: z.boolean().default(false),
  });
const FileConfig = z
  .object({
    content: z.string().max(5 * 1024 * 1024).optional().meta({ description: 'The file inline' }),
    upload_id: z.uuid().optional().meta({ description: 'An upload of yours (/uploads)' }),
    delimiter: z.string().length(1).optional().meta({ description: 'CSV only; default ","' }),
    records_path: z.string().max(200).optional().meta({ description: 'JSON only: dot path to the array of records' }),
  })
  .refine((c) => (c.content === undefined) !== (c.upload_id === undefined), 'give exactly one of content and upload_id');

/** Per type: the non-secret settings and the secret ones (stored encrypted, never returned). */
export const TYPE_SCHEMAS = {
  postgresql: { config: SqlConfig(5432), credentials: z.object({ password: secret.optional() }) },
  mysql: { config: SqlConfig(3306), credentials: z.object({ password: secret.optional() }) },
  redis: {
    config: z.object({ host, port: port.default(6379), database: z.int().min(0).max(1000).default(0), user: z.string().trim().min(1).max(200).optional(), tls: z.boolean().default(false) }),
    credentials: z.object({ password: secret.optional() }),
  },
  csv: { config: FileConfig, credentials: z.object({}) },
  json: { config: FileConfig, credentials: z.object({}) },
  http: {
    config: z.object({ base_url: z.string().trim().url().max(2048), headers: headerMap.default({}), records_path: z.string().max(200).optional() }),
    credentials: z.object({ headers: headerMap.optional().meta({ description: 'Secret headers, e.g. Authorization' }) }),
  },
  s3: {
    config: z.object({
      endpoint: z.string().trim().url().max(2048).meta({ example: 'https://s3.us-east-1.amazonaws.com' }),
      region: z.string().trim().min(1).max(50).default('us-east-1'),
      bucket: z.string().trim().min(1).max(255),
      path_style: z.boolean().default(true),
    }),
    credentials: z.object({ access_key_id: secret.optional(), secret_access_key: secret.optional(), session_token: secret.optional() }),
  },
} as const;

const filter = z.object({
  field: z.string().min(1).max(200),
  op: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'contains', 'in']).default('eq'),
  value: z.unknown(),
});
const tabular = {
  filters: z.array(filter).max(20).optional(),
  columns: z.array(z.string().min(1).max(200)).max(100).optional(),
  sort: z.object({ field: z.string().min(1).max(200), direction: z.enum(['asc', 'desc']).default('asc') }).optional(),
};
const sqlQuery = z.object({ sql: z.string().trim().min(1).max(100_000), params: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).max(100).optional() });

/** The query each type takes (validated against the stored source's type). */
export const QUERY_SCHEMAS = {
  postgresql: sqlQuery,
  mysql: sqlQuery,
  redis: z.object({ command: z.string().trim().min(1).max(50), args: z.array(z.string().max(10_000)).max(100).optional() }),
  csv: z.object(tabular),
  json: z.object(tabular),
  http: z.object({ path: z.string().max(2000).optional(), query: z.record(z.string(), z.string().max(2000)).optional(), records_path: z.string().max(200).optional(), ...tabular }),
  s3: z.discriminatedUnion('action', [
    z.object({ action: z.literal('list'), prefix: z.string().max(1024).optional() }),
    z.object({ action: z.literal('read'), key: z.string().min(1).max(1024), max_bytes: z.int().min(1).max(1024 * 1024).optional() }),
  ]),
} as const;

const TypeEnum = z.enum(DATA_SOURCE_TYPES).meta({ description: 'postgresql, mysql, redis, csv, json, http, s3' });

export const CreateDataSourceBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    description: z.string().max(2000).default(''),
    type: TypeEnum,
    config: z.record(z.string(), z.unknown()).meta({ description: 'Connection settings for the type (see the README): host/port/database/user, base_url, bucket, content, ...' }),
    credentials: z.record(z.string(), z.unknown()).default({}).meta({ description: 'Secrets for the type (password, secret headers, S3 keys); stored encrypted, never returned' }),
  })
  .openapi('CreateDataSourceRequest');

export const UpdateDataSourceBody = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    description: z.string().max(2000).optional(),
    config: z.record(z.string(), z.unknown()).optional().meta({ description: 'Replaces the settings (validated for the source type)' }),
    credentials: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: 'Merged into the stored secrets: a field given replaces, a field set to null removes' }),
  })
  .openapi('UpdateDataSourceRequest');

export const DataSourceSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.string(),
    name: z.string(),
    description: z.string(),
    type: TypeEnum,
    config: z.record(z.string(), z.unknown()),
    credential_fields: z.array(z.string()).meta({ description: 'Which secrets are set (their values are never returned)' }),
    last_test: z.object({ at: z.string(), ok: z.boolean(), error: z.string().nullable() }).nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('DataSource');

export const DataSourceListQuery = PaginationQuery.extend({
  type: TypeEnum.optional(),
  search: z.string().trim().max(200).optional(),
});

export const QueryBody = z
  .looseObject({
    max_rows: z.int().min(1).max(MAX_ROWS).default(100).meta({ description: `Rows returned at most (≤ ${MAX_ROWS})` }),
    timeout_ms: z.int().min(100).max(MAX_TIMEOUT_MS).default(10_000),
  })
  .openapi('DataSourceQueryRequest', {
    description:
      'Plus the type’s query: `sql` and `params` (postgresql, mysql); `command` and `args` (redis, read-only commands); `filters`, `columns`, `sort` (csv, json, http; http also `path`, `query`); `action` list|read with `prefix` or `key` (s3)',
  });

export const QueryResultSchema = z
  .object({
    columns: z.array(z.string()),
    rows: z.array(z.record(z.string(), z.unknown())),
    row_count: z.int(),
    truncated: z.boolean(),
    duration_ms: z.int(),
  })
  .openapi('DataSourceQueryResult');

export const TestResultSchema = z
  .object({ ok: z.boolean(), server: z.string().nullable(), error: z.string().nullable(), message: z.string().nullable(), latency_ms: z.int() })
  .openapi('DataSourceTestResult');

export type DataSource = z.infer<typeof DataSourceSchema>;
