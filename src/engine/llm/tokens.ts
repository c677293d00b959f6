import type { ChatMessage, Usage } from './types';

const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/g;

/**
 * A provider-independent token estimate: one token per CJK character, about four characters per
 * token otherwise. Used where the real tokenizer is not at hand (mock usage, context budgets).
 */
export function estimateTokens(text: string | null | undefined): number {
  if (!text) return 0;
  const cjk = text.match(CJK)?.length ?? 0;
  const rest = text.length - cjk;
  return cjk + Math.ceil(rest / 4);
}

/** Tokens of a whole prompt, with a small per-message overhead as chat formats have. */
export function estimatePromptTokens(messages: ChatMessage[]): number {
  let n = 0;
  for (const m of messages) {
    n += 4 + estimateTokens(m.content);
    for (const call of m.tool_calls ?? []) n += estimateTokens(call.name) + estimateTokens(call.arguments);
  }
  return n;
}

/**
 * The usage a provider reported, or an estimate when it reported none (some Ollama/vLLM
 * set-ups): a call is never recorded as free.
 */
export function usageOrEstimate(
  wire: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null | undefined,
  messages: ChatMessage[],
  content: string,
  calls: Array<{ arguments: string }>,
): Usage {
  if (wire && typeof wire.prompt_tokens === 'number') {
    const completion = wire.completion_tokens ?? 0;
    return { prompt_tokens: wire.prompt_tokens, completion_tokens: completion, total_tokens: wire.total_tokens ?? wire.prompt_tokens + completion };
  }
  const prompt = estimatePromptTokens(messages);
  const completion = estimateTokens(content) + calls.reduce((n, c) => n + estimateTokens(c.arguments), 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
