/** What several node types share: model calls, config pieces, error mapping. */
import { z } from 'zod';
import type { Env } from '../../../env';
import { ApiError } from '../../../lib/errors';
import { complete, defaultTarget, type ModelTarget } from '../../llm/gateway';
import type { ChatMessage, ChatResult } from '../../llm/types';
import { DEFAULT_PORT, NodeError } from '../types';
import type { NodeContext } from '../node';

export const ModelSchema = z
  .object({
    provider: z.string().min(1).optional(),
    model_name: z.string().min(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    max_tokens: z.int().min(1).max(200_000).optional(),
  })
  .optional();

export function targetFor(env: Env, model: z.infer<typeof ModelSchema>): ModelTarget {
  const base = model?.provider && model.model_name ? { provider: model.provider, model_name: model.model_name } : defaultTarget(env);
  return { ...base, temperature: model?.temperature, max_tokens: model?.max_tokens };
}

/** Errors a node raised, as the engine records them. 4xx are not worth retrying; 429/5xx are. */
export function toNodeError(e: unknown): NodeError {
  if (e instanceof NodeError) return e;
  if (e instanceof ApiError) return new NodeError(e.code, e.message, e.status >= 500 || e.status === 429);
  if (e instanceof Error && e.name === 'AbortError') return new NodeError('CANCELLED', 'The node was cancelled', false);
  return new NodeError('NODE_ERROR', e instanceof Error ? e.message : String(e));
}

export async function callModel(
  ctx: NodeContext,
  model: z.infer<typeof ModelSchema>,
  messages: ChatMessage[],
  responseFormat: 'text' | 'json' = 'text',
): Promise<ChatResult> {
  const target = targetFor(ctx.env, model);
  const started = Date.now();
  const name = `${target.provider}/${target.model_name}`;
  try {
    const result = await complete(
      ctx.env,
      target,
      { messages, response_format: responseFormat, signal: ctx.signal },
      { user_id: ctx.userId, source: 'workflow' },
    );
    ctx.recordCall({ kind: 'llm', name, status: 'succeeded', started_at: new Date(started).toISOString(), duration_ms: Date.now() - started, usage: result.usage });
    ctx.addUsage(result.usage);
    ctx.log('debug', `Model ${name} answered`, { usage: result.usage });
    return result;
  } catch (e) {
    ctx.recordCall({ kind: 'llm', name, status: 'failed', started_at: new Date(started).toISOString(), duration_ms: Date.now() - started, error: String((e as Error)?.message ?? e) });
    throw e;
  }
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new NodeError('CANCELLED', 'The node was cancelled', false));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new NodeError('CANCELLED', 'The node was cancelled', false));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** First JSON object in a text (models often wrap JSON in prose or code fences). */
export function extractJsonObject(text: string): Record<string, unknown> | null {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start === -1 || end <= start) return null;
  try {
    const v = JSON.parse(text.slice(start, end + 1));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

export const identifier = z.string().regex(/^[A-Za-z_]\w{0,63}$/, 'must be an identifier');
export const portId = z.string().regex(/^[A-Za-z_][\w-]{0,63}$/, 'must be an identifier');
export const out = () => [DEFAULT_PORT];
