import { complete } from '../../../engine/llm/gateway';
import { targetFromConfig } from '../../../engine/llm/resolve';
import { runBatch } from '../../../db/client';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { hasPermission } from '../../identity/permissions/authorize';
import { encryptSecret, maskSecret } from '../../../lib/crypto';
import { ApiError, forbidden, notFound, validationError } from '../../../lib/errors';
import { checkOutboundUrl } from '../../../lib/outbound';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { getSecret } from '../../../lib/secrets';
import type { CreateModelConfig, ModelConfig, UpdateModelConfig } from './schemas';
import * as store from './store';
import type { ModelConfigRow } from './store';

export function toModelConfig(row: ModelConfigRow): ModelConfig {
  return {
    id: row.id,
    owner_id: row.ownerId,
    name: row.name,
    provider: row.provider as ModelConfig['provider'],
    model_name: row.modelName,
    base_url: row.baseUrl,
    api_key: row.apiKeyHint,
    temperature: row.temperature,
    max_tokens: row.maxTokens,
    is_default: row.isDefault === 1,
    is_system: row.isSystem === 1,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

export async function listModelConfigs(env: Env, user: AuthUser, page: Pagination) {
  const { limit, offset } = pageBounds(page);
  const { rows, total } = await store.listModelConfigs(env.DB, user.id, limit, offset);
  return paginated(rows.map(toModelConfig), total, page);
}

async function getVisibleRow(env: Env, user: AuthUser, id: string): Promise<ModelConfigRow> {
  const row = await store.findVisibleModelConfig(env.DB, user.id, id);
  if (!row) throw notFound('Model config');
  return row;
}

/** Visible and editable: own configs, and system ones for admins (others: 403, they can see it). */
async function getEditableRow(env: Env, user: AuthUser, id: string): Promise<ModelConfigRow> {
  const row = await getVisibleRow(env, user, id);
  // Model configs are not shared by grants: own ones, plus system-wide ones (model_configs:system).
  if (row.isSystem === 1 && !(await hasPermission(env, user, 'model_configs:system'))) throw forbidden('Only admins may change system-wide model configs');
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

export async function createModelConfig(env: Env, user: AuthUser, input: CreateModelConfig) {
  if (input.is_system && !(await hasPermission(env, user, 'model_configs:system'))) throw forbidden('Only admins may create system-wide model configs');
  checkBaseUrl(env, input.provider, input.base_url);
  const key = await sealKey(env, input.api_key);
  const id = crypto.randomUUID();
  const isSystem = input.is_system ? 1 : 0;
  const insert = store.insertModelConfig(env.DB, {
    id,
    ownerId: user.id,
    isSystem,
    name: input.name,
    provider: input.provider,
    modelName: input.model_name,
    baseUrl: input.base_url ?? null,
    apiKeyEncrypted: key.encrypted,
    apiKeyHint: key.hint,
    temperature: input.temperature ?? null,
    maxTokens: input.max_tokens ?? null,
    isDefault: input.is_default ? 1 : 0,
  });
  // One batch, so the previous default is cleared exactly when the new one lands.
  await runBatch(env.DB, input.is_default ? [store.clearDefaultModelConfig(env.DB, { ownerId: user.id, isSystem }, id), insert] : [insert]);
  return getModelConfig(env, user, id);
}

export async function updateModelConfig(env: Env, user: AuthUser, id: string, input: UpdateModelConfig) {
  const row = await getEditableRow(env, user, id);
  const provider = input.provider ?? row.provider;
  const baseUrl = input.base_url !== undefined ? input.base_url : provider === 'openai' ? row.baseUrl : null;
  checkBaseUrl(env, provider, baseUrl);
  const fields: Parameters<typeof store.updateModelConfig>[2] = {};
  if (input.name !== undefined) fields.name = input.name;
  if (input.provider !== undefined) fields.provider = input.provider;
  if (input.model_name !== undefined) fields.modelName = input.model_name;
  if (baseUrl !== row.baseUrl) fields.baseUrl = baseUrl;
  if (input.api_key !== undefined) {
    const key = await sealKey(env, input.api_key);
    fields.apiKeyEncrypted = key.encrypted;
    fields.apiKeyHint = key.hint;
  }
  if (input.temperature !== undefined) fields.temperature = input.temperature;
  if (input.max_tokens !== undefined) fields.maxTokens = input.max_tokens;
  if (input.is_default !== undefined) fields.isDefault = input.is_default ? 1 : 0;
  const update = store.updateModelConfig(env.DB, id, fields);
  await runBatch(env.DB, input.is_default ? [store.clearDefaultModelConfig(env.DB, row, id), update] : [update]);
  return getModelConfig(env, user, id);
}

export async function deleteModelConfig(env: Env, user: AuthUser, id: string) {
  await getEditableRow(env, user, id);
  await store.deleteModelConfig(env.DB, id);
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
