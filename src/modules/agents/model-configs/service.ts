import { assignments, NOW_SQL } from '../../../lib/d1';
import { complete } from '../../../engine/llm/gateway';
import { targetFromConfig, type ModelConfigRow } from '../../../engine/llm/resolve';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { hasPermission } from '../../identity/permissions/authorize';
import { encryptSecret, maskSecret } from '../../../lib/crypto';
import { ApiError, forbidden, notFound, validationError } from '../../../lib/errors';
import { checkOutboundUrl } from '../../../lib/outbound';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { getSecret } from '../../../lib/secrets';
import type { CreateModelConfig, ModelConfig, UpdateModelConfig } from './schemas';

// A user sees their own configs and the system-wide ones.
const VISIBLE = '((owner_id = ? AND is_system = 0) OR is_system = 1)';

export function toModelConfig(row: ModelConfigRow): ModelConfig {
  return {
    id: row.id,
    owner_id: row.owner_id,
    name: row.name,
    provider: row.provider as ModelConfig['provider'],
    model_name: row.model_name,
    base_url: row.base_url,
    api_key: row.api_key_hint,
    temperature: row.temperature,
    max_tokens: row.max_tokens,
    is_default: row.is_default === 1,
    is_system: row.is_system === 1,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export async function listModelConfigs(env: Env, user: AuthUser, page: Pagination) {
  const { limit, offset } = pageBounds(page);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT * FROM model_configs WHERE ${VISIBLE} ORDER BY is_system ASC, created_at DESC, id LIMIT ? OFFSET ?`).bind(user.id, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM model_configs WHERE ${VISIBLE}`).bind(user.id),
  ]);
  return paginated((rows.results as unknown as ModelConfigRow[]).map(toModelConfig), (count.results[0] as { n: number }).n, page);
}

async function getVisibleRow(env: Env, user: AuthUser, id: string): Promise<ModelConfigRow> {
  const row = await env.DB.prepare(`SELECT * FROM model_configs WHERE id = ? AND ${VISIBLE}`).bind(id, user.id).first<ModelConfigRow>();
  if (!row) throw notFound('Model config');
  return row;
}

/** Visible and editable: own configs, and system ones for admins (others: 403, they can see it). */
async function getEditableRow(env: Env, user: AuthUser, id: string): Promise<ModelConfigRow> {
  const row = await getVisibleRow(env, user, id);
  // Model configs are not shared by grants: own ones, plus system-wide ones (model_configs:system).
  if (row.is_system === 1 && !(await hasPermission(env, user, 'model_configs:system'))) throw forbidden('Only admins may change system-wide model configs');
  return row;
}

export async function getModelConfig(env: Env, user: AuthUser, id: string) {
  return toModelConfig(await getVisibleRow(env, user, id));
}

/** The base URL is user-chosen: refuse private and internal destinations when it is saved. */
function checkBaseUrl(env: Env, provider: string, baseUrl: string | null | undefined) {
  if (!baseUrl) return;
  if (provider !== 'openai') throw validationError(`body.base_url: only the openai provider takes a base_url`);
  try {
    checkOutboundUrl(env, baseUrl);
  } catch (e) {
    if (e instanceof ApiError) throw validationError(`body.base_url: ${e.message}`);
    throw e;
  }
}

async function sealKey(env: Env, apiKey: string | null | undefined): Promise<{ encrypted: string | null; hint: string | null }> {
  if (!apiKey) return { encrypted: null, hint: null };
  return { encrypted: await encryptSecret(apiKey, await getSecret(env, 'ENCRYPTION_KEY')), hint: maskSecret(apiKey) };
}

/** Clears the other default in the same scope (the user's own configs, or the system ones). */
function clearDefault(env: Env, row: { owner_id: string; is_system: number }, exceptId: string) {
  return row.is_system === 1
    ? env.DB.prepare('UPDATE model_configs SET is_default = 0 WHERE is_system = 1 AND is_default = 1 AND id != ?').bind(exceptId)
    : env.DB.prepare('UPDATE model_configs SET is_default = 0 WHERE owner_id = ? AND is_system = 0 AND is_default = 1 AND id != ?').bind(row.owner_id, exceptId);
}

export async function createModelConfig(env: Env, user: AuthUser, input: CreateModelConfig) {
  if (input.is_system && !(await hasPermission(env, user, 'model_configs:system'))) throw forbidden('Only admins may create system-wide model configs');
  checkBaseUrl(env, input.provider, input.base_url);
  const key = await sealKey(env, input.api_key);
  const id = crypto.randomUUID();
  const isSystem = input.is_system ? 1 : 0;
  const insert = env.DB.prepare(
    `INSERT INTO model_configs (id, owner_id, is_system, name, provider, model_name, base_url, api_key_encrypted, api_key_hint, temperature, max_tokens, is_default)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).bind(
    id,
    user.id,
    isSystem,
    input.name,
    input.provider,
    input.model_name,
    input.base_url ?? null,
    key.encrypted,
    key.hint,
    input.temperature ?? null,
    input.max_tokens ?? null,
    input.is_default ? 1 : 0,
  );
  // One batch, so the previous default is cleared exactly when the new one lands.
  await env.DB.batch(input.is_default ? [clearDefault(env, { owner_id: user.id, is_system: isSystem }, id), insert] : [insert]);
  return getModelConfig(env, user, id);
}

export async function updateModelConfig(env: Env, user: AuthUser, id: string, input: UpdateModelConfig) {
  const row = await getEditableRow(env, user, id);
  const provider = input.provider ?? row.provider;
  const baseUrl = input.base_url !== undefined ? input.base_url : provider === 'openai' ? row.base_url : null;
  checkBaseUrl(env, provider, baseUrl);
  const a = assignments();
  if (input.name !== undefined) a.set('name', input.name);
  if (input.provider !== undefined) a.set('provider', input.provider);
  if (input.model_name !== undefined) a.set('model_name', input.model_name);
  if (baseUrl !== row.base_url) a.set('base_url', baseUrl);
  if (input.api_key !== undefined) {
    const key = await sealKey(env, input.api_key);
    a.set('api_key_encrypted', key.encrypted);
    a.set('api_key_hint', key.hint);
  }
  if (input.temperature !== undefined) a.set('temperature', input.temperature);
  if (input.max_tokens !== undefined) a.set('max_tokens', input.max_tokens);
  if (input.is_default !== undefined) a.set('is_default', input.is_default ? 1 : 0);
  const update = env.DB.prepare(`UPDATE model_configs SET ${a.sql(`updated_at = ${NOW_SQL}`)} WHERE id = ?`).bind(...a.binds, id);
  await env.DB.batch(input.is_default ? [clearDefault(env, row, id), update] : [update]);
  return getModelConfig(env, user, id);
}

export async function deleteModelConfig(env: Env, user: AuthUser, id: string) {
  await getEditableRow(env, user, id);
  await env.DB.prepare('DELETE FROM model_configs WHERE id = ?').bind(id).run();
}

/** A real minimal call through the gateway (recorded in llm_calls like any other). */
export async function testModelConfig(env: Env, user: AuthUser, id: string) {
  const row = await getVisibleRow(env, user, id);
  const started = Date.now();
  try {
    const target = await targetFromConfig(env, row);
    await complete(
      env,
      target,
      { messages: [{ role: 'user', content: 'Reply with the word: ok' }], max_tokens: 16, timeout_ms: 20_000 },
      { user_id: user.id, source: 'model-config-test' },
    );
    return { ok: true, latency_ms: Date.now() - started, error: null };
  } catch (e) {
    return { ok: false, latency_ms: Date.now() - started, error: e instanceof Error ? e.message : String(e) };
  }
}
