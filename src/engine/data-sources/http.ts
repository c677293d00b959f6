import type { Env } from '../../env';
import { guardedFetch } from '../../lib/outbound';
import { jsonRecords, queryRecords, type TabularQuery } from './tabular';
import type { QueryLimits, QueryResult, TestResult } from './types';
import { queryError, sourceError } from './util';

export interface HttpConfig {
  base_url: string;
  /** Non-secret headers (Accept, ...). */
  headers?: Record<string, string>;
  /** Where the records are in the answer (dot path), when not at the top. */
  records_path?: string;
}
export interface HttpCredentials {
  /** Secret headers (Authorization, X-Api-Key, ...), encrypted at rest. */
  headers?: Record<string, string>;
}
export interface HttpQuery extends TabularQuery {
  path?: string;
  query?: Record<string, string>;
  records_path?: string;
}

/** The request URL: `path` is resolved under the base URL and may not leave it. */
function requestUrl(config: HttpConfig, path = '', params: Record<string, string> = {}): URL {
  const base = new URL(config.base_url);
  const root = base.pathname.endsWith('/') ? base.pathname : base.pathname + '/';
  const url = new URL(path.replace(/^\/+/, ''), base.origin + root);
  if (url.origin !== base.origin || !(url.pathname + '/').startsWith(root)) throw queryError('HTTP: the path must stay under the base URL');
  for (const [k, v] of base.searchParams) if (!url.searchParams.has(k)) url.searchParams.set(k, v);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url;
}

/** GET only (a data source reads); through the SSRF guard, bounded in time and size. */
async function get(env: Env, config: HttpConfig, creds: HttpCredentials, url: URL, limits: QueryLimits) {
  const res = await guardedFetch(env, url, { method: 'GET', headers: { accept: 'application/json', ...config.headers, ...creds.headers } }, { timeoutMs: limits.timeoutMs });
  if (res.status >= 400) throw sourceError(`HTTP: ${url.host} answered ${res.status}`);
  return res;
}

export async function queryHttp(env: Env, config: HttpConfig, creds: HttpCredentials, query: HttpQuery, limits: QueryLimits): Promise<QueryResult> {
  const res = await get(env, config, creds, requestUrl(config, query.path, query.query), limits);
  let doc: unknown;
  try {
    doc = await res.json();
  } catch {
    throw sourceError('HTTP: the answer is not JSON');
  }
  return queryRecords(jsonRecords(doc, query.records_path ?? config.records_path), query, limits);
}

export async function testHttp(env: Env, config: HttpConfig, creds: HttpCredentials, limits: QueryLimits): Promise<TestResult> {
  const res = await get(env, config, creds, requestUrl(config), limits);
  await res.body?.cancel();
  return { ok: true, server: `HTTP ${res.status} from ${new URL(config.base_url).host}` };
}
