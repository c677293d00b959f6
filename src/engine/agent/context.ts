import { estimatePromptTokens } from '../llm/tokens';
import type { ChatMessage } from '../llm/types';

/** Context windows of known model families, in tokens; unknown models get a conservative 8k. */
const CONTEXT_WINDOWS: Array<[RegExp, number]> = [
  [/^mock/, 8_192],
  [/gpt-4o|gpt-4\.1|gpt-5|o[134]-/i, 128_000],
  [/deepseek/i, 64_000],
  [/qwen|moonshot|kimi|glm/i, 32_000],
  [/llama-3\.[123]/i, 8_192],
];
export const DEFAULT_CONTEXT_WINDOW = 8_192;
/** Tokens kept free for the answer when the request sets no max_tokens. */
export const ANSWER_RESERVE = 1_024;

export function contextWindow(modelName: string): number {
  return CONTEXT_WINDOWS.find(([re]) => re.test(modelName))?.[1] ?? DEFAULT_CONTEXT_WINDOW;
}

/**
 * Fits a conversation into `budget` tokens: the system prompt and the newest messages are kept,
 * the oldest turns dropped first. A turn is dropped whole (from a user message up to the next),
 * so a tool result is never kept without the assistant message that called it.
 */
export function trimToBudget(system: ChatMessage[], history: ChatMessage[], budget: number): ChatMessage[] {
  const fixed = estimatePromptTokens(system);
  // Suffix sums of per-message estimates (the estimate is additive), so finding the first turn
  // that fits is linear in the history, not quadratic: long sessions stay cheap per call.
  const suffix = new Array<number>(history.length + 1).fill(0);
  for (let i = history.length - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + estimatePromptTokens([history[i]]);
  // Turn boundaries: indexes of user messages.
  const starts = history.map((m, i) => (m.role === 'user' ? i : -1)).filter((i) => i >= 0);
  let from = 0;
  for (const start of [0, ...starts]) {
    from = start;
    if (fixed + suffix[from] <= budget) break;
  }
  let kept = history.slice(from);
  // Even the newest turn alone is too long: keep its last user message at least.
  if (fixed + suffix[from] > budget) {
    const lastUser = [...kept].reverse().find((m) => m.role === 'user');
    kept = lastUser ? [lastUser] : kept.slice(-1);
  }
  return [...system, ...kept];
}
