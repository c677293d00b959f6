import type { Env } from '../../env';
import { guardedFetch } from '../../lib/outbound';
import { readSseData } from '../../lib/sse';
import { LlmError } from './errors';
import { usageOrEstimate } from './tokens';
import type { ChatMessage, ChatRequest, ChatResult, LlmProvider, StreamEvent, ToolCall } from './types';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
export const DEFAULT_TIMEOUT_MS = 60_000;
/** Streams may legitimately run long; the per-attempt bound covers the whole answer. */
export const DEFAULT_STREAM_TIMEOUT_MS = 300_000;

export interface OpenAiOptions {
  base_url?: string;
  api_key?: string;
}

/**
 * Any OpenAI-compatible Chat Completions API (OpenAI, DeepSeek, DashScope compatible mode,
 * Moonshot, Zhipu, Ollama, vLLM). Every request goes through the SSRF guard, since the base URL
 * is user-chosen.
 */
export class OpenAiProvider implements LlmProvider {
  readonly name = 'openai';
  readonly retryable = true;

  constructor(
    private readonly env: Env,
    private readonly options: OpenAiOptions,
  ) {}

  async chat(request: ChatRequest): Promise<ChatResult> {
    const res = await this.post(request, false);
    let data: WireCompletion;
    try {
      data = (await res.json()) as WireCompletion;
    } catch {
      throw new LlmError('openai: the upstream answered with a body that is not JSON');
    }
    if (data?.error) throw new LlmError(`openai: ${errorText(data.error)}`);
    const choice = data?.choices?.[0];
    if (!choice || typeof choice !== 'object') throw new LlmError('openai: the upstream answer has no choices');
    const message = choice.message ?? {};
    const content = textOf(message.content);
    const toolCalls = (message.tool_calls ?? []).map(
      (tc, i): ToolCall => ({
        id: tc.id || `call_${i}`,
        name: tc.function?.name ?? '',
        arguments: tc.function?.arguments || '{}',
      }),
    );
    return {
      content,
      tool_calls: toolCalls,
      usage: usageOrEstimate(data.usage, request.messages, content, toolCalls),
      finish_reason: finishReason(choice.finish_reason, toolCalls.length > 0),
      model: data.model || request.model,
    };
  }

  async *stream(request: ChatRequest): AsyncIterable<StreamEvent> {
    const res = await this.post(request, true);
    if (!res.body) throw new LlmError('openai: the upstream stream has no body');

    let content = '';
    let usage: WireUsage | undefined;
    let finish: string | null | undefined;
    let model = request.model;
    let sawDone = false;
    // Tool calls arrive as fragments keyed by `index`: id and name first, arguments in pieces.
    const partial = new Map<number, ToolCall>();

    for await (const data of readSseData(res.body)) {
      if (data.trim() === '[DONE]') {
        sawDone = true;
        break;
      }
      let chunk: WireChunk;
      try {
        chunk = JSON.parse(data) as WireChunk;
      } catch {
        throw new LlmError(`openai: malformed stream chunk: ${data.slice(0, 200)}`);
      }
      if (!chunk || typeof chunk !== 'object') throw new LlmError(`openai: malformed stream chunk: ${data.slice(0, 200)}`);
      if (chunk.error) throw new LlmError(`openai: ${errorText(chunk.error)}`);
      if (chunk.model) model = chunk.model;
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const delta = choice.delta ?? {};
      const text = textOf(delta.content);
      if (text) {
        content += text;
        yield { type: 'token', text };
      }
      for (const [position, tc] of (delta.tool_calls ?? []).entries()) {
        const index = typeof tc.index === 'number' ? tc.index : position;
        let call = partial.get(index);
        if (!call) partial.set(index, (call = { id: '', name: '', arguments: '' }));
        if (tc.id) call.id = tc.id;
        const name = tc.function?.name;
        // Most providers send the name once; some repeat it whole in every fragment.
        if (name && call.name !== name) call.name = call.name ? call.name + name : name;
        if (tc.function?.arguments) call.arguments += tc.function.arguments;
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    if (!sawDone && !finish) throw new LlmError('openai: the stream ended before the answer was complete');

    const toolCalls = [...partial.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, c]) => ({ id: c.id || `call_${index}`, name: c.name, arguments: c.arguments || '{}' }));
    for (const call of toolCalls) {
      if (!call.name) throw new LlmError('openai: a streamed tool call has no function name');
      yield { type: 'tool_call', call };
    }
    yield {
      type: 'done',
      result: {
        content,
        tool_calls: toolCalls,
        usage: usageOrEstimate(usage, request.messages, content, toolCalls),
        finish_reason: finishReason(finish, toolCalls.length > 0),
        model,
      },
    };
  }

  private async post(request: ChatRequest, stream: boolean): Promise<Response> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      Accept: stream ? 'text/event-stream' : 'application/json',
    };
    if (this.options.api_key) headers.Authorization = `Bearer ${this.options.api_key}`;
    const res = await guardedFetch(
      this.env,
      chatCompletionsUrl(this.options.base_url),
      { method: 'POST', headers, body: JSON.stringify(toWireRequest(request, stream)), signal: request.signal },
      { timeoutMs: request.timeout_ms ?? (stream ? DEFAULT_STREAM_TIMEOUT_MS : DEFAULT_TIMEOUT_MS) },
    );
    if (!res.ok) throw await upstreamError('openai', res);
    return res;
  }
}

export function chatCompletionsUrl(baseUrl: string | undefined): string {
  const base = (baseUrl || OPENAI_DEFAULT_BASE_URL).replace(/\/+$/, '');
  return base.endsWith('/chat/completions') ? base : `${base}/chat/completions`;
}

export function toWireRequest(request: ChatRequest, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { model: request.model, messages: request.messages.map(toWireMessage) };
  if (request.tools?.length) {
    body.tools = request.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
  }
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.max_tokens !== undefined) body.max_tokens = request.max_tokens;
  if (request.response_format === 'json') body.response_format = { type: 'json_object' };
  if (stream) {
    body.stream = true;
    // Without this, OpenAI-compatible servers omit usage from streamed answers.
    body.stream_options = { include_usage: true };
  }
  return body;
}

function toWireMessage(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'assistant' && m.tool_calls?.length) {
    return {
      role: 'assistant',
      content: m.content,
      tool_calls: m.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
    };
  }
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.tool_call_id, content: m.content ?? '' };
  return { role: m.role, content: m.content ?? '' };
}

/** A failed HTTP answer as an LlmError carrying the status and any Retry-After. */
export async function upstreamError(provider: string, res: Response): Promise<LlmError> {
  const text = await res.text().catch(() => '');
  let message = text.slice(0, 500) || res.statusText || 'no details';
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (parsed.error) message = errorText(parsed.error);
    else if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    /* not JSON: keep the text */
  }
  return new LlmError(`${provider}: upstream answered ${res.status}: ${message}`, res.status, retryAfterMs(res.headers.get('retry-after')));
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds. */
export function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return JSON.stringify(error).slice(0, 500);
}

/** Content is a string, or (some providers) an array of `{type: 'text', text}` parts. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return '';
}


function finishReason(reason: string | null | undefined, hasToolCalls: boolean): ChatResult['finish_reason'] {
  if (hasToolCalls) return 'tool_calls';
  return reason === 'length' ? 'length' : 'stop';
}

interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}
interface WireToolCall {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}
interface WireCompletion {
  model?: string;
  error?: unknown;
  choices?: Array<{ message?: { content?: unknown; tool_calls?: WireToolCall[] }; finish_reason?: string | null }>;
  usage?: WireUsage;
}
interface WireChunk {
  model?: string;
  error?: unknown;
  choices?: Array<{ delta?: { content?: unknown; tool_calls?: WireToolCall[] }; finish_reason?: string | null }>;
  usage?: WireUsage | null;
}
