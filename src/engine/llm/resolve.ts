import type { Env } from '../../env';
import { decryptSecret } from '../../lib/crypto';
import { validationError } from '../../lib/errors';
import { getSecret } from '../../lib/secrets';
import { defaultTarget, type ModelTarget } from './gateway';
import { WORKERS_AI_DEFAULT_MODEL } from './workers-ai';

/** An agent's `model_config`: a provider and model, or a stored config by id, plus defaults. */
export interface AgentModelConfig {
  provider?: string;
  model_name?: string;
  temperature?: number;
  max_tokens?: number;
  model_config_id?: string;
}

/** A `model_configs` row as stored (the API key still encrypted). */
export interface ModelConfigRow {
  id: string;
  owner_id: string;
  is_system: number;
  name: string;
  provider: string;
  model_name: string;
  base_url: string | null;
  api_key_encrypted: string | null;
  api_key_hint: string | null;
  temperature: number | null;
  max_tokens: number | null;
  is_default: number;
  created_at: string;
  updated_at: string;
}

/** A stored config as a call target, its API key decrypted. */
export async function targetFromConfig(env: Env, row: ModelConfigRow): Promise<ModelTarget> {
  const target: ModelTarget = { provider: row.provider, model_name: row.model_name };
  if (row.temperature !== null) target.temperature = row.temperature;
  if (row.max_tokens !== null) target.max_tokens = row.max_tokens;
  if (row.base_url) target.base_url = row.base_url;
  if (row.api_key_encrypted) target.api_key = await decryptSecret(row.api_key_encrypted, await getSecret(env, 'ENCRYPTION_KEY'));
  return target;
}

/** A config the user may use: their own or a system-wide one. */
export async function findUsableConfig(env: Env, userId: string, id: string): Promise<ModelConfigRow | null> {
  return env.DB.prepare('SELECT * FROM model_configs WHERE id = ? AND (owner_id = ? OR is_system = 1)').bind(id, userId).first<ModelConfigRow>();
}

/**
 * Which model an agent's calls use, for the agent's owner (`ownerId`):
 * 1. `model_config_id` → that stored config (own or system-wide); the agent's `model_name`,
 *    `temperature` and `max_tokens` override the config's;
 * 2. `provider` (+ `model_name`) → that model; `openai` takes its base URL and key from the
 *    owner's stored openai config (same model name first, then the default), else a system one;
 * 3. nothing → the owner's default config, else the system default config, else the
 *    environment default (`DEFAULT_MODEL_PROVIDER`/`DEFAULT_MODEL_NAME`, `mock` locally).
 * Throws 422 naming the problem when the model cannot be resolved.
 */
export async function resolveModelTarget(env: Env, ownerId: string, config?: AgentModelConfig | null): Promise<ModelTarget> {
  const overrides = (target: ModelTarget): ModelTarget => {
    if (config?.temperature !== undefined) target.temperature = config.temperature;
    if (config?.max_tokens !== undefined) target.max_tokens = config.max_tokens;
    return target;
  };

  if (config?.model_config_id) {
    const row = await findUsableConfig(env, ownerId, config.model_config_id);
    if (!row) throw validationError(`model_config.model_config_id: model config ${config.model_config_id} not found`);
    const target = await targetFromConfig(env, row);
    if (config.model_name) target.model_name = config.model_name;
    return overrides(target);
  }

  if (config?.provider) {
    const fallback = defaultTarget(env);
    switch (config.provider) {
      case 'mock':
        return overrides({ provider: 'mock', model_name: config.model_name || 'mock-1' });
      case 'workers-ai':
        return overrides({
          provider: 'workers-ai',
          model_name: config.model_name || (fallback.provider === 'workers-ai' ? fallback.model_name : WORKERS_AI_DEFAULT_MODEL),
        });
      case 'openai': {
        const row = await env.DB.prepare(
          `SELECT * FROM model_configs WHERE provider = 'openai' AND (owner_id = ?1 OR is_system = 1)
           ORDER BY is_system ASC, (model_name = ?2) DESC, is_default DESC, created_at ASC LIMIT 1`,
        )
          .bind(ownerId, config.model_name ?? '')
          .first<ModelConfigRow>();
        if (!row) {
          throw validationError(
            'model_config: the openai provider needs a stored model config with its base_url and api_key (POST /api/v1/model-configs, then set model_config_id)',
          );
        }
        const target = await targetFromConfig(env, row);
        if (config.model_name) target.model_name = config.model_name;
        return overrides(target);
      }
      default:
        throw validationError(`model_config.provider: unknown model provider ${config.provider}`);
    }
  }

  const stored = await env.DB.prepare(
    `SELECT * FROM model_configs WHERE is_default = 1 AND ((owner_id = ? AND is_system = 0) OR is_system = 1)
     ORDER BY is_system ASC LIMIT 1`,
  )
    .bind(ownerId)
    .first<ModelConfigRow>();
  const target = stored ? await targetFromConfig(env, stored) : defaultTarget(env);
  if (config?.model_name) target.model_name = config.model_name;
  return overrides(target);
}
