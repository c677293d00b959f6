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

/** A stored model config as the engine needs it (the model-configs store's rows fit; the key still encrypted). */
export interface StoredModelConfig {
  provider: string;
  modelName: string;
  baseUrl: string | null;
  apiKeyEncrypted: string | null;
  temperature: number | null;
  maxTokens: number | null;
}

/** A stored config as a call target, its API key decrypted. */
export async function targetFromConfig(env: Env, row: StoredModelConfig): Promise<ModelTarget> {
  const target: ModelTarget = { provider: row.provider, model_name: row.modelName };
  if (row.temperature !== null) target.temperature = row.temperature;
  if (row.maxTokens !== null) target.max_tokens = row.maxTokens;
  if (row.baseUrl) target.base_url = row.baseUrl;
  if (row.apiKeyEncrypted) target.api_key = await decryptSecret(row.apiKeyEncrypted, await getSecret(env, 'ENCRYPTION_KEY'));
  return target;
}

/** Where resolveTarget finds stored configs, for one user (the caller supplies it: src/runs/model-target.ts). */
export interface ModelConfigLookup {
  /** A config the user may use (own or system-wide) by id. */
  usable(id: string): Promise<StoredModelConfig | null>;
  /** The openai config for a model name: own first, then the same model name, the default, the oldest. */
  openai(modelName: string): Promise<StoredModelConfig | null>;
  /** The user's own default config, else the system default. */
  default(): Promise<StoredModelConfig | null>;
}

/**
 * Which model an agent's calls use, for the agent's owner (whose configs `configs` looks up):
 * 1. `model_config_id` → that stored config (own or system-wide); the agent's `model_name`,
 *    `temperature` and `max_tokens` override the config's;
 * 2. `provider` (+ `model_name`) → that model; `openai` takes its base URL and key from the
 *    owner's stored openai config (same model name first, then the default), else a system one;
 * 3. nothing → the owner's default config, else the system default config, else the
 *    environment default (`DEFAULT_MODEL_PROVIDER`/`DEFAULT_MODEL_NAME`, `mock` locally).
 * Throws 422 naming the problem when the model cannot be resolved.
 */
export async function resolveTarget(env: Env, configs: ModelConfigLookup, config?: AgentModelConfig | null): Promise<ModelTarget> {
  const overrides = (target: ModelTarget): ModelTarget => {
    if (config?.temperature !== undefined) target.temperature = config.temperature;
    if (config?.max_tokens !== undefined) target.max_tokens = config.max_tokens;
    return target;
  };

  if (config?.model_config_id) {
    const row = await configs.usable(config.model_config_id);
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
        const row = await configs.openai(config.model_name ?? '');
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

  const stored = await configs.default();
  const target = stored ? await targetFromConfig(env, stored) : defaultTarget(env);
  if (config?.model_name) target.model_name = config.model_name;
  return overrides(target);
}
