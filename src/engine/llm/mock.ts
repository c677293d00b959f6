import { expectedText } from '../evals/scorers';
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
 * - `/judge <json {rubric, output, expected}>` answers a deterministic verdict (evals' LLM judge):
 *   see {@link judgeVerdict};
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
  } else if (lastUser.startsWith('/judge ')) {
    content = JSON.stringify(judgeVerdict(lastUser.slice('/judge '.length)));
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

/**
 * The mock judge's verdict (docs/evals.md): with an expected answer, score 1 when the output
 * contains it (case-insensitively), else 0; without one, the share of the rubric's double-quoted
 * terms the output contains (1 when it quotes none). Unreadable JSON scores 0.
 */
export function judgeVerdict(json: string): { score: number; reason: string } {
  let req: { rubric?: unknown; output?: unknown; expected?: unknown };
  try {
    req = JSON.parse(json);
  } catch {
    return { score: 0, reason: 'mock judge: the request is not JSON' };
  }
  const output = String(req.output ?? '').toLowerCase();
  const expected = expectedText(req.expected);
  if (expected !== null) {
    const hit = output.includes(expected.trim().toLowerCase());
    return { score: hit ? 1 : 0, reason: hit ? 'mock judge: the output contains the expected answer' : 'mock judge: the expected answer is missing' };
  }
  const terms = [...String(req.rubric ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1].toLowerCase());
  if (!terms.length) return { score: 1, reason: 'mock judge: no expected answer and no quoted terms' };
  const found = terms.filter((t) => output.includes(t)).length;
  return { score: found / terms.length, reason: `mock judge: ${found} of ${terms.length} rubric terms present` };
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
