import type { Env } from '../../env';
import { ApiError, validationError } from '../../lib/errors';
import { LlmError } from './errors';
import { MockProvider } from './mock';
import { OpenAiProvider } from './openai';
import type { ChatRequest, ChatResult, LlmProvider, StreamEvent, Usage } from './types';
import { WorkersAiProvider } from './workers-ai';

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
  /**
   * Collects the `llm_calls` rows instead of writing each one as the call ends, so the caller
   * writes them with its own batch (a chat turn: with the turn's messages) and no model call
   * waits for an insert. Without one, every call awaits its own insert.
   */
  recorder?: CallRecorder;
}

/** One model call as recorded in `llm_calls` (the model-configs store writes these). */
export interface LlmCallRecord {
  id: string;
  userId: string;
  agentId: string | null;
  sessionId: string | null;
  provider: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  status: 'ok' | 'error';
  error: string | null;
  source: string | null;
  /** When the call happened, not when its row was written. */
  createdAt: string;
}

/**
 * The `llm_calls` records of a unit of work (a chat turn, an execute run), held until it is
 * persisted: the caller adds `pending()` to its own D1 batch (src/runs/llm-calls.ts) and
 * `clear()`s them once that batch succeeded (a D1 batch is all or nothing, so a failed one
 * leaves them pending).
 */
export class CallRecorder {
  private records: LlmCallRecord[] = [];

  add(record: LlmCallRecord) {
    this.records.push(record);
  }

  get size() {
    return this.records.length;
  }

  /** The records not yet persisted, oldest first. */
  pending(): readonly LlmCallRecord[] {
    return this.records.slice();
  }

  /** Forgets the first `count` records (the batch that carried them succeeded). */
  clear(count = this.records.length) {
    this.records.splice(0, count);
  }
}

/** Writes the record of a call made without a recorder; the owner of `llm_calls` supplies it. */
export type CallWriter = (env: Env, record: LlmCallRecord) => Promise<void>;

let callWriter: CallWriter | undefined;

/** Set once at import time by the module that owns `llm_calls` (modules/agents/model-configs). */
export function setCallWriter(writer: CallWriter): void {
  callWriter = writer;
}

export type GatewayRequest = Omit<ChatRequest, 'model'>;

export const MODEL_PROVIDERS = ['openai', 'workers-ai', 'mock'] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/** The system default model from the environment (`mock` in local development). */
export function defaultTarget(env: Env): ModelTarget {
  return { provider: env.DEFAULT_MODEL_PROVIDER || 'mock', model_name: env.DEFAULT_MODEL_NAME || 'mock-1' };
}

const mock = new MockProvider();

export function providerFor(env: Env, target: ModelTarget): LlmProvider {
  switch (target.provider) {
    case 'mock':
      return mock;
    case 'openai':
      return new OpenAiProvider(env, { base_url: target.base_url, api_key: target.api_key });
    case 'workers-ai':
      return new WorkersAiProvider(env.AI);
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

// Retry policy for 429 and 5xx answers: up to MAX_ATTEMPTS tries, waiting what Retry-After asks
// (when it asks for no more than MAX_RETRY_AFTER_MS) or an exponential backoff with jitter.
export const MAX_ATTEMPTS = 3;
export const BASE_BACKOFF_MS = 250;
export const MAX_RETRY_AFTER_MS = 20_000;

/** How long to wait before the next attempt, or null when the failure is not worth retrying. */
export function retryDelay(error: unknown, attempt: number): number | null {
  if (attempt >= MAX_ATTEMPTS || !(error instanceof LlmError)) return null;
  const status = error.upstreamStatus;
  if (status === undefined || (status !== 429 && status < 500)) return null;
  if (error.retryAfterMs !== undefined) return error.retryAfterMs <= MAX_RETRY_AFTER_MS ? error.retryAfterMs : null;
  return BASE_BACKOFF_MS * 2 ** (attempt - 1) + Math.floor(Math.random() * 100);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One chat completion, retried on 429/5xx, recorded in `llm_calls` whether it succeeds or not. */
export async function complete(env: Env, target: ModelTarget, request: GatewayRequest, meta: CallMeta): Promise<ChatResult> {
  const started = Date.now();
  try {
    const provider = providerFor(env, target);
    const chatRequest = toRequest(target, request);
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await provider.chat(chatRequest);
        await recordCall(env, target, meta, started, result.usage, null);
        return result;
      } catch (e) {
        const delay = provider.retryable ? retryDelay(e, attempt) : null;
        if (delay === null) throw e;
        await sleep(delay, request.signal);
      }
    }
  } catch (e) {
    await recordCall(env, target, meta, started, null, e, request.signal);
    throw e;
  }
}

/**
 * One streaming chat completion: token deltas, tool calls, then `done` with the result.
 * A failure before the first event is retried like `complete`; once output has reached the
 * caller it is not (it cannot be taken back). The call is recorded when the stream ends, fails,
 * or is abandoned by the caller.
 */
export async function* streamComplete(
  env: Env,
  target: ModelTarget,
  request: GatewayRequest,
  meta: CallMeta,
): AsyncIterable<StreamEvent> {
  const started = Date.now();
  let usage: Usage | null = null;
  let failure: unknown = null;
  try {
    const provider = providerFor(env, target);
    const chatRequest = toRequest(target, request);
    for (let attempt = 1; ; attempt++) {
      let yielded = false;
      try {
        for await (const event of provider.stream(chatRequest)) {
          if (event.type === 'done') usage = event.result.usage;
          yielded = true;
          yield event;
        }
        break;
      } catch (e) {
        const delay = provider.retryable && !yielded ? retryDelay(e, attempt) : null;
        if (delay === null) throw e;
        await sleep(delay, request.signal);
      }
    }
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    if (usage) await recordCall(env, target, meta, started, usage, null);
    else await recordCall(env, target, meta, started, null, failure ?? new Error('stream abandoned by the caller'), request.signal);
  }
}

function errorText(error: unknown, signal?: AbortSignal): string {
  if (signal?.aborted) return 'cancelled by the caller';
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Records the `llm_calls` row: into the caller's recorder when it has one, else written now.
 * Never throws: losing a metric must not fail the model call.
 */
async function recordCall(
  env: Env,
  target: ModelTarget,
  meta: CallMeta,
  started: number,
  usage: Usage | null,
  error: unknown,
  signal?: AbortSignal,
): Promise<void> {
  const record: LlmCallRecord = {
    id: crypto.randomUUID(),
    userId: meta.user_id,
    agentId: meta.agent_id ?? null,
    sessionId: meta.session_id ?? null,
    provider: target.provider,
    model: target.model_name,
    promptTokens: usage?.prompt_tokens ?? 0,
    completionTokens: usage?.completion_tokens ?? 0,
    latencyMs: Date.now() - started,
    status: usage ? 'ok' : 'error',
    error: usage ? null : errorText(error, signal).slice(0, 1000),
    source: meta.source ?? null,
    createdAt: new Date().toISOString(),
  };
  if (meta.recorder) return meta.recorder.add(record);
  try {
    if (!callWriter) throw new Error('no llm_calls writer registered (setCallWriter)');
    await callWriter(env, record);
  } catch (e) {
    console.error(JSON.stringify({ type: 'error', where: 'llm_calls insert', error: String(e) }));
  }
}
