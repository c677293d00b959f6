import type { z } from '@hono/zod-openapi';
import { runQuery, testConnection, type Connection, type DataSourceType } from '../../../engine/data-sources';
import { queryError } from '../../../engine/data-sources/util';
import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { decryptSecret, encryptSecret } from '../../../lib/crypto';
import { ApiError, notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { describeZodError } from '../../../lib/router';
import { getSecret } from '../../../lib/secrets';
import { QUERY_SCHEMAS, TYPE_SCHEMAS, type DataSource } from './schemas';
import * as store from './store';
import { findOwnedUpload } from '../uploads/store';

type Row = store.DataSourceRow;

function present(row: Row): DataSource {
  return {
    id: row.id,
    owner_id: row.ownerId,
    name: row.name,
    description: row.description,
    type: row.type as DataSourceType,
    config: JSON.parse(row.config),
    credential_fields: JSON.parse(row.credentialFields),
    last_test: row.lastTestedAt ? { at: row.lastTestedAt, ok: row.lastTestOk === 1, error: row.lastTestError } : null,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
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
  if (!row.credentialsEncrypted) return {};
  return JSON.parse(await decryptSecret(row.credentialsEncrypted, await getSecret(env, 'ENCRYPTION_KEY')));
}

async function load(env: Env, user: AuthUser, id: string): Promise<Row> {
  const row = await store.findDataSource(env.DB, id);
  // Owner only (admins too): a data source holds someone's credentials.
  if (!row || (row.ownerId !== user.id && !isAdmin(user))) throw notFound('Data source');
  return row;
}

export async function listDataSources(env: Env, user: AuthUser, q: Pagination & { type?: DataSourceType; search?: string }) {
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listDataSources(env.DB, user.id, { type: q.type, search: q.search }, limit, offset);
  return paginated(rows.map(present), total, q);
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
  await store.insertDataSource(env.DB, {
    id,
    ownerId: user.id,
    name: body.name,
    description: body.description,
    type: body.type,
    config: JSON.stringify(config),
    credentialsEncrypted: sealed.encrypted,
    credentialFields: JSON.stringify(sealed.fields),
  });
  return getDataSource(env, user, id);
}

export async function updateDataSource(
  env: Env,
  user: AuthUser,
  id: string,
  body: { name?: string; description?: string; config?: Record<string, unknown>; credentials?: Record<string, unknown> },
) {
  const row = await load(env, user, id);
  const schemas = TYPE_SCHEMAS[row.type as DataSourceType];
  const config = body.config ? parseFor(schemas.config, body.config, 'body.config') : JSON.parse(row.config);
  if (body.config) await checkUpload(env, row.ownerId, config);
  let encrypted = row.credentialsEncrypted;
  let fields: string[] = JSON.parse(row.credentialFields);
  if (body.credentials) {
    const changes = parseFor(schemas.credentials.partial().strict(), Object.fromEntries(Object.entries(body.credentials).filter(([, v]) => v !== null)), 'body.credentials');
    const removed = Object.entries(body.credentials).filter(([, v]) => v === null).map(([k]) => k);
    const merged: Record<string, unknown> = { ...(await openCredentials(env, row)), ...changes };
    for (const k of removed) delete merged[k];
    ({ encrypted, fields } = await sealCredentials(env, merged));
  }
  await store.updateDataSource(env.DB, id, {
    name: body.name ?? row.name,
    description: body.description ?? row.description,
    config: JSON.stringify(config),
    credentialsEncrypted: encrypted,
    credentialFields: JSON.stringify(fields),
  });
  return getDataSource(env, user, id);
}

export async function deleteDataSource(env: Env, user: AuthUser, id: string) {
  await load(env, user, id);
  await store.deleteDataSource(env.DB, id);
}

const MAX_FILE_BYTES = 5 * 1024 * 1024;

/**
 * The text of an upload of the source's owner (the uploads module's R2 bucket). Checked at query
 * time, not only at save time: the upload may have been deleted since.
 */
async function readUpload(env: Env, ownerId: string, uploadId: string): Promise<string> {
  const row = await findOwnedUpload(env.DB, uploadId, ownerId);
  if (!row) throw queryError(`upload ${uploadId} not found`);
  if (row.size > MAX_FILE_BYTES) throw queryError(`upload ${uploadId} is larger than ${MAX_FILE_BYTES} bytes`);
  const object = await env.FILES.get(row.storageKey);
  if (!object) throw queryError(`upload ${uploadId} has no content`);
  return object.text();
}

/** At save time: an upload_id must name one of the owner's uploads. */
async function checkUpload(env: Env, ownerId: string, config: Record<string, unknown>) {
  if (typeof config.upload_id !== 'string') return;
  if (!(await findOwnedUpload(env.DB, config.upload_id, ownerId))) throw validationError(`body.config.upload_id: upload ${config.upload_id} not found`);
}

async function connection(env: Env, row: Row): Promise<Connection> {
  return {
    env,
    type: row.type as DataSourceType,
    config: JSON.parse(row.config),
    credentials: await openCredentials(env, row),
    readUpload: (uploadId) => readUpload(env, row.ownerId, uploadId),
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
  await store.recordTest(env.DB, id, result.ok, result.message);
  return { ...result, latency_ms: Date.now() - started };
}

export async function queryDataSource(env: Env, user: AuthUser, id: string, body: Record<string, unknown> & { max_rows: number; timeout_ms: number }) {
  const row = await load(env, user, id);
  const { max_rows, timeout_ms, ...rest } = body;
  const query = parseFor(QUERY_SCHEMAS[row.type as DataSourceType], rest, 'body');
  const started = Date.now();
  const result = await runQuery(await connection(env, row), query as Record<string, unknown>, { maxRows: max_rows, timeoutMs: timeout_ms });
  return { ...result, duration_ms: Date.now() - started };
}
