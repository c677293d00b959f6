import type { ChatMessage } from './types';

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
