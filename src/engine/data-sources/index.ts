import type { Env } from '../../env';
import { queryHttp, testHttp, type HttpConfig, type HttpCredentials, type HttpQuery } from './http';
import { queryMysql, testMysql } from './mysql';
import { queryPostgres, testPostgres, type SqlConfig, type SqlCredentials, type SqlQuery } from './postgres';
import { queryRedis, testRedis, type RedisConfig, type RedisCredentials, type RedisQuery } from './redis';
import { queryS3, testS3, type S3Config, type S3Credentials, type S3Query } from './s3';
import { jsonRecords, parseCsv, queryRecords, type TabularQuery } from './tabular';
import type { DataSourceType, QueryLimits, QueryResult, TestResult } from './types';
import { queryError } from './util';

export * from './types';

/** CSV and JSON sources: inline `content` or an uploaded file (`upload_id`). */
export interface FileConfig {
  content?: string;
  upload_id?: string;
  delimiter?: string;
  records_path?: string;
}

export interface Connection {
  env: Env;
  type: DataSourceType;
  config: Record<string, unknown>;
  credentials: Record<string, unknown>;
  /** The text of an upload of the source's owner (404 when it is not theirs). */
  readUpload: (uploadId: string) => Promise<string>;
}

async function fileText(c: Connection): Promise<string> {
  const cfg = c.config as FileConfig;
  if (cfg.upload_id) return c.readUpload(cfg.upload_id);
  return cfg.content ?? '';
}

async function fileRecords(c: Connection): Promise<{ records: Record<string, unknown>[]; columns?: string[] }> {
  const text = await fileText(c);
  const cfg = c.config as FileConfig;
  if (c.type === 'csv') {
    const { columns, rows } = parseCsv(text, cfg.delimiter || ',');
    return { records: rows, columns };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw queryError(`JSON: the document does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { records: jsonRecords(doc, cfg.records_path) };
}

/** Connects (or reads) and proves the source answers. */
export async function testConnection(c: Connection, limits: QueryLimits): Promise<TestResult> {
  const { env } = c;
  switch (c.type) {
    case 'postgresql':
      return testPostgres(env, c.config as unknown as SqlConfig, c.credentials as SqlCredentials, limits);
    case 'mysql':
      return testMysql(env, c.config as unknown as SqlConfig, c.credentials as SqlCredentials, limits);
    case 'redis':
      return testRedis(env, c.config as unknown as RedisConfig, c.credentials as RedisCredentials, limits);
    case 'http':
      return testHttp(env, c.config as unknown as HttpConfig, c.credentials as HttpCredentials, limits);
    case 's3':
      return testS3(env, c.config as unknown as S3Config, c.credentials as S3Credentials, limits);
    case 'csv':
    case 'json': {
      const { records } = await fileRecords(c);
      return { ok: true, server: `${c.type.toUpperCase()} with ${records.length} record${records.length === 1 ? '' : 's'}` };
    }
  }
}

/** Runs a read-only query; `query` has already been validated for the source's type. */
export async function runQuery(c: Connection, query: Record<string, unknown>, limits: QueryLimits): Promise<QueryResult> {
  const { env } = c;
  switch (c.type) {
    case 'postgresql':
      return queryPostgres(env, c.config as unknown as SqlConfig, c.credentials as SqlCredentials, query as unknown as SqlQuery, limits);
    case 'mysql':
      return queryMysql(env, c.config as unknown as SqlConfig, c.credentials as SqlCredentials, query as unknown as SqlQuery, limits);
    case 'redis':
      return queryRedis(env, c.config as unknown as RedisConfig, c.credentials as RedisCredentials, query as unknown as RedisQuery, limits);
    case 'http':
      return queryHttp(env, c.config as unknown as HttpConfig, c.credentials as HttpCredentials, query as HttpQuery, limits);
    case 's3':
      return queryS3(env, c.config as unknown as S3Config, c.credentials as S3Credentials, query as unknown as S3Query, limits);
    case 'csv':
    case 'json': {
      const { records, columns } = await fileRecords(c);
      return queryRecords(records, query as TabularQuery, limits, columns);
    }
  }
}
