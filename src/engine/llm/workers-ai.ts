import { ApiError } from '../../lib/errors';
import { readSseData } from '../../lib/sse';
import { LlmError } from './errors';
import { DEFAULT_STREAM_TIMEOUT_MS, DEFAULT_TIMEOUT_MS } from './openai';
import { usageOrEstimate } from './tokens';
import type { ChatMessage, ChatRequest, ChatResult, LlmProvider, StreamEvent, ToolCall } from './types';

export const WORKERS_AI_DEFAULT_MODEL = '@cf/meta/llama-3.1-8b-instruct';

/** The binding's `run`, loosely typed: the model list is open-ended and typed per model name. */
type AiRun = (model: string, inputs: Record<string, unknown>) => Promise<unknown>;

export const workersAiUnavailable = () =>
  new ApiError(
    503,
    'MODEL_UNAVAILABLE',
    'The workers-ai provider needs the AI binding, which is not configured here (Workers AI only runs on Cloudflare); use another model config',
  );

/**
 * Workers AI through the `AI` binding. Models answer either in the classic shape
 * (`{response, tool_calls, usage}`) or OpenAI-style (`{choices: [...]}`); both are read.
 */
export class WorkersAiProvider implements LlmProvider {
  readonly name = 'workers-ai';
  // Binding failures are exceptions without an HTTP status: nothing for the retry policy to judge.
  readonly retryable = false;

  constructor(private readonly ai: Ai | undefined) {}

  async chat(request: ChatRequest): Promise<ChatResult> {
    const out = await this.run(request, false, DEFAULT_TIMEOUT_MS);
    return resultOf(out, request);
  }

  async *stream(request: ChatRequest): AsyncIterable<StreamEvent> {
    // Streamed tool calls are not reliable across Workers AI models: answer whole, then replay.
    if (request.tools?.length) {
      const result = await this.chat(request);
      if (result.content) yield { type: 'token', text: result.content };
      for (const call of result.tool_calls) yield { type: 'tool_call', call };
      yield { type: 'done', result };
      return;
    }
    const out = await this.run(request, true, DEFAULT_STREAM_TIMEOUT_MS);
    if (!(out instanceof ReadableStream)) {
      // Some models ignore `stream`; treat a whole answer as one token.
      const result = resultOf(out, request);
      if (result.content) yield { type: 'token', text: result.content };
      yield { type: 'done', result };
      return;
    }
    let content = '';
    let usage: WireUsage | undefined;
    for await (const data of readSseData(out as ReadableStream<Uint8Array>)) {
      if (data.trim() === '[DONE]') break;
      let chunk: { response?: unknown; usage?: WireUsage; choices?: Array<{ delta?: { content?: unknown } }> };
      try {
        chunk = JSON.parse(data);
      } catch {
        throw new LlmError(`workers-ai: malformed stream chunk: ${data.slice(0, 200)}`);
      }
      const text = typeof chunk.response === 'string' ? chunk.response : typeof chunk.choices?.[0]?.delta?.content === 'string' ? (chunk.choices[0].delta.content as string) : '';
      if (chunk.usage) usage = chunk.usage;
      if (text) {
        content += text;
        yield { type: 'token', text };
      }
    }
    yield { type: 'done', result: { content, tool_calls: [], usage: usageOrEstimate(usage, request.messages, content, []), finish_reason: 'stop', model: request.model } };
  }

  private async run(request: ChatRequest, stream: boolean, defaultTimeout: number): Promise<unknown> {
    if (!this.ai) throw workersAiUnavailable();
    request.signal?.throwIfAborted();
    const inputs: Record<string, unknown> = { messages: request.messages.map(toWireMessage) };
    if (request.tools?.length) {
      inputs.tools = request.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
    }
    if (request.temperature !== undefined) inputs.temperature = request.temperature;
    if (request.max_tokens !== undefined) inputs.max_tokens = request.max_tokens;
    if (request.response_format === 'json') inputs.response_format = { type: 'json_object' };
    if (stream) inputs.stream = true;

    // The binding takes no AbortSignal: race it against the caller's signal and the timeout.
    const timeoutMs = request.timeout_ms ?? defaultTimeout;
    const signals = [AbortSignal.timeout(timeoutMs), ...(request.signal ? [request.signal] : [])];
    const signal = AbortSignal.any(signals);
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => {
        if (request.signal?.aborted) reject(request.signal.reason);
        else reject(new ApiError(504, 'UPSTREAM_TIMEOUT', `No answer from Workers AI within ${timeoutMs} ms`));
      }, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      return await Promise.race([(this.ai.run as unknown as AiRun).call(this.ai, request.model, inputs), aborted]);
    } catch (e) {
      if (e instanceof ApiError || signal.aborted) throw e;
      throw new LlmError(`workers-ai: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

function toWireMessage(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'assistant' && m.tool_calls?.length) {
    return {
      role: 'assistant',
      content: m.content ?? '',
      tool_calls: m.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
    };
  }
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.tool_call_id, name: m.name, content: m.content ?? '' };
  return { role: m.role, content: m.content ?? '' };
}

interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

function resultOf(out: unknown, request: ChatRequest): ChatResult {
  if (!out || typeof out !== 'object') throw new LlmError('workers-ai: the model gave no answer');
  const o = out as {
    response?: unknown;
    tool_calls?: Array<{ id?: string; name?: string; arguments?: unknown; function?: { name?: string; arguments?: unknown } }>;
    usage?: WireUsage;
    choices?: Array<{ message?: { content?: unknown; tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: unknown } }> }; finish_reason?: string }>;
  };
  const message = o.choices?.[0]?.message;
  const raw = message ? message.content : o.response;
  // JSON mode answers may come back already parsed.
  const content = typeof raw === 'string' ? raw : raw == null ? '' : JSON.stringify(raw);
  const calls = (message?.tool_calls ?? o.tool_calls ?? []).map(
    (c, i): ToolCall => {
      const fn = (c as { function?: { name?: string; arguments?: unknown } }).function;
      const args = fn?.arguments ?? (c as { arguments?: unknown }).arguments ?? {};
      return {
        id: c.id || `call_${i}`,
        name: fn?.name ?? (c as { name?: string }).name ?? '',
        arguments: typeof args === 'string' ? args : JSON.stringify(args),
      };
    },
  );
  return {
    content,
    tool_calls: calls,
    usage: usageOrEstimate(o.usage, request.messages, content, calls),
    finish_reason: calls.length ? 'tool_calls' : o.choices?.[0]?.finish_reason === 'length' ? 'length' : 'stop',
    model: request.model,
  };
}

