import type { ModelTarget } from '../engine/llm/gateway';
import { resolveTarget, type AgentModelConfig, type ModelConfigLookup } from '../engine/llm/resolve';
import type { Env } from '../env';
import { findDefaultModelConfig, findOpenAiModelConfig, findUsableModelConfig } from '../modules/agents/model-configs/store';

/** A user's stored model configs, as the engine's resolveTarget looks them up. */
export function modelConfigLookup(d1: D1Database, userId: string): ModelConfigLookup {
  return {
    usable: (id) => findUsableModelConfig(d1, userId, id),
    openai: (modelName) => findOpenAiModelConfig(d1, userId, modelName),
    default: () => findDefaultModelConfig(d1, userId),
  };
}

/** Which model an agent's calls use, for the agent's owner (`ownerId`); see resolveTarget. */
export function resolveModelTarget(env: Env, ownerId: string, config?: AgentModelConfig | null): Promise<ModelTarget> {
  return resolveTarget(env, modelConfigLookup(env.DB, ownerId), config);
}
