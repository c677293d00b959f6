import type { z } from '@hono/zod-openapi';
import { runQuery, testConnection, type Connection, type DataSourceType } from '../../../engine/data-sources';
import { queryError } from '../../../engine/data-sources/util';
import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { decryptSecret, encryptSecret } from '../../../lib/crypto';
import { likeContains, NOW_SQL } from '../../../lib/d1';
import { ApiError, notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { describeZodError } from '../../../lib/router';
import { getSecret } from '../../../lib/secrets';
import { QUERY_SCHEMAS, TYPE_SCHEMAS, type DataSource } from './schemas';

interface Row {
  id: string;
  owner_id: string;
  name: string;
  description: string;
  type: DataSourceType;
  config: string;
  credentials_encrypted: string | null;
  credential_fields: string;
  last_tested_at: string | null;
  last_test_ok: number | null;
  last_test_error: string | null;
  created_at: string;
  updated_at: string;
}


function present(row: Row): DataSource {
  return {
    id: row.id,
    owner_id: row.owner_id,
    name: row.name,
    description: row.description,
    type: row.type,
    config: JSON.parse(row.config),
    credential_fields: JSON.parse(row.credential_fields),
    last_test: row.last_tested_at ? { at: row.last_tested_at, ok: row.last_test_ok === 1, error: row.last_test_error } : null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Validates a body part against the type's schema; 422 naming the field (`body.config.host: ...`). */
function parseFor<T extends z.ZodTypeAny>(schema: T, value: unknown, path: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(describeZodError(path, parsed.error));
  return parsed.data;
}

/** Secrets: only non-empty strings (or header maps) are kept; the stored form is one encrypted JSON. */
async function sealCredentials(env: Env, credentials: Record<string, unknown>) {
  const kept = Object.fromEntries(Object.entries(credentials).filter(([, v]) => v !== undefined && v !== null));
  const fields = Object.keys(kept).sort();
  if (!fields.length) return { encrypted: null, fields };
  return { encrypted: await encryptSecret(JSON.stringify(kept), await getSecret(env, 'ENCRYPTION_KEY')), fields };
}

async function openCredentials(env: Env, row: Row): Promise<Record<string, unknown>> {
  if (!row.credentials_encrypted) return {};
  return JSON.parse(await decryptSecret(row.credentials_encrypted, await getSecret(env, 'ENCRYPTION_KEY')));
}

async function load(env: Env, user: AuthUser, id: string): Promise<Row> {
  const row = await env.DB.prepare('SELECT * FROM data_sources WHERE id = ?').bind(id).first<Row>();
  // Owner only (admins too): a data source holds someone's credentials.
  if (!row || (row.owner_id !== user.id && !isAdmin(user))) throw notFound('Data source');
  return row;
}

export async function listDataSources(env: Env, user: AuthUser, q: Pagination & { type?: DataSourceType; search?: string }) {
  const where = ['owner_id = ?'];
  const binds: unknown[] = [user.id];
  if (q.type) {
    where.push('type = ?');
    binds.push(q.type);
  }
  if (q.search) {
    where.push("(name LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')");
    binds.push(likeContains(q.search), likeContains(q.search));
  }
  const clause = where.join(' AND ');
  const { limit, offset } = pageBounds(q);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT * FROM data_sources WHERE ${clause} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`).bind(...binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM data_sources WHERE ${clause}`).bind(...binds),
  ]);
  return paginated((rows.results as unknown as Row[]).map(present), (count.results[0] as { n: number }).n, q);
}

export async function getDataSource(env: Env, user: AuthUser, id: string) {
  return present(await load(env, user, id));
}

export async function createDataSource(
  env: Env,
  user: AuthUser,
  body: { name: string; description: string; type: DataSourceType; config: Record<string, unknown>; credentials: Record<string, unknown> },
) {
  const schemas = TYPE_SCHEMAS[body.type];
  const config = parseFor(schemas.config, body.config, 'body.config');
  const credentials = parseFor(schemas.credentials.strict(), body.credentials, 'body.credentials');
  await checkUpload(env, user.id, config);
  const sealed = await sealCredentials(env, credentials);
  const id = crypto.randomUUID();
  await env.DB.prepare(
    `INSERT INTO data_sources (id, owner_id, name, description, type, config, credentials_encrypted, credential_fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(id, user.id, body.name, body.description, body.type, JSON.stringify(config), sealed.encrypted, JSON.stringify(sealed.fields))
    .run();
  return getDataSource(env, user, id);
}

export async function updateDataSource(
  env: Env,
  user: AuthUser,
  id: string,
  body: { name?: string; description?: string; config?: Record<string, unknown>; credentials?: Record<string, unknown> },
) {
  const row = await load(env, user, id);
  const schemas = TYPE_SCHEMAS[row.type];
  const config = body.config ? parseFor(schemas.config, body.config, 'body.config') : JSON.parse(row.config);
  if (body.config) await checkUpload(env, row.owner_id, config);
  let encrypted = row.credentials_encrypted;
  let fields: string[] = JSON.parse(row.credential_fields);
  if (body.credentials) {
    const changes = parseFor(schemas.credentials.partial().strict(), Object.fromEntries(Object.entries(body.credentials).filter(([, v]) => v !== null)), 'body.credentials');
    const removed = Object.entries(body.credentials).filter(([, v]) => v === null).map(([k]) => k);
    const merged: Record<string, unknown> = { ...(await openCredentials(env, row)), ...changes };
    for (const k of removed) delete merged[k];
    ({ encrypted, fields } = await sealCredentials(env, merged));
  }
  await env.DB.prepare(
    `UPDATE data_sources SET name = ?, description = ?, config = ?, credentials_encrypted = ?, credential_fields = ?, updated_at = ${NOW_SQL} WHERE id = ?`,
  )
    .bind(body.name ?? row.name, body.description ?? row.description, JSON.stringify(config), encrypted, JSON.stringify(fields), id)
    .run();
  return getDataSource(env, user, id);
}

export async function deleteDataSource(env: Env, user: AuthUser, id: string) {
  await load(env, user, id);
  await env.DB.prepare('DELETE FROM data_sources WHERE id = ?').bind(id).run();
}

const MAX_FILE_BYTES = 5 * 1024 * 1024;

/**
 * The text of an upload of the source's owner (the uploads module's R2 bucket). Checked at query
 * time, not only at save time: the upload may have been deleted since.
 */
async function readUpload(env: Env, ownerId: string, uploadId: string): Promise<string> {
  const row = await env.DB.prepare('SELECT storage_key, size FROM uploads WHERE id = ? AND owner_id = ?').bind(uploadId, ownerId).first<{ storage_key: string; size: number }>();
  if (!row) throw queryError(`upload ${uploadId} not found`);
  if (row.size > MAX_FILE_BYTES) throw queryError(`upload ${uploadId} is larger than ${MAX_FILE_BYTES} bytes`);
  const object = await env.FILES.get(row.storage_key);
  if (!object) throw queryError(`upload ${uploadId} has no content`);
  return object.text();
}

/** At save time: an upload_id must name one of the owner's uploads. */
async function checkUpload(env: Env, ownerId: string, config: Record<string, unknown>) {
  if (typeof config.upload_id !== 'string') return;
  const row = await env.DB.prepare('SELECT id FROM uploads WHERE id = ? AND owner_id = ?').bind(config.upload_id, ownerId).first();
  if (!row) throw validationError(`body.config.upload_id: upload ${config.upload_id} not found`);
}

async function connection(env: Env, row: Row): Promise<Connection> {
  return {
    env,
    type: row.type,
    config: JSON.parse(row.config),
    credentials: await openCredentials(env, row),
    readUpload: (uploadId) => readUpload(env, row.owner_id, uploadId),
  };
}

/**
 * Connects and records the outcome on the source. Failures to reach or use the source are a
 * result (`ok: false` with the code and message), not an error of this endpoint.
 */
export async function testDataSource(env: Env, user: AuthUser, id: string, timeoutMs = 10_000) {
  const row = await load(env, user, id);
  const started = Date.now();
  let result: { ok: boolean; server: string | null; error: string | null; message: string | null };
  try {
    const tested = await testConnection(await connection(env, row), { maxRows: 1, timeoutMs });
    result = { ok: true, server: tested.server, error: null, message: null };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    result = { ok: false, server: null, error: e.code, message: e.message };
  }
  await env.DB.prepare(`UPDATE data_sources SET last_tested_at = ${NOW_SQL}, last_test_ok = ?, last_test_error = ? WHERE id = ?`)
    .bind(result.ok ? 1 : 0, result.message, id)
    .run();
  return { ...result, latency_ms: Date.now() - started };
}

export async function queryDataSource(env: Env, user: AuthUser, id: string, body: Record<string, unknown> & { max_rows: number; timeout_ms: number }) {
  const row = await load(env, user, id);
  const { max_rows, timeout_ms, ...rest } = body;
  const query = parseFor(QUERY_SCHEMAS[row.type], rest, 'body');
  const started = Date.now();
  const result = await runQuery(await connection(env, row), query as Record<string, unknown>, { maxRows: max_rows, timeoutMs: timeout_ms });
  return { ...result, duration_ms: Date.now() - started };
}
