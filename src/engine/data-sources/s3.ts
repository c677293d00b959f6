import type { Env } from '../../env';
import { guardedFetch } from '../../lib/outbound';
import { signRequest, uriEncode } from './sigv4';
import type { QueryLimits, QueryResult, TestResult } from './types';
import { queryError, sourceError } from './util';

export interface S3Config {
  endpoint: string;
  region: string;
  bucket: string;
  /** `endpoint/bucket/key` (MinIO, most self-hosted stores) instead of `bucket.endpoint/key`. */
  path_style?: boolean;
}
export interface S3Credentials {
  access_key_id?: string;
  secret_access_key?: string;
  session_token?: string;
}
export type S3Query = { action: 'list'; prefix?: string } | { action: 'read'; key: string; max_bytes?: number };

const MAX_READ_BYTES = 1024 * 1024;

function objectUrl(config: S3Config, key = ''): URL {
  const base = new URL(config.endpoint);
  const path = key ? '/' + uriEncode(key, true) : '/';
  if (config.path_style ?? true) return new URL(`${base.origin}${base.pathname.replace(/\/$/, '')}/${config.bucket}${path}`);
  return new URL(`${base.protocol}//${config.bucket}.${base.host}${path}`);
}

/** A signed GET through the SSRF guard: data sources only ever read. */
async function s3Get(env: Env, config: S3Config, creds: S3Credentials, url: URL, limits: QueryLimits, headers: Record<string, string> = {}, maxBytes = 5 * 1024 * 1024) {
  if (!creds.access_key_id || !creds.secret_access_key) throw queryError('S3: access_key_id and secret_access_key are required');
  const signed = await signRequest('GET', url, headers, { accessKeyId: creds.access_key_id, secretAccessKey: creds.secret_access_key, sessionToken: creds.session_token }, config.region);
  const res = await guardedFetch(env, url, { method: 'GET', headers: signed }, { timeoutMs: limits.timeoutMs, maxBytes, maxRedirects: 0 });
  if (res.status >= 400) {
    const text = await res.text().catch(() => '');
    const code = text.match(/<Code>([^<]+)<\/Code>/)?.[1];
    const message = text.match(/<Message>([^<]+)<\/Message>/)?.[1];
    const detail = `S3: ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
    throw res.status === 404 || res.status === 403 ? queryError(detail) : sourceError(detail);
  }
  return res;
}

const tag = (xml: string, name: string) => [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]);
const unescapeXml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

export async function listObjects(env: Env, config: S3Config, creds: S3Credentials, prefix: string | undefined, limits: QueryLimits): Promise<QueryResult> {
  const url = objectUrl(config);
  url.searchParams.set('list-type', '2');
  url.searchParams.set('max-keys', String(limits.maxRows + 1));
  if (prefix) url.searchParams.set('prefix', prefix);
  const xml = await (await s3Get(env, config, creds, url, limits)).text();
  const contents = tag(xml, 'Contents').map((c) => ({
    key: unescapeXml(tag(c, 'Key')[0] ?? ''),
    size: Number(tag(c, 'Size')[0] ?? 0),
    last_modified: tag(c, 'LastModified')[0] ?? null,
    etag: (tag(c, 'ETag')[0] ?? '').replace(/&quot;|"/g, ''),
  }));
  const more = tag(xml, 'IsTruncated')[0] === 'true' || contents.length > limits.maxRows;
  const rows = contents.slice(0, limits.maxRows);
  return { columns: ['key', 'size', 'last_modified', 'etag'], rows, row_count: rows.length, truncated: more };
}

/** An object's text (first `max_bytes`, ≤ 1 MiB, by a Range request). */
export async function readObject(env: Env, config: S3Config, creds: S3Credentials, key: string, maxBytes: number, limits: QueryLimits): Promise<QueryResult> {
  const cap = Math.min(maxBytes, MAX_READ_BYTES);
  const res = await s3Get(env, config, creds, objectUrl(config, key), limits, { range: `bytes=0-${cap - 1}` }, cap + 1024);
  const body = new Uint8Array(await res.arrayBuffer());
  const total = Number(res.headers.get('content-range')?.split('/')[1] ?? body.length);
  const row = {
    key,
    content_type: res.headers.get('content-type'),
    size: Number.isFinite(total) ? total : body.length,
    content: new TextDecoder().decode(body.subarray(0, cap)),
  };
  return { columns: Object.keys(row), rows: [row], row_count: 1, truncated: body.length < row.size };
}

export async function queryS3(env: Env, config: S3Config, creds: S3Credentials, query: S3Query, limits: QueryLimits): Promise<QueryResult> {
  if (query.action === 'list') return listObjects(env, config, creds, query.prefix, limits);
  return readObject(env, config, creds, query.key, query.max_bytes ?? MAX_READ_BYTES, limits);
}

export async function testS3(env: Env, config: S3Config, creds: S3Credentials, limits: QueryLimits): Promise<TestResult> {
  const listed = await listObjects(env, config, creds, undefined, { ...limits, maxRows: 1 });
  return { ok: true, server: `S3 bucket ${config.bucket}${listed.row_count ? '' : ' (empty)'}` };
}
