import { LlmError } from './errors';
import { estimatePromptTokens, estimateTokens } from './tokens';
import type { ChatMessage, ChatRequest, ChatResult, LlmProvider, StreamEvent, ToolCall } from './types';

/**
 * The deterministic `mock` model, for tests and for trying the platform offline
 * (contract: shared/spec/design.md §4, documented in docs/agents.md):
 * - `echo: <last user message>`, streamed in several token events;
 * - `/tool <name> <json>` calls that tool; after its result: `tool <name> returned: <result JSON>`;
 * - `/history` answers `history: ` + the earlier user messages, oldest first, joined by ` | `;
 * - `/error` fails like an upstream error;
 * - token usage is reported (estimated from the text).
 */
export class MockProvider implements LlmProvider {
  readonly name = 'mock';

  async chat(request: ChatRequest): Promise<ChatResult> {
    request.signal?.throwIfAborted();
    return respond(request);
  }

  async *stream(request: ChatRequest): AsyncIterable<StreamEvent> {
    const result = respond(request);
    for (const text of splitTokens(result.content)) {
      request.signal?.throwIfAborted();
      yield { type: 'token', text };
    }
    for (const call of result.tool_calls) yield { type: 'tool_call', call };
    yield { type: 'done', result };
  }
}

function respond(request: ChatRequest): ChatResult {
  const { messages } = request;
  const users = messages.filter((m) => m.role === 'user');
  const lastUser = (users.at(-1)?.content ?? '').trim();
  const last = messages.at(-1);
  let content = '';
  let toolCalls: ToolCall[] = [];

  if (last?.role === 'tool') {
    content = `tool ${last.name ?? toolNameOf(messages, last.tool_call_id)} returned: ${last.content ?? 'null'}`;
  } else if (lastUser === '/error' || lastUser.startsWith('/error ')) {
    throw new LlmError('mock provider: simulated upstream error', 500);
  } else if (lastUser.startsWith('/tool ')) {
    const rest = lastUser.slice('/tool '.length).trim();
    const space = rest.indexOf(' ');
    const name = space === -1 ? rest : rest.slice(0, space);
    const args = space === -1 ? '{}' : rest.slice(space + 1).trim() || '{}';
    toolCalls = [{ id: `call_${crypto.randomUUID().replace(/-/g, '').slice(0, 24)}`, name, arguments: args }];
  } else if (lastUser === '/history') {
    content = 'history: ' + users.slice(0, -1).map((m) => m.content ?? '').join(' | ');
  } else {
    content = `echo: ${lastUser}`;
  }

  const prompt_tokens = estimatePromptTokens(messages);
  const completion_tokens = Math.max(1, estimateTokens(content) + toolCalls.reduce((n, c) => n + estimateTokens(c.arguments), 0));
  return {
    content,
    tool_calls: toolCalls,
    usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens },
    finish_reason: toolCalls.length ? 'tool_calls' : 'stop',
    model: request.model,
  };
}

function toolNameOf(messages: ChatMessage[], callId: string | undefined): string {
  for (const m of messages) for (const c of m.tool_calls ?? []) if (c.id === callId) return c.name;
  return 'unknown';
}

/** Splits text into word-sized pieces (whitespace kept), so a stream has several token events. */
export function splitTokens(text: string): string[] {
  if (!text) return [];
  return text.match(/\S+\s*|\s+/g) ?? [text];
}
