import type { Env } from '../../env';
import { validationError } from '../../lib/errors';
import { MockProvider } from './mock';
import type { ChatRequest, ChatResult, LlmProvider, StreamEvent } from './types';

/** Which model a call uses: an agent's `model_config`, a stored config, or the system default. */
export interface ModelTarget {
  provider: string;
  model_name: string;
  temperature?: number;
  max_tokens?: number;
  /** OpenAI-compatible providers: the API base URL and (decrypted) key. */
  base_url?: string;
  api_key?: string;
}

/** Who a call is for; recorded with every call for the monitoring modules. */
export interface CallMeta {
  user_id: string;
  agent_id?: string | null;
  session_id?: string | null;
  /** What made the call: chat, workflow, rag, goal, tool, ... */
  source?: string;
}

export type GatewayRequest = Omit<ChatRequest, 'model'>;

/** The system default model from the environment (`mock` in local development). */
export function defaultTarget(env: Env): ModelTarget {
  return { provider: env.DEFAULT_MODEL_PROVIDER || 'mock', model_name: env.DEFAULT_MODEL_NAME || 'mock-1' };
}

const mock = new MockProvider();

export function providerFor(_env: Env, target: ModelTarget): LlmProvider {
  switch (target.provider) {
    case 'mock':
      return mock;
    default:
      throw validationError(`Unknown model provider: ${target.provider}`);
  }
}

function toRequest(target: ModelTarget, request: GatewayRequest): ChatRequest {
  return {
    ...request,
    model: target.model_name,
    temperature: request.temperature ?? target.temperature,
    max_tokens: request.max_tokens ?? target.max_tokens,
  };
}

/** One chat completion. */
export async function complete(env: Env, target: ModelTarget, request: GatewayRequest, _meta: CallMeta): Promise<ChatResult> {
  return providerFor(env, target).chat(toRequest(target, request));
}

/** One streaming chat completion: token deltas, tool calls, then `done` with the result. */
export async function* streamComplete(
  env: Env,
  target: ModelTarget,
  request: GatewayRequest,
  _meta: CallMeta,
): AsyncIterable<StreamEvent> {
  yield* providerFor(env, target).stream(toRequest(target, request));
}
